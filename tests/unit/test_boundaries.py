"""Synthetic boundaries: one valid polygon per unit, tiling the gemeenten and the box."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from features.synth.boundaries import BBOX, polygon_area, synthetic_boundaries


def units(n_gemeenten: int, per: list[int]) -> pd.DataFrame:
    rows = []
    for g in range(n_gemeenten):
        for k in range(per[g % len(per)]):
            rows.append((f"WK{g:04d}{k:02d}", f"Wijk {k}", f"GM{g:04d}", f"Gemeente {g}"))
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "gemeente_code", "gemeente_name"])


def is_convex_ccw(ring: list[list[float]]) -> bool:
    pts = ring[:-1]
    n = len(pts)
    for i in range(n):
        (ax, ay), (bx, by), (cx, cy) = pts[i], pts[(i + 1) % n], pts[(i + 2) % n]
        if (bx - ax) * (cy - by) - (by - ay) * (cx - bx) < -1e-6:  # rounding to 1e-5 degrees
            return False
    return True


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return units(60, [1, 2, 3, 9, 40, 99])


@pytest.fixture(scope="module")
def collection(frame: pd.DataFrame) -> dict:
    return synthetic_boundaries(frame.sample(frac=1.0, random_state=3), seed=7)


def test_every_unit_has_exactly_one_valid_polygon(frame: pd.DataFrame, collection: dict) -> None:
    assert collection["type"] == "FeatureCollection"
    codes = [f["properties"]["unit_code"] for f in collection["features"]]
    assert sorted(codes) == sorted(frame["unit_code"]) and len(set(codes)) == len(codes)
    lon0, lat0, lon1, lat1 = BBOX
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        rings = feature["geometry"]["coordinates"]
        assert len(rings) == 1
        ring = rings[0]
        assert len(ring) >= 4 and ring[0] == ring[-1]
        for lon, lat in ring:
            assert math.isfinite(lon) and math.isfinite(lat)
            assert lon0 - 1e-9 <= lon <= lon1 + 1e-9 and lat0 - 1e-9 <= lat <= lat1 + 1e-9
        assert polygon_area(ring) > 0  # counter-clockwise (RFC 7946), not degenerate
        assert is_convex_ccw(ring)  # clipped Voronoi cells stay convex


def test_units_tile_their_gemeente_and_gemeenten_tile_the_box(collection: dict) -> None:
    total = sum(polygon_area(f["geometry"]["coordinates"][0]) for f in collection["features"])
    lon0, lat0, lon1, lat1 = BBOX
    assert total == pytest.approx((lon1 - lon0) * (lat1 - lat0), rel=1e-4)  # no gaps, no overlap


def test_properties_are_copied(collection: dict) -> None:
    props = collection["features"][0]["properties"]
    assert set(props) == {"unit_code", "unit_name", "gemeente_code", "gemeente_name"}
    assert props["unit_code"].startswith("WK") and props["gemeente_code"].startswith("GM")


def test_deterministic_and_independent_of_row_order(frame: pd.DataFrame) -> None:
    a = synthetic_boundaries(frame, seed=1)
    b = synthetic_boundaries(frame.iloc[::-1], seed=1)
    assert a == b
    assert synthetic_boundaries(frame, seed=2) != a


def test_a_single_unit_and_a_single_gemeente() -> None:
    one = synthetic_boundaries(units(1, [1]), seed=0)
    assert len(one["features"]) == 1
    many = synthetic_boundaries(units(1, [50]), seed=0)
    assert len(many["features"]) == 50


def test_bad_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="gemeente_code"):
        synthetic_boundaries(pd.DataFrame({"unit_code": ["WK000100"]}), seed=0)
    with pytest.raises(ValueError, match="unique"):
        synthetic_boundaries(
            pd.DataFrame({"unit_code": ["WK000100"] * 2, "gemeente_code": ["GM0001"] * 2}), 0
        )

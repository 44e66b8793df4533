"""Places and neighbours from boundaries: hand-made polygons whose answers are known by
construction, and the real PC4 and gemeente boundaries of ../shared/data/real."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from features import geo

X0, Y0, SIDE = 120_000.0, 480_000.0, 100.0  # metres in EPSG:28992


def square(col: int, row: int, dx: float = 0.0, dy: float = 0.0, side: float = SIDE) -> Polygon:
    x, y = X0 + col * SIDE + dx, Y0 - row * SIDE + dy
    return box(x, y - side, x + side, y)


def grid() -> gpd.GeoDataFrame:
    """3 x 3 squares numbered 1..9 row by row, as in the docstring of features.geo."""
    cells = [(f"{r * 3 + c + 1}", square(c, r)) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame(
        {"unit_code": [c for c, _ in cells]}, geometry=[g for _, g in cells], crs=geo.METRIC_CRS
    )


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["unit_code"], frame["neighbour_code"], strict=True))


def both_ways(*edges: tuple[str, str]) -> set[tuple[str, str]]:
    return {*edges, *((b, a) for a, b in edges)}


def test_grid_neighbours_share_an_edge_not_a_corner() -> None:
    found = geo.adjacency(grid())
    edges = [("1", "2"), ("2", "3"), ("4", "5"), ("5", "6"), ("7", "8"), ("8", "9"),
             ("1", "4"), ("4", "7"), ("2", "5"), ("5", "8"), ("3", "6"), ("6", "9")]
    assert pairs(found) == both_ways(*edges)
    assert found.groupby("unit_code").size().to_dict() == {
        "1": 2, "2": 3, "3": 2, "4": 3, "5": 4, "6": 3, "7": 2, "8": 3, "9": 2
    }
    assert list(found.columns) == list(geo.ADJACENCY_COLUMNS)


def test_small_gaps_and_overlaps_between_sources_still_make_neighbours() -> None:
    # B lies 0.5 m right of A (a gap), C overlaps B by 0.5 m, D is 5 m right of C.
    frame = gpd.GeoDataFrame(
        {"unit_code": ["A", "B", "C", "D"]},
        geometry=[square(0, 0), square(1, 0, dx=0.5), square(2, 0), square(3, 0, dx=5.0)],
        crs=geo.METRIC_CRS,
    )
    assert pairs(geo.adjacency(frame)) == both_ways(("A", "B"), ("B", "C"))
    # with a tolerance beyond the 5 m gap, C and D border each other too
    wide = geo.adjacency(frame, tolerance=6.0, min_length=20.0)
    assert pairs(wide) == both_ways(("A", "B"), ("B", "C"), ("C", "D"))


def test_a_short_shared_stretch_does_not_count() -> None:
    # B touches A along 5 m only (below min_length = 10 m)
    frame = gpd.GeoDataFrame(
        {"unit_code": ["A", "B"]},
        geometry=[square(0, 0), square(1, 0, dy=-SIDE + 5.0)],
        crs=geo.METRIC_CRS,
    )
    assert geo.adjacency(frame).empty
    assert pairs(geo.adjacency(frame, min_length=4.0)) == both_ways(("A", "B"))
    with pytest.raises(ValueError, match="min_length must exceed 2 x tolerance"):
        geo.adjacency(frame, tolerance=5.0, min_length=10.0)


def test_lon_lat_without_a_crs_is_taken_as_wgs84() -> None:
    wgs = grid().to_crs(geo.GEOGRAPHIC_CRS)
    unlabelled = gpd.GeoDataFrame(wgs[["unit_code"]], geometry=wgs.geometry.to_numpy(), crs=None)
    assert pairs(geo.adjacency(unlabelled)) == pairs(geo.adjacency(grid()))


def test_gemeente_by_a_point_inside_the_unit_else_by_overlap() -> None:
    # GM0003 is the notch of the U-shaped unit U, cut out of GM0001.
    notch = box(X0 + 20, Y0 - 80, X0 + 80, Y0)
    gemeenten = gpd.GeoDataFrame(
        {"unit_code": ["GM0001", "GM0002", "GM0003"], "unit_name": ["Een", "Twee", "Drie"]},
        geometry=[
            box(X0, Y0 - 300, X0 + 300, Y0).difference(notch),
            box(X0 + 310, Y0 - 300, X0 + 600, Y0),
            notch,
        ],
        crs=geo.METRIC_CRS,
    )
    # U lies in GM0001, but its centroid (50, -59) lies in the notch, in GM0003: a point
    # inside the unit is needed. S straddles the 10 m gap between GM0001 and GM0002, mostly in
    # GM0002, with its point in the gap. F lies far away, in no gemeente.
    u_shape = Polygon([(X0, Y0 - 100), (X0 + 100, Y0 - 100), (X0 + 100, Y0), (X0 + 80, Y0),
                       (X0 + 80, Y0 - 80), (X0 + 20, Y0 - 80), (X0 + 20, Y0), (X0, Y0)])
    straddle = box(X0 + 299, Y0 - 200, X0 + 313, Y0 - 100)  # 1 m in GM0001, 3 m in GM0002
    units = gpd.GeoDataFrame(
        {"unit_code": ["U", "S", "F"]},
        geometry=[u_shape, straddle, box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)],
        crs=geo.METRIC_CRS,
    )
    assert notch.contains(u_shape.centroid)
    placed = geo.gemeente_of(units, gemeenten).set_index("unit_code")
    assert list(placed.reset_index().columns) == list(geo.PLACES_COLUMNS)
    assert placed.loc["U"].tolist() == ["GM0001", "Een", "point"]
    assert placed.loc["S"].tolist() == ["GM0002", "Twee", "overlap"]
    assert placed.loc["F"].isna().all()


# --- the real boundaries ---------------------------------------------------------------------


def read_pc4(real: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(real / "boundaries" / "pc4_grenzen.topojson.json")
    return frame.rename(columns={"postcode": "unit_code"})[["unit_code", "geometry"]]


def read_gemeenten(real: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(real / "boundaries" / "gemeenten_2024.geojson")
    frame = frame.rename(columns={"gemeentecode": "unit_code", "gemeentenaam": "unit_name"})
    return frame[["unit_code", "unit_name", "geometry"]]


@pytest.fixture(scope="module")
def pc4(shared_real_dir: Path) -> gpd.GeoDataFrame:
    return read_pc4(shared_real_dir)


def test_every_real_pc4_area_gets_its_gemeente(
    pc4: gpd.GeoDataFrame, shared_real_dir: Path
) -> None:
    gemeenten = read_gemeenten(shared_real_dir)
    placed = geo.gemeente_of(pc4, gemeenten).set_index("unit_code")
    share = placed["gemeente_code"].notna().mean()
    by = placed["placed_by"].value_counts(dropna=False).to_dict()
    print(f"PC4 with a gemeente: {share:.2%} of {len(placed)}; placed by {by}")
    assert share >= 0.98
    assert by.get("point", 0) >= 0.98 * len(placed)
    assert placed.loc["1011", ["gemeente_code", "gemeente_name"]].tolist() == [
        "GM0363", "Amsterdam"
    ]
    assert placed.loc["3511", "gemeente_name"] == "Utrecht"
    assert placed.loc["2511", "gemeente_name"] == "'s-Gravenhage"
    assert placed.loc["9711", "gemeente_name"] == "Groningen"
    assert placed.loc["6211", "gemeente_name"] == "Maastricht"


def test_real_pc4_neighbours(pc4: gpd.GeoDataFrame) -> None:
    start = time.perf_counter()
    found = geo.adjacency(pc4)
    seconds = time.perf_counter() - start
    per_unit = found.groupby("unit_code").size()
    lonely = sorted(set(pc4["unit_code"]) - set(per_unit.index))
    print(
        f"{len(pc4)} PC4 polygons: adjacency in {seconds:.1f} s, {len(found) // 2} borders, "
        f"{per_unit.mean():.2f} neighbours on average; without neighbours: {lonely}"
    )
    assert seconds < 15  # a few seconds; generous for a shared machine
    assert 4.5 <= per_unit.mean() <= 7.0
    assert pairs(found) == {(b, a) for a, b in pairs(found)}
    # Amsterdam's centre: 1011 (Nieuwmarkt) borders 1012 (the old centre) and 1018 (Plantage),
    # not 1071 (Museumkwartier); the Wadden islands Vlieland and Schiermonnikoog border none.
    near = set(found.loc[found["unit_code"] == "1011", "neighbour_code"])
    assert {"1012", "1018"} <= near and "1071" not in near
    assert {"8899", "9166"} <= set(lonely) and len(lonely) <= 10

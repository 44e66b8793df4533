"""Where the panel's units lie (features.places): gemeente, neighbours, the panel meta's
counts and the map file, on hand-made postcode squares inside two hand-made gemeenten."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from features.places import MAP_PRECISION, map_geojson, place_note, places_of

# Four postcode squares of 0.01 degree in a row (lon 5.00-5.04, lat 52.00-52.01); the
# gemeente GM0001 covers the first two, GM0002 the last two.
PC4 = gpd.GeoDataFrame(
    {"unit_code": ["1011", "1012", "1013", "1014"], "unit_name": [None] * 4},
    geometry=[box(5.0 + 0.01 * i, 52.0, 5.01 + 0.01 * i, 52.01) for i in range(4)],
    crs="EPSG:4326",
)
GEMEENTEN = gpd.GeoDataFrame(
    {"unit_code": ["GM0001", "GM0002"], "unit_name": ["Eerstedorp", "Tweestad"]},
    geometry=[box(4.99, 51.99, 5.02, 52.02), box(5.02, 51.99, 5.05, 52.02)],
    crs="EPSG:4326",
)


def test_pc4_areas_get_the_gemeente_they_lie_in_and_their_neighbours() -> None:
    where = places_of({"pc4": PC4, "gemeente": GEMEENTEN}, "pc4")
    assert where is not None and where.gemeenten is not None
    found = where.gemeenten.set_index("unit_code")["gemeente_code"].to_dict()
    assert found == {"1011": "GM0001", "1012": "GM0001", "1013": "GM0002", "1014": "GM0002"}
    pairs = set(zip(where.adjacency["unit_code"], where.adjacency["neighbour_code"], strict=True))
    assert pairs == {("1011", "1012"), ("1012", "1011"), ("1012", "1013"), ("1013", "1012"),
                     ("1013", "1014"), ("1014", "1013")}


def test_a_level_without_boundaries_has_no_places_and_wijken_keep_their_coded_gemeente() -> None:
    assert places_of({"gemeente": GEMEENTEN}, "pc4") is None
    wijken = PC4.assign(unit_code=["WK000101", "WK000102", "WK000201", "WK000202"])
    where = places_of({"wijk": wijken, "gemeente": GEMEENTEN}, "wijk")
    assert where is not None and where.gemeenten is None  # the code says the gemeente
    assert len(where.adjacency) == 6


def test_the_place_note_counts_both_sides() -> None:
    where = places_of({"pc4": PC4, "gemeente": GEMEENTEN}, "pc4")
    assert where is not None
    note = place_note(where, "pc4", pd.Series(["1011", "1012", "1013", "9999"]))
    assert (note.polygons, note.units_with_polygon, note.units_without_polygon) == (4, 3, 1)
    assert note.polygons_without_unit == 1  # 1014 has a polygon but no panel row
    assert note.units_with_gemeente == 3
    assert note.neighbour_pairs == 2  # 1011-1012 and 1012-1013 among the panel's units


def test_the_map_holds_the_panel_units_with_their_ids_rounded_to_about_a_metre() -> None:
    where = places_of({"pc4": PC4, "gemeente": GEMEENTEN}, "pc4")
    assert where is not None
    ids = pd.DataFrame({
        "unit_code": ["1011", "1013"], "unit_name": ["1011 Eerstedorp", "1013 Tweestad"],
        "gemeente_code": ["GM0001", "GM0002"], "gemeente_name": ["Eerstedorp", "Tweestad"],
    })
    data = json.loads(map_geojson(where, ids))
    assert [f["properties"]["unit_code"] for f in data["features"]] == ["1011", "1013"]
    assert data["features"][1]["properties"]["gemeente_name"] == "Tweestad"
    ring = data["features"][0]["geometry"]["coordinates"][0]
    for lon, lat in ring:
        assert abs(lon / MAP_PRECISION - round(lon / MAP_PRECISION)) < 1e-6
        assert 5.0 - 1e-9 <= lon <= 5.01 + 1e-9 and 52.0 - 1e-9 <= lat <= 52.01 + 1e-9

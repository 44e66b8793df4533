"""Boundaries as a source (kind ``boundaries``) on small hand-made files, and the wiring of the
issue-10 kinds into ``read_sources``. (The real files: tests/unit/test_real_readers.py.)"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from openpyxl import Workbook
from shapely.geometry import Polygon, box, mapping

from features.boundaries import parse_boundaries
from features.sources import read_sources
from wijkradar.config import parse_config
from wijkradar.errors import InputError

BOWTIE = Polygon([(4.0, 52.0), (4.1, 52.1), (4.1, 52.0), (4.0, 52.1)])  # self-intersecting


def _geojson(features: list[tuple[dict[str, Any], Any]], crs: str | None = None) -> bytes:
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props,
             "geometry": mapping(geom) if geom is not None else None}
            for props, geom in features
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc).encode()


def test_numeric_pc4_codes_become_text_and_lonlat_is_assumed() -> None:
    data = _geojson([({"pc4": 1011}, box(4.9, 52.37, 4.91, 52.38)),
                     ({"pc4": 1012}, box(4.91, 52.37, 4.92, 52.38))])
    table = parse_boundaries(data, "pc4.geojson", "pc4", "pc4")
    frame = table.frame
    assert list(frame.columns) == ["unit_code", "unit_name", "geometry"]
    assert frame["unit_code"].tolist() == ["1011", "1012"]
    assert frame["unit_name"].tolist() == ["1011", "1012"]  # no name field: the code
    assert frame.crs == "EPSG:4326"
    assert table.level == "pc4" and table.repaired == 0


def test_a_projected_file_is_transformed_to_lonlat() -> None:
    # Amsterdam Dam square in RD New (EPSG:28992) is about (121400, 487400).
    rd = gpd.GeoDataFrame(
        {"gemeentecode": ["GM0363"], "gemeentenaam": ["Amsterdam"]},
        geometry=[box(121000, 487000, 122000, 488000)], crs="EPSG:28992",
    )
    buf = io.BytesIO()
    rd.to_file(buf, driver="GPKG", layer="gemeenten")
    table = parse_boundaries(buf.getvalue(), "gm.gpkg", "gemeente", "gemeentecode",
                             "gemeentenaam")
    assert not table.crs_assumed and table.frame.crs == "EPSG:4326"
    x, y = table.frame.geometry.iloc[0].centroid.coords[0]
    assert x == pytest.approx(4.89, abs=0.01) and y == pytest.approx(52.37, abs=0.01)
    assert table.frame["unit_name"].tolist() == ["Amsterdam"]


def test_an_invalid_polygon_is_repaired_and_counted() -> None:
    data = _geojson([({"pc4": "1011"}, BOWTIE)])
    table = parse_boundaries(data, "b.geojson", "pc4", "pc4")
    geom = table.frame.geometry.iloc[0]
    assert table.repaired == 1 and geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    # make_valid keeps both lobes of the bow tie (buffer(0) would drop one): 2 x 0.0025.
    assert geom.area == pytest.approx(0.005)


def test_projected_coordinates_in_a_geojson_are_rejected() -> None:
    data = _geojson([({"pc4": "1011"}, box(121000, 487000, 122000, 488000))])
    with pytest.raises(InputError, match=r"not lon/lat \(bounds 121000\.0, 487000\.0") as err:
        parse_boundaries(data, "rd.geojson", "pc4", "pc4")
    assert "EPSG:4326 (RFC 7946)" in str(err.value) and err.value.file == "rd.geojson"


def test_a_point_is_no_boundary() -> None:
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pc4": "1011"},
         "geometry": {"type": "Point", "coordinates": [4.9, 52.37]}}]}).encode()
    with pytest.raises(InputError, match=r"feature 1 \(1011\): expected a Polygon or "
                       r"MultiPolygon, got a Point"):
        parse_boundaries(data, "p.geojson", "pc4", "pc4")


def _xlsx_pc4(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    for row in (["Kerncijfers, peildatum 1 januari 2020"], ["Datum: 17 februari 2021"], [],
                [None, "Inwoners"], [None, "Totaal"], ["Postcode-4", "Totaal"], ["Code", "x1"],
                [1011, 9705], [1012, 8600]):
        ws.append(row)
    wb.save(path)


def test_read_sources_wires_the_new_kinds(tmp_path: Path) -> None:
    (tmp_path / "lbm3.csv").write_text(
        "PC4,jaar,lbm,afw,fys,onv,soc,vrz,won\n1011,2020,4.3,0.2,NA,NA,NA,NA,NA\n"
        "1012,2020,4.1,0.0,NA,NA,NA,NA,NA\n", encoding="utf-8",
    )
    _xlsx_pc4(tmp_path / "pc4_2020.xlsx")
    (tmp_path / "pc4.geojson").write_bytes(
        _geojson([({"postcode": 1011}, box(4.9, 52.37, 4.91, 52.38))])
    )
    (tmp_path / "gm.geojson").write_bytes(
        _geojson([({"code": "GM0363", "naam": "Amsterdam"}, box(4.7, 52.3, 5.1, 52.4))])
    )
    (tmp_path / "wijk.json").write_text(
        json.dumps({"WK036301": {"KL14": "6", "KL16": "5", "VKL1416": "3"}}), encoding="utf-8"
    )
    cfg = parse_config({"source": [
        {"kind": "lbm3_scores", "path": "lbm3.csv"},
        {"kind": "cbs_pc4_xlsx", "path": "pc4_2020.xlsx"},
        {"kind": "boundaries", "path": "pc4.geojson", "level": "pc4", "code_field": "postcode"},
        {"kind": "boundaries", "path": "gm.geojson", "level": "gemeente", "code_field": "code",
         "name_field": "naam"},
        {"kind": "lbm2_json", "path": "wijk.json", "level": "wijk"},
    ]}, root=tmp_path)
    src = read_sources(cfg)
    assert src.cbs[["unit_code", "year", "inhabitants"]].values.tolist() == [
        ["1011", 2020, 9705.0], ["1012", 2020, 8600.0]
    ]
    [info] = src.cbs_files
    assert info.file == str(tmp_path / "pc4_2020.xlsx") and info.published.year == 2021
    assert sorted(src.boundaries) == ["gemeente", "pc4"]
    assert src.boundaries["pc4"]["unit_code"].tolist() == ["1011"]
    assert src.boundaries["gemeente"]["unit_name"].tolist() == ["Amsterdam"]
    # Leefbarometer parts: the PC4 scores and the wijk classes; boundaries are none of them.
    assert sorted(set(src.lbm["level"])) == ["pc4", "wijk"]
    assert src.development is not None
    assert src.development.values.tolist() == [["WK036301", 2014, 2016, 3]]


def test_two_boundaries_files_of_one_level_must_not_overlap(tmp_path: Path) -> None:
    (tmp_path / "lbm3.csv").write_text("PC4,jaar,lbm\n1011,2020,4.3\n", encoding="utf-8")
    for name in ("a.geojson", "b.geojson"):
        (tmp_path / name).write_bytes(_geojson([({"pc4": 1011}, box(4.9, 52.37, 4.91, 52.38))]))
    cfg = parse_config({"source": [
        {"kind": "lbm3_scores", "path": "lbm3.csv"},
        {"kind": "boundaries", "path": "a.geojson", "level": "pc4", "code_field": "pc4"},
        {"kind": "boundaries", "path": "b.geojson", "level": "pc4", "code_field": "pc4"},
    ]}, root=tmp_path)
    with pytest.raises(InputError, match=r"pc4 1011 also has a polygon in .*a\.geojson") as err:
        read_sources(cfg)
    assert err.value.file == str(tmp_path / "b.geojson") and err.value.row == 1

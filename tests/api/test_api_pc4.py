"""The API on a workspace of postcode areas (PC4): 4-digit codes are text keys end to end, in
the ranking, the unit detail and the map, whose boundaries file may write a code as text or
as a number."""

from __future__ import annotations

import json
from typing import Any

import pytest
from apiworkspace import TestClient, build_workspace

from serving.api import create_app
from wijkradar import catalog

LOCAL = "http://127.0.0.1"  # a Host the app answers (TrustedHostMiddleware)

N_UNITS = 12


def square(i: int) -> dict[str, Any]:
    x, y = 4.8 + 0.01 * (i % 4), 52.3 + 0.01 * (i // 4)
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture(scope="module")
def pc4(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, dict[str, Any]]:
    """Twelve postcode areas 1011..1022 in three gemeenten; the map file has a polygon for
    all but 1022, writes 1021 as a number, and holds one polygon (9999) of no ranked unit."""
    root = tmp_path_factory.mktemp("pc4") / "ws"
    root.mkdir()
    info = build_workspace(root, n_units=N_UNITS, n_gemeenten=3, boundaries=False, level="pc4")
    codes = info["units"]["unit_code"].tolist()
    features = []
    for i, code in enumerate([*codes[:-1], "9999"]):
        value: Any = int(code) if code == "1021" else code
        props = {"unit_code": value}
        features.append({"type": "Feature", "properties": props, "geometry": square(i)})
    body = {"type": "FeatureCollection", "features": features}
    catalog.write_text(json.dumps(body), catalog.Workspace(root).boundaries)
    with TestClient(create_app(root), base_url=LOCAL) as client:
        yield client, info


def test_pc4_codes_are_text_in_the_ranking(pc4: tuple[TestClient, dict[str, Any]]) -> None:
    client, info = pc4
    rows = client.get("/api/rankings", params={"limit": 100}).json()["rows"]
    published = info["rankings"]["c2024new"].sort_values("rank")
    assert [r["unit_code"] for r in rows] == published["unit_code"].tolist()
    assert sorted(r["unit_code"] for r in rows) == [str(1011 + i) for i in range(N_UNITS)]
    assert all(isinstance(r["unit_code"], str) for r in rows)
    found = client.get("/api/rankings", params={"q": "1015"}).json()["rows"]
    assert [r["unit_code"] for r in found] == ["1015"]


def test_pc4_unit_detail_and_charts(pc4: tuple[TestClient, dict[str, Any]]) -> None:
    client, info = pc4
    body = client.get("/api/units/1011").json()
    published = info["rankings"]["c2024new"].set_index("unit_code").loc["1011"]
    assert (body["unit_code"], body["gemeente_code"]) == ("1011", "GM0100")
    assert body["rank"] == published["rank"]
    assert body["unit_name"] == "1011 Gemeente A0"
    assert [c["feature"] for c in body["context"]] == ["woz_value"]
    assert [p["as_of_year"] for p in body["lbm_history"]] == [2016, 2018, 2020, 2022, 2024]
    assert client.get("/api/units/1011/waterfall.svg").status_code == 200
    for bad, status in (("101", 422), ("10111", 422), ("9999", 404)):
        assert client.get(f"/api/units/{bad}").status_code == status, bad


def test_map_has_a_polygon_for_every_ranked_pc4_area_with_one(
    pc4: tuple[TestClient, dict[str, Any]],
) -> None:
    client, _ = pc4
    body = client.get("/api/map").json()
    assert body["n_units"] == N_UNITS
    shown = body["units"]["unit_code"]
    assert sorted(shown) == [str(1011 + i) for i in range(N_UNITS - 1)]  # 1021 as a number too
    geometries = body["topology"]["objects"]["units"]["geometries"]
    assert [g["id"] for g in geometries] == shown
    assert all(g["type"] == "Polygon" for g in geometries)
    assert len(body["gemeenten"]["gemeente_code"]) == 3  # outlines of the three gemeenten
    one = client.get("/api/map", params={"gemeente": "GM0107"}).json()["units"]["unit_code"]
    assert sorted(one) == ["1015", "1016", "1017", "1018"]


def test_pc4_detail_does_not_look_broken(pc4: tuple[TestClient, dict[str, Any]]) -> None:
    """The title does not repeat a code the name holds; the rank in the gemeente counts the
    gemeente's units; no driver shows a raw feature name."""
    client, _ = pc4
    body = client.get("/api/units/1011").json()
    assert body["title"] == "1011 Gemeente A0"
    assert body["rank_in_gemeente"] is not None and body["n_in_gemeente"] >= 1
    assert body["rank_in_gemeente"] <= body["n_in_gemeente"]
    for driver in body["drivers"]:
        assert driver["label"] != driver["feature"] and "_" not in driver["label"]

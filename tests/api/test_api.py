"""The read-only API against a hand-made published workspace: every route, bad parameters,
path-traversal attempts, the OpenAPI schema and a schemathesis run."""

from __future__ import annotations

import builtins
import io
import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import schemathesis
from apiworkspace import (
    CONTEXT,
    FEATURES,
    FORMULA_NAME,
    HOSTILE_NAME,
    TestClient,
    publish,
)
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serving.api import MAX_LIMIT, create_app
from serving.report import TABLE_HEADERS, validation_rows
from wijkradar import catalog

Workspace = tuple[Path, dict[str, Any]]


def latest(info: dict[str, Any]) -> pd.DataFrame:
    return info["rankings"]["c2024new"]


def all_rows(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    rows, offset = [], 0
    while True:
        page = client.get("/api/rankings", params={**params, "limit": 97, "offset": offset})
        assert page.status_code == 200, page.text
        rows += page.json()["rows"]
        offset += 97
        if offset >= page.json()["total"]:
            return rows


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["scored_years"] == [2022, 2024]
    assert body["panel"] and body["boundaries"]


def test_runs_lists_every_published_run_oldest_first(client: TestClient) -> None:
    years = client.get("/api/runs").json()["years"]
    assert [y["as_of_year"] for y in years] == [2022, 2024]
    runs_2024 = years[1]["runs"]
    assert [r["run_id"] for r in runs_2024] == ["b2024old", "c2024new"]
    assert [r["latest"] for r in runs_2024] == [False, True]
    assert years[1]["latest_run_id"] == "c2024new"
    assert runs_2024[1]["model_version"] == "2" and runs_2024[1]["row_count"] == 300


def test_default_ranking_is_the_newest_run_in_rank_order(
    client: TestClient, api_workspace: Workspace
) -> None:
    page = client.get("/api/rankings").json()
    assert (page["as_of_year"], page["run_id"], page["previous_run_id"]) == (
        2024,
        "c2024new",
        "b2024old",
    )
    assert page["limit"] == 100 and len(page["rows"]) == 100 and page["total"] == 300
    expected = latest(api_workspace[1]).head(100)
    rows = page["rows"]
    assert [r["rank"] for r in rows] == list(range(1, 101))
    assert [r["unit_code"] for r in rows] == expected["unit_code"].tolist()
    np.testing.assert_allclose([r["risk"] for r in rows], expected["risk"], rtol=1e-12)
    assert [r["top_drivers"] for r in rows] == expected["top_drivers"].tolist()


def test_change_against_the_previous_run(client: TestClient, api_workspace: Workspace) -> None:
    info = api_workspace[1]
    now, before = latest(info), info["rankings"]["b2024old"]
    prev = dict(zip(before["unit_code"], before["rank"], strict=True))
    top = math.ceil(0.1 * 300)
    rows = {r["unit_code"]: r for r in all_rows(client)}
    assert len(rows) == 300
    for code, rank in zip(now["unit_code"], now["rank"], strict=True):
        row = rows[code]
        assert row["previous_rank"] == prev[code]
        assert row["rank_change"] == prev[code] - rank
        assert row["in_top10"] == (rank <= top)
        assert row["new_in_top10"] == (rank <= top and prev[code] > top)
    assert any(r["new_in_top10"] for r in rows.values())
    # 2022 has a single run: nothing to compare with.
    single = client.get("/api/rankings", params={"as_of": 2022, "limit": 500}).json()
    assert single["previous_run_id"] is None
    assert all(r["previous_rank"] is None and r["new_in_top10"] is None for r in single["rows"])


def test_filter_by_gemeente_and_search(client: TestClient, api_workspace: Workspace) -> None:
    now = latest(api_workspace[1])
    gemeente = now["gemeente_code"].iloc[0]
    rows = all_rows(client, gemeente=gemeente)
    expected = now[now["gemeente_code"] == gemeente]
    assert [r["unit_code"] for r in rows] == expected["unit_code"].tolist()
    code = now["unit_code"].iloc[7]
    assert [r["unit_code"] for r in all_rows(client, q=code.lower())] == [code]
    by_name = all_rows(client, q="wIJK 1")  # case-insensitive, part of a name
    assert by_name and all("wijk 1" in r["unit_name"].lower() for r in by_name)
    assert len(by_name) == now["unit_name"].str.lower().str.contains("wijk 1").sum()
    assert all_rows(client, q="no such unit") == []


def test_pages_add_up_and_a_huge_offset_is_empty(client: TestClient) -> None:
    whole = client.get("/api/rankings", params={"limit": MAX_LIMIT}).json()["rows"]
    assert [r["unit_code"] for r in all_rows(client)] == [r["unit_code"] for r in whole]
    far = client.get("/api/rankings", params={"offset": 10_000_000}).json()
    assert far["rows"] == [] and far["total"] == 300


def test_sorting(client: TestClient) -> None:
    def codes(sort: str) -> list[str]:
        return [r["unit_code"] for r in all_rows(client, sort=sort)]

    assert codes("-risk") == codes("rank")
    assert codes("-rank") == codes("rank")[::-1]
    by_name = all_rows(client, sort="unit_name")
    keys = [(r["unit_name"].casefold(), r["rank"]) for r in by_name]
    numeric = [k for k in keys if k[0].startswith("wijk ")]
    assert [int(k[0].split()[1]) for k in numeric] == sorted(int(k[0].split()[1]) for k in numeric)
    change = [r["rank_change"] for r in all_rows(client, sort="-rank_change")]
    assert change == sorted(change, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": -1},
        {"limit": MAX_LIMIT + 1},
        {"limit": 10**12},
        {"limit": "ten"},
        {"offset": -1},
        {"as_of": 1800},
        {"as_of": "2024; DROP"},
        {"gemeente": "GM12"},
        {"gemeente": "../../etc"},
        {"sort": "risk; rm -rf"},
        {"q": "x" * 101},
    ],
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/rankings", params=params)
    assert response.status_code == 422, response.text


def test_unknown_year_and_gemeente_are_404_with_a_message(client: TestClient) -> None:
    response = client.get("/api/rankings", params={"as_of": 2019})
    assert response.status_code == 404
    assert "2019" in response.json()["detail"] and "2022" in response.json()["detail"]
    response = client.get("/api/rankings", params={"gemeente": "GM9999"})
    assert response.status_code == 404 and "GM9999" in response.json()["detail"]


def test_unit_detail(client: TestClient, api_workspace: Workspace) -> None:
    info = api_workspace[1]
    now, panel = latest(info), info["panel"]
    row = now.iloc[4]
    code = row["unit_code"]
    body = client.get(f"/api/units/{code}").json()
    assert (body["unit_code"], body["rank"], body["run_id"]) == (code, 5, "c2024new")
    assert body["risk"] == pytest.approx(row["risk"], rel=1e-12)
    assert body["top_drivers"] == row["top_drivers"]
    assert body["n_units"] == 300 and body["panel_matches_run"]
    shap = {f: row[f"shap__{f}"] for f in FEATURES}
    drivers = {d["feature"]: d for d in body["drivers"]}
    assert set(drivers) == set(FEATURES)
    assert [d["feature"] for d in body["drivers"]] == sorted(shap, key=lambda f: -abs(shap[f]))
    positive = sorted((f for f in shap if shap[f] > 0), key=lambda f: -shap[f])[:3]
    assert body["top_driver_features"] == positive
    year = panel[panel["as_of_year"] == 2024]
    mine = year[year["unit_code"] == code].iloc[0]
    same_gemeente = year[year["gemeente_code"] == row["gemeente_code"]]
    for feature in FEATURES:
        d = drivers[feature]
        assert d["contribution"] == pytest.approx(shap[feature], rel=1e-12)
        assert d["national_median"] == pytest.approx(year[feature].median())
        assert d["gemeente_median"] == pytest.approx(same_gemeente[feature].median())
        if pd.isna(mine[feature]):
            assert d["value"] is None
        else:
            assert d["value"] == pytest.approx(mine[feature])
    history = body["lbm_history"]
    assert [p["as_of_year"] for p in history] == [2016, 2018, 2020, 2022, 2024]
    lbm = panel[panel["unit_code"] == code].sort_values("as_of_year")["lbm"]
    np.testing.assert_allclose([p["lbm"] for p in history], lbm)
    assert [p["measurement_year"] for p in history] == [2016, 2016, 2020, 2020, 2024]
    risks = [(p["as_of_year"], p["run_id"], p["latest"]) for p in body["risk_history"]]
    assert risks == [(2022, "a2022", True), (2024, "b2024old", False), (2024, "c2024new", True)]
    older = info["rankings"]["b2024old"].set_index("unit_code").loc[code]
    assert body["risk_history"][1]["risk"] == pytest.approx(older["risk"])


def test_unit_detail_of_another_year(client: TestClient, api_workspace: Workspace) -> None:
    row = api_workspace[1]["rankings"]["a2022"].iloc[0]
    body = client.get(f"/api/units/{row['unit_code']}", params={"as_of": 2022}).json()
    assert (body["as_of_year"], body["rank"], body["previous_rank"]) == (2022, 1, None)


def test_unit_detail_shows_the_context_features_against_the_medians(
    client: TestClient, api_workspace: Workspace
) -> None:
    """A context feature (in the panel meta's ``context_features``, in no model) is the unit's
    profile against the medians of the same panel rows, and is no driver."""
    panel = api_workspace[1]["panel"]
    year = panel[panel["as_of_year"] == 2024]
    [feature] = CONTEXT
    known = year.loc[year[feature].notna(), "unit_code"]
    missing = year.loc[year[feature].isna(), "unit_code"]
    for code in (known.iloc[0], missing.iloc[0]):
        body = client.get(f"/api/units/{code}").json()
        assert feature not in {d["feature"] for d in body["drivers"]}
        [context] = body["context"]
        mine = year[year["unit_code"] == code].iloc[0]
        gemeente = year[year["gemeente_code"] == mine["gemeente_code"]]
        assert (context["feature"], context["label_nl"]) == (feature, "gemiddelde WOZ-waarde")
        assert (context["unit"], context["unit_nl"]) == ("thousand euro", "duizend euro")
        assert context["label"] == "average WOZ value (k EUR)"
        assert context["national_median"] == pytest.approx(year[feature].median())
        assert context["gemeente_median"] == pytest.approx(gemeente[feature].median())
        if code in set(missing):
            assert context["value"] is None
        else:
            assert context["value"] == pytest.approx(mine[feature])


def test_a_year_without_the_context_source_shows_no_context(
    client: TestClient, api_workspace: Workspace
) -> None:
    row = api_workspace[1]["rankings"]["a2022"].iloc[0]
    body = client.get(f"/api/units/{row['unit_code']}", params={"as_of": 2022}).json()
    assert body["context"] == []  # the source covers 2024 only
    assert {d["feature"] for d in body["drivers"]} == set(FEATURES)


def test_gemeente_exports_end_with_the_context_features(api_workspace: Workspace) -> None:
    """The job's per-gemeente files keep their columns and add the context values last."""
    from openpyxl import load_workbook

    root, info = api_workspace
    ws = catalog.Workspace(root)
    panel = info["panel"]
    values = panel[panel["as_of_year"] == 2024].set_index("unit_code")["woz_value"]
    run = catalog.latest_run(ws, 2024)
    assert run is not None
    gemeente = latest(info)["gemeente_code"].iloc[0]
    csv = pd.read_csv(
        run.gemeenten / f"{gemeente}.csv", sep=";", decimal=",", encoding="utf-8-sig",
        dtype={"Wijkcode": str},
    )
    header = "gemiddelde WOZ-waarde (duizend euro)"
    assert csv.columns[-1] == header and csv.columns[-2] == "Belangrijkste factoren"
    assert csv.columns[0] == "Wijkcode" and len(csv.columns) == 12
    expected = values.reindex(csv["Wijkcode"]).to_numpy()
    np.testing.assert_allclose(csv[header].to_numpy(), expected, atol=5e-4)  # NaN where NaN
    sheet = load_workbook(run.gemeenten / f"{gemeente}.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == csv.columns.tolist()
    assert [r[-1] for r in rows[1:]] == [None if pd.isna(v) else v for v in expected]
    older = catalog.latest_run(ws, 2022)
    assert older is not None
    columns = pd.read_csv(older.gemeenten / f"{gemeente}.csv", sep=";", nrows=0).columns
    assert columns.tolist() == csv.columns[:-1].tolist()  # 2022 lacks the source: no column


@pytest.mark.parametrize(
    "path",
    [
        "/api/units/WK999999",
        "/api/units/GM0100",  # a valid code that is no unit of the ranking
        "/api/units/1234/waterfall.svg",
    ],
)
def test_unknown_units_are_404_with_a_message(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "No unit" in response.json()["detail"]


TRAVERSALS = [
    "/api/units/..%2F..%2Fetc%2Fpasswd",
    "/api/units/..%2f..%2f..%2fetc%2fpasswd/waterfall.svg",
    "/api/units/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/units/....//....//etc/passwd",
    "/api/units/WK0100%00",
    "/api/units/wk010000",
    "/api/units/WK010000.json",
    "/api/units/%252e%252e%252fetc%252fpasswd",
    "/static/..%2Fapi.py",
    "/static/%2e%2e%2fapi.py",
    "/static/../../wijkradar.toml",
    "/api/rankings?gemeente=..%2F..%2Fetc%2Fpasswd",
]


def test_traversal_attempts_never_read_a_file(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get("/api/units/WK010000")  # warm the caches first
    opened: list[str] = []
    real_open = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: opened.append(str(self)) or "")
    for path in TRAVERSALS:
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert "root:" not in response.text
    assert not [p for p in opened if "passwd" in p or p.endswith((".py", ".toml"))], opened


def test_gemeenten(client: TestClient, api_workspace: Workspace) -> None:
    body = client.get("/api/gemeenten").json()
    now = latest(api_workspace[1])
    items = body["gemeenten"]
    assert len(items) == now["gemeente_code"].nunique() == 12
    assert [g["gemeente_name"].casefold() for g in items] == sorted(
        g["gemeente_name"].casefold() for g in items
    )
    assert sum(g["n_units"] for g in items) == 300
    assert sum(g["n_top10"] for g in items) == 30
    first = items[0]
    mean = now[now["gemeente_code"] == first["gemeente_code"]]["risk"].mean()
    assert first["mean_risk"] == pytest.approx(mean)


def test_model_is_the_champion_with_its_evaluation_and_card(
    client: TestClient, api_workspace: Workspace
) -> None:
    v1_run, v2_run = api_workspace[1]["model_runs"]
    body = client.get("/api/model").json()
    assert body["available"]
    assert (body["model"]["version"], body["model"]["run_id"]) == ("2", v2_run)
    assert body["model"]["is_champion"] and body["champion"]["version"] == "2"
    assert "synthetic" in body["model_card"]
    evaluation = pd.DataFrame(body["evaluation"])
    assert len(evaluation) == 6 and set(evaluation["model"]) == {
        "lightgbm",
        "logistic",
        "last_change",
    }
    expected = validation_rows(evaluation)
    assert body["validation"]["rows"] == [r["cells"] for r in expected]
    assert body["validation"]["rows"][0][:2] == ["2018", "lightgbm"]  # as the report shows it
    published = {p["as_of_year"]: p["model_version"] for p in body["published_with"]}
    assert published == {2022: "1", 2024: "2"}
    # The model behind 2022's ranking is v1, no longer the champion, without a card.
    old = client.get("/api/model", params={"as_of": 2022}).json()
    assert (old["model"]["version"], old["model"]["run_id"]) == ("1", v1_run)
    assert not old["model"]["is_champion"] and old["model_card"] is None


def test_model_without_a_store_says_so_and_creates_none(
    api_workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root, ignore=shutil.ignore_patterns("mlflow"))
    with TestClient(create_app(root)) as client:
        body = client.get("/api/model").json()
        assert body["available"] is False and "MLflow" in body["message"]
        assert client.get("/api/charts/pr.svg").status_code == 404
        assert client.get("/api/rankings").status_code == 200
    assert not (root / "mlflow").exists()


def test_export_csv_is_what_the_filter_shows(client: TestClient, api_workspace: Workspace) -> None:
    now = latest(api_workspace[1])
    gemeente = now["gemeente_code"].iloc[3]
    params = {"gemeente": gemeente, "q": "wijk", "sort": "-risk"}
    response = client.get("/api/export.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"wijkradar-2024-{gemeente}.csv" in response.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(response.text), dtype={"unit_code": str})
    shown = all_rows(client, **params)
    assert frame["unit_code"].tolist() == [r["unit_code"] for r in shown]
    assert frame.columns[:9].tolist() == [
        "as_of_year",
        "rank",
        "unit_code",
        "unit_name",
        "gemeente_code",
        "gemeente_name",
        "risk",
        "rank_in_gemeente",
        "top_drivers",
    ]
    np.testing.assert_allclose(frame["risk"], [r["risk"] for r in shown], rtol=1e-12)


def test_export_defuses_spreadsheet_formulas(client: TestClient) -> None:
    frame = pd.read_csv(io.StringIO(client.get("/api/export.csv").text))
    names = frame["unit_name"].tolist()
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert HOSTILE_NAME in names  # plain text in a CSV; only formulas are defused


def test_export_xlsx_has_the_same_rows(client: TestClient) -> None:
    from openpyxl import load_workbook

    params = {"q": "wijk 2"}
    response = client.get("/api/export.xlsx", params=params)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book["ranking"].values)
    csv = pd.read_csv(io.StringIO(client.get("/api/export.csv", params=params).text))
    assert list(rows[0]) == csv.columns.tolist()
    assert [r[2] for r in rows[1:]] == csv["unit_code"].tolist()
    assert all(isinstance(r[6], float) for r in rows[1:])


def svg_ids(text: str) -> list[str]:
    return [e.get("id", "") for e in ET.fromstring(text).iter()]


def test_charts_are_valid_svg(client: TestClient, api_workspace: Workspace) -> None:
    row = latest(api_workspace[1]).iloc[0]
    code = row["unit_code"]
    response = client.get(f"/api/units/{code}/waterfall.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    ids = svg_ids(response.text)
    top = max(FEATURES, key=lambda f: abs(row[f"shap__{f}"]))
    assert f"waterfall-{top}" in ids
    for kind in ("lbm", "risk"):
        history = client.get(f"/api/units/{code}/history.svg", params={"kind": kind})
        assert history.status_code == 200 and "history-line" in svg_ids(history.text)
    bad = client.get(f"/api/units/{code}/history.svg", params={"kind": "passwd"})
    assert bad.status_code == 422
    assert "pr-curve-lightgbm" in svg_ids(client.get("/api/charts/pr.svg").text)
    summary = client.get("/api/charts/shap-summary.svg").text
    assert any(i.startswith("shap-row-") for i in svg_ids(summary))


def test_map_has_the_units_with_a_geometry(client: TestClient, api_workspace: Workspace) -> None:
    now = latest(api_workspace[1])
    body = client.get("/api/map").json()
    assert body["type"] == "FeatureCollection" and body["n_units"] == 300
    features = body["features"]
    assert len(features) == 298  # two units have no boundary
    risk = dict(zip(now["unit_code"], now["risk"], strict=True))
    for f in features[:20]:
        assert f["geometry"]["type"] == "Polygon"
        assert f["properties"]["risk"] == pytest.approx(risk[f["properties"]["unit_code"]])
    gemeente = now["gemeente_code"].iloc[0]
    one = client.get("/api/map", params={"gemeente": gemeente}).json()["features"]
    assert {f["properties"]["gemeente_code"] for f in one} == {gemeente}


def test_map_without_boundaries_is_404(api_workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root, ignore=shutil.ignore_patterns("boundaries"))
    with TestClient(create_app(root)) as client:
        response = client.get("/api/map")
        assert response.status_code == 404 and "boundaries" in response.json()["detail"]
        assert client.get("/api/health").json()["boundaries"] is False


def test_page_and_assets(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for element_id in (
        "ranking-table",
        "gemeente-filter",
        "search",
        "download-csv",
        "download-xlsx",
        "view-detail",
        "detail-drivers",
        "detail-waterfall",
        "detail-context",
        "detail-context-table",
        "view-map",
        "map",
        "view-model",
        "model-card",
        "validation-table",
    ):
        assert f'id="{element_id}"' in html, element_id
    for header in TABLE_HEADERS:  # the report's columns, shared through the template
        assert f'data-key="{header["key"]}"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    for name in ("page.js", "map.js", "page.css", "report.css", "format.js"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/api.py").status_code == 404


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def test_no_route_writes(client: TestClient, api_workspace: Workspace) -> None:
    root = api_workspace[0]
    before = snapshot(root)
    code = latest(api_workspace[1])["unit_code"].iloc[0]
    for path in (
        "/",
        "/api/health",
        "/api/runs",
        "/api/rankings",
        "/api/gemeenten",
        "/api/model",
        "/api/model?as_of=2022",
        f"/api/units/{code}",
        f"/api/units/{code}/waterfall.svg",
        f"/api/units/{code}/history.svg",
        "/api/charts/pr.svg",
        "/api/charts/shap-summary.svg",
        "/api/map",
        "/api/export.csv",
        "/api/export.xlsx",
    ):
        assert client.get(path).status_code == 200, path
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/rankings").status_code == 405
    assert snapshot(root) == before


def test_a_newly_published_run_shows_without_restart(
    api_workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root)
    with TestClient(create_app(root)) as client:
        assert client.get("/api/rankings").json()["run_id"] == "c2024new"
        newer = publish(
            root,
            api_workspace[1]["panel"],
            2024,
            "d2024newest",
            "2025-03-01T10:00:00+0000",
            ("wijkradar", "2", "r"),
            np.random.default_rng(7),
        )
        page = client.get("/api/rankings", params={"limit": 1}).json()
        assert (page["run_id"], page["previous_run_id"]) == ("d2024newest", "c2024new")
        assert page["rows"][0]["unit_code"] == newer.sort_values("rank")["unit_code"].iloc[0]


def test_the_change_shown_is_the_one_the_job_published(
    api_workspace: Workspace, tmp_path: Path
) -> None:
    """The API reads ``rank_change`` and ``new_in_top10`` from the run; it does not redo them."""
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root)
    run = catalog.latest_run(catalog.Workspace(root), 2024)
    assert run is not None
    published = pd.read_parquet(run.ranking)
    published["rank_change"] = np.where(published["rank"] % 2 == 0, 7.0, np.nan)
    published["new_in_top10"] = published["rank"] > 290
    published.to_parquet(run.ranking, index=False)
    with TestClient(create_app(root)) as client:
        rows = all_rows(client)
    assert [r["rank_change"] for r in rows] == [7 if r["rank"] % 2 == 0 else None for r in rows]
    assert [r["previous_rank"] for r in rows] == [
        r["rank"] + 7 if r["rank"] % 2 == 0 else None for r in rows
    ]
    assert [r["new_in_top10"] for r in rows] == [r["rank"] > 290 for r in rows]


def test_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/health",
        "/api/runs",
        "/api/rankings",
        "/api/units/{code}",
        "/api/gemeenten",
        "/api/model",
        "/api/export.csv",
        "/api/export.xlsx",
        "/api/map",
    ):
        assert set(paths[path]) == {"get"}, path
    params = {p["name"]: p["schema"] for p in paths["/api/rankings"]["get"]["parameters"]}
    assert params["limit"]["maximum"] == MAX_LIMIT and params["limit"]["minimum"] == 1
    unit = paths["/api/units/{code}"]["get"]
    assert "pattern" in unit["parameters"][0]["schema"]
    assert "404" in unit["responses"]
    assert "RankingPage" in json.dumps(paths["/api/rankings"]["get"]["responses"]["200"])


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


def strategies(operation: Any, code: str) -> Any:
    """Schema-valid and schema-violating requests, plus valid ones aimed at real data (the
    newest year, a unit that exists), which random generation would rarely hit."""
    from hypothesis import strategies as st
    from schemathesis.generation.modes import GenerationMode

    names = {p.name for p in operation.iter_parameters()}
    options = [operation.as_strategy(GenerationMode.POSITIVE)]
    if names:
        options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    aimed: dict[str, Any] = {}
    if "as_of" in names:
        aimed["query"] = {"as_of": 2024}
    if "code" in names:
        aimed["path_parameters"] = {"code": code}
    if aimed:
        options.append(operation.as_strategy(GenerationMode.POSITIVE, **aimed))
    return st.one_of(options)


def test_schemathesis_finds_no_server_error(client: TestClient, api_workspace: Workspace) -> None:
    """Generated requests (valid and invalid) to every operation never get a 5xx, and each
    response matches the schema of its status code. (Driven by hand: schemathesis's pytest
    plugin does not run under pytest 9.)"""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    code = latest(api_workspace[1])["unit_code"].iloc[0]
    failures: list[str] = []
    statuses: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategies(operation, code))
        def run(case: Any) -> None:
            response = case.call_and_validate(checks=list(CHECKS))
            statuses.add(response.status_code)

        try:
            run()
        except Exception as exc:  # report every operation's failure at once
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert {200, 404, 422} <= statuses  # valid, unknown and invalid requests were all made

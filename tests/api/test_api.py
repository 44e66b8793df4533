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
    MODEL_CARDS,
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

from serving import api as api_module
from serving.api import MAX_LIMIT, PAGE_COLUMNS, create_app
from serving.context import BANDS, band_of, rate_text, relative_text
from serving.drivers import driver_sentence
from serving.report import validation_rows
from wijkradar import catalog

LOCAL = "http://127.0.0.1"  # a Host the app answers (TrustedHostMiddleware)

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
    assert [r["top_drivers"] for r in rows] == [
        top_sentences(r, api_workspace[1]["panel"]) for _, r in expected.iterrows()
    ]
    base = float(latest(api_workspace[1])["risk"].mean())
    assert page["base_rate"] == pytest.approx(base)
    assert page["base_rate_text"] == f"landelijk gemiddelde risico: {rate_text(base)}"
    assert page["context_line"].startswith("Peiljaar 2024, gegevens bekend op 1 juli 2025: ")
    for r in rows:
        assert r["relative"] == pytest.approx(r["risk"] / base)
        assert r["relative_text"] == relative_text(r["risk"], base)
        assert r["band"] == band_of(r["risk"], base).key
    assert [b["key"] for b in page["bands"]] == [b.key for b in BANDS]


def top_sentences(row: pd.Series, panel: pd.DataFrame, year: int = 2024) -> str:
    """The row's top drivers as the page writes them: the (up to 3) largest positive
    contributions, as Dutch driver sentences of the panel's values."""
    shap = {f: row[f"shap__{f}"] for f in FEATURES}
    top = sorted((f for f in shap if shap[f] > 0), key=lambda f: -shap[f])[:3]
    mine = panel[(panel["as_of_year"] == year) & (panel["unit_code"] == row["unit_code"])]
    return "; ".join(driver_sentence(f, mine[f].iloc[0]) for f in top)


def test_english_on_request(client: TestClient) -> None:
    page = client.get("/api/rankings", params={"lang": "en", "limit": 1}).json()
    assert page["context_line"].startswith("As of 2024, data known on 1 July 2025: ")
    assert page["rows"][0]["relative_text"].endswith("× the national average")
    assert client.get("/api/rankings", params={"lang": "de"}).status_code == 422


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
    assert body["top_drivers"] == top_sentences(row, panel)
    assert body["n_units"] == 300 and body["panel_matches_run"]
    assert body["title"].startswith(str(row["unit_name"])) and code in body["title"]
    assert body["band"] == band_of(row["risk"], float(now["risk"].mean())).key
    assert len(body["peers"]) == 10 and code not in {p["unit_code"] for p in body["peers"]}
    assert [c["key"] for c in body["comparison"]] == ["risk", "lbm"]
    assert body["comparison"][0]["values"][0] == pytest.approx(row["risk"])
    assert body["freshness"][0] == "Gegevens bekend op 1 juli 2025"
    grouped = [d["feature"] for g in body["driver_groups"] for d in g["drivers"]]
    assert sorted(grouped) == sorted(FEATURES)  # six features: all in the 8 largest
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
        assert (context["feature"], context["label"]) == (feature, "gemiddelde WOZ-waarde")
        assert context["unit"] == "duizend euro"
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
    assert body["model_card"] == MODEL_CARDS[1]["model_card.md"]  # Dutch by default
    evaluation = pd.DataFrame(body["evaluation"])
    assert len(evaluation) == 6 and set(evaluation["model"]) == {
        "lightgbm",
        "logistic",
        "last_change",
    }
    expected = validation_rows(evaluation)  # in Dutch, as the report shows it
    assert body["validation"]["rows"] == [r["cells"] for r in expected]
    assert body["validation"]["rows"][0][:2] == ["2018", "LightGBM"]
    assert body["validation"]["headers"][:4] == ["testjaar", "model", "n", "basiskans"]
    english = client.get("/api/model", params={"lang": "en"}).json()["validation"]
    assert english["headers"][:4] == ["test year", "model", "n", "base rate"]
    assert english["rows"] == [r["cells"] for r in validation_rows(evaluation, "en")]
    published = {p["as_of_year"]: p["model_version"] for p in body["published_with"]}
    assert published == {2022: "1", 2024: "2"}
    # The model behind 2022's ranking is v1, no longer the champion.
    old = client.get("/api/model", params={"as_of": 2022}).json()
    assert (old["model"]["version"], old["model"]["run_id"]) == ("1", v1_run)
    assert not old["model"]["is_champion"]


def test_model_card_in_the_requests_language_or_as_logged_before(client: TestClient) -> None:
    """v2 logged a Dutch and an English card; v1, logged before, only its English card, which
    it gives in either language."""
    from serving.apimodel import card_html

    english = client.get("/api/model", params={"lang": "en"}).json()
    assert english["model_card"] == MODEL_CARDS[1]["model_card.en.md"]
    assert english["model_card_html"] == card_html(english["model_card"])
    dutch = client.get("/api/model", params={"lang": "nl"}).json()
    assert dutch["model_card"] == MODEL_CARDS[1]["model_card.md"] != english["model_card"]
    for lang in ("nl", "en"):
        old = client.get("/api/model", params={"as_of": 2022, "lang": lang}).json()
        assert old["model_card"] == MODEL_CARDS[0]["model_card.md"]


def test_model_without_a_store_says_so_and_creates_none(
    api_workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root, ignore=shutil.ignore_patterns("mlflow"))
    with TestClient(create_app(root), base_url=LOCAL) as client:
        body = client.get("/api/model").json()
        assert body["available"] is False and "MLflow" in body["message"]
        assert client.get("/api/charts/pr.svg").status_code == 404
        assert client.get("/api/rankings").status_code == 200
    assert not (root / "mlflow").exists()


def read_csv_nl(text: str) -> pd.DataFrame:
    """The CSV as a Dutch spreadsheet reads it: ';' between fields, a decimal comma."""
    return pd.read_csv(
        io.StringIO(text.lstrip("\ufeff")), sep=";", decimal=",", dtype={"Wijkcode": str}
    )


def test_export_csv_is_what_the_filter_shows(client: TestClient, api_workspace: Workspace) -> None:
    now = latest(api_workspace[1])
    gemeente = now["gemeente_code"].iloc[3]
    params = {"gemeente": gemeente, "q": "wijk", "sort": "-risk"}
    response = client.get("/api/export.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"wijkradar-2024-{gemeente}.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    frame = read_csv_nl(response.text)
    shown = all_rows(client, **params)
    assert frame["Wijkcode"].tolist() == [r["unit_code"] for r in shown]
    assert frame.columns[:9].tolist() == [
        "Peiljaar", "Rang", "Wijkcode", "Naam", "Gemeentecode", "Gemeente", "Risico (%)",
        "Rang in gemeente", "Belangrijkste factoren",
    ]
    assert frame["Risico (%)"].dtype == float  # read back as numbers
    np.testing.assert_allclose(frame["Risico (%)"], [100 * r["risk"] for r in shown], atol=6e-4)
    base = float(now["risk"].mean())
    ratio = frame["Risico t.o.v. landelijk gemiddelde"]
    np.testing.assert_allclose(ratio, [r["risk"] / base for r in shown], atol=6e-4)
    assert frame["Risicoband"].tolist() == [r["band_label"] for r in shown]
    np.testing.assert_allclose(frame["Landelijk gemiddelde risico (%)"], 100 * base, atol=6e-4)
    english = client.get("/api/export.csv", params={**params, "lang": "en"}).text
    assert pd.read_csv(io.StringIO(english.lstrip("\ufeff"))).columns[0] == "As-of year"


def test_export_defuses_spreadsheet_formulas(client: TestClient) -> None:
    frame = read_csv_nl(client.get("/api/export.csv").text)
    names = frame["Naam"].tolist()
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert HOSTILE_NAME in names  # plain text in a CSV; only formulas are defused


def test_export_xlsx_has_the_same_rows(client: TestClient) -> None:
    from openpyxl import load_workbook

    params = {"q": "wijk 2"}
    response = client.get("/api/export.xlsx", params=params)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book["Ranglijst"].values)
    csv = read_csv_nl(client.get("/api/export.csv", params=params).text)
    assert list(rows[0]) == csv.columns.tolist()
    assert [r[2] for r in rows[1:]] == csv["Wijkcode"].tolist()
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


def decoded(topology: dict[str, Any], geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The rings (lon, lat) of one TopoJSON geometry (quantized, delta-encoded arcs)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    rings = []
    for polygon in polygons:
        for [arc] in polygon:
            points = np.cumsum(np.asarray(topology["arcs"][arc], dtype=float), axis=0)
            rings.append((points * (sx, sy) + (tx, ty)).tolist())
    return rings


def signed_area(ring: list[list[float]]) -> float:
    x, y = np.asarray(ring).T
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def test_map_has_the_units_with_a_geometry(client: TestClient, api_workspace: Workspace) -> None:
    now = latest(api_workspace[1])
    body = client.get("/api/map").json()
    assert body["n_units"] == 300 and body["topology"]["type"] == "Topology"
    units, topology = body["units"], body["topology"]
    geometries = topology["objects"]["units"]["geometries"]
    assert body["n_shown"] == len(units["unit_code"]) == len(geometries) == 298  # 2 lack one
    assert [g["id"] for g in geometries] == units["unit_code"]
    risk = dict(zip(now["unit_code"], now["risk"], strict=True))
    np.testing.assert_allclose(units["risk"], [risk[c] for c in units["unit_code"]], atol=1e-4)
    base = float(now["risk"].mean())
    assert units["band"] == [band_of(risk[c], base).key for c in units["unit_code"]]
    source = json.loads((api_workspace[0] / "boundaries" / "units.geojson").read_text())
    polygons = {f["properties"]["unit_code"]: f["geometry"] for f in source["features"]}
    for geometry in geometries[:20]:  # the drawn ring is the file's, clockwise for d3-geo
        [ring] = decoded(topology, geometry)
        original = np.asarray(polygons[geometry["id"]]["coordinates"][0])
        assert signed_area(ring) < 0
        np.testing.assert_allclose(np.mean(ring[:-1], axis=0), original[:-1].mean(axis=0),
                                   atol=2e-3)
    gemeenten = body["gemeenten"]
    outlines = [g["id"] for g in topology["objects"]["gemeenten"]["geometries"]]
    assert outlines == gemeenten["gemeente_code"]
    assert set(outlines) == set(now["gemeente_code"])
    names = dict(zip(now["gemeente_code"], now["gemeente_name"], strict=False))
    assert gemeenten["gemeente_name"] == [names[c] for c in outlines]
    gemeente = now["gemeente_code"].iloc[0]
    one = client.get("/api/map", params={"gemeente": gemeente}).json()
    assert set(one["units"]["gemeente_code"]) == {gemeente} and one["gemeente"] == gemeente
    assert gemeente in one["gemeenten"]["gemeente_code"]


def test_map_without_boundaries_is_404(api_workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(api_workspace[0], root, ignore=shutil.ignore_patterns("boundaries"))
    with TestClient(create_app(root), base_url=LOCAL) as client:
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
    for column in PAGE_COLUMNS:
        assert f'data-key="{column["key"]}"' in html
    assert '<html lang="nl">' in html
    assert '<html lang="en">' in client.get("/", params={"lang": "en"}).text
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    for name in ("page.js", "texts.js", "map.js", "page.css", "report.css", "format.js",
                 "d3.min.js", "topojson-client.min.js", "swagger-ui-bundle.js", "swagger-ui.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/api.py").status_code == 404
    vendor = Path(api_module.__file__).parent / "web" / "vendor"
    for licence in ("d3.LICENSE", "topojson-client.LICENSE", "swagger-ui.LICENSE"):
        assert (vendor / licence).stat().st_size > 500, licence


def test_docs_are_served_by_the_app_itself(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    assert "/static/swagger-ui-bundle.js" in html and "/static/docs.js" in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def test_head_is_answered_wherever_get_is(client: TestClient) -> None:
    for path in ("/", "/api/rankings", "/api/health", "/static/page.js", "/docs",
                 "/openapi.json", "/api/export.csv"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/api/units/WK999999").status_code == 404
    assert client.post("/api/rankings").status_code == 405


def test_only_this_machines_and_the_configured_host_are_answered(
    api_workspace: Workspace,
) -> None:
    app = create_app(api_workspace[0], host="wijkradar.gemeente.nl")
    for host, status in (
        ("127.0.0.1", 200), ("localhost:8000", 200), ("wijkradar.gemeente.nl", 200),
        ("evil.example", 400), ("127.0.0.1.evil.example", 400),
    ):
        with TestClient(app, base_url=f"http://{host}") as client:
            assert client.get("/api/health").status_code == status, host
    with TestClient(create_app(api_workspace[0]), base_url=LOCAL) as client:
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
        assert client.head("/api/rankings", headers={"Host": "evil.example"}).status_code == 400


def test_model_card_is_html_without_raw_html(client: TestClient) -> None:
    from serving.apimodel import card_html

    html = card_html("# Kaart\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
                     "\n[x](javascript:alert(1))")
    assert "<h1>Kaart</h1>" in html and "<table>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    body = client.get("/api/model").json()
    assert body["model_card_html"] == card_html(body["model_card"])


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
    with TestClient(create_app(root), base_url=LOCAL) as client:
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
    with TestClient(create_app(root), base_url=LOCAL) as client:
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
    app = create_app(api_workspace[0], allowed_hosts=["testserver"])  # schemathesis' host
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
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

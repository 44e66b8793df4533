"""The analysts' page in headless chromium, against the real app and a generated workspace:
ranking, filter, search, detail (drivers in Dutch words of the ranking's top features), the
Dutch CSV export, the map and the model view; screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e
READY = "#ranking-table[data-state=ready]"


def risk_text(risk: float) -> str:
    """The page's (and the report's) formatting of a risk: one decimal, a decimal comma."""
    return f"{risk * 100:.1f}".replace(".", ",") + "%"


def top_features(row: pd.Series) -> list[str]:
    """The features of the row's (up to 3) largest positive contributions."""
    shap = {c[len("shap__") :]: row[c] for c in row.index if c.startswith("shap__")}
    shap.pop("base")
    return sorted((f for f in shap if shap[f] > 0), key=lambda f: -shap[f])[:3]


def table_codes(page: Any) -> list[str]:
    return page.locator("#ranking-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-unit-code'))"
    )


def wait_total(page: Any, total: int) -> None:
    page.wait_for_selector(f"#ranking-table[data-state=ready][data-total='{total}']")


def busiest_gemeente(ranking: pd.DataFrame) -> str:
    counts = ranking["gemeente_code"].value_counts()
    return str(counts.index[0])


def test_ranking_filter_and_search(page: Any, ranking: pd.DataFrame, artifacts: Path) -> None:
    page.goto("/")
    page.wait_for_selector(READY)
    assert page.locator("#year-select").input_value() == "2024"
    assert table_codes(page) == ranking["unit_code"].head(50).tolist()
    first = page.locator("#ranking-table tbody tr").first
    assert first.locator("td.risk").inner_text().strip() == risk_text(ranking["risk"].iloc[0])
    page.screenshot(path=str(artifacts / "ranking.png"))

    gemeente = busiest_gemeente(ranking)
    page.select_option("#gemeente-filter", gemeente)
    expected = ranking[ranking["gemeente_code"] == gemeente]
    wait_total(page, len(expected))
    assert table_codes(page) == expected["unit_code"].head(50).tolist()

    name = str(expected["unit_name"].iloc[0])
    page.fill("#search", name.lower())
    hits = expected[expected["unit_name"].str.lower().str.contains(name.lower(), regex=False)]
    wait_total(page, len(hits))
    assert set(table_codes(page)) == set(hits["unit_code"])

    page.fill("#search", "")
    wait_total(page, len(expected))
    page.click("#ranking-table th[data-key=risk] button")  # first click: highest risk first
    page.click("#ranking-table th[data-key=risk] button")  # second: lowest first
    page.wait_for_selector("#ranking-table th[data-key=risk][aria-sort=ascending]")
    page.wait_for_selector(READY)
    lowest = expected.sort_values(["risk", "rank"], ascending=[True, True])
    assert table_codes(page)[0] == lowest["unit_code"].iloc[0]


def test_detail_shows_the_ranking_files_drivers(
    page: Any, workspace: Path, ranking: pd.DataFrame, artifacts: Path
) -> None:
    page.goto("/")
    page.wait_for_selector(READY)
    row = ranking.iloc[2]
    page.click(f"#ranking-table tr[data-unit-code='{row['unit_code']}'] a.unit-link")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{row['unit_code']}']")
    assert page.url.endswith(f"#/unit/{row['unit_code']}")
    shown = page.locator("#detail-drivers li").evaluate_all(
        "items => items.map(li => li.getAttribute('data-feature'))"
    )
    assert shown == top_features(row)
    assert page.locator("#detail-risk").inner_text() == risk_text(row["risk"])
    assert page.locator("#detail-rank").inner_text().startswith("3 van ")
    features = page.locator("#detail-features tbody tr").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-feature'))"
    )
    shap = {c[len("shap__") :]: row[c] for c in ranking.columns if c.startswith("shap__")}
    shap.pop("base")
    assert features[:5] == sorted(shap, key=lambda f: (-abs(shap[f]), f))[:5]
    page.wait_for_selector("#detail-waterfall[data-state=ready]")
    image = page.locator("#detail-waterfall img")
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    for figure in ("detail-lbm-history", "detail-risk-history"):
        assert page.locator(f"#{figure} svg.line-chart path.series").count() >= 1, figure
    assert float(page.locator("#detail-risk-history .chart-body").get_attribute("data-y-max")) <= 1
    assert page.locator("#detail-peers tbody tr").count() == 10
    page.screenshot(path=str(artifacts / "detail.png"), full_page=True)
    context = json.loads((workspace / "panel" / "panel.json").read_text())["context_features"]
    context_rows = page.locator("#detail-context-table tbody tr").count()
    assert page.locator("#detail-context").is_visible() == bool(context_rows)
    assert context or context_rows == 0  # no context features: no section
    page.click("#detail-back")
    page.wait_for_selector(READY)


def test_csv_export_is_what_the_table_shows(
    page: Any, ranking: pd.DataFrame, tmp_path: Path
) -> None:
    """The page's CSV opens in a Dutch spreadsheet as numbers: ';' and a decimal comma."""
    page.goto("/")
    page.wait_for_selector(READY)
    gemeente = busiest_gemeente(ranking)
    page.select_option("#gemeente-filter", gemeente)
    expected = ranking[ranking["gemeente_code"] == gemeente]
    wait_total(page, len(expected))
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename == f"wijkradar-2024-{gemeente}.csv"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    frame = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"Wijkcode": str})
    assert frame["Wijkcode"].tolist() == expected["unit_code"].tolist()
    assert frame["Rang"].tolist() == expected["rank"].tolist()
    assert frame["Risico (%)"].dtype == float
    np.testing.assert_allclose(frame["Risico (%)"], 100 * expected["risk"], atol=6e-4)
    assert frame["Risico t.o.v. landelijk gemiddelde"].dtype == float


def test_map_click_opens_the_detail(page: Any, ranking: pd.DataFrame, artifacts: Path) -> None:
    page.goto("/#/map")
    page.wait_for_selector("#view-map[data-state=ready]")
    paths = page.locator("#map path.unit")
    assert paths.count() == len(ranking)
    base = float(ranking["risk"].mean())
    high = int((ranking["risk"] >= 3 * base * (1 - 1e-12)).sum())
    assert page.locator("#map path.unit[data-band=hoog]").count() == high
    assert page.locator("#map path.gemeente").count() == ranking["gemeente_code"].nunique()
    assert page.locator("#map-legend .legend-item").count() == 5  # 4 bands and 'geen waarde'
    page.locator("#view-map").screenshot(path=str(artifacts / "map-demo.png"))
    code = str(ranking["unit_code"].iloc[0])
    page.dispatch_event(f"#map path.unit[data-unit-code='{code}']", "click")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{code}']")


def test_map_follows_the_gemeente_filter(page: Any, ranking: pd.DataFrame) -> None:
    page.goto("/")
    page.wait_for_selector(READY)
    gemeente = busiest_gemeente(ranking)
    page.select_option("#gemeente-filter", gemeente)
    wait_total(page, int((ranking["gemeente_code"] == gemeente).sum()))
    page.click("#tab-map")
    page.wait_for_selector(f"#view-map[data-state=ready][data-gemeente='{gemeente}']")
    assert page.locator("#map path.unit").count() == (ranking["gemeente_code"] == gemeente).sum()
    assert page.locator(f"#map path.gemeente[data-gemeente-code='{gemeente}']").count() == 1


def test_model_view_and_year_switch(page: Any, workspace: Path, artifacts: Path) -> None:
    page.goto("/#/model")
    page.wait_for_selector("#view-model[data-state=ready]")
    year = workspace / "scores" / "2024"
    latest = (year / "latest").read_text().strip()
    manifest = json.loads((year / "runs" / latest / "manifest.json").read_text())
    version = f"{manifest['model_name']} v{manifest['model_version']}"
    assert page.locator("#model-version").inner_text().startswith(version)
    assert page.locator("#validation-table tbody tr").count() >= 3
    assert page.locator("#validation-table tbody tr.primary").count() >= 1
    page.wait_for_selector("#pr-plot[data-state=ready]")
    image = page.locator("#pr-plot img")
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    assert page.locator("#model-card h1, #model-card h2").count() >= 1  # Markdown rendered
    assert "van de 10% hoogste risico's" in page.locator("#model-quality").inner_text()
    page.screenshot(path=str(artifacts / "model.png"), full_page=True)
    page.select_option("#year-select", "2022")
    page.click("#tab-ranking")
    page.wait_for_selector(READY)
    assert page.locator("#year-label").inner_text() == "2022"


def test_the_static_report_still_works(browser: Any, workspace: Path) -> None:
    """The report shares the table template and format.js with the page: it must still run."""
    from serving.published import run_report
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws = Workspace(workspace)
    run_report(ws, load_config(ws.config), None)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((workspace / "report" / "index.html").as_uri())
    rows = page.locator("#ranking-table tbody tr")
    assert rows.count() == 50
    assert "units" in page.locator("#page-info").inner_text()
    page.fill("#search", "zzz-no-such-unit")
    assert rows.count() == 0
    context.close()
    assert not errors, errors


# --- the hand-made workspace: hostile names, a previous run, no MLflow store -----------------


def test_hostile_names_stay_text(crafted_page: Any, crafted: Any) -> None:
    page, hostile = crafted_page, crafted[1]["hostile_name"]
    page.goto("/")
    page.wait_for_selector(READY)
    page.fill("#search", "onerror")
    wait_total(page, 1)
    link = page.locator("#ranking-table tbody a.unit-link")
    assert link.inner_text() == hostile
    assert page.locator("#ranking-table tbody img, #ranking-table tbody script").count() == 0
    link.click()
    page.wait_for_selector("#view-detail[data-state=ready]")
    assert page.locator("#detail-title").inner_text().startswith(hostile)
    assert page.locator("#detail-title *").count() == 0
    page.click("#tab-map")
    page.wait_for_selector("#view-map[data-state=ready]")
    names = page.locator("#map path.unit").evaluate_all(
        "paths => paths.map(p => p.getAttribute('aria-label'))"
    )
    assert hostile in names
    page.locator("#map-card").evaluate("card => card")  # exists
    assert page.locator("#map-card img, #map-card script").count() == 0


def test_detail_shows_the_context_features_in_dutch(
    crafted_page: Any, crafted: Any, artifacts: Path
) -> None:
    """The crafted workspace's panel has a context feature (WOZ-waarde, 2024 only): the
    detail shows it in its own section, in Dutch words and numbers; 2022 has none."""
    from features.describe import value_text

    info = crafted[1]
    panel = info["panel"]
    year = panel[panel["as_of_year"] == 2024]
    code = year.loc[year["woz_value"].notna(), "unit_code"].iloc[0]
    mine = year[year["unit_code"] == code].iloc[0]
    gemeente = year.loc[year["gemeente_code"] == mine["gemeente_code"], "woz_value"]
    page = crafted_page
    page.goto(f"/#/unit/{code}")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{code}']")
    section = page.locator("#detail-context")
    assert section.is_visible()
    assert section.locator("h3").inner_text() == "Context (niet in het model)"
    cells = section.locator("tbody tr[data-feature=woz_value] td").all_inner_texts()
    assert cells == [
        "gemiddelde WOZ-waarde (duizend euro)",
        value_text("woz_value", float(mine["woz_value"])),
        value_text("woz_value", float(gemeente.median())),
        value_text("woz_value", float(year["woz_value"].median())),
    ]
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "detail-context.png"), full_page=True)
    page.select_option("#year-select", "2022")
    page.wait_for_selector("#view-detail[data-state=ready]")
    page.wait_for_function("() => document.getElementById('year-label').textContent === '2022'")
    page.wait_for_selector("#detail-context", state="hidden")
    assert page.locator("#detail-context-table tbody tr").count() == 0


def test_new_in_top10_marker_and_rank_change(crafted_page: Any, crafted: Any) -> None:
    rankings = crafted[1]["rankings"]
    now, before = rankings["c2024new"], rankings["b2024old"]
    top = -(-len(now) // 10)
    prev = dict(zip(before["unit_code"], before["rank"], strict=True))
    new = {c for c, r in zip(now["unit_code"], now["rank"], strict=True) if r <= top < prev[c]}
    assert new, "the fixture should move some unit into the top 10 %"
    page = crafted_page
    page.goto("/")
    page.wait_for_selector(READY)
    marked = page.locator("#ranking-table tbody tr.is-new-top10").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-unit-code'))"
    )
    assert set(marked) == new
    assert page.locator("#ranking-table tbody tr.is-new-top10 .new-top10").count() == len(new)
    code, rank = now["unit_code"].iloc[0], int(now["rank"].iloc[0])
    change = prev[code] - rank
    cell = page.locator(f"#ranking-table tr[data-unit-code='{code}'] td.change").inner_text()
    assert cell == ("0" if change == 0 else ("▲" if change > 0 else "▼") + str(abs(change)))


def test_model_view_without_a_store_says_so(crafted_page: Any) -> None:
    page = crafted_page
    page.goto("/#/model")
    page.wait_for_selector("#view-model[data-state=ready]")
    assert "MLflow" in page.locator("#model-message").inner_text()
    assert page.locator("#pr-plot").is_hidden()


def test_the_page_says_what_the_scores_knew_in_dutch(crafted_page: Any, artifacts: Path) -> None:
    """The crafted workspace's runs carry hand-made knowledge dates: the header shows the
    latest run's line of the chosen year, in Dutch, and follows the year switch."""
    page = crafted_page
    page.goto("/")
    page.wait_for_selector(READY)
    line = page.locator("#knowledge-info")
    assert line.is_visible()
    assert line.inner_text() == (
        "Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2023"
    )
    assert line.get_attribute("lang") == "nl"
    page.screenshot(path=str(artifacts / "knowledge-line.png"))
    page.select_option("#year-select", "2022")
    page.wait_for_function(
        "() => document.getElementById('knowledge-info').textContent"
        ".startsWith('Gegevens bekend op 1 juli 2023: Leefbarometer 2022')"
    )

"""The page as a Dutch analyst meets it, in headless chromium: Dutch first and English on
request, the map (zoom, pan, hover card, colour choice, click-through), the fact sheet printed
to one A4 page, /docs with the network blocked, and the real PC4 workspace of
examples/lbm3_pc4.toml (names, gemeenten, the real map). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e
READY = "#ranking-table[data-state=ready]"


def pdf_pages(pdf: bytes) -> int:
    """The page count of a PDF (its page tree's /Count)."""
    counts = [int(c) for c in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(c) for c in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts, "no page tree in the PDF"
    return max(counts)


def test_the_page_is_dutch_and_english_on_request(page: Any, ranking: pd.DataFrame) -> None:
    page.goto("/")
    page.wait_for_selector(READY)
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("#tab-ranking").inner_text() == "Ranglijst"
    assert page.locator("#context-line").inner_text().startswith("Peiljaar 2024")
    assert "Leefbarometer-meting" in page.locator("#context-line").inner_text()
    assert page.locator("#base-rate").inner_text().startswith("landelijk gemiddelde risico: ")
    first = page.locator("#ranking-table tbody tr").first
    assert first.locator("td.relative").inner_text().endswith("× het landelijk gemiddelde")
    assert "," in first.locator("td.risk").inner_text()
    assert page.locator("#band-legend .legend-item").count() == 4
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"\?lang=en"))
    page.wait_for_selector(READY)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#tab-ranking").inner_text() == "Ranking"
    assert page.locator("#context-line").inner_text().startswith("As of 2024")
    first = page.locator("#ranking-table tbody tr").first
    assert first.locator("td.relative").inner_text().endswith("× the national average")
    assert "." in first.locator("td.risk").inner_text()
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"\?lang=nl"))
    page.wait_for_selector(READY)
    assert page.locator("#tab-map").inner_text() == "Kaart"


def test_map_zoom_pan_hover_and_colours(page: Any, ranking: pd.DataFrame) -> None:
    page.goto("/#/map")
    page.wait_for_selector("#view-map[data-state=ready]")
    svg = page.locator("#map")
    box = svg.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.wheel(0, -600)
    page.wait_for_function("() => Number(document.getElementById('map').dataset.zoom) > 1.5")
    before = svg.get_attribute("data-pan")
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] + 120, centre[1] + 60, steps=6)
    page.mouse.up()
    assert svg.get_attribute("data-pan") != before
    page.click("#zoom-reset")
    page.wait_for_function("() => document.getElementById('map').dataset.zoom === '1.000'")
    code = str(ranking["unit_code"].iloc[0])
    target = page.locator(f"#map path.unit[data-unit-code='{code}']")
    target.dispatch_event("pointermove", {"clientX": centre[0], "clientY": centre[1]})
    card = page.locator("#map-card")
    assert card.is_visible() and card.get_attribute("data-unit-code") == code
    text = card.inner_text()
    row = ranking.iloc[0]
    assert str(row["unit_name"]) in text and "kans" in text and "grootste factor" in text
    legend = page.locator("#map-legend").inner_text()
    assert "hoog" in legend
    page.select_option("#map-colour", "lbm")
    assert "laagste 20%" in page.locator("#map-legend").inner_text()
    page.select_option("#map-colour", "change")
    assert "daling ≥ 0,05" in page.locator("#map-legend").inner_text()
    target.dispatch_event("click")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{code}']")


def test_the_fact_sheet_prints_to_one_a4_page(
    page: Any, ranking: pd.DataFrame, artifacts: Path
) -> None:
    code = str(ranking["unit_code"].iloc[0])
    page.goto(f"/#/unit/{code}")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{code}']")
    for section in ("#detail-groups .domain", "#detail-peers tbody tr", "#detail-freshness li",
                    "#detail-comparison tbody tr", "#detail-lbm-history svg"):
        assert page.locator(section).count() >= 1, section
    pdf = page.pdf(format="A4", print_background=True)  # CDP Page.printToPDF
    (artifacts / "fact-sheet.pdf").write_bytes(pdf)
    assert pdf_pages(pdf) == 1
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 720, "height": 1040})
    assert page.locator("#page-header").is_hidden() and page.locator("#detail-title").is_visible()
    page.screenshot(path=str(artifacts / "fact-sheet.png"), full_page=True)


def test_docs_work_with_the_network_blocked(
    browser: Any, server: str, new_page: Any, artifacts: Path
) -> None:
    context, tab, errors = new_page(browser, server)
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab.goto("/docs")
    tab.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)
    assert tab.locator(".swagger-ui .opblock").count() >= 12
    assert "wijkradar" in tab.locator(".swagger-ui .info .title").inner_text()
    tab.screenshot(path=str(artifacts / "docs.png"))
    context.close()
    assert not outside, outside
    assert not errors, errors


# --- the real PC4 workspace ---------------------------------------------------------------------


def test_the_pc4_workspace_has_names_gemeenten_and_a_real_map(
    pc4_page: Any, artifacts: Path
) -> None:
    page = pc4_page
    page.goto("/")
    page.wait_for_selector(READY)
    names = page.locator("#ranking-table tbody a.unit-link").all_inner_texts()
    assert all(re.fullmatch(r"\d{4} \S.*", n) for n in names), names[:5]
    assert page.locator("#ranking-table tbody td .code").count() == 0  # no '6564 (6564)'
    assert page.locator("#gemeente-filter option").count() > 300
    page.screenshot(path=str(artifacts / "pc4-ranking.png"))
    code = page.locator("#ranking-table tbody tr").first.get_attribute("data-unit-code")
    page.goto(f"/#/unit/{code}")
    page.wait_for_selector(f"#view-detail[data-state=ready][data-unit-code='{code}']")
    title = page.locator("#detail-title").inner_text()
    assert f"({code})" not in title and not title.endswith(",")
    assert re.fullmatch(r"\d+ van \d+", page.locator("#detail-rank-gemeente").inner_text())
    labels = page.locator("#detail-features tbody tr td:first-child").all_inner_texts()
    assert labels and not any("_" in label for label in labels), labels
    ticks = page.locator("#detail-risk-history .chart-body").get_attribute("data-y-ticks")
    assert len(set(ticks.split("|"))) == len(ticks.split("|"))  # no '18%, 18%, 18%'
    page.screenshot(path=str(artifacts / "pc4-detail.png"), full_page=True)

    page.goto("/#/map")
    page.wait_for_selector("#view-map[data-state=ready]")
    assert page.locator("#map path.unit").count() > 4000
    assert page.locator("#map path.gemeente").count() > 300
    shown = page.locator("#map text.gemeente-label:not([display=none])").count()
    assert shown >= 5  # the largest gemeenten are named at the national scale
    page.locator("#view-map").screenshot(path=str(artifacts / "map-pc4-national.png"))
    page.goto("/#/ranking")
    page.wait_for_selector(READY)
    page.select_option("#gemeente-filter", "GM0344")  # Utrecht
    page.wait_for_selector("#ranking-table[data-state=ready]")
    page.click("#tab-map")
    page.wait_for_selector("#view-map[data-state=ready][data-gemeente=GM0344]")
    assert page.locator("#map path.unit").count() >= 10
    assert page.locator("#map text.gemeente-label[data-gemeente-code=GM0344]").is_visible()
    page.locator("#view-map").screenshot(path=str(artifacts / "map-pc4-utrecht.png"))

"""The static HTML report: self-contained, escaped, with the full ranking and valid charts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest

from serving import charts, formatting
from serving.report import (
    HORIZON_PHRASE,
    REPORT_COLUMNS,
    TABLE_COLUMNS,
    ReportInputs,
    ranking_json,
    render_report,
)
from wijkradar.records import ALL_GEMEENTEN, Manifest

FEATURES = (
    "lbm",
    "lbm_chg_prev",
    "gm_lbm_chg_prev",
    "low_income_hh_pct_chg3",
    "bijstand_per_1000_chg3",
    "corp_renovation_per_dwelling_chg3",
)
EVIL_NAME = 'Oud-West</script><b>bold</b> & <!-- "quoted"'
MODELS = ("lightgbm", "logistic", "persistence")


def make_inputs(n: int = 40, seed: int = 0) -> ReportInputs:
    rng = np.random.default_rng(seed)
    gemeenten = [("GM0363", "Amsterdam"), ("GM0599", "Rotterdam"), ("GM0014", "Groningen")]
    codes = [f"WK{i:06d}" for i in range(n)]
    features = pd.DataFrame({"unit_code": codes})
    for name in FEATURES:
        features[name] = rng.normal(size=n)
    features.loc[::5, "low_income_hh_pct_chg3"] = np.nan
    shap = pd.DataFrame(
        {f"shap__{f}": rng.normal(scale=0.1 * (i + 1), size=n) for i, f in enumerate(FEATURES)}
    )
    shap["shap__base"] = -1.5
    margin = shap.sum(axis=1).to_numpy()
    gm = [gemeenten[i % 3] for i in range(n)]
    ranking = pd.DataFrame(
        {
            "unit_code": codes,
            "unit_name": [f"Wijk {i}" for i in range(n)],
            "gemeente_code": [g[0] for g in gm],
            "gemeente_name": [g[1] for g in gm],
            "as_of_year": 2022,
            "risk": 1.0 / (1.0 + np.exp(-margin)),
            "margin": margin,
        }
    )
    ranking.loc[3, "unit_name"] = EVIL_NAME
    ranking["rank"] = ranking["risk"].rank(ascending=False, method="first").astype(int)
    ranking["rank_in_gemeente"] = (
        ranking.groupby("gemeente_code")["risk"].rank(ascending=False, method="first").astype(int)
    )
    ranking["top_drivers"] = "low_income_hh_pct_chg3 (+0.42); lbm (+0.31)"
    ranking = pd.concat([ranking, shap], axis=1).sample(frac=1.0, random_state=seed)
    evaluation = pd.DataFrame(
        [
            {
                "test_year": year,
                "model": model,
                "n": 3300,
                "base_rate": 0.2,
                "roc_auc": 0.7 + 0.01 * k + 0.001 * (year - 2018),
                "pr_auc": 0.41234,
                "precision_at_10": 0.5,
                "recall_at_10": 0.25,
            }
            for year in (2018, 2020)
            for k, model in enumerate(reversed(MODELS))
        ]
    )
    curves = []
    for k, model in enumerate(MODELS):
        y = rng.integers(0, 2, 120)
        curves.append(
            pd.DataFrame(
                {"model": model, "y_true": y, "score": rng.random(120) + 0.3 * y / (k + 1)}
            )
        )
    manifest = Manifest(
        run_id="abc123runid",
        as_of_year=2022,
        model_name="lightgbm",
        model_version="3",
        model_run_id="m" * 32,
        panel_fingerprint="f" * 64,
        row_count=n,
        features=FEATURES,
        additivity_max_error=1e-12,
        previous_run=None,
        drift_flagged=(),
        units_flagged_missing=0,
        gemeenten=ALL_GEMEENTEN,
        created="2024-05-01T12:00:00+00:00",
    )
    return ReportInputs(ranking, features, evaluation, pd.concat(curves), manifest)


class Collector(HTMLParser):
    """Start tags, ids, script elements (attributes and text) of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._text = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._text)))
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._text.append(data)

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return make_inputs()


@pytest.fixture(scope="module")
def html(inputs: ReportInputs) -> str:
    return render_report(inputs)


@pytest.fixture(scope="module")
def parsed(html: str) -> Collector:
    parser = Collector()
    parser.feed(html)
    parser.close()
    return parser


def blob(parsed: Collector) -> dict[str, Any]:
    found = [text for attrs, text in parsed.scripts if attrs.get("id") == "ranking-data"]
    assert len(found) == 1
    return json.loads(found[0])


def figure_svg(html: str, figure_id: str) -> str:
    match = re.search(rf'<figure id="{figure_id}"[^>]*>\s*(<svg.*?</svg>)', html, re.DOTALL)
    assert match, f"no inline SVG in #{figure_id}"
    return match.group(1)


def test_document_parses_and_has_the_stable_ids(html: str, parsed: Collector) -> None:
    assert html.startswith("<!DOCTYPE html>")
    required = {"gemeente-filter", "search", "ranking-table", "pr-plot", "shap-summary"}
    assert required | {"validation-table", "ranking-data"} <= parsed.ids
    assert [t for t, _ in parsed.tags].count("html") == 1


def test_no_external_resources(html: str, parsed: Collector) -> None:
    assert not any(t == "script" and "src" in a for t, a in parsed.tags)
    assert not any(t == "link" for t, _ in parsed.tags)
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", html, re.IGNORECASE)
    assert "@import" not in html and "url(http" not in html
    # The only absolute URLs are the SVG namespace declarations, which are never fetched.
    for match in re.finditer(r"https?://", html):
        before = html[max(0, match.start() - 16) : match.start()]
        assert re.search(r'xmlns(:xlink)?="$', before), html[match.start() - 40 : match.end() + 40]


def test_header_shows_the_run(html: str, inputs: ReportInputs) -> None:
    assert '<html lang="nl">' in html  # Dutch first
    for text in ("2022", "lightgbm v3", "abc123runid", "f" * 12, "2024-05-01T12:00:00+00:00"):
        assert text in html
    english = render_report(inputs, lang="en")
    assert '<html lang="en">' in english and HORIZON_PHRASE in english  # no delta: the phrase


def test_header_puts_the_risk_in_context(inputs: ReportInputs) -> None:
    from dataclasses import replace

    from markupsafe import escape

    from serving import context

    page = render_report(replace(inputs, delta=0.05, horizon=2))
    target = context.target_text(0.05, 2024)
    assert f'<strong id="meta-target">{target}</strong>' in page
    assert "vóór de Leefbarometer-meting 2024" in page
    assert '<dd id="meta-measurement-year">2024</dd>' in page
    base_rate = context.base_rate_of(inputs.ranking["risk"])
    assert context.base_rate_text(base_rate) in page
    quality = context.quality_text(0.1, 0.5, 0.2)  # lightgbm, newest test year (2020)
    assert str(escape(quality)) in page and "(toetsjaar 2020)" in page
    for band in context.BANDS:
        assert f'data-band="{band.key}"' in page and band.colour in page
    data = blob(_parse(page))
    keys = [r[data["columns"].index("band_key")] for r in data["rows"]]
    risks = [r[data["columns"].index("risk")] for r in data["rows"]]
    assert keys == context.bands_of(risks, base_rate)
    drivers = [r[data["columns"].index("top_drivers")] for r in data["rows"]]
    assert all("_" not in d for d in drivers) and any(" steeg " in d for d in drivers)
    relative = data["rows"][0][data["columns"].index("relative")]
    assert relative == formatting.times(risks[0] / base_rate)
    english = render_report(replace(inputs, delta=0.05, horizon=2), lang="en")
    assert context.target_text(0.05, 2024, "en") in english
    assert str(escape(context.quality_text(0.1, 0.5, 0.2, "en"))) in english


def _parse(page: str) -> Collector:
    parser = Collector()
    parser.feed(page)
    parser.close()
    return parser


def test_blob_has_all_rows_in_rank_order(inputs: ReportInputs, parsed: Collector) -> None:
    data = blob(parsed)
    assert data["columns"] == list(REPORT_COLUMNS)
    assert data["columns"][: len(TABLE_COLUMNS)] == list(TABLE_COLUMNS)  # shared with the page
    rows = data["rows"]
    expected = inputs.ranking.sort_values("rank")
    assert len(rows) == len(inputs.ranking) == 40
    codes = [r[data["columns"].index("unit_code")] for r in rows]
    assert codes == expected["unit_code"].tolist()
    ranks = [r[data["columns"].index("rank")] for r in rows]
    assert ranks == list(range(1, 41))
    risks = np.array([r[data["columns"].index("risk")] for r in rows])
    np.testing.assert_allclose(risks, expected["risk"].to_numpy(), atol=1e-6)


def test_gemeente_filter_lists_all_then_sorted_names(parsed: Collector, html: str) -> None:
    select = re.search(r'<select id="gemeente-filter">(.*?)</select>', html, re.DOTALL)
    assert select
    labels = re.findall(r"<option value=\"([^\"]*)\">([^<]*)</option>", select.group(1))
    assert labels[0] == ("all", "alle")
    assert [name for _, name in labels[1:]] == ["Amsterdam", "Groningen", "Rotterdam"]
    assert dict(labels[1:])["GM0363"] == "Amsterdam"


def test_hostile_unit_name_cannot_break_out(html: str, parsed: Collector) -> None:
    assert "</script><b>" not in html
    assert html.count("</script>") == len(parsed.scripts) == 2
    assert "b" not in {t for t, _ in parsed.tags}
    names = [r[TABLE_COLUMNS.index("unit_name")] for r in blob(parsed)["rows"]]
    assert EVIL_NAME in names


def test_ranking_json_escapes_markup_and_round_trips() -> None:
    frame = pd.DataFrame(
        {c: [1] for c in TABLE_COLUMNS} | {"unit_name": ["a</script>&<!--\u2028"], "risk": [np.nan]}
    )
    text = ranking_json(frame)
    assert not set("<>&") & set(text)
    assert "\u2028" not in text
    row = json.loads(text)["rows"][0]
    assert row[TABLE_COLUMNS.index("unit_name")] == "a</script>&<!--\u2028"
    assert row[TABLE_COLUMNS.index("risk")] is None


def test_validation_table_formats_three_decimals(html: str) -> None:
    table = re.search(r'<table id="validation-table">(.*?)</table>', html, re.DOTALL)
    assert table
    body = table.group(1).split("<tbody>")[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert len(cells) == 6
    assert [(c[0], c[1]) for c in cells[:3]] == [
        ("2018", "LightGBM"),
        ("2018", "persistence"),  # baselines keep the order they come in
        ("2018", "logistische regressie"),
    ]
    assert cells[0][3:] == ["0,200", "0,720", "0,412", "0,500", "0,250"]  # Dutch decimals
    assert all(re.fullmatch(r"\d,\d{3}", v) for c in cells for v in c[3:])
    heads = re.findall(r"<th[^>]*>(.*?)</th>", table.group(1).split("<tbody>")[0])
    assert heads[:4] == ["testjaar", "model", "n", "basiskans"]
    assert "precisie in top 10%" in heads


def test_pr_plot_is_valid_svg_with_one_curve_per_model(inputs: ReportInputs, html: str) -> None:
    for svg in (charts.pr_curve_svg(inputs.pr_curves), figure_svg(html, "pr-plot")):
        root = ET.fromstring(svg)
        ids = [e.get("id", "") for e in root.iter()]
        curves = sorted(i for i in ids if i.startswith("pr-curve-"))
        assert curves == sorted(f"pr-curve-{m}" for m in MODELS)
        assert ids.count("pr-base-rate") == 1
        assert sum(1 for e in root.iter() if e.tag.endswith("text")) > 0
        assert "PR-AUC" in svg


def test_shap_summary_is_valid_svg_with_a_row_per_top_feature(
    inputs: ReportInputs, html: str
) -> None:
    shap = inputs.ranking[["unit_code", *[f"shap__{f}" for f in FEATURES], "shap__base"]]
    svg = charts.shap_summary_svg(shap, inputs.features, max_features=4)
    root = ET.fromstring(svg)
    rows = [e.get("id") for e in root.iter() if e.get("id", "").startswith("shap-row-")]
    top = charts.top_features(shap, 4)
    assert rows == [f"shap-row-{f}" for f in top.index]
    assert top.index[0] == "corp_renovation_per_dwelling_chg3"  # the largest SHAP scale
    assert "base" not in top.index
    assert charts.NAN_COLOR in svg  # NaN feature values are drawn grey
    assert "laag" in svg and "hoog" in svg
    assert "corp_renovation_per_dwelling_chg3" not in re.sub(r'id="[^"]*"', "", svg)  # words
    ET.fromstring(figure_svg(html, "shap-summary"))


def test_large_shap_summary_is_rasterized_and_small() -> None:
    big = make_inputs(n=charts.RASTERIZE_ABOVE // len(FEATURES) + 50, seed=1)
    shap = big.ranking[["unit_code", *[f"shap__{f}" for f in FEATURES]]]
    svg = charts.shap_summary_svg(shap, big.features)
    ET.fromstring(svg)
    assert "data:image/png;base64" in svg
    assert len(svg) < 2_000_000


def test_precision_recall_matches_sklearn() -> None:
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.random(300) + 0.2 * y, 2)  # rounded: plenty of ties
    recall, precision, ap = charts.precision_recall(y, score)
    assert ap == pytest.approx(average_precision_score(y, score))
    assert recall[0] == 0.0 and recall[-1] == 1.0 and np.all(np.diff(recall) >= 0)
    assert precision[-1] == pytest.approx(y.mean())


def test_render_is_deterministic(inputs: ReportInputs, html: str) -> None:
    assert render_report(inputs) == html


def test_missing_ranking_column_is_an_error(inputs: ReportInputs) -> None:
    broken = ReportInputs(
        inputs.ranking.drop(columns=["top_drivers"]),
        inputs.features,
        inputs.evaluation,
        inputs.pr_curves,
        inputs.manifest,
    )
    with pytest.raises(ValueError, match="top_drivers"):
        render_report(broken)


def test_importing_the_report_does_not_import_matplotlib() -> None:
    code = "import sys, serving.report, serving.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_header_says_what_the_rows_knew_only_when_the_run_knows_it(inputs: ReportInputs) -> None:
    from dataclasses import replace

    from wijkradar.records import SourceUse

    sources = (
        SourceUse("Leefbarometer", 2022, "2023-07-01"),
        SourceUse("CBS", 2022, "2023-07-01"),
        SourceUse("CBS income", 2021, "2023-07-01"),
    )
    manifest = replace(inputs.manifest, knowledge_date="2023-07-01", sources=sources)
    page = render_report(replace(inputs, manifest=manifest))
    line = "Gegevens bekend op 1 juli 2023: Leefbarometer 2022, CBS 2022, CBS inkomen 2021"
    assert f'<p class="note" id="meta-knowledge">{line}</p>' in page
    english = render_report(replace(inputs, manifest=manifest), lang="en")
    line = "Data known on 1 July 2023: Leefbarometer 2022, CBS 2022, CBS income 2021"
    assert f'<p class="note" id="meta-knowledge">{line}</p>' in english
    assert 'id="meta-knowledge"' not in render_report(inputs)  # no calendar: no line

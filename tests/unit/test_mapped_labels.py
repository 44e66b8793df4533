"""A config's mapped columns (a source's ``columns`` table, ``PanelMeta.mapped_columns``) are
named by their configured labels wherever the serving layer names a feature: the ranking's
drivers in words, the per-gemeente exports' headers, the API's texts and the report's charts.
(How the labels are read and looked up: tests/unit/test_mapped_columns.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.describe import mapped_terms
from serving.apistore import Store
from serving.charts.explanations import feature_labels
from serving.drivers import driver_sentence, drivers_of
from serving.exports import gemeente_table
from serving.job import score_rows
from serving.sheets import export_headers
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.records import MappedColumn, PanelMeta

EDU = "education_low_pct"
COLUMNS = (
    MappedColumn(EDU, "share", "low education (%)", "aandeel laagopgeleiden", "Laag (%)"),
    MappedColumn("own_score", "rate", "", "", "eigen_score"),
)
TERMS = mapped_terms(COLUMNS)
FEATURES = [f"{EDU}_chg1", "lbm", "own_score"]


def test_a_driver_sentence_names_a_mapped_column_by_its_label_in_either_language() -> None:
    feature = f"{EDU}_chg1"
    assert driver_sentence(feature, 0.5, "nl", TERMS) == (
        "het aandeel laagopgeleiden steeg 0,5 procentpunt in 1 jaar"
    )
    assert driver_sentence(feature, 0.5, "en", TERMS) == (
        "the share of low education rose 0.5 percentage points over 1 year"
    )
    # Without the panel's terms the sentence falls back to the name in words.
    assert "laagopgeleiden" not in driver_sentence(feature, 0.5, "nl")
    # A mapped column without a label keeps its name, with no article guessed for it.
    assert driver_sentence("own_score_chg_prev", -2.0, "nl", TERMS) == (
        "own score daalde met 2 sinds de vorige meting"
    )


def test_a_label_the_config_calls_plural_gets_plural_verbs() -> None:
    visits = MappedColumn("gp_visits_per_1000", "rate", "GP visits per 1,000",
                          "huisartsbezoeken per 1.000 inwoners", "Bezoek", plural=True)
    terms = mapped_terms((visits,))
    assert driver_sentence("gp_visits_per_1000_chg3", 12.0, "nl", terms) == (
        "huisartsbezoeken per 1.000 inwoners stegen met 12 in 3 jaar"
    )
    assert driver_sentence("gp_visits_per_1000", 310.0, "en", terms) == (
        "GP visits per 1,000 are 310"
    )
    singular = mapped_terms((MappedColumn(**{**visits.__dict__, "plural": False}),))
    assert "steeg met 12" in driver_sentence("gp_visits_per_1000_chg3", 12.0, "nl", singular)


def test_drivers_of_label_and_value_use_the_mapped_term() -> None:
    shap = pd.Series({f"{EDU}_chg1": 0.4, "lbm": -0.1, EDU: 0.2})
    values = pd.Series({f"{EDU}_chg1": 1.5, "lbm": 4.1, EDU: 22.0})
    drivers = {d.feature: d for d in drivers_of(shap, values, k=3, lang="nl", extra=TERMS)}
    assert drivers[f"{EDU}_chg1"].label == "aandeel laagopgeleiden, verandering in 1 jaar"
    assert drivers[EDU].value_text == "22%"  # a share: a percentage, not a count
    assert drivers[EDU].sentence == "het aandeel laagopgeleiden is 22%"


def _rows_and_output(n: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({
        "unit_code": [f"WK0363{i:02d}" for i in range(n)],
        "unit_name": [f"Wijk {i}" for i in range(n)],
        "gemeente_code": "GM0363",
        "gemeente_name": "Amsterdam",
        "as_of_year": 2022,
        f"{EDU}_chg1": rng.uniform(-1, 3, n).round(1),
        "lbm": rng.uniform(3.8, 4.4, n),
        "own_score": rng.integers(0, 9, n).astype("float64"),
    })
    shap = np.column_stack([np.full(n, 0.9), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)])
    output = pd.DataFrame(shap, columns=[f"shap__{f}" for f in FEATURES])
    output["shap__base"] = -2.0
    margin = output.sum(axis=1).to_numpy()
    output.insert(0, "margin", margin)
    output.insert(0, "risk", 1 / (1 + np.exp(-margin)))
    return rows, output


def test_the_ranking_names_a_mapped_driver_by_its_label() -> None:
    rows, output = _rows_and_output()
    ranking, _ = score_rows(lambda _x: output.copy(), rows, FEATURES, TERMS)
    first = ranking["top_drivers"].str.split("; ").str[0]  # education has the largest share
    assert first.str.startswith("het aandeel laagopgeleiden ").all()
    plain, _ = score_rows(lambda _x: output.copy(), rows, FEATURES)
    assert not plain["top_drivers"].str.contains("laagopgeleiden").any()


def test_export_headers_name_mapped_columns_with_label_and_unit() -> None:
    columns = [EDU, f"shap__{EDU}", "own_score", "unknown_column"]
    assert export_headers(columns, "nl", TERMS) == [
        "aandeel laagopgeleiden (%)", "Bijdrage: aandeel laagopgeleiden", "own score (aantal)",
        "unknown_column",
    ]
    assert export_headers(columns, "nl") == columns  # not features without the terms


def test_the_gemeente_exports_show_a_mapped_context_column_under_its_label() -> None:
    rows, output = _rows_and_output()
    ranking, _ = score_rows(lambda _x: output.copy(), rows, FEATURES, TERMS)
    context = pd.DataFrame({"unit_code": rows["unit_code"], EDU: np.linspace(10, 30, len(rows))})
    table = gemeente_table(ranking, rows[["unit_code", *FEATURES]], None, context=context,
                           extra=TERMS)
    assert "aandeel laagopgeleiden (%)" in table.columns
    assert table["Belangrijkste factoren"].str.contains("laagopgeleiden").all()


def test_chart_labels_use_the_mapped_terms() -> None:
    assert feature_labels([EDU, "lbm"], "nl", TERMS)[EDU] == "aandeel laagopgeleiden"


def test_the_api_store_reads_the_terms_from_the_panel_meta(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert Store(ws).terms() == {}  # no panel yet
    meta = PanelMeta(
        fingerprint="f", sources_fingerprint="s", rows=0, units=0, as_of_years=[2022],
        features=FEATURES, level="wijk", delta=0.0, built="2026-12-02T00:00:00",
        mapped_columns=COLUMNS,
    )
    ws.panel_meta.parent.mkdir(parents=True, exist_ok=True)
    catalog.write_panel_meta(ws, meta)
    assert Store(ws).terms() == TERMS


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_declared_name_keeps_its_declared_words(lang: str) -> None:
    shadow = mapped_terms((MappedColumn("lbm", "count", "my lbm", "mijn lbm", "x"),))
    assert driver_sentence("lbm", 4.0, lang, shadow) == driver_sentence("lbm", 4.0, lang)

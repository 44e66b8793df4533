"""The panel on small hand-made sources; every expected value below is worked out by hand.

Scores are multiples of 1/8 so that differences are exact in floating point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.panel import (
    ID_COLUMNS,
    LABEL_COLUMNS,
    build_panel,
    feature_columns,
    shown_columns,
)

if TYPE_CHECKING:
    from conftest import SourceFrames

DELTA = 0.05
LBM_YEARS = (2008, 2012, 2014, 2016)

# Low-income share of WK000101 per year (not linear, so chg1 and chg3 differ).
LOW_INCOME_101 = {
    2008: 10.0, 2009: 11.0, 2010: 13.0, 2011: 14.0, 2012: 12.0,
    2013: 15.0, 2014: 18.5, 2015: 17.0, 2016: 20.0,
}
LBM_SCORES = {  # unit -> lbm at 2008, 2012, 2014, 2016
    "WK000101": (4.0, 4.125, 4.0, 3.875),
    "WK000102": (3.5, 3.5, 3.75, 3.75),
    "WK000201": (4.5, 4.25, 4.25, 4.5),
}
FYS_101 = (0.5, 0.25, 0.75, 0.5)
NAMES = {
    "GM0001": "Gemeente Een", "GM0002": "Gemeente Twee",
    "WK000101": "Wijk A", "WK000102": "Wijk B", "WK000201": "Wijk C",
}
INHABITANTS = {"WK000101": 1000, "WK000102": 3000, "WK000201": 500}
HOUSEHOLDS = {"WK000101": 500, "WK000102": 1500, "WK000201": 250}


def cbs_rows(last_year: int = 2016) -> list[tuple[str, str, int, dict[str, float]]]:
    rows: list[tuple[str, str, int, dict[str, float]]] = []
    for year in range(2008, last_year + 1):
        rows.append(("GM0001", "Gemeente Een", year, {"inhabitants": 4000}))
        rows.append(("GM0002", "Gemeente Twee", year, {"inhabitants": 500}))
        rows.append(("WK000101", "Wijk A", year, {
            "inhabitants": INHABITANTS["WK000101"], "households": HOUSEHOLDS["WK000101"],
            "low_income_hh_pct": LOW_INCOME_101.get(year, 21.0),
        }))
        rows.append(("WK000102", "Wijk B", year, {
            "inhabitants": INHABITANTS["WK000102"], "households": HOUSEHOLDS["WK000102"],
            "low_income_hh_pct": np.nan if year == 2011 else 20.0,
        }))
        rows.append(("WK000201", "Wijk C", year, {
            "inhabitants": INHABITANTS["WK000201"], "households": HOUSEHOLDS["WK000201"],
            "low_income_hh_pct": 30.0 + 0.5 * (year - 2008),
        }))
    return rows


def lbm_rows() -> list[tuple[str, int, float, dict[str, float]]]:
    rows: list[tuple[str, int, float, dict[str, float]]] = []
    for code, scores in LBM_SCORES.items():
        for i, (year, score) in enumerate(zip(LBM_YEARS, scores, strict=True)):
            dims = {"fys": FYS_101[i], "onv": 0.0} if code == "WK000101" else {}
            rows.append((code, year, score, dims))
    # A gemeente-level measurement: it must not leak into the wijk panel.
    rows.extend(("GM0001", year, 1.0, {}) for year in LBM_YEARS)
    return rows


def investment_rows() -> list[tuple[str, int, dict[str, float]]]:
    rows: list[tuple[str, int, dict[str, float]]] = [
        ("WK000101", year, {"corp_renovation_per_dwelling": 100.0 * (year - 2007)})
        for year in range(2008, 2017)
    ]
    rows += [("WK000201", year, {"krachtwijk": float(year >= 2012)}) for year in range(2008, 2017)]
    return rows


@pytest.fixture
def sources(source_frames: SourceFrames) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        source_frames.cbs(cbs_rows()),
        source_frames.lbm(lbm_rows(), NAMES),
        source_frames.investment(investment_rows()),
    )


@pytest.fixture
def panel(sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    cbs, lbm, inv = sources
    return build_panel(cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=DELTA)


def row(panel: pd.DataFrame, unit: str, year: int) -> pd.Series:
    hit = panel[(panel["unit_code"] == unit) & (panel["as_of_year"] == year)]
    assert len(hit) == 1, f"{len(hit)} rows for ({unit}, {year})"
    return hit.iloc[0]


def is_missing(value: Any) -> bool:
    return bool(pd.isna(value))


def test_worked_example_of_the_docstring(panel: pd.DataFrame) -> None:
    r = row(panel, "WK000101", 2014)
    assert r["low_income_hh_pct"] == 18.5  # CBS value of 2014
    assert r["low_income_hh_pct_chg1"] == 18.5 - 15.0  # value(2014) - value(2013)
    assert r["low_income_hh_pct_chg3"] == 18.5 - 14.0  # value(2014) - value(2011)
    assert r["lbm"] == 4.0  # score of 2014, the last measurement <= 2014
    assert r["lbm_chg_prev"] == 4.0 - 4.125  # lbm(2014) - lbm(2012)
    assert r["lbm_years_since"] == 0
    assert r["lbm_years_between"] == 2
    assert r["lbm_fys"] == 0.75
    assert r["lbm_fys_chg_prev"] == 0.75 - 0.25
    assert r["lbm_onv_chg_prev"] == 0.0
    assert is_missing(r["lbm_soc"]) and is_missing(r["lbm_soc_chg_prev"])
    assert r["label_outcome_year"] == 2016
    assert r["label_lbm_change"] == 3.875 - 4.0  # -0.125 <= -0.05
    assert r["label"] == 1


def test_other_units_of_the_worked_year(panel: pd.DataFrame) -> None:
    b = row(panel, "WK000102", 2014)
    assert (b["lbm"], b["lbm_chg_prev"], b["label_lbm_change"], b["label"]) == (3.75, 0.25, 0, 0)
    # WK000102 has no 2011 value: its 3-year change is missing, its 1-year change is not.
    assert is_missing(b["low_income_hh_pct_chg3"])
    assert b["low_income_hh_pct_chg1"] == 0.0
    c = row(panel, "WK000201", 2014)
    assert (c["lbm"], c["lbm_chg_prev"], c["label_lbm_change"], c["label"]) == (4.25, 0, 0.25, 0)
    assert c["low_income_hh_pct_chg3"] == 1.5


def test_first_measurement_has_no_previous(panel: pd.DataFrame) -> None:
    r = row(panel, "WK000101", 2008)
    assert r["lbm"] == 4.0
    assert is_missing(r["lbm_chg_prev"]) and is_missing(r["lbm_years_between"])
    assert r["lbm_years_since"] == 0
    assert r["label_outcome_year"] == 2012
    assert r["label_lbm_change"] == 0.125 and r["label"] == 0
    # 2008 is the first CBS year: no earlier values to change from.
    assert is_missing(r["low_income_hh_pct_chg1"]) and is_missing(r["low_income_hh_pct_chg3"])


def test_between_measurements(sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    cbs, lbm, inv = sources
    panel = build_panel(
        cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=DELTA, years=range(2008, 2017)
    )
    r = row(panel, "WK000101", 2013)
    assert r["lbm"] == 4.125  # the 2012 measurement
    assert r["lbm_chg_prev"] == 0.125  # lbm(2012) - lbm(2008)
    assert r["lbm_years_since"] == 1 and r["lbm_years_between"] == 4
    assert r["label_outcome_year"] == 2014  # first measurement after 2013
    assert r["label_lbm_change"] == 4.0 - 4.125 and r["label"] == 1
    assert r["low_income_hh_pct_chg1"] == 3.0 and r["low_income_hh_pct_chg3"] == 2.0


def test_last_measurement_year_has_no_label(panel: pd.DataFrame) -> None:
    last = panel[panel["as_of_year"] == 2016]
    assert len(last) == 3
    assert last["label"].isna().all()
    assert last["label_outcome_year"].isna().all()
    assert last["label_lbm_change"].isna().all()
    assert panel.loc[panel["as_of_year"] < 2016, "label"].notna().all()


def test_newest_cbs_year_after_the_last_measurement(
    source_frames: SourceFrames,
) -> None:
    cbs = source_frames.cbs(cbs_rows(last_year=2017))
    panel = build_panel(
        cbs, source_frames.lbm(lbm_rows()), None, level="wijk", change_lags=(1, 3), delta=DELTA
    )
    assert sorted(set(panel["as_of_year"])) == [*LBM_YEARS, 2017]
    r = row(panel, "WK000101", 2017)
    assert r["lbm"] == 3.875 and r["lbm_years_since"] == 1 and r["lbm_years_between"] == 2
    assert r["low_income_hh_pct"] == 21.0 and r["low_income_hh_pct_chg1"] == 1.0
    assert is_missing(r["label"])


def test_one_row_per_unit_and_year(panel: pd.DataFrame) -> None:
    keys = panel[["unit_code", "as_of_year"]]
    assert not keys.duplicated().any()
    expected = {(u, y) for u in LBM_SCORES for y in LBM_YEARS}
    assert set(map(tuple, keys.values.tolist())) == expected
    assert (panel["level"] == "wijk").all()
    assert list(panel.columns[: len(ID_COLUMNS)]) == list(ID_COLUMNS)
    assert list(panel.columns[-len(LABEL_COLUMNS):]) == list(LABEL_COLUMNS)
    assert panel["label"].dtype == "Int8"


def test_ids_names_and_gemeente(panel: pd.DataFrame) -> None:
    r = row(panel, "WK000201", 2012)
    assert (r["unit_name"], r["gemeente_code"], r["gemeente_name"]) == (
        "Wijk C", "GM0002", "Gemeente Twee"
    )
    assert row(panel, "WK000102", 2016)["gemeente_name"] == "Gemeente Een"


def test_unit_name_is_the_newest_name(source_frames: SourceFrames) -> None:
    cbs = source_frames.cbs([
        ("WK000101", "Oude naam", 2012, {"inhabitants": 1}),
        ("WK000101", "Nieuwe naam", 2014, {"inhabitants": 1}),
    ])
    lbm = source_frames.lbm([("WK000101", 2012, 4.0, {})], {"WK000101": "Oude naam"})
    panel = build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=DELTA)
    assert panel["unit_name"].tolist() == ["Nieuwe naam", "Nieuwe naam"]
    # Without a gemeente row in the sources, the gemeente is named by its code.
    assert panel["gemeente_name"].tolist() == ["GM0001", "GM0001"]


def test_feature_columns(panel: pd.DataFrame) -> None:
    features = feature_columns(panel)
    shown = shown_columns(panel)
    assert not set(features) & (set(ID_COLUMNS) | set(LABEL_COLUMNS) | set(shown))
    assert set(features) | set(shown) | set(ID_COLUMNS) | set(LABEL_COLUMNS) == set(
        panel.columns
    )
    # WOZ value and income enter relative to their year; their euros stay for people.
    relative = {"woz_value", "income_per_inhabitant"}
    assert set(shown) == relative
    for name in schema.CBS_BY_NAME:
        expected = (
            {f"{name}_rel", f"{name}_rel_chg1", f"{name}_rel_chg3"}
            if name in relative else {name, f"{name}_chg1", f"{name}_chg3"}
        )
        assert expected <= set(features), name
    assert not {"woz_value_chg1", "income_per_inhabitant_chg3"} & set(panel.columns)
    # Investment changes use the longest lag only.
    assert "corp_renovation_per_dwelling_chg3" in features
    assert "corp_renovation_per_dwelling_chg1" not in features
    # No feature is named after a calendar year.
    assert not any(str(y) in f for f in features for y in range(2000, 2030))


def test_investment_features(panel: pd.DataFrame) -> None:
    r = row(panel, "WK000101", 2014)
    assert r["corp_renovation_per_dwelling"] == 700.0
    assert r["corp_renovation_per_dwelling_chg3"] == 700.0 - 400.0
    assert is_missing(r["krachtwijk"])
    c = row(panel, "WK000201", 2012)
    assert c["krachtwijk"] == 1.0 and c["krachtwijk_chg3"] == 1.0
    assert is_missing(row(panel, "WK000102", 2014)["corp_renovation_per_dwelling"])


def test_gemeente_context(panel: pd.DataFrame) -> None:
    # gm_lbm_chg_prev is the rest of the gemeente: with two wijken in GM0001, each one gets
    # the other's change; the only wijk of GM0002 has no rest.
    assert row(panel, "WK000101", 2014)["gm_lbm_chg_prev"] == 0.25
    assert row(panel, "WK000102", 2014)["gm_lbm_chg_prev"] == -0.125
    assert row(panel, "WK000101", 2012)["gm_lbm_chg_prev"] == 0.0
    assert row(panel, "WK000102", 2012)["gm_lbm_chg_prev"] == 0.125
    assert panel.loc[panel["unit_code"] == "WK000201", "gm_lbm_chg_prev"].isna().all()
    # No unit has a previous measurement in 2008: nothing to average.
    assert panel.loc[panel["as_of_year"] == 2008, "gm_lbm_chg_prev"].isna().all()
    # gm_inhabitants: the sum over the gemeente's units (the gemeente row itself not counted).
    assert row(panel, "WK000101", 2014)["gm_inhabitants"] == 4000
    assert row(panel, "WK000201", 2014)["gm_inhabitants"] == 500
    # gm_low_income_hh_pct_chg3 weighs by households, the unit included, and skips missing
    # changes. 2014: WK000102's change is missing (no 2011 value): only WK000101's 4.5 counts.
    assert row(panel, "WK000102", 2014)["gm_low_income_hh_pct_chg3"] == 4.5
    # 2016: (500 * (20 - 15) + 1500 * (20 - 20)) / 2000; value(2013) is 15 for WK000101.
    assert row(panel, "WK000101", 2016)["gm_low_income_hh_pct_chg3"] == 500 * 5.0 / 2000


def _three_wijken(source_frames: SourceFrames, inhabitants_302: float) -> pd.DataFrame:
    """GM0003 with three wijken; lbm changes 2012 -> 2014 of -0.125, 0.25 and 0.5."""
    inhabitants = {"WK000301": 1000.0, "WK000302": inhabitants_302, "WK000303": 2000.0}
    cbs = source_frames.cbs(
        [(code, code, y, {"inhabitants": n}) for code, n in inhabitants.items()
         for y in (2012, 2014)]
    )
    lbm = source_frames.lbm([
        ("WK000301", 2012, 4.0, {}), ("WK000301", 2014, 3.875, {}),
        ("WK000302", 2012, 4.0, {}), ("WK000302", 2014, 4.25, {}),
        ("WK000303", 2012, 4.0, {}), ("WK000303", 2014, 4.5, {}),
    ])
    return build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=DELTA)


def test_gemeente_context_is_population_weighted(source_frames: SourceFrames) -> None:
    panel = _three_wijken(source_frames, 3000.0)
    # Each wijk: the inhabitant-weighted mean change of the two other wijken.
    assert row(panel, "WK000301", 2014)["gm_lbm_chg_prev"] == (3000 * 0.25 + 2000 * 0.5) / 5000
    assert row(panel, "WK000302", 2014)["gm_lbm_chg_prev"] == pytest.approx(
        (1000 * -0.125 + 2000 * 0.5) / 3000, abs=1e-12
    )
    assert row(panel, "WK000303", 2014)["gm_lbm_chg_prev"] == (
        (1000 * -0.125 + 3000 * 0.25) / 4000
    )
    assert (panel.loc[panel["as_of_year"] == 2014, "gm_inhabitants"] == 6000).all()


def test_weights_skip_units_without_inhabitants(source_frames: SourceFrames) -> None:
    panel = _three_wijken(source_frames, np.nan)
    assert row(panel, "WK000301", 2014)["gm_lbm_chg_prev"] == 0.5
    assert row(panel, "WK000303", 2014)["gm_lbm_chg_prev"] == -0.125
    assert row(panel, "WK000302", 2014)["gm_lbm_chg_prev"] == pytest.approx(
        (1000 * -0.125 + 2000 * 0.5) / 3000, abs=1e-12
    )
    assert row(panel, "WK000301", 2014)["gm_inhabitants"] == 3000


def _two_measurements(
    source_frames: SourceFrames, before: float, after: float, delta: float
) -> pd.Series:
    cbs = source_frames.cbs(
        [("WK000101", "A", y, {"inhabitants": 10}) for y in (2014, 2016)]
    )
    lbm = source_frames.lbm([("WK000101", 2014, before, {}), ("WK000101", 2016, after, {})])
    panel = build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=delta)
    return row(panel, "WK000101", 2014)


@pytest.mark.parametrize(
    ("after", "label"),
    [(3.5, 1), (3.75, 1), (3.875, 0), (4.0, 0), (4.25, 0)],
)
def test_label_is_one_exactly_when_change_at_most_minus_delta(
    source_frames: SourceFrames, after: float, label: int
) -> None:
    r = _two_measurements(source_frames, 4.0, after, delta=0.25)
    assert r["label_lbm_change"] == after - 4.0
    assert r["label"] == label


@pytest.mark.parametrize(
    ("before", "after", "label"),
    [(4.20, 4.15, 1), (4.15, 4.10, 1), (4.30, 4.25, 1), (4.20, 4.151, 0), (4.20, 4.149, 1)],
)
def test_label_at_decimal_boundary(
    source_frames: SourceFrames, before: float, after: float, label: int
) -> None:
    # Scores are decimals: a drop of exactly delta counts, though 4.15 - 4.20 in binary
    # floating point is -0.04999999999999982.
    assert _two_measurements(source_frames, before, after, delta=0.05)["label"] == label


def test_buurt_panel(source_frames: SourceFrames) -> None:
    cbs = source_frames.cbs([
        *(("GM0001", "Gemeente Een", y, {"inhabitants": 300}) for y in (2012, 2014)),
        *(("WK000101", "Wijk A", y, {"inhabitants": 300}) for y in (2012, 2014)),
        *(("BU00010101", "Buurt 1", y, {"inhabitants": 100}) for y in (2012, 2014)),
        *(("BU00010102", "Buurt 2", y, {"inhabitants": 200}) for y in (2012, 2014)),
    ])
    lbm = source_frames.lbm([
        ("BU00010101", 2012, 4.0, {}), ("BU00010101", 2014, 3.5, {}),
        ("BU00010102", 2012, 4.0, {}), ("BU00010102", 2014, 4.25, {}),
        ("WK000101", 2012, 1.0, {}), ("WK000101", 2014, 9.0, {}),
    ])
    panel = build_panel(cbs, lbm, None, level="buurt", change_lags=(1, 3), delta=DELTA)
    assert sorted(map(tuple, panel[["unit_code", "as_of_year"]].values.tolist())) == [
        ("BU00010101", 2012), ("BU00010101", 2014), ("BU00010102", 2012), ("BU00010102", 2014)
    ]
    assert set(panel["level"]) == {"buurt"}
    assert set(panel["gemeente_code"]) == {"GM0001"}
    assert set(panel["gemeente_name"]) == {"Gemeente Een"}
    r = row(panel, "BU00010101", 2014)
    assert r["lbm"] == 3.5 and r["lbm_chg_prev"] == -0.5  # the wijk's scores are not used
    assert r["gm_lbm_chg_prev"] == 0.25  # the other buurt of the gemeente
    assert row(panel, "BU00010102", 2014)["gm_lbm_chg_prev"] == -0.5
    assert r["gm_inhabitants"] == 300
    assert row(panel, "BU00010101", 2012)["label"] == 1
    assert row(panel, "BU00010102", 2012)["label"] == 0


def test_pc4_panel_from_leefbarometer_only(source_frames: SourceFrames) -> None:
    lbm = source_frames.lbm([
        ("1011", 2012, 4.0, {}), ("1011", 2014, 3.5, {}), ("1012", 2014, 4.0, {}),
    ])
    cbs = source_frames.cbs([("WK000101", "Wijk A", 2014, {"inhabitants": 1})])
    panel = build_panel(cbs, lbm, None, level="pc4", change_lags=(1, 3), delta=DELTA)
    assert sorted(map(tuple, panel[["unit_code", "as_of_year"]].values.tolist())) == [
        ("1011", 2012), ("1011", 2014), ("1012", 2014)
    ]
    assert panel["gemeente_code"].isna().all()
    assert row(panel, "1011", 2012)["label"] == 1
    assert row(panel, "1011", 2014)["lbm_chg_prev"] == -0.5
    # PC4 areas lie in no single gemeente: no gemeente context (absent or all missing).
    gm = [c for c in feature_columns(panel) if c.startswith("gm_")]
    assert panel[gm].isna().all().all()


@pytest.mark.parametrize("lags", [(1, 2), (2,), (1, 5), (3, 4)])
def test_panel_with_other_change_lags(
    sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], lags: Sequence[int]
) -> None:
    cbs, lbm, inv = sources
    panel = build_panel(cbs, lbm, inv, level="wijk", change_lags=lags, delta=DELTA)
    r = row(panel, "WK000101", 2014)
    for k in lags:
        assert r[f"low_income_hh_pct_chg{k}"] == 18.5 - LOW_INCOME_101[2014 - k]
    assert not any(f"_chg{k}" in c for c in panel.columns for k in {1, 2, 3, 4, 5} - set(lags))
    # Investment changes use the longest lag: value(2014) - value(2014 - max lag).
    longest = max(lags)
    assert r[f"corp_renovation_per_dwelling_chg{longest}"] == 100.0 * longest
    # The 3-year gemeente context exists exactly when lag 3 does.
    assert ("gm_low_income_hh_pct_chg3" in panel.columns) == (3 in lags)
    assert r["lbm"] == 4.0 and r["gm_lbm_chg_prev"] == 0.25


PLACES = pd.DataFrame({
    "unit_code": ["1011", "1012", "WK000101"],
    "gemeente_code": ["GM0363", "GM0363", "GM0999"],
    "gemeente_name": ["Amsterdam", "Amsterdam", "Elders"],
})


def test_places_give_pc4_areas_their_gemeente_and_a_readable_name(
    source_frames: SourceFrames,
) -> None:
    lbm = source_frames.lbm([
        ("1011", 2012, 4.0, {}), ("1011", 2014, 3.5, {}), ("1012", 2012, 4.0, {}),
        ("1012", 2014, 4.25, {}), ("9999", 2014, 4.0, {}),
    ])
    # CBS per postcode: inhabitants, so the gemeente context can be formed once placed.
    cbs = source_frames.cbs(
        (code, code, year, {"inhabitants": 1000})
        for code in ("1011", "1012", "9999") for year in (2012, 2014)
    )
    panel = build_panel(cbs, lbm, None, level="pc4", change_lags=(1,), delta=DELTA, places=PLACES)
    r = row(panel, "1011", 2014)
    assert (r["unit_name"], r["gemeente_code"], r["gemeente_name"]) == (
        "1011 Amsterdam", "GM0363", "Amsterdam"
    )
    # 9999 has no place: no gemeente, and its name stays its code.
    unplaced = row(panel, "9999", 2014)
    assert unplaced["unit_name"] == "9999" and is_missing(unplaced["gemeente_code"])
    # The rest of the gemeente around 1011 in 2014 is 1012, which rose 0.25.
    assert r["gm_lbm_chg_prev"] == 0.25 and row(panel, "1012", 2014)["gm_lbm_chg_prev"] == -0.5
    assert is_missing(unplaced["gm_lbm_chg_prev"])


def test_places_do_not_override_what_wijk_codes_and_sources_say(
    sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    panel: pd.DataFrame,
) -> None:
    cbs, lbm, inv = sources
    placed = build_panel(cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=DELTA,
                         places=PLACES)
    pd.testing.assert_frame_equal(placed, panel)


def publication_of(
    sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> pd.DataFrame:
    """The default calendars over the hand-made sources: CBS low incomes 2 years after, the
    rest of CBS and the Leefbarometer 1 year after on 1 July, investment on 1 March."""
    from features.calendar import DEFAULT_CALENDARS, publication_table
    from features.sources import SourceFrame

    cbs, lbm, inv = sources
    parts = (("cbs", "cbs_kwb_csv", cbs), ("lbm", "lbm3_scores", lbm),
             ("investment", "investment_csv", inv))
    return publication_table([
        SourceFrame(
            part=part, kind=kind, file=kind, calendar=DEFAULT_CALENDARS[kind],
            variables=tuple(c for c in frame.columns
                            if c not in ("unit_code", "unit_name", "level", "year")),
            years=tuple(sorted({("wijk" if "level" in frame else None, int(y))
                                for y in frame["year"]}, key=lambda p: p[1])),
        )
        for part, kind, frame in parts
    ])


def test_knowledge_dates_take_the_newest_published_reference_year(
    sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    cbs, lbm, inv = sources
    known = build_panel(
        cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=DELTA,
        published=publication_of(sources),
    )
    assert list(known.columns[: len(ID_COLUMNS) + 1]) == [*ID_COLUMNS, "knowledge_date"]
    assert "knowledge_date" not in feature_columns(known)
    r = row(known, "WK000101", 2014)
    assert r["knowledge_date"] == pd.Timestamp("2015-07-01")
    # low incomes of 2014 come out on 2016-07-01: the row knows 2013's, and its changes.
    assert r["low_income_hh_pct"] == 15.0
    assert r["low_income_hh_pct_chg1"] == 15.0 - 12.0  # value(2013) - value(2012)
    assert r["low_income_hh_pct_chg3"] == 15.0 - 13.0  # value(2013) - value(2010)
    assert r["inhabitants"] == INHABITANTS["WK000101"]  # population of 2014: out on 2015-07-01
    assert r["corp_renovation_per_dwelling"] == 700.0  # investment 2014, out on 2015-03-01
    assert r["lbm"] == 4.0 and r["lbm_chg_prev"] == 4.0 - 4.125  # measurement 2014 is out
    # The gemeente context is made of the known values (household-weighted 3-year change).
    b = row(known, "WK000102", 2014)
    assert b["low_income_hh_pct_chg3"] == 0.0  # 2013 - 2010, both 20
    expected = (500 * 2.0 + 1500 * 0.0) / 2000
    assert r["gm_low_income_hh_pct_chg3"] == pytest.approx(expected)
    assert r["label"] == row(build_panel(cbs, lbm, inv, level="wijk", change_lags=(1, 3),
                                         delta=DELTA), "WK000101", 2014)["label"]


def test_an_earlier_knowledge_rule_sees_fewer_measurements(
    sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    from wijkradar.calendar import Calendar

    cbs, lbm, inv = sources
    early = build_panel(
        cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=DELTA,
        published=publication_of(sources), knowledge=Calendar(years_after=1, on="01-01"),
    )
    r = row(early, "WK000101", 2014)
    assert r["knowledge_date"] == pd.Timestamp("2015-01-01")
    assert r["lbm"] == 4.125 and r["lbm_years_since"] == 2  # measurement 2012: 2014's not out
    assert r["inhabitants"] == INHABITANTS["WK000101"]  # CBS 2013 (out 2014-07-01), same value
    assert r["low_income_hh_pct"] == 12.0  # 2012's, out on 2014-07-01

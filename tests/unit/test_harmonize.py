"""Code changes across years: counts summed, shares and averages weighted, chains followed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.harmonize import apply_crosswalk, cbs_weights, harmonize
from features.sources import empty_cbs

WEIGHTS = {"inhabitants": None, "low_income_hh_pct": "households", "households": None}


def _frame(rows: list[tuple[str, int, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["unit_code", "year", "inhabitants", "households", "low_income_hh_pct"]
    ).assign(unit_name=lambda d: d["unit_code"], level="wijk")


def test_merger_sums_counts_and_weights_shares_by_their_weight_variable():
    frame = _frame([
        ("WK000101", 2017, 100, 50, 10.0),
        ("WK000201", 2017, 300, 150, 30.0),
        ("WK190001", 2019, 420, 210, 25.0),
    ])
    cw = pd.DataFrame({"old_code": ["WK000101", "WK000201"], "new_code": ["WK190001"] * 2,
                       "year": [2019, 2019], "weight": [1.0, 1.0]})
    out = apply_crosswalk(frame, cw, list(WEIGHTS), WEIGHTS).set_index(["unit_code", "year"])
    assert out.loc[("WK190001", 2017), "inhabitants"] == 400
    assert out.loc[("WK190001", 2017), "households"] == 200
    # (50 * 10 + 150 * 30) / 200 = 25
    assert out.loc[("WK190001", 2017), "low_income_hh_pct"] == pytest.approx(25.0)
    assert out.loc[("WK190001", 2019), "inhabitants"] == 420  # rows of the new code untouched
    assert set(out.index.get_level_values("unit_code")) == {"WK190001"}


def test_split_uses_the_weights_and_chains_end_at_the_newest_code():
    frame = _frame([("WK000101", 2010, 1000, 400, 20.0), ("WK000101", 2012, 1000, 400, 22.0)])
    cw = pd.DataFrame({
        "old_code": ["WK000101", "WK000101", "WK000110"],
        "new_code": ["WK000110", "WK000111", "WK000120"],
        "year": [2011, 2011, 2013], "weight": [0.25, 0.75, 1.0],
    })
    out = apply_crosswalk(frame, cw, list(WEIGHTS), WEIGHTS).set_index(["unit_code", "year"])
    # 2010: split in 2011 (a quarter to WK000110, which becomes WK000120 in 2013).
    assert out.loc[("WK000120", 2010), "inhabitants"] == pytest.approx(250)
    assert out.loc[("WK000111", 2010), "inhabitants"] == pytest.approx(750)
    assert out.loc[("WK000111", 2010), "low_income_hh_pct"] == pytest.approx(20.0)
    # 2012 was already in the 2011 codes? No: WK000101 still reported in 2012 is left alone.
    assert out.loc[("WK000101", 2012), "inhabitants"] == 1000


def test_data_from_both_old_and_new_codes_for_one_year_is_rejected():
    frame = _frame([("WK000101", 2017, 100, 50, 10.0), ("WK190001", 2017, 5, 2, 1.0)])
    cw = pd.DataFrame({"old_code": ["WK000101"], "new_code": ["WK190001"], "year": [2019],
                       "weight": [1.0]})
    with pytest.raises(ValueError, match="WK190001"):
        apply_crosswalk(frame, cw, list(WEIGHTS), WEIGHTS)


def test_harmonize_weights_scores_by_inhabitants_from_the_cbs_data():
    cbs = empty_cbs()
    cbs = pd.concat([cbs, pd.DataFrame({
        "unit_code": ["WK000101", "WK000201"], "unit_name": ["a", "b"], "level": "wijk",
        "year": [2016, 2016], "inhabitants": [100.0, 300.0], "dwellings": [40.0, 120.0],
    })], ignore_index=True)
    lbm = pd.DataFrame({"unit_code": ["WK000101", "WK000201"], "unit_name": ["a", "b"],
                        "level": "wijk", "year": [2016, 2016], "lbm": [4.0, 4.4]})
    cw = pd.DataFrame({"old_code": ["WK000101", "WK000201"], "new_code": ["WK190001"] * 2,
                       "year": [2019, 2019], "weight": [1.0, 1.0]})
    cbs_h, lbm_h, _ = harmonize(cbs, lbm, None, cw)
    assert lbm_h.set_index("unit_code").loc["WK190001", "lbm"] == pytest.approx(4.3)
    assert cbs_h.set_index("unit_code").loc["WK190001", "inhabitants"] == 400
    assert set(cbs_weights()) >= {"inhabitants", "low_income_hh_pct"}
    assert np.isnan(cbs_h.set_index("unit_code").loc["WK190001", "woz_value"])

"""Input drift: the training profile, PSI and the drift table on known distributions."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ml.drift import bin_shares, drift_table, flag_drift, psi, training_profile


def _frame(n: int, seed: int, shift: float = 0.0, missing: float = 0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = pd.DataFrame(
        {
            "low_income_hh_pct": rng.normal(12 + shift, 4, n),
            "lbm": rng.normal(4.0, 0.3, n),
            "krachtwijk": (rng.random(n) < 0.2).astype("float64"),
        }
    )
    for col in out.columns:
        out.loc[rng.random(n) < missing, col] = np.nan
    return out


def test_psi_by_hand():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected, rel=1e-12)
    # an empty bin costs a finite amount thanks to eps
    assert math.isfinite(psi([0.0, 1.0], [0.5, 0.5]))
    with pytest.raises(ValueError):
        psi([0.5, 0.5], [1.0])
    with pytest.raises(ValueError):
        psi([0.5, -0.5], [0.5, 0.5])


def test_profile_is_json_and_shares_add_up():
    X = _frame(5000, 0)
    profile = training_profile(X, bins=10)
    assert json.loads(json.dumps(profile, allow_nan=False)) == profile
    lbm = profile["features"]["lbm"]
    assert len(lbm["edges"]) == 9 and len(lbm["shares"]) == 10
    assert sum(lbm["shares"]) == pytest.approx(1.0)
    assert all(s == pytest.approx(0.1, abs=0.01) for s in lbm["shares"])  # quantile bins
    assert lbm["missing"] == pytest.approx(X["lbm"].isna().mean())
    # a 0/1 feature gets one bin per value, not ten
    kw = profile["features"]["krachtwijk"]
    assert kw["edges"] == [0.0, 1.0]
    assert kw["shares"][0] == pytest.approx((X["krachtwijk"] == 0).sum() / X["krachtwijk"].count())


def test_identical_data_has_psi_near_zero_and_nothing_flagged():
    X = _frame(5000, 0)
    table = drift_table(training_profile(X), X)
    assert list(table.columns) == ["feature", "psi", "missing_train", "missing_now", "flagged"]
    assert (table["psi"] < 1e-9).all()
    assert not table["flagged"].any()
    # a fresh sample of the same distribution stays well under the limit
    fresh = drift_table(training_profile(X), _frame(5000, 1))
    assert (fresh["psi"] < 0.05).all()
    assert not fresh["flagged"].any()


def test_shifted_distribution_is_flagged():
    profile = training_profile(_frame(5000, 0))
    table = drift_table(profile, _frame(5000, 1, shift=4.0)).set_index("feature")
    assert table.loc["low_income_hh_pct", "psi"] > 0.25
    assert table.loc["low_income_hh_pct", "flagged"]
    assert not table.loc["lbm", "flagged"]


def test_values_beyond_the_training_range_land_in_the_outer_bins():
    edges = [1.0, 2.0]
    shares = bin_shares(np.array([-100.0, 1.0, 1.5, 2.0, 100.0, np.nan]), edges)
    assert shares.tolist() == [0.4, 0.4, 0.2]


def test_missing_values_are_flagged_separately_from_psi():
    X = _frame(5000, 0)
    now = X.copy()
    now.loc[now.index[:1500], "lbm"] = np.nan  # a source not delivered for 30 % of units
    now = now.drop(columns="krachtwijk")  # and a feature gone entirely
    table = drift_table(training_profile(X), now).set_index("feature")
    assert table.loc["lbm", "missing_now"] == pytest.approx(now["lbm"].isna().mean())
    assert table.loc["lbm", "psi"] < 0.05  # the values that remain did not move
    assert table.loc["lbm", "flagged"]
    assert table.loc["krachtwijk", "missing_now"] == 1.0
    assert math.isnan(table.loc["krachtwijk", "psi"])
    assert table.loc["krachtwijk", "flagged"]


def test_flag_drift_limits():
    table = pd.DataFrame(
        {
            "feature": ["a", "b", "c", "d"],
            "psi": [0.3, 0.1, np.nan, 0.1],
            "missing_train": [0.0, 0.0, 0.0, 0.2],
            "missing_now": [0.0, 0.0, 0.0, 0.05],
            "flagged": False,
        }
    )
    assert flag_drift(table)["flagged"].tolist() == [True, False, False, True]
    assert flag_drift(table, psi_limit=0.05, missing_limit=0.5)["flagged"].tolist() == [
        True,
        True,
        False,
        True,
    ]
    assert not table["flagged"].any()  # the input is left alone


def test_all_missing_training_feature():
    X = pd.DataFrame({"a": [np.nan] * 10, "b": np.arange(10.0)})
    profile = training_profile(X)
    assert profile["features"]["a"] == {"edges": [], "shares": [], "missing": 1.0}
    table = drift_table(profile, X).set_index("feature")
    assert math.isnan(table.loc["a", "psi"]) and not table.loc["a", "flagged"]

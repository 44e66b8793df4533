"""Input drift: the training profile, PSI and the drift table on known distributions."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ml.drift import (
    DRIFT_COLUMNS,
    MIN_IMPORTANCE,
    bin_shares,
    drift_table,
    flag_drift,
    psi,
    read_profile,
    training_profile,
)


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
    assert list(table.columns) == list(DRIFT_COLUMNS)
    assert {"feature", "psi", "missing_train", "missing_now", "flagged"} <= set(table.columns)
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
    assert profile["features"]["a"] == {
        "edges": [], "shares": [], "missing": 1.0, "present": 0, "missing_expected": 1.0,
        "rows_expected": 10,
    }
    table = drift_table(profile, X).set_index("feature")
    assert math.isnan(table.loc["a", "psi"]) and not table.loc["a", "flagged"]


# --- like with like: a world that did not change raises nothing ---------------------------

TRAIN_YEARS = (2008, 2010, 2012, 2014, 2016, 2018, 2020)


def _world(years: tuple[int, ...], n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Panel-like rows: a level, its 1- and 3-year changes (missing in the first years: the
    sources begin in 2008), and a source that starts in 2014; ``shift`` moves the level."""
    rng = np.random.default_rng(seed)
    parts = []
    for year in years:
        frame = pd.DataFrame({
            "as_of_year": year,
            "level": rng.normal(10 + shift, 2, n),
            "level_chg1": rng.normal(0, 1, n) if year >= 2009 else np.nan,
            "level_chg3": rng.normal(0, 1, n) if year >= 2011 else np.nan,
            "late_source": rng.normal(5, 1, n) if year >= 2014 else np.nan,
            "flag": (rng.random(n) < 0.3).astype("float64"),
        })
        for col in ("level", "level_chg1", "flag"):
            frame.loc[rng.random(n) < 0.02, col] = np.nan
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _profile(train: pd.DataFrame, **kwargs: object) -> dict:
    return training_profile(train.drop(columns="as_of_year"), years=train["as_of_year"],
                            **kwargs)


def test_an_unchanged_world_raises_no_warning_although_early_years_lacked_changes():
    train = _world(TRAIN_YEARS, 600, seed=0)
    profile = _profile(train)
    now = _world((2024,), 600, seed=1).drop(columns="as_of_year")
    table = drift_table(profile, now).set_index("feature")
    assert not table["flagged"].any(), table
    # the like-for-like share: the years that could have had the feature
    spec = profile["features"]["level_chg3"]
    assert spec["years_expected"] == [2012, 2014, 2016, 2018, 2020]
    assert spec["missing"] == pytest.approx(2 / 7)  # the pooled share, kept for reference
    assert table.loc["level_chg3", "missing_train"] == 0.0
    assert profile["features"]["late_source"]["years_expected"] == [2014, 2016, 2018, 2020]
    # the pooled comparison (no years) is the old false alarm
    pooled = drift_table(training_profile(train.drop(columns="as_of_year")), now)
    assert set(pooled.loc[pooled["flagged"], "feature"]) == {"level_chg1", "level_chg3",
                                                               "late_source"}


def test_a_small_scored_set_is_not_flagged_for_its_sampling_noise():
    train = _world(TRAIN_YEARS, 600, seed=0)
    now = _world((2024,), 20, seed=2).drop(columns="as_of_year")  # one gemeente's wijken
    table = drift_table(_profile(train), now).set_index("feature")
    assert not table["flagged"].any(), table
    assert table.loc["level", "psi_noise"] > 0.25  # 20 values cannot tell 0.25 from noise


def test_an_injected_shift_and_a_lost_source_are_flagged():
    train = _world(TRAIN_YEARS, 600, seed=0)
    now = _world((2024,), 300, seed=3, shift=3.0).drop(columns="as_of_year")
    now.loc[now.index[: len(now) // 2], "late_source"] = np.nan  # half not delivered
    table = drift_table(_profile(train), now).set_index("feature")
    assert table.loc["level", "psi"] > max(0.25, table.loc["level", "psi_noise"])
    assert set(table.index[table["flagged"]]) == {"level", "late_source"}
    assert table.loc["late_source", "psi"] < 0.1  # its values did not move; it went missing


def test_drift_in_a_feature_the_model_hardly_uses_is_listed_not_flagged():
    train = _world(TRAIN_YEARS, 600, seed=0)
    now = _world((2024,), 300, seed=3, shift=3.0).drop(columns="as_of_year")
    gains = {"level": MIN_IMPORTANCE / 2, "level_chg1": 50.0, "level_chg3": 50.0}
    profile = _profile(train, importance=gains)
    table = drift_table(profile, now).set_index("feature")
    assert table.loc["level", "psi"] > 1.0 and not table.loc["level", "flagged"]
    assert table.loc["level", "importance"] < MIN_IMPORTANCE
    assert table.loc["late_source", "importance"] == 0.0  # not in the model at all
    assert table.loc["level_chg1", "importance"] == pytest.approx(0.5, rel=1e-3)
    gains["level"] = 100.0
    assert drift_table(_profile(train, importance=gains), now).set_index("feature").loc[
        "level", "flagged"]


def test_a_version_1_profile_is_still_read():
    X = _frame(5000, 0)
    profile = training_profile(X)
    for spec in profile["features"].values():
        for key in ("present", "missing_expected", "rows_expected"):
            del spec[key]
    profile["version"] = 1
    fresh = drift_table(profile, _frame(5000, 1))
    assert not fresh["flagged"].any()
    assert (fresh["psi_noise"] > 0).all() and fresh["importance"].isna().all()
    shifted = drift_table(profile, _frame(5000, 1, shift=4.0)).set_index("feature")
    assert shifted.loc["low_income_hh_pct", "flagged"]


def test_years_must_be_one_per_row():
    with pytest.raises(ValueError, match="one year per row"):
        training_profile(_frame(10, 0), years=[2020] * 9)


def test_a_profile_reads_back_as_written_and_damage_is_named():
    frame = _frame(2_000, seed=4)
    profile = training_profile(frame, importance={"lbm": 1.0})
    assert read_profile(json.dumps(profile)) == profile
    spec = profile["features"]["lbm"]
    damaged = {
        "not JSON": '{"features": ',
        'an object with "features"': json.dumps([1, 2]),
        "feature 'lbm' must be an object": json.dumps({"features": {"lbm": 3}}),
        "feature 'lbm': \"edges\" must be a list of numbers": json.dumps(
            {"features": {"lbm": {**spec, "edges": ["a"]}}}),
        "feature 'lbm': 2 \"shares\" for": json.dumps(
            {"features": {"lbm": {**spec, "shares": [0.5, 0.5]}}}),
        "feature 'lbm': \"missing\" must be a number, got True": json.dumps(
            {"features": {"lbm": {**spec, "missing": True}}}),
    }
    for said, text in damaged.items():
        with pytest.raises(ValueError, match=said):
            read_profile(text)


def test_noise_floor_is_chi2s_for_large_samples_and_simulated_below() -> None:
    from scipy.special import chdtri

    from ml.drift import CLOSED_FORM_COUNT, psi_noise

    even = np.full(10, 0.1)
    n_train = 30_000
    closed = [chdtri(9, 0.001) / (n_train * m / (n_train + m)) for m in (1_000, 400)]
    assert 1_000 * 0.1 >= CLOSED_FORM_COUNT > 400 * 0.1  # one size on each side
    assert psi_noise(even, n_train, 1_000) == pytest.approx(closed[0], rel=1e-12)
    simulated = psi_noise(even, n_train, 400)
    assert simulated != pytest.approx(closed[1], rel=1e-6)  # drawn, not the formula
    assert simulated == pytest.approx(closed[1], rel=0.15)  # but the same floor

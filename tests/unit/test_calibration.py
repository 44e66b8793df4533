"""Unit tests of models.calibrator, ml.calibration and the reliability diagram of
serving.charts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression

from ml import calibration
from ml.calibration import (
    choose_calibration,
    expected_calibration_error,
    fit_calibrator,
    margin_from_probability,
    reliability_table,
)
from models.calibrator import METHODS, Calibrator
from serving.charts import reliability_svg


def simulate(n: int, slope: float, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Margins of a model whose true log-odds are ``slope * margin + shift``."""
    rng = np.random.default_rng(seed)
    margin = rng.normal(-3.0, 1.5, n)
    y = (rng.random(n) < expit(slope * margin + shift)).astype(int)
    return margin, y


def test_none_is_the_logistic_function_of_the_margin() -> None:
    margin = np.array([-40.0, -2.0, 0.0, 1.5, 40.0])
    cal = fit_calibrator("none", margin, np.array([0, 0, 1, 1, 1]))
    assert cal == Calibrator("none")
    np.testing.assert_array_equal(cal.predict(margin), expit(margin))


def test_platt_recovers_the_true_slope_and_intercept() -> None:
    margin, y = simulate(200_000, slope=0.6, shift=-1.0, seed=0)
    cal = fit_calibrator("platt", margin, y)
    assert cal.method == "platt"
    assert cal.coef == pytest.approx(0.6, abs=0.03)
    assert cal.intercept == pytest.approx(-1.0, abs=0.1)
    np.testing.assert_allclose(cal.predict(margin), expit(cal.coef * margin + cal.intercept))


def test_platt_minimises_the_log_loss_of_the_smoothed_targets() -> None:
    margin, y = simulate(5_000, slope=1.3, shift=0.5, seed=1)
    cal = fit_calibrator("platt", margin, y)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        p = np.clip(expit(a * margin + b), 1e-300, 1 - 1e-16)
        return float(-np.sum(t * np.log(p) + (1 - t) * np.log1p(-p)))

    best = loss(cal.coef, cal.intercept)
    for da, db in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        assert best <= loss(cal.coef + da, cal.intercept + db)


def test_platt_is_finite_on_separable_data() -> None:
    cal = fit_calibrator("platt", np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1]))
    assert 0 < cal.coef < np.inf and np.isfinite(cal.intercept)


def test_platt_never_reverses_the_ranking() -> None:
    """A margin that ranks backwards gets the base rate: coef 0 and the smoothed base rate."""
    margin = np.array([1.0, 2.0, 3.0, 4.0])
    cal = fit_calibrator("platt", margin, np.array([1, 1, 0, 0]))
    assert cal.coef == 0.0
    assert expit(cal.intercept) == pytest.approx(0.5)  # (2 * 3/4 + 2 * 1/4) / 4
    assert np.ptp(cal.predict(margin)) == 0.0


def test_isotonic_predicts_as_sklearn_with_clipping() -> None:
    margin, y = simulate(20_000, slope=0.7, shift=-0.5, seed=2)
    cal = fit_calibrator("isotonic", margin, y)
    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(margin, y)
    probe = np.r_[np.linspace(-15, 8, 2_001), -1e6, 1e6]
    np.testing.assert_allclose(cal.predict(probe), reference.predict(probe), atol=1e-15)
    assert cal.predict(np.array([np.nan]))[0] != cal.predict(np.array([np.nan]))[0]  # NaN


def test_fit_errors() -> None:
    with pytest.raises(ValueError, match=r"The 'method' parameter must be one of"):
        fit_calibrator("beta", np.zeros(3), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="margin must be finite"):
        fit_calibrator("platt", np.array([0.0, np.inf]), np.array([0, 1]))
    with pytest.raises(ValueError, match="y_true must contain only 0 and 1"):
        fit_calibrator("platt", np.zeros(2), np.array([0, 3]))


def test_calibrator_validates_its_parameters() -> None:
    with pytest.raises(ValueError, match="coef >= 0"):
        Calibrator("platt", coef=-1.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        Calibrator("isotonic", x_thresholds=(0.0, 1.0), y_thresholds=(0.5, 0.2))
    with pytest.raises(ValueError, match="takes no thresholds"):
        Calibrator("platt", x_thresholds=(0.0,), y_thresholds=(0.1,))
    with pytest.raises(ValueError, match="'none' method has coef 1"):
        Calibrator("none", coef=2.0)


def test_to_dict_is_json_and_round_trips() -> None:
    margin, y = simulate(3_000, slope=0.8, shift=-0.3, seed=3)
    for method in METHODS:
        cal = fit_calibrator(method, margin, y)
        data = json.loads(json.dumps(cal.to_dict()))
        assert data["method"] == method
        back = Calibrator.from_dict(data)
        assert back == cal
        np.testing.assert_array_equal(back.predict(margin), cal.predict(margin))
    with pytest.raises(ValueError, match="A calibrator dict has the keys"):
        Calibrator.from_dict({"method": "platt", "slope": 1.0})


def test_choose_calibration_picks_a_fitted_method_for_a_miscalibrated_model() -> None:
    folds = [simulate(6_000, slope=0.5, shift=-1.2, seed=10 + k) for k in range(4)]
    method, table = choose_calibration(folds)
    assert method in ("platt", "isotonic")
    assert list(table.columns) == ["fold", "method", "n_train", "n_test", "brier", "log_loss"]
    assert len(table) == 3 * 3
    assert table.groupby("fold")["n_train"].first().tolist() == [6_000, 12_000, 18_000]
    mean = table.groupby("method")["brier"].mean()
    assert mean[method] == mean.min()
    assert mean["none"] > mean[method]


def test_choose_calibration_scores_out_of_time() -> None:
    """Fold k's score uses a calibrator fitted on folds before k only."""
    folds = [simulate(2_000, slope=0.9, shift=-0.2, seed=20 + k) for k in range(3)]
    _, table = choose_calibration(folds)
    row = table[(table["fold"] == 2) & (table["method"] == "platt")].iloc[0]
    cal = fit_calibrator("platt", np.r_[folds[0][0], folds[1][0]], np.r_[folds[0][1], folds[1][1]])
    p = cal.predict(folds[2][0])
    assert row["brier"] == pytest.approx(np.mean((p - folds[2][1]) ** 2))
    q = np.clip(p, 1e-15, 1 - 1e-15)
    y = folds[2][1]
    assert row["log_loss"] == pytest.approx(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def test_choose_calibration_ties_go_to_the_simpler_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration, "fit_calibrator", lambda method, z, y: Calibrator("none"))
    folds = [simulate(500, slope=1.0, shift=0.0, seed=k) for k in range(3)]
    method, table = choose_calibration(folds)
    assert table.groupby("method")["brier"].mean().nunique() == 1
    assert method == "none"


def test_choose_calibration_with_one_fold_keeps_the_raw_probabilities() -> None:
    method, table = choose_calibration([simulate(100, 1.0, 0.0, seed=0)])
    assert method == "none" and table.empty


def test_reliability_table_and_ece_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.3, 0.1, 0.8, 0.6])
    table = reliability_table(y, p, bins=2)
    assert list(table.columns) == ["bin", "mean_predicted", "observed_rate", "n"]
    assert table["bin"].tolist() == [0, 1]
    assert table["mean_predicted"].tolist() == pytest.approx([0.2, 0.7])
    assert table["observed_rate"].tolist() == [0.0, 1.0]
    assert table["n"].tolist() == [2, 2]
    assert expected_calibration_error(y, p, bins=2) == pytest.approx((0.2 + 0.3) / 2)


def test_reliability_bins_are_equal_frequency() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 12, 1_003)  # skewed towards 0, as decline risks are
    y = (rng.random(1_003) < p).astype(int)
    table = reliability_table(y, p, bins=10)
    assert table["n"].sum() == 1_003
    assert set(table["n"]) <= {100, 101}
    assert table["mean_predicted"].is_monotonic_increasing
    few = reliability_table([0, 1, 1], [0.2, 0.4, 0.9], bins=10)
    assert few["n"].tolist() == [1, 1, 1]


def test_ece_is_small_for_calibrated_and_large_for_shifted_probabilities() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(1, 10, 50_000)
    y = (rng.random(50_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p * 2, 0, 1)) > 0.05


def test_reliability_errors() -> None:
    with pytest.raises(ValueError, match="p must contain probabilities in"):
        reliability_table([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match=r"The 'bins' parameter must be an int >= 1\. Got 0"):
        reliability_table([0, 1], [0.5, 0.5], bins=0)


def test_margin_from_probability_inverts_the_logistic_function() -> None:
    margin = np.array([-8.0, -1.0, 0.0, 2.5])
    np.testing.assert_allclose(margin_from_probability(expit(margin)), margin, rtol=1e-9)
    assert np.isfinite(margin_from_probability(np.array([0.0, 1.0]))).all()


# --- chart -------------------------------------------------------------------------------------


def test_reliability_svg_has_one_series_per_model() -> None:
    margin, y = simulate(4_000, slope=0.6, shift=-1.0, seed=5)
    tables = {
        method: reliability_table(y, fit_calibrator(method, margin, y).predict(margin))
        for method in METHODS
    }
    svg = reliability_svg(tables)
    root = ET.fromstring(svg)
    found = sorted(e.get("id") for e in root.iter() if e.get("id", "").startswith("reliability-"))
    assert found == sorted(
        ["reliability-diagonal"]
        + [f"reliability-{m}" for m in METHODS]
        + [f"reliability-points-{m}" for m in METHODS]
    )
    assert svg.startswith("<svg") and "<metadata>" not in svg


def test_reliability_svg_without_data_and_with_bad_tables() -> None:
    empty = pd.DataFrame(columns=["bin", "mean_predicted", "observed_rate", "n"])
    svg = reliability_svg({"lightgbm": empty})
    ET.fromstring(svg)
    assert "no calibrated predictions" in svg
    with pytest.raises(ValueError, match="lacks the column"):
        reliability_svg({"lightgbm": pd.DataFrame({"bin": [0]})})

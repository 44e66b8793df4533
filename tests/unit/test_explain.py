"""The explanation core (models.explain): one chunked TreeSHAP loop, the output frame, the
additivity check, the top contributions every caller uses, and the shap.Explanation."""

from __future__ import annotations

import json
from types import SimpleNamespace

import lightgbm as lgb
import matplotlib
import numpy as np
import pandas as pd
import pytest

from models.calibrator import Calibrator
from models.explain import (
    ADDITIVITY_TOLERANCE,
    METHODS,
    SHAP_BASE,
    additivity_error,
    contribution_columns,
    explain,
    explainer,
    explanation,
    feature_matrix,
    predict_frame,
    shap_column,
    shap_features,
    top_contributions,
    tree_shap,
)
from models.interventional import shap_interventional
from models.packaged import (
    BOOSTER_ARTIFACT,
    CALIBRATOR_ARTIFACT,
    FEATURES_ARTIFACT,
    RiskModel,
    output_columns,
)
from wijkradar.errors import ExplanationError

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 3))
    X[rng.random(X.shape) < 0.05] = np.nan
    logit = np.nan_to_num(X[:, 0]) - 0.8 * np.nan_to_num(X[:, 2]) ** 2
    y = (rng.random(1500) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "num_leaves": 7, "verbosity": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(X, label=y, feature_name=FEATURES), num_boost_round=30)


def frame(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[rng.random(X.shape) < 0.1] = np.nan
    return pd.DataFrame(X, columns=FEATURES, index=pd.RangeIndex(100, 100 + n))


def test_explain_is_one_loop_for_matrices_and_frames_in_any_chunking(booster):
    rows = frame(301)
    X = rows.to_numpy()
    whole = booster.predict(X, pred_contrib=True)
    np.testing.assert_array_equal(explain(booster, X, 1_000, method="native"), whole)
    np.testing.assert_array_equal(explain(booster, X, chunk_rows=7, method="native"), whole)
    fast = explain(booster, X, chunk_rows=7)  # the default: the kernel, the same values
    np.testing.assert_allclose(fast, whole, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(explain(booster, X, chunk_rows=1_000), fast)
    shuffled = rows.assign(extra="x")[["c", "extra", "a", "b"]]
    np.testing.assert_array_equal(explain(booster, shuffled, 50, features=FEATURES), fast)
    assert explain(booster, X[:0]).shape == (0, 4)
    with pytest.raises(ValueError, match=r"chunk_rows must be an int >= 1\. Got 0"):
        explain(booster, X, chunk_rows=0)


def test_predict_frame_columns_index_and_calibrated_risk(booster):
    rows = frame(120)
    cal = Calibrator("platt", coef=0.5, intercept=-1.0)
    out = predict_frame(booster, FEATURES, rows, chunk_rows=16, calibrator=cal)
    assert list(out.columns) == output_columns(FEATURES)
    assert output_columns(FEATURES) == ["risk", "margin", *contribution_columns(FEATURES)]
    assert out.index.equals(rows.index)
    margin = booster.predict(rows.to_numpy(), raw_score=True)
    np.testing.assert_allclose(out["margin"], margin, atol=1e-9)
    np.testing.assert_allclose(out["risk"], cal.predict(margin), atol=1e-12)
    assert additivity_error(out, FEATURES) < 1e-9 < ADDITIVITY_TOLERANCE


def test_additivity_error_is_the_largest_row_gap():
    out = pd.DataFrame(
        {"margin": [1.0, 0.0], shap_column("a"): [0.5, 0.25], SHAP_BASE: [0.5, -0.5]}
    )
    assert additivity_error(out, ["a"]) == pytest.approx(0.25)
    assert additivity_error(out.iloc[:0], ["a"]) == 0.0


def test_column_names_round_trip():
    cols = ["risk", "margin", *contribution_columns(FEATURES)]
    assert cols[-1] == SHAP_BASE == "shap__base"
    assert shap_features(cols) == FEATURES
    values = feature_matrix(frame(4)[["b", "c", "a"]], FEATURES)
    np.testing.assert_array_equal(values, frame(4).to_numpy())


def test_top_contributions_orders_filters_and_chunks():
    contrib = np.array([[0.1, 0.5, -0.2, 0.5], [-1.0, 0.0, 0.3, -0.1], [0.0, 0.0, 0.0, 0.0]])
    assert top_contributions(contrib, k=3) == [[1, 3, 0], [2], []]
    assert top_contributions(contrib, k=2, positive_only=False) == [[1, 3], [2, 1], [0, 1]]
    assert top_contributions(contrib, k=3, chunk_rows=1) == top_contributions(contrib, k=3)
    assert top_contributions(contrib, k=0) == [[], [], []]
    with pytest.raises(ValueError, match=r"k must be a whole number >= 0\. Got -1"):
        top_contributions(contrib, k=-1)


def test_explanation_feeds_shaps_waterfall_and_beeswarm(booster):
    import shap

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = frame(80)
    expl = explanation(booster, FEATURES, rows)
    assert isinstance(expl, shap.Explanation)
    assert expl.values.shape == (80, 3) and expl.base_values.shape == (80,)
    assert expl.feature_names == FEATURES
    np.testing.assert_array_equal(expl.data, rows.to_numpy())
    margin = booster.predict(rows.to_numpy(), raw_score=True)
    np.testing.assert_allclose(expl.values.sum(axis=1) + expl.base_values, margin, atol=1e-9)
    out = predict_frame(booster, FEATURES, rows)
    np.testing.assert_array_equal(expl.values, out[[shap_column(f) for f in FEATURES]])
    native = explanation(booster, FEATURES, rows, method="native")
    np.testing.assert_allclose(native.values, expl.values, rtol=0, atol=1e-9)
    try:
        shap.plots.waterfall(expl[0], show=False)
        assert plt.gcf().axes
        plt.close("all")
        shap.plots.beeswarm(expl, show=False)
        assert plt.gcf().axes
    finally:
        plt.close("all")


def test_risk_model_loads_its_artifacts_and_explains(booster, tmp_path):
    booster_path = tmp_path / "booster.txt"
    booster.save_model(str(booster_path))
    (tmp_path / "features.json").write_text(json.dumps(FEATURES))
    cal = Calibrator("isotonic", x_thresholds=(-2.0, 2.0), y_thresholds=(0.1, 0.9))
    (tmp_path / "calibrator.json").write_text(json.dumps(cal.to_dict()))
    model = RiskModel()
    model.load_context(
        SimpleNamespace(
            artifacts={
                BOOSTER_ARTIFACT: str(booster_path),
                FEATURES_ARTIFACT: str(tmp_path / "features.json"),
                CALIBRATOR_ARTIFACT: str(tmp_path / "calibrator.json"),
            }
        )
    )
    assert model.calibrator_ == cal
    rows = frame(30)
    out = model.predict(None, rows)
    pd.testing.assert_frame_equal(out, predict_frame(booster, FEATURES, rows, calibrator=cal))
    expl = model.explanation(rows)
    np.testing.assert_allclose(expl.values.sum(axis=1) + expl.base_values, out["margin"])


def test_every_method_adds_up_to_the_margin_and_interventional_uses_the_background(booster):
    rows = frame(200)
    X = rows.to_numpy()
    margin = booster.predict(X, raw_score=True)
    background = frame(60, seed=9).to_numpy()
    for method in METHODS:
        bg = background if method == "interventional" else None
        contrib = explain(booster, X, 64, method=method, background=bg)
        assert np.abs(contrib.sum(axis=1) - margin).max() < 1e-9 < ADDITIVITY_TOLERANCE
    inter = explainer(booster, "interventional", background)
    assert inter.used == "interventional" and inter.fallback is None
    mean_margin = booster.predict(background, raw_score=True).mean()
    np.testing.assert_allclose(inter(X)[:, -1], mean_margin, rtol=0, atol=1e-12)
    np.testing.assert_allclose(inter(X), shap_interventional(booster, background, X),
                               rtol=0, atol=1e-6)  # shap rounds to float32 on the way
    out = predict_frame(booster, FEATURES, rows, using=inter)
    assert additivity_error(out, FEATURES) < 1e-9
    with pytest.raises(ExplanationError, match="background sample"):
        explainer(booster, "interventional")
    with pytest.raises(ExplanationError, match=r"one of fast, native, interventional\. Got 'x'"):
        explainer(booster, "x")


def test_tree_shap_is_pred_contrib_on_the_fixture(booster):
    X = frame(150, seed=2).to_numpy()
    np.testing.assert_allclose(
        tree_shap(booster, X), booster.predict(X, pred_contrib=True), rtol=0, atol=1e-9
    )

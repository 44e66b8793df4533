"""The fast TreeSHAP kernel equals LightGBM's pred_contrib on random small models and inputs:
random depth and leaves, NaNs, zeros, values at the split thresholds, and every missing-value
handling LightGBM has (NaN, zero-as-missing, use_missing=False, a feature without NaN in
training so its splits have missing type None); interventional tables equal shap's."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.explain import tree_shap
from models.interventional import interventional_tables
from models.treepaths import parse_paths
from models.treeshap import path_tables, run_kernel


@st.composite
def models_and_rows(draw: st.DrawFn) -> tuple[lgb.Booster, np.ndarray]:
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    p = draw(st.integers(1, 6))
    X = rng.normal(size=(300, p)).round(draw(st.sampled_from([1, 3, 8])))
    X[rng.random(X.shape) < draw(st.sampled_from([0.0, 0.05, 0.3]))] = np.nan
    X[rng.random(X.shape) < draw(st.sampled_from([0.0, 0.1]))] = 0.0
    X[:, 0] = np.nan_to_num(X[:, 0])  # no NaN in training: missing type None
    logit = np.nan_to_num(X).sum(axis=1) + np.nan_to_num(X[:, -1]) ** 2
    y = (rng.random(300) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": draw(st.integers(2, 24)),
        "max_depth": draw(st.sampled_from([-1, 2, 3, 6])),
        "min_data_in_leaf": draw(st.integers(1, 20)),
        "zero_as_missing": draw(st.booleans()),
        "use_missing": draw(st.booleans()),
        "verbosity": -1,
        "num_threads": 1,
        "seed": seed % 1000,
    }
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=draw(st.integers(1, 12)))
    rows = rng.normal(size=(60, p)).round(1)
    rows[rng.random(rows.shape) < 0.2] = np.nan
    rows[rng.random(rows.shape) < 0.1] = 0.0
    rows[rng.random(rows.shape) < 0.05] = 1e-36  # reads as zero
    thresholds = parse_paths(booster)
    if len(thresholds.feat):  # values exactly at split thresholds
        pick = rng.integers(0, len(thresholds.feat), size=20)
        rows[np.arange(20), thresholds.feat[pick]] = thresholds.thr[pick]
    return booster, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models_and_rows(), st.sampled_from([(10, 2**26), (0, 0), (3, 2**26), (10, 2**12)]))
def test_kernel_equals_pred_contrib(case, layout):
    booster, rows = case
    expected = booster.predict(rows, pred_contrib=True)
    np.testing.assert_allclose(tree_shap(booster, rows), expected, rtol=0, atol=1e-9)
    tables = path_tables(booster, *layout)  # big units, small units, formulas: one answer
    np.testing.assert_allclose(run_kernel(tables, rows), expected, rtol=0, atol=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models_and_rows())
def test_interventional_tables_agree_and_add_up(case):
    booster, rows = case
    background, rows = rows[:25], rows[25:]
    margin = booster.predict(rows, raw_score=True)
    full = run_kernel(interventional_tables(booster, background), rows)
    bare = run_kernel(interventional_tables(booster, background, 0, 0), rows)
    np.testing.assert_allclose(full, bare, rtol=0, atol=1e-9)
    np.testing.assert_allclose(full.sum(axis=1), margin, rtol=0, atol=1e-9)
    mean = booster.predict(background, raw_score=True).mean()
    np.testing.assert_allclose(full[:, -1], mean, rtol=0, atol=1e-9)

"""The fast TreeSHAP kernel's boundaries: categorical splits are refused by name and the
explainer falls back (native pred_contrib; shap for interventional), multi-output models
are refused, and a matrix of the wrong width is an ExplanationError."""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models.explain import explain, explainer, tree_shap
from models.treepaths import UnsupportedBoosterError
from models.treeshap import path_tables, run_kernel
from wijkradar.errors import ExplanationError


@pytest.fixture(scope="module")
def categorical() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"num": rng.normal(size=600), "kind": rng.integers(0, 6, 600)})
    y = ((frame["kind"].isin([1, 4])) ^ (frame["num"] > 0.5)).astype(int)
    params = {"objective": "binary", "num_leaves": 6, "verbosity": -1, "num_threads": 1,
              "min_data_per_group": 5, "cat_smooth": 1.0}
    data = lgb.Dataset(frame, label=y, categorical_feature=["kind"])
    booster = lgb.train(params, data, num_boost_round=8)
    return booster, frame.to_numpy(dtype=float)[:50]


def test_categorical_splits_are_refused_by_name(categorical):
    booster, X = categorical
    with pytest.raises(UnsupportedBoosterError, match=r"categorical splits \('=='\) on: kind"):
        tree_shap(booster, X)
    assert issubclass(UnsupportedBoosterError, ExplanationError)


def test_fast_falls_back_to_native_and_interventional_refuses(categorical):
    booster, X = categorical
    with pytest.warns(UserWarning, match="kind.*pred_contrib"):
        fast = explainer(booster, "fast")
    assert (fast.used, fast.method) == ("native", "fast") and "kind" in fast.fallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(explain(booster, X), booster.predict(X, pred_contrib=True))
    # shap's interventional explainer misreads LightGBM's categorical splits (off by > 1 in
    # log-odds here), so there is no fallback: a clear refusal instead
    with pytest.raises(UnsupportedBoosterError, match=r"kind\. Interventional .* \"fast\""):
        explainer(booster, "interventional", X[:20])


def test_multiclass_models_and_wrong_widths_are_refused():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, 300)
    params = {"objective": "multiclass", "num_class": 3, "verbosity": -1, "num_threads": 1}
    multi = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=3)
    with pytest.raises(UnsupportedBoosterError, match="3 trees per iteration"):
        tree_shap(multi, X)
    binary = lgb.train({"objective": "binary", "verbosity": -1, "num_threads": 1},
                       lgb.Dataset(X, label=y > 0), num_boost_round=3)
    with pytest.raises(ExplanationError, match=r"3 feature columns\. Got shape \(5, 2\)"):
        tree_shap(binary, X[:5, :2])


def test_units_cover_each_tree_within_the_budget():
    from models.treepaths import parse_paths
    from models.treeunits import layout

    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 8))
    y = (X[:, :4].sum(axis=1) + X[:, 4] * X[:, 5] > 0).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    shallow = lgb.train({**params, "num_leaves": 8, "max_depth": 3}, lgb.Dataset(X, label=y), 20)
    P = parse_paths(shallow)
    units = layout(P)  # a tree of depth 3: one unit indexed by its 7 decisions, nothing to flow
    assert np.array_equal(units.unit_start, np.arange(21)) and len(units.flow_edge) == 0
    assert np.array_equal(units.nstart[1:] - units.nstart[:-1], np.diff(P.node_start))
    deep = lgb.train({**params, "num_leaves": 40, "max_depth": -1}, lgb.Dataset(X, label=y), 5)
    P = parse_paths(deep)
    big, small = layout(P, bits=10), layout(P, bits=10, budget=20_000)
    assert 8 * small.table_size <= 20_000 < 8 * big.table_size
    formula = small.tab < 0  # leaves with more path features than the index bits left
    assert formula.any() and (P.leaf_d[small.leaf[formula]] > 0).all()
    covered = np.sort(small.leaves)  # every leaf in exactly one unit
    assert np.array_equal(covered, np.arange(len(P.leaf_d)))
    expected = deep.predict(X[:50], pred_contrib=True)
    for bits, budget in ((10, 2**26), (10, 20_000), (0, 0)):
        got = run_kernel(path_tables(deep, bits, budget), X[:50])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)

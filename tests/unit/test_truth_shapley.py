"""The truth's Shapley values are the exact interventional ones of the true logit.

On a small case (a few features, 30 background rows) they equal brute-force Shapley values
of the interventional value function v(S) = mean_b f(x_S, b_rest), and what
``shap.explainers.Exact`` finds with an ``Independent`` masker over the same background, run
on the true function; on any rows they add up to the logit with the background mean as base.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import shap

from features.synth import mechanism

FEATURES = list(mechanism.FEATURES)


def _rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Rows that reach every hinge of every driver and interaction (and some missing)."""
    specs = {i.second.feature: i.second for i in mechanism.INTERACTIONS}
    specs.update({i.first.feature: i.first for i in mechanism.INTERACTIONS})
    specs.update({d.feature: d for d in mechanism.DRIVERS})
    data = {}
    for f in FEATURES:
        d = specs[f]
        values = d.center + d.scale * rng.normal(0.0, 2.0, n)
        values[rng.random(n) < 0.1] = np.nan
        data[f] = values
    return pd.DataFrame(data)


def _true_function(columns: list[str], rest: pd.Series):
    """The true logit as a function of a matrix of ``columns`` (the others fixed at ``rest``)."""

    def f(matrix: np.ndarray) -> np.ndarray:
        fixed = np.repeat(rest.to_numpy(dtype="float64")[None, :], len(matrix), 0)
        frame = pd.DataFrame(fixed, columns=rest.index)
        frame[columns] = matrix
        return mechanism.logit(frame)

    return f


def _brute_force(f, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Shapley values of v(S) = mean_b f(x on S, b elsewhere), by enumerating coalitions."""
    p = len(x)

    def v(coalition: tuple[int, ...]) -> float:
        mixed = background.copy()
        mixed[:, list(coalition)] = x[list(coalition)]
        return float(np.mean(f(mixed)))

    phi = np.zeros(p)
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                phi[i] += weight * (v(tuple(sorted((*s, i)))) - v(s))
    return phi


@pytest.fixture(scope="module")
def small_case():
    """Five features carrying both interactions and an additive driver; the rest fixed."""
    rng = np.random.default_rng(3)
    columns = [
        "low_income_hh_pct_chg3",
        "corp_renovation_per_dwelling_chg3",
        "nb_lbm_chg_prev",
        "gm_low_income_hh_pct_chg3",
        "lbm",
    ]
    assert all(
        any(c in i.features for c in columns) for i in mechanism.INTERACTIONS
    ), "the small case must exercise every interaction"
    background = _rows(rng, 30)
    rest = background.drop(columns=columns).iloc[0]
    for c in rest.index:  # the fixed features take one value on every row
        background[c] = rest[c]
    x = _rows(rng, 4)
    for c in rest.index:
        x[c] = rest[c]
    return columns, background, x, _true_function(columns, rest)


def test_truth_is_additive_with_the_background_mean_as_base():
    rng = np.random.default_rng(0)
    rows = _rows(rng, 500)
    phi, base = mechanism.shapley(rows, rows, intercept=-4.2)
    assert list(phi.columns) == [f"true_shap__{f}" for f in FEATURES]
    np.testing.assert_allclose(base, mechanism.logit(rows, -4.2).mean(), atol=1e-12)
    np.testing.assert_allclose(
        base + phi.sum(axis=1), mechanism.logit(rows, -4.2), atol=1e-9, rtol=0
    )
    # the interactions do contribute: the logit is not the sum of its additive terms
    additive = sum(d.term(rows[d.feature].to_numpy(float)) for d in mechanism.DRIVERS)
    assert np.abs(mechanism.logit(rows, 0.0) - additive).max() > 0.5


def test_truth_equals_brute_force_interventional_shapley(small_case):
    columns, background, x, f = small_case
    phi, base = mechanism.shapley(x, background)
    phi = phi[[f"true_shap__{c}" for c in columns]].to_numpy()
    bg = background[columns].to_numpy()
    for k in range(len(x)):
        expected = _brute_force(f, x[columns].to_numpy()[k], bg)
        np.testing.assert_allclose(phi[k], expected, atol=1e-10)
    # the fixed features get nothing
    others = mechanism.shapley(x, background)[0].drop(columns=[f"true_shap__{c}" for c in columns])
    np.testing.assert_allclose(others.to_numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(base, float(np.mean(f(bg))), atol=1e-12)


def test_truth_equals_shap_exact_with_an_independent_masker(small_case):
    columns, background, x, f = small_case
    bg = background[columns].to_numpy()
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    explanation = shap.explainers.Exact(f, masker)(x[columns].to_numpy())
    phi, base = mechanism.shapley(x, background)
    np.testing.assert_allclose(
        phi[[f"true_shap__{c}" for c in columns]].to_numpy(), explanation.values, atol=1e-8
    )
    np.testing.assert_allclose(explanation.base_values, base, atol=1e-8)


def test_calibrated_intercept_hits_the_rate():
    total = np.random.default_rng(1).normal(0.0, 1.5, 2000)
    c = mechanism.calibrated_intercept(total, 0.05)
    assert abs(mechanism.sigmoid(total + c).mean() - 0.05) < 1e-9
    with pytest.raises(ValueError, match="between 0 and 1"):
        mechanism.calibrated_intercept(total, 1.2)

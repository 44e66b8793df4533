"""Interventional TreeSHAP against a fixed background sample of the training rows.

Path-dependent TreeSHAP (``pred_contrib``) splits credit by the trees' own data counts;
interventional TreeSHAP answers "what does this unit's value contribute against the
population": ``phi`` averages, over the background rows ``r``, the Shapley values of the
game ``S -> f(x_S, r_rest)``; the base value is the background's mean margin, so
``base + sum(phi) = margin`` still holds exactly.

Two exact paths give the same values (within 1e-9, see the tests):

* :func:`interventional_tables` fills the fast kernel's tables (``models.treeshap``, mode 1)
  from the background's per-leaf patterns, so explaining costs about what path-dependent
  TreeSHAP costs;
* :func:`shap_interventional` is ``shap.TreeExplainer(booster, background,
  feature_perturbation="interventional", model_output="raw")`` with all the background rows
  (shap's default masker would keep a random 100), after rewriting missing values and zeros
  so that shap (which sends NaN the default way and compares any other value) follows
  LightGBM's missing-type rules. shap's values are float32-rounded (about 1e-7 off the
  margin); the kernel's add up to the margin within 1e-14.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pandas as pd

from models.shapleaf import ZERO_THRESHOLD, go_left
from models.treepaths import Paths, UnsupportedBoosterError, parse_paths
from models.treeshap import Tables, build_tables
from models.treeunits import BITS, TABLE_BYTES
from wijkradar.errors import ExplanationError


def background_sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A fixed sample of ``rows`` rows of ``frame`` (all of them when it has fewer), drawn
    without replacement with ``seed``, in the frame's order: the background stored with the
    model (``cfg.explain.background_rows``)."""
    if rows < 1:
        raise ValueError(f"rows must be >= 1. Got {rows!r} instead.")
    if len(frame) <= rows:
        return frame.copy()
    picked = np.random.default_rng(seed).choice(len(frame), size=rows, replace=False)
    return frame.iloc[np.sort(picked)].copy()


@numba.njit(cache=True)
def background_patterns(B, node_start, feat, thr, nan_left, zero_left, leaf_start, leaf_d,  # type: ignore[no-untyped-def]
                        edge_start, edge_parent, edge_left, edge_pos, edge_target):
    """(background rows, leaves) satisfied-feature patterns of the background rows."""
    n_leaves = len(leaf_d)
    out = np.zeros((B.shape[0], n_leaves), dtype=np.int64)
    max_nodes = max(1, int(np.max(np.diff(node_start)))) if len(node_start) > 1 else 1
    dec = np.zeros(max_nodes + 1, dtype=np.int32)
    nmask = np.zeros(max_nodes + 1, dtype=np.int64)
    for r in range(B.shape[0]):
        for t in range(len(node_start) - 1):
            n0 = node_start[t]
            for k in range(node_start[t + 1] - n0):
                dec[k] = go_left(B[r, feat[n0 + k]], thr[n0 + k], nan_left[n0 + k],
                                 zero_left[n0 + k])
            nmask[0] = -1
            l0 = leaf_start[t]
            for c in range(edge_start[t], edge_start[t + 1]):
                k = edge_parent[c]
                m = nmask[k] & ~(np.int64(dec[k] ^ edge_left[c]) << edge_pos[c])
                target = edge_target[c]
                if target >= 0:
                    nmask[target] = m
                else:
                    leaf = l0 + ~target
                    out[r, leaf] = m & ((np.int64(1) << leaf_d[leaf]) - 1)
    return out


def _background_matrix(background: np.ndarray | pd.DataFrame, n_features: int) -> np.ndarray:
    B = np.ascontiguousarray(np.asarray(background, dtype=np.float64))
    if B.ndim != 2 or B.shape[1] != n_features or len(B) == 0:
        raise ExplanationError(
            f"The background must be a non-empty matrix of {n_features} feature columns. "
            f"Got shape {B.shape} instead."
        )
    return B


def interventional_tables(
    booster: Any,
    background: np.ndarray | pd.DataFrame,
    bits: int = BITS,
    budget: int = TABLE_BYTES,
) -> Tables:
    """The kernel's tables for interventional TreeSHAP against ``background`` (float64 in
    model order, NaN = missing). Raises ``UnsupportedBoosterError`` like the path tables."""
    P = parse_paths(booster)
    B = _background_matrix(background, P.n_features)
    pats = background_patterns(
        B, P.node_start, P.feat, P.thr, P.nan_left, P.zero_left, P.leaf_start, P.leaf_d,
        P.edge_start, P.edge_parent, P.edge_left, P.edge_pos, P.edge_target,
    )
    full = (np.int64(1) << P.leaf_d.astype(np.int64)) - 1
    reached = pats == full[None, :]
    base = float((reached.sum(axis=0) * P.leaf_value).sum() / len(B))
    starts, masks, weights = [0], [], []
    for leaf in range(pats.shape[1]):
        values, counts = np.unique(pats[:, leaf], return_counts=True)
        masks.append(values)
        weights.append(counts * (P.leaf_value[leaf] / len(B)))
        starts.append(starts[-1] + len(values))
    bg = (np.asarray(starts, np.int64), np.concatenate(masks).astype(np.int64),
          np.concatenate(weights).astype(np.float64))
    return build_tables(P, 1, base, bg, bits, budget)


def lightgbm_semantics(X: np.ndarray, P: Paths) -> np.ndarray:
    """``X`` rewritten so that "NaN goes the default way, any other value compares" (shap's
    rule) means what LightGBM does: for a feature whose splits have missing type None, NaN
    becomes 0; for type Zero, zeros become NaN (which goes the default way); type NaN keeps
    both. Refuses a feature with mixed missing types."""
    X = np.array(X, dtype=np.float64, copy=True)
    X[np.abs(X) <= ZERO_THRESHOLD] = 0.0
    for f in np.unique(P.feat):
        kinds = set(P.missing[P.feat == f].tolist())
        if len(kinds) > 1:
            raise ExplanationError(
                f"Feature {f} has splits of different missing types {sorted(kinds)}; shap's "
                "interventional TreeSHAP cannot follow LightGBM's rules for it."
            )
        kind = kinds.pop()
        column = X[:, f]
        if kind == 0:
            column[np.isnan(column)] = 0.0
        elif kind == 1:
            column[column == 0.0] = np.nan
    return X


def shap_interventional(
    booster: Any, background: np.ndarray | pd.DataFrame, X: np.ndarray
) -> np.ndarray:
    """(rows, features + 1) interventional contributions from ``shap.TreeExplainer`` (last
    column its expected value, the background's mean margin)."""
    import shap

    try:
        P = parse_paths(booster)
    except UnsupportedBoosterError:
        P = None  # categorical splits: shap's own reading of the trees
    n_features = booster.num_feature()
    B = _background_matrix(background, n_features)
    X = np.asarray(X, dtype=np.float64)
    if P is not None:
        B, X = lightgbm_semantics(B, P), lightgbm_semantics(X, P)
    # shap's default masker silently keeps a random 100 of the background rows
    masker = shap.maskers.Independent(B, max_samples=len(B))
    explainer = shap.TreeExplainer(
        booster, masker, feature_perturbation="interventional", model_output="raw"
    )
    values = np.asarray(explainer.shap_values(X, check_additivity=False), dtype=np.float64)
    base = float(np.ravel(explainer.expected_value)[0])
    return np.column_stack([values.reshape(len(X), n_features), np.full(len(X), base)])

"""A fast exact TreeSHAP kernel for LightGBM boosters: precomputed tables, numba, parallel.

Per leaf, the contributions depend on a row only through its pattern of satisfied path
features (``models.shapleaf``). The tables hold them precomputed:

* a *tree table* for small trees (at most ``TREE_NODES`` splits): indexed by the bits of
  all the tree's split decisions, the summed contributions of all its leaves to each of the
  tree's distinct features, so one row costs one decision per split and one add per feature;
* *leaf tables* for the leaves of larger trees whose paths have at most ``LEAF_DEPTH``
  distinct features: indexed by the leaf's pattern;
* the remaining leaves are computed on the fly by the same formulas.

``mode`` 0 is path-dependent TreeSHAP (what ``pred_contrib`` computes), ``mode`` 1
interventional against a background sample (``models.interventional`` builds its tables);
the kernel and the table layout are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from models.shapleaf import (
    go_left,
    interventional_weights,
    pair_leaf,
    path_leaf,
    shapley_weights,
)
from models.treepaths import Paths, parse_paths
from wijkradar.errors import ExplanationError

TREE_NODES = 8  # trees with at most this many splits get a tree table
LEAF_DEPTH = 8  # other leaves with at most this many distinct path features get a leaf table
TABLE_BYTES = 64 * 2**20  # ... as long as the leaf tables stay within this size
BLOCK_ROWS = 64  # rows per parallel work item
EMPTY_INTS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Tables:
    """Everything the kernel reads: the paths, the tree tables (tree ``t`` with
    ``tree_start[t] >= 0``: ``tree_table[tree_start[t] + index * u + q]`` adds to feature
    ``tree_feat[tree_u[t] + q]``, ``u = tree_u[t+1] - tree_u[t]``), the leaf tables
    (``table[tab_start[l] + pattern * d + q]``), in mode 1 each leaf's distinct background
    patterns ``bg_mask/bg_weight[bg_start[l]:bg_start[l+1]]`` (weight: leaf value times
    share of the background), and the base value (the last column)."""

    paths: Paths
    mode: int
    base: float
    tree_start: np.ndarray
    tree_u: np.ndarray
    tree_feat: np.ndarray
    tree_table: np.ndarray
    tab_start: np.ndarray
    table: np.ndarray
    bg_start: np.ndarray
    bg_mask: np.ndarray
    bg_weight: np.ndarray
    weights: np.ndarray  # Shapley weights (mode 0) or interventional weights (mode 1)


@numba.njit(cache=True, inline="always")
def leaf_value_of(leaf, pattern, d, mode, leaf_value, pe_z, f0, tab_start, table,  # type: ignore[no-untyped-def]
                  bg_start, bg_mask, bg_weight, W, e, acc):
    """The leaf's contributions for ``pattern`` into ``acc[:d]`` (table or formula)."""
    if tab_start[leaf] >= 0:
        at = tab_start[leaf] + pattern * d
        for q in range(d):
            acc[q] = table[at + q]
    elif mode == 0:
        path_leaf(pattern, d, pe_z, f0, leaf_value[leaf], W, e, acc)
    else:
        for q in range(d):
            acc[q] = 0.0
        for b in range(bg_start[leaf], bg_start[leaf + 1]):
            pair_leaf(pattern, bg_mask[b], d, bg_weight[b], W, acc)


@numba.njit(cache=True, inline="always")
def tree_patterns(t, dec, nmask, pat, edge_start, edge_parent, edge_left, edge_pos,  # type: ignore[no-untyped-def]
                  edge_target):
    """Every leaf's satisfied-feature pattern (before masking to its ``d`` bits) into ``pat``,
    given the tree's split decisions ``dec``, flowing down the edges."""
    nmask[0] = -1
    for c in range(edge_start[t], edge_start[t + 1]):
        k = edge_parent[c]
        m = nmask[k] & ~(np.int64(dec[k] ^ edge_left[c]) << edge_pos[c])
        target = edge_target[c]
        if target >= 0:
            nmask[target] = m
        else:
            pat[~target] = m


@numba.njit(parallel=True, cache=True)
def shap_kernel(X, out, P, T):  # type: ignore[no-untyped-def]
    """Contributions of the rows of ``X`` into ``out`` (rows x (features + 1)), parallel
    over blocks of rows. ``P`` and ``T`` are the array tuples of :func:`kernel_args`."""
    (node_start, feat, thr, nan_left, zero_left, leaf_start, leaf_value, leaf_d, pe_start,
     pe_feat, pe_z, edge_start, edge_parent, edge_left, edge_pos, edge_target) = P
    (mode, base, tree_start, tree_u, tree_feat, tree_table, tab_start, table, bg_start, bg_mask,
     bg_weight, W, max_nodes, max_leaves) = T
    n, p = X.shape
    n_trees = len(node_start) - 1
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in numba.prange(n_blocks):
        dec = np.zeros(max_nodes + 1, dtype=np.int32)
        nmask = np.zeros(max_nodes + 1, dtype=np.int64)
        pat = np.zeros(max_leaves + 1, dtype=np.int64)
        e = np.zeros(W.shape[0] + 1)
        acc = np.zeros(W.shape[0] + 1)
        r0 = blk * BLOCK_ROWS
        r1 = min(n, r0 + BLOCK_ROWS)
        for r in range(r0, r1):
            for j in range(p):
                out[r, j] = 0.0
            out[r, p] = base
        for t in range(n_trees):  # trees outside, rows inside: a tree's arrays stay in cache
            n0 = node_start[t]
            nodes = node_start[t + 1] - n0
            if tree_start[t] >= 0:
                u0 = tree_u[t]
                u = tree_u[t + 1] - u0
                for r in range(r0, r1):
                    index = 0
                    for k in range(nodes):
                        index |= np.int64(go_left(X[r, feat[n0 + k]], thr[n0 + k], nan_left[n0 + k],
                                                  zero_left[n0 + k])) << k
                    at = tree_start[t] + index * u
                    for q in range(u):
                        out[r, tree_feat[u0 + q]] += tree_table[at + q]
                continue
            for r in range(r0, r1):
                for k in range(nodes):
                    dec[k] = go_left(X[r, feat[n0 + k]], thr[n0 + k], nan_left[n0 + k],
                                     zero_left[n0 + k])
                tree_patterns(t, dec, nmask, pat, edge_start, edge_parent, edge_left, edge_pos,
                              edge_target)
                l0 = leaf_start[t]
                for leaf in range(l0, leaf_start[t + 1]):
                    d = leaf_d[leaf]
                    f0 = pe_start[leaf]
                    pattern = pat[leaf - l0] & ((np.int64(1) << d) - 1)
                    leaf_value_of(leaf, pattern, d, mode, leaf_value, pe_z, f0, tab_start, table,
                                  bg_start, bg_mask, bg_weight, W, e, acc)
                    for q in range(d):
                        out[r, pe_feat[f0 + q]] += acc[q]


@numba.njit(cache=True)
def fill_tables(P, T, tree_slot):  # type: ignore[no-untyped-def]
    """Fill the leaf tables, then the tree tables (``tree_slot``: per path element, the
    position of its feature among the tree's distinct features)."""
    (node_start, _, _, _, _, leaf_start, leaf_value, leaf_d, pe_start, _, pe_z, edge_start,
     edge_parent, edge_left, edge_pos, edge_target) = P
    (mode, _, tree_start, tree_u, _, tree_table, tab_start, table, bg_start, bg_mask, bg_weight,
     W, max_nodes, max_leaves) = T
    e = np.zeros(W.shape[0] + 1)
    acc = np.zeros(W.shape[0] + 1)
    none = np.full(len(leaf_d), -1, dtype=np.int64)
    for leaf in range(len(leaf_d)):
        d = leaf_d[leaf]
        if tab_start[leaf] < 0 or d == 0:
            continue
        for pattern in range(1 << d):
            leaf_value_of(leaf, pattern, d, mode, leaf_value, pe_z, pe_start[leaf], none, table,
                          bg_start, bg_mask, bg_weight, W, e, acc)
            at = tab_start[leaf] + pattern * d
            table[at:at + d] = acc[:d]
    dec = np.zeros(max_nodes + 1, dtype=np.int32)
    nmask = np.zeros(max_nodes + 1, dtype=np.int64)
    pat = np.zeros(max_leaves + 1, dtype=np.int64)
    for t in range(len(node_start) - 1):
        if tree_start[t] < 0:
            continue
        nodes = node_start[t + 1] - node_start[t]
        u = tree_u[t + 1] - tree_u[t]
        for index in range(1 << nodes):
            for k in range(nodes):
                dec[k] = (index >> k) & 1
            at = tree_start[t] + index * u
            tree_patterns(t, dec, nmask, pat, edge_start, edge_parent, edge_left, edge_pos,
                          edge_target)
            for leaf in range(leaf_start[t], leaf_start[t + 1]):
                d = leaf_d[leaf]
                pattern = pat[leaf - leaf_start[t]] & ((np.int64(1) << d) - 1)
                leaf_value_of(leaf, pattern, d, mode, leaf_value, pe_z, pe_start[leaf], none,
                              table, bg_start, bg_mask, bg_weight, W, e, acc)
                for q in range(d):
                    tree_table[at + tree_slot[pe_start[leaf] + q]] += acc[q]


def path_arrays(P: Paths) -> tuple[np.ndarray, ...]:
    return (P.node_start, P.feat, P.thr, P.nan_left, P.zero_left, P.leaf_start, P.leaf_value,
            P.leaf_d, P.pe_start, P.pe_feat, P.pe_z, P.edge_start, P.edge_parent, P.edge_left,
            P.edge_pos, P.edge_target)


def kernel_args(T: Tables) -> tuple[Any, ...]:
    return (T.mode, T.base, T.tree_start, T.tree_u, T.tree_feat, T.tree_table, T.tab_start,
            T.table, T.bg_start, T.bg_mask, T.bg_weight, T.weights, T.paths.max_nodes,
            int(np.diff(T.paths.leaf_start).max(initial=0)))


def build_tables(
    P: Paths,
    mode: int,
    base: float,
    background: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    tree_nodes: int = TREE_NODES,
    leaf_depth: int = LEAF_DEPTH,
) -> Tables:
    """Lay out and fill the tables of ``P`` (``background``: mode 1's ``bg_start``,
    ``bg_mask``, ``bg_weight``); ``tree_nodes`` / ``leaf_depth`` 0 disable the tables."""
    nodes = np.diff(P.node_start)
    tree_u, tree_feat, tree_slot = [0], [], np.zeros(len(P.pe_feat), dtype=np.int64)
    for t in range(len(nodes)):
        slots = slot_of_tree(P, t, tree_slot) if nodes[t] <= tree_nodes else []
        tree_feat.extend(slots)
        tree_u.append(len(tree_feat))
    u = np.diff(tree_u)
    sizes = np.where(nodes <= tree_nodes, (1 << np.minimum(nodes, 62)) * u, 0)
    tree_start = np.where(nodes <= tree_nodes, np.cumsum(sizes) - sizes, -1)
    leaf_tree = np.repeat(np.arange(len(nodes)), np.diff(P.leaf_start))
    candidates = tree_start[leaf_tree] < 0
    all_sizes = np.where(candidates, (1 << np.minimum(P.leaf_d, 62)) * P.leaf_d, 0)
    while leaf_depth > 0 and 8 * all_sizes[P.leaf_d <= leaf_depth].sum() > TABLE_BYTES:
        leaf_depth -= 1
    with_table = candidates & (P.leaf_d <= leaf_depth)
    leaf_sizes = np.where(with_table, all_sizes, 0)
    tab_start = np.where(with_table, np.cumsum(leaf_sizes) - leaf_sizes, -1)
    bg = background or (np.zeros(len(P.leaf_d) + 1, np.int64), EMPTY_INTS, np.zeros(0))
    d = max(P.max_d, 1)
    T = Tables(
        paths=P, mode=mode, base=base, tree_start=tree_start.astype(np.int64),
        tree_u=np.asarray(tree_u, np.int64), tree_feat=np.asarray(tree_feat, np.int64),
        tree_table=np.zeros(int(sizes.sum())), tab_start=tab_start.astype(np.int64),
        table=np.zeros(int(leaf_sizes.sum())), bg_start=bg[0], bg_mask=bg[1], bg_weight=bg[2],
        weights=shapley_weights(d) if mode == 0 else interventional_weights(d),
    )
    fill_tables(path_arrays(P), kernel_args(T), tree_slot)
    return T


def slot_of_tree(P: Paths, t: int, tree_slot: np.ndarray) -> list[int]:
    """The distinct features of tree ``t``; sets each path element's position among them."""
    features: list[int] = []
    for leaf in range(P.leaf_start[t], P.leaf_start[t + 1]):
        for q in range(P.pe_start[leaf], P.pe_start[leaf] + P.leaf_d[leaf]):
            f = int(P.pe_feat[q])
            if f not in features:
                features.append(f)
            tree_slot[q] = features.index(f)
    return features


def path_tables(booster: Any, tree_nodes: int = TREE_NODES, leaf_depth: int = LEAF_DEPTH) -> Tables:
    """The path-dependent tables of ``booster`` (what ``pred_contrib`` computes); the base
    value is the sum over trees of the count-weighted mean leaf value."""
    P = parse_paths(booster)
    base = 0.0
    for t in range(len(P.leaf_start) - 1):
        leaves = slice(P.leaf_start[t], P.leaf_start[t + 1])
        base += float(np.sum(P.leaf_share[leaves] * P.leaf_value[leaves]))
    return build_tables(P, 0, base, None, tree_nodes, leaf_depth)


def run_kernel(tables: Tables, X: np.ndarray) -> np.ndarray:
    """(rows, features + 1) contributions of ``X`` (float64, model order) from ``tables``."""
    n_features = tables.paths.n_features
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ExplanationError(
            f"The model expects a matrix of {n_features} feature columns. "
            f"Got shape {X.shape} instead."
        )
    out = np.empty((X.shape[0], n_features + 1), dtype=np.float64)
    shap_kernel(X, out, path_arrays(tables.paths), kernel_args(tables))
    return out

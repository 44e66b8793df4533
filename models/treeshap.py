"""A fast exact TreeSHAP kernel for LightGBM boosters: precomputed tables, numba, parallel.

Per leaf, the contributions depend on a row only through its pattern of satisfied path
features (``models.shapleaf``); per subtree, through the pattern at its root and the row's
decisions below it. The tables hold the summed contributions of each *unit* (a subtree, see
``models.treeunits``) for every value of those bits, so a row costs, per tree, one decision
per split and, per unit, one lookup and one add per feature. Leaves with more distinct path
features than a table index may have are computed on the fly by the same formulas.

The kernel works on blocks of ``BLOCK_ROWS`` rows, transposed (feature x row), so that each
split decides all the block's rows in one vectorisable loop; blocks run in parallel.

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
    ZERO_THRESHOLD,
    interventional_weights,
    pair_leaf,
    path_leaf,
    shapley_weights,
)
from models.treepaths import Paths, parse_paths
from models.treeunits import BITS, TABLE_BYTES, Units, layout
from wijkradar.errors import ExplanationError

BLOCK_ROWS = 64  # rows per parallel work item
HASH_SLOTS = 2 * BLOCK_ROWS + 1  # patterns met in a block, per formula leaf (slot 0: stamp)
HASH_MULTIPLIER = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15, Fibonacci hashing
EMPTY_INTS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Tables:
    """Everything the kernel reads: the paths, the units (``models.treeunits.Units``) and
    their tables (unit ``u``'s row ``index`` is ``table[units.tab[u] + index * w:][:w]``,
    ``w`` its number of features), in mode 1 each leaf's distinct background patterns
    ``bg_mask/bg_weight[bg_start[l]:bg_start[l+1]]`` (weight: leaf value times share of the
    background), and the base value (the last column)."""

    paths: Paths
    units: Units
    mode: int
    base: float
    table: np.ndarray
    bg_start: np.ndarray
    bg_mask: np.ndarray
    bg_weight: np.ndarray
    weights: np.ndarray  # Shapley weights (mode 0) or interventional weights (mode 1)


@numba.njit(cache=True, inline="always")
def decide(x, thr, nan_left, zero_left):  # type: ignore[no-untyped-def]
    """LightGBM's NumericalDecision, branch-free: 1 when the row goes left."""
    d = np.int64(x <= thr)
    d = zero_left if abs(x) <= ZERO_THRESHOLD else d
    return nan_left if x != x else d


@numba.njit(cache=True)
def leaf_formula(leaf, pattern, d, mode, leaf_value, pe_z, f0, bg_start, bg_mask,  # type: ignore[no-untyped-def]
                 bg_weight, W, e, acc):
    """The leaf's contributions for ``pattern`` into ``acc[:d]``, from the formulas."""
    if mode == 0:
        path_leaf(pattern, d, pe_z, f0, leaf_value[leaf], W, e, acc)
        return
    for q in range(d):
        acc[q] = 0.0
    for b in range(bg_start[leaf], bg_start[leaf + 1]):
        pair_leaf(pattern, bg_mask[b], d, bg_weight[b], W, acc)


@numba.njit(cache=True, inline="always")
def block_decisions(Xt, R, n0, nodes, feat, thr, nan_left, zero_left, dec):  # type: ignore[no-untyped-def]
    for k in range(nodes):
        f = feat[n0 + k]
        th = thr[n0 + k]
        nl = np.int64(nan_left[n0 + k])
        zl = np.int64(zero_left[n0 + k])
        for i in range(R):
            dec[k, i] = decide(Xt[f, i], th, nl, zl)


@numba.njit(cache=True, inline="always")
def block_flow(t, R, nodes, flow_start, flow_edge, edge_parent, edge_left, edge_pos,  # type: ignore[no-untyped-def]
               edge_target, dec, msk):
    """The satisfied-feature masks at the nodes the tree's units need, for the block."""
    for i in range(R):
        msk[0, i] = -1
    for c0 in range(flow_start[t], flow_start[t + 1]):
        c = flow_edge[c0]
        k = edge_parent[c]
        target = edge_target[c]
        to = target if target >= 0 else nodes + ~target
        side = np.int64(edge_left[c])
        pos = np.int64(edge_pos[c])
        for i in range(R):
            msk[to, i] = msk[k, i] & ~((dec[k, i] ^ side) << pos)


@numba.njit(cache=True, inline="always")
def add_table_unit(u, R, U, table, dec, msk, idx, o):  # type: ignore[no-untyped-def]
    """Unit ``u``'s table rows for the block's rows (index: the root's pattern in the low
    ``ds`` bits, the decisions below it above), added to ``o`` (feature x row)."""
    (_, _, _, root, ds, nstart, unit_nodes, fstart, unit_feat, tab, _) = U
    b0 = ds[u]
    low = (np.int64(1) << b0) - 1
    for i in range(R):
        idx[i] = msk[root[u], i] & low if b0 > 0 else 0
    for j in range(nstart[u], nstart[u + 1]):
        k = unit_nodes[j]
        shift = b0 + j - nstart[u]
        for i in range(R):
            idx[i] |= dec[k, i] << shift
    w = fstart[u + 1] - fstart[u]
    for q in range(w):
        fq = unit_feat[fstart[u] + q]
        at = tab[u] + q
        for i in range(R):
            o[fq, i] += table[at + idx[i] * w]


@numba.njit(cache=True, inline="always")
def add_formula_unit(leaf, pattern_of, R, P, T, seen, e, acc, res, slot, o):  # type: ignore[no-untyped-def]
    """The formula leaf's contributions for the block's rows (patterns ``pattern_of``),
    computed once per distinct pattern (``seen``: a small hash table of the patterns met,
    keys, slots and a stamp, ``seen[2, 0]`` the current stamp), added to ``o``."""
    (_, _, _, _, _, _, leaf_value, leaf_d, pe_start, pe_feat, pe_z, _, _, _, _, _) = P
    (mode, _, _, bg_start, bg_mask, bg_weight, W, _, _) = T
    d = leaf_d[leaf]
    seen[2, 0] += 1
    stamp = seen[2, 0]
    found = 0
    for i in range(R):
        pattern = pattern_of[i] & ((np.int64(1) << d) - 1)
        h = 1 + ((pattern * HASH_MULTIPLIER) >> np.int64(57) & (HASH_SLOTS - 2))
        while seen[2, h] == stamp and seen[0, h] != pattern:
            h = 1 + (h % (HASH_SLOTS - 1))
        if seen[2, h] != stamp:
            seen[0, h], seen[1, h], seen[2, h] = pattern, found, stamp
            leaf_formula(leaf, pattern, d, mode, leaf_value, pe_z, pe_start[leaf], bg_start,
                         bg_mask, bg_weight, W, e, acc)
            for q in range(d):
                res[q, found] = acc[q]
            found += 1
        slot[i] = seen[1, h]
    for q in range(d):
        fq = pe_feat[pe_start[leaf] + q]
        for i in range(R):
            o[fq, i] += res[q, slot[i]]


@numba.njit(parallel=True, cache=True)
def shap_kernel(X, out, P, U, T):  # type: ignore[no-untyped-def]
    """Contributions of the rows of ``X`` into ``out`` (rows x (features + 1)), parallel
    over blocks of rows. ``P``, ``U`` and ``T``: the array tuples of :func:`kernel_args`."""
    (node_start, feat, thr, nan_left, zero_left, _, _, _, _, _, _, _, edge_parent, edge_left,
     edge_pos, edge_target) = P
    (unit_start, flow_start, flow_edge, root, _, _, _, _, _, tab, unit_leaf) = U
    (_, base, table, _, _, _, W, max_nodes, max_leaves) = T
    n, p = X.shape
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in numba.prange(n_blocks):
        r0 = blk * BLOCK_ROWS
        R = min(n, r0 + BLOCK_ROWS) - r0
        Xt = np.empty((p, BLOCK_ROWS))  # the block, transposed: one split, all rows
        for i in range(R):
            for j in range(p):
                Xt[j, i] = X[r0 + i, j]
        o = np.zeros((p, BLOCK_ROWS))
        dec = np.zeros((max_nodes + 1, BLOCK_ROWS), dtype=np.int64)
        msk = np.zeros((max_nodes + max_leaves + 1, BLOCK_ROWS), dtype=np.int64)
        idx = np.zeros(BLOCK_ROWS, dtype=np.int64)
        e = np.zeros(W.shape[0] + 1)
        acc = np.zeros(W.shape[0] + 1)
        res = np.zeros((W.shape[0] + 1, BLOCK_ROWS))
        slot = np.zeros(BLOCK_ROWS, dtype=np.int64)
        seen = np.zeros((3, HASH_SLOTS), dtype=np.int64)
        for t in range(len(node_start) - 1):  # trees outside: a tree's tables stay in cache
            n0 = node_start[t]
            nodes = node_start[t + 1] - n0
            block_decisions(Xt, R, n0, nodes, feat, thr, nan_left, zero_left, dec)
            if flow_start[t + 1] > flow_start[t]:
                block_flow(t, R, nodes, flow_start, flow_edge, edge_parent, edge_left, edge_pos,
                           edge_target, dec, msk)
            for u in range(unit_start[t], unit_start[t + 1]):
                if tab[u] >= 0:
                    add_table_unit(u, R, U, table, dec, msk, idx, o)
                else:
                    add_formula_unit(unit_leaf[u], msk[root[u]], R, P, T, seen, e, acc, res,
                                     slot, o)
        for i in range(R):
            for j in range(p):
                out[r0 + i, j] = o[j, i]
            out[r0 + i, p] = base


@numba.njit(cache=True)
def leaf_scratch(ls, le, P, F, T):  # type: ignore[no-untyped-def]
    """The contributions of the unit's leaves ``F.leaves[ls:le]`` for each of their patterns
    (formulas): leaf ``a``'s pattern ``m`` at ``scratch[offsets[a - ls] + m * d]``."""
    (_, _, _, _, _, _, leaf_value, leaf_d, pe_start, _, pe_z, _, _, _, _, _) = P
    unit_leaves = F[1]
    (mode, _, _, bg_start, bg_mask, bg_weight, W, _, _) = T
    e = np.zeros(W.shape[0] + 1)
    acc = np.zeros(W.shape[0] + 1)
    offsets = np.zeros(le - ls + 1, dtype=np.int64)
    for a in range(ls, le):
        d = leaf_d[unit_leaves[a]]
        offsets[a - ls + 1] = offsets[a - ls] + (np.int64(1) << d) * d
    scratch = np.zeros(offsets[-1])
    for a in range(ls, le):
        leaf = unit_leaves[a]
        d = leaf_d[leaf]
        for pattern in range(np.int64(1) << d):
            leaf_formula(leaf, pattern, d, mode, leaf_value, pe_z, pe_start[leaf], bg_start,
                         bg_mask, bg_weight, W, e, acc)
            at = offsets[a - ls] + pattern * d
            for q in range(d):
                scratch[at + q] = acc[q]
    return offsets, scratch


@numba.njit(parallel=True, cache=True)
def fill_tables(P, U, F, T):  # type: ignore[no-untyped-def]
    """Fill every unit's table: per index (the root's pattern, the decisions below it), the
    leaves' patterns (flowed down from the root) and the sum of their contributions
    (:func:`leaf_scratch`) in the unit's feature slots."""
    (node_start, _, _, _, _, leaf_start, _, leaf_d, pe_start, _, _, _, edge_parent, edge_left,
     edge_pos, edge_target) = P
    (_, _, _, root, ds, nstart, unit_nodes, fstart, _, tab, _) = U
    (lstart, unit_leaves, estart, unit_edges, pe_slot, unit_tree) = F
    (_, _, table, _, _, _, _, max_nodes, max_leaves) = T
    for u in numba.prange(len(tab)):
        w = fstart[u + 1] - fstart[u]
        ls, le = lstart[u], lstart[u + 1]
        if tab[u] < 0 or w == 0 or le == ls:
            continue
        offsets, scratch = leaf_scratch(ls, le, P, F, T)
        t = unit_tree[u]
        nodes = node_start[t + 1] - node_start[t]
        dec = np.zeros(max_nodes + 1, dtype=np.int64)
        msk = np.zeros(max_nodes + max_leaves + 1, dtype=np.int64)
        low = (np.int64(1) << ds[u]) - 1
        k_below = nstart[u + 1] - nstart[u]
        for index in range(np.int64(1) << (ds[u] + k_below)):
            for j in range(k_below):
                dec[unit_nodes[nstart[u] + j]] = (index >> (ds[u] + j)) & 1
            msk[root[u]] = (index & low) | ~low
            for c0 in range(estart[u], estart[u + 1]):
                c = unit_edges[c0]
                k = edge_parent[c]
                to = edge_target[c] if edge_target[c] >= 0 else nodes + ~edge_target[c]
                msk[to] = msk[k] & ~((dec[k] ^ np.int64(edge_left[c])) << np.int64(edge_pos[c]))
            row = tab[u] + index * w
            for a in range(ls, le):
                leaf = unit_leaves[a]
                d = leaf_d[leaf]
                at = offsets[a - ls] + (msk[nodes + leaf - leaf_start[t]] & ((1 << d) - 1)) * d
                for q in range(d):
                    table[row + pe_slot[pe_start[leaf] + q]] += scratch[at + q]


def path_arrays(P: Paths) -> tuple[np.ndarray, ...]:
    return (P.node_start, P.feat, P.thr, P.nan_left, P.zero_left, P.leaf_start, P.leaf_value,
            P.leaf_d, P.pe_start, P.pe_feat, P.pe_z, P.edge_start, P.edge_parent, P.edge_left,
            P.edge_pos, P.edge_target)


def kernel_args(T: Tables) -> tuple[Any, ...]:
    return (T.mode, T.base, T.table, T.bg_start, T.bg_mask, T.bg_weight, T.weights,
            T.paths.max_nodes, int(np.diff(T.paths.leaf_start).max(initial=0)))


def build_tables(
    P: Paths,
    mode: int,
    base: float,
    background: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    bits: int = BITS,
    budget: int = TABLE_BYTES,
) -> Tables:
    """Lay out and fill the tables of ``P`` (``background``: mode 1's ``bg_start``,
    ``bg_mask``, ``bg_weight``); ``bits`` 0 disables the tables (formulas only)."""
    units = layout(P, bits, budget)
    bg = background or (np.zeros(len(P.leaf_d) + 1, np.int64), EMPTY_INTS, np.zeros(0))
    d = max(P.max_d, 1)
    T = Tables(
        paths=P, units=units, mode=mode, base=base, table=np.zeros(units.table_size),
        bg_start=bg[0], bg_mask=bg[1], bg_weight=bg[2],
        weights=shapley_weights(d) if mode == 0 else interventional_weights(d),
    )
    fill_tables(path_arrays(P), units.arrays(), units.fill_arrays(), kernel_args(T))
    return T


def path_tables(booster: Any, bits: int = BITS, budget: int = TABLE_BYTES) -> Tables:
    """The path-dependent tables of ``booster`` (what ``pred_contrib`` computes); the base
    value is the sum over trees of the count-weighted mean leaf value."""
    P = parse_paths(booster)
    base = 0.0
    for t in range(len(P.leaf_start) - 1):
        leaves = slice(P.leaf_start[t], P.leaf_start[t + 1])
        base += float(np.sum(P.leaf_share[leaves] * P.leaf_value[leaves]))
    return build_tables(P, 0, base, None, bits, budget)


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
    shap_kernel(X, out, path_arrays(tables.paths), tables.units.arrays(), kernel_args(tables))
    return out

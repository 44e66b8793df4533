"""The per-leaf TreeSHAP formulas and LightGBM's split decision, as numba primitives.

A leaf's contribution to each of the ``d`` distinct features on its path depends on a row
only through the ``d``-bit *pattern* of the features whose every split along the path the
row passes. For path-dependent TreeSHAP (LightGBM's ``pred_contrib``) with cover fractions
``z`` (``o_j`` = bit ``j`` of the pattern)::

    phi_i = v (o_i - z_i) sum_{S in D-{i}} |S|! (d-1-|S|)! / d!  prod_S o  prod_{D-{i}-S} z

computed in ``O(d**2)`` from the elementary symmetric polynomials of the satisfied ``z``.
For interventional TreeSHAP against one background row of pattern ``pr`` (Lundberg et al.
2020): the leaf counts only when every path feature is satisfied by the row or the
background row; then the features satisfied by the row alone (``A``) gain
``v (a-1)! b! / (a+b)!`` each and those satisfied by the background row alone (``B``) lose
``v a! (b-1)! / (a+b)!`` each.
"""

from __future__ import annotations

import numba
import numpy as np

ZERO_THRESHOLD = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float literal)


def shapley_weights(max_d: int) -> np.ndarray:
    """``W[d, s] = s! (d-1-s)! / d!``, the Shapley weight of a coalition of ``s`` of the
    other ``d-1`` players, for ``d <= max_d`` (``W[d, s] = 1 / (d * C(d-1, s))``)."""
    W = np.zeros((max_d + 1, max_d + 1))
    for d in range(1, max_d + 1):
        binom = 1.0
        for s in range(d):
            W[d, s] = 1.0 / (d * binom)
            binom = binom * (d - 1 - s) / (s + 1)
    return W


@numba.njit(cache=True)
def path_leaf(pattern, d, z, f0, v, W, e, acc):  # type: ignore[no-untyped-def]
    """Path-dependent contributions of one leaf's ``d`` path features (cover fractions
    ``z[f0:f0+d]``) into ``acc[:d]``."""
    z0 = 1.0
    e[0] = 1.0
    m = 0
    for p in range(d):
        if (pattern >> p) & 1:
            m += 1
            e[m] = 0.0
            for t in range(m, 0, -1):
                e[t] += z[f0 + p] * e[t - 1]
        else:
            z0 *= z[f0 + p]
    off = 0.0
    if m < d:
        g = 0.0
        for t in range(m + 1):
            g += e[t] * W[d, m - t]
        off = -v * z0 * g
    for p in range(d):
        if (pattern >> p) & 1:
            f = 1.0
            g = W[d, m - 1]
            for t in range(1, m):
                f = e[t] - z[f0 + p] * f
                g += f * W[d, m - 1 - t]
            acc[p] = v * (1.0 - z[f0 + p]) * z0 * g
        else:
            acc[p] = off


@numba.njit(cache=True)
def pair_leaf(px, pr, d, weight, WI, acc):  # type: ignore[no-untyped-def]
    """Add the interventional contributions of one leaf (value times background share
    ``weight``) for a row satisfying ``px`` against background rows satisfying ``pr``:
    ``A = px - pr`` gain ``(a-1)! b! / (a+b)!``, ``B = pr - px`` lose ``a! (b-1)! / (a+b)!``."""
    full = (np.int64(1) << d) - 1
    if (px | pr) != full:
        return
    a_mask = px & ~pr
    b_mask = pr & ~px
    a = 0
    b = 0
    for p in range(d):
        a += (a_mask >> p) & 1
        b += (b_mask >> p) & 1
    if a + b == 0:
        return
    gain = weight * WI[a, b] if a else 0.0
    loss = weight * WI[b, a] if b else 0.0
    for p in range(d):
        if (a_mask >> p) & 1:
            acc[p] += gain
        elif (b_mask >> p) & 1:
            acc[p] -= loss


def interventional_weights(max_d: int) -> np.ndarray:
    """``WI[a, b] = (a-1)! b! / (a+b)! = 1 / (a C(a+b, a))`` for ``a >= 1``."""
    WI = np.zeros((max_d + 1, max_d + 1))
    for a in range(1, max_d + 1):
        for b in range(max_d + 1 - a):
            binom = 1.0
            for k in range(1, a + 1):
                binom = binom * (b + k) / k
            WI[a, b] = 1.0 / (a * binom)
    return WI


@numba.njit(cache=True, inline="always")
def go_left(x, thr, nan_left, zero_left):  # type: ignore[no-untyped-def]
    """LightGBM's NumericalDecision: True when the row goes to the left child (``nan_left``
    and ``zero_left``: where the node sends NaN and zero, see ``models.treepaths``)."""
    if np.isnan(x):
        return nan_left
    if abs(x) <= ZERO_THRESHOLD:
        return zero_left
    return x <= thr

"""Property-based tests of the population stability index with hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ml.drift import bin_shares, psi


@st.composite
def share_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Two share vectors of one length (each sums to 1, empty bins allowed)."""
    k = draw(st.integers(1, 20))
    weights = st.lists(
        st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False), min_size=k, max_size=k
    )
    out = []
    for _ in range(2):
        w = np.asarray(draw(weights), dtype="float64")
        if w.sum() == 0:
            w[draw(st.integers(0, k - 1))] = 1.0
        out.append(w / w.sum())
    return out[0], out[1]


@given(share_pairs())
def test_psi_is_non_negative_and_symmetric(pair):
    e, a = pair
    value = psi(e, a)
    assert value >= 0.0
    assert value == psi(a, e)
    assert np.isfinite(value)


@given(share_pairs())
def test_psi_of_a_distribution_with_itself_is_zero(pair):
    e, _ = pair
    assert psi(e, e) == 0.0


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=10, unique=True),
)
def test_bin_shares_sum_to_one_over_len_edges_plus_one_bins(values, edges):
    shares = bin_shares(np.asarray(values), sorted(edges))
    assert shares.shape == (len(edges) + 1,)
    assert abs(shares.sum() - 1.0) < 1e-9
    assert (shares >= 0).all()

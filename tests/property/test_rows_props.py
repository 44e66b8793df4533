"""``models.rows.permute_rows`` reorders a matrix's rows in place exactly as fancy indexing
would, for any permutation (cycles of every length, fixed points), and refuses an order that
is not a permutation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.rows import permute_rows


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 7), st.randoms(use_true_random=False))
def test_permute_rows_equals_fancy_indexing(n: int, width: int, rnd) -> None:
    order = np.arange(n)
    rnd.shuffle(order)
    matrix = np.arange(n * width, dtype="float64").reshape(n, width)
    expected = matrix[order]
    permute_rows(matrix, order)
    assert np.array_equal(matrix, expected)


def test_permute_rows_refuses_what_it_cannot_do_in_place() -> None:
    matrix = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"permutation of range\(4\)"):
        permute_rows(matrix, np.array([0, 1, 1, 3]))
    with pytest.raises(ValueError, match=r"permutation of range\(4\)"):
        permute_rows(matrix, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="writable C-contiguous"):
        permute_rows(np.zeros((4, 3)).T.copy().T, np.arange(4))
    frozen = np.zeros((4, 3))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writable C-contiguous"):
        permute_rows(frozen, np.arange(4))

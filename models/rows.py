"""Row permutations of large matrices in place (numba): reorder a contribution matrix into
rank order without a second copy of it."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _permute(matrix: np.ndarray, order: np.ndarray) -> None:  # pragma: no cover - compiled
    n, width = matrix.shape
    done = np.zeros(n, dtype=np.bool_)
    row = np.empty(width, dtype=matrix.dtype)
    for start in range(n):
        if done[start]:
            continue
        done[start] = True
        if order[start] == start:
            continue
        row[:] = matrix[start]  # follow the cycle through start, one row held aside
        j = start
        while True:
            k = order[j]
            if k == start:
                matrix[j] = row
                break
            matrix[j] = matrix[k]
            done[k] = True
            j = k


def permute_rows(matrix: np.ndarray, order: np.ndarray) -> None:
    """Reorder the rows of ``matrix`` in place so that row i becomes what row ``order[i]``
    was: ``matrix[:] = matrix[order]`` without the copy. ``order`` must be a permutation of
    ``range(len(matrix))``; ``matrix`` a writable C-contiguous 2-D array.

    >>> m = np.arange(6.0).reshape(3, 2)
    >>> permute_rows(m, np.array([2, 0, 1]))
    >>> m.tolist()
    [[4.0, 5.0], [0.0, 1.0], [2.0, 3.0]]
    """
    if matrix.ndim != 2 or not matrix.flags.c_contiguous or not matrix.flags.writeable:
        raise ValueError("permute_rows needs a writable C-contiguous 2-D array.")
    order = np.asarray(order, dtype=np.int64)
    n = matrix.shape[0]
    if order.shape != (n,) or not np.array_equal(np.bincount(order, minlength=n), np.ones(n)):
        raise ValueError(f"order must be a permutation of range({n}); got {order.shape[0]} "
                         "positions that are not.")
    _permute(matrix, order)

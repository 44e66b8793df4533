"""The explanation core: TreeSHAP contributions of a LightGBM booster, their column names,
their additivity, and the selection of each row's top contributions.

No MLflow here: everything that only needs contributions (the ranking, the exports, the API,
the truth check) imports this module, not the packaged pyfunc (``models.packaged``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SHAP_PREFIX = "shap__"
SHAP_BASE = "shap__base"
CHUNK_ROWS = 20_000


def shap_column(feature: str) -> str:
    """The output column of a feature's contribution: ``shap__<feature>``."""
    return f"{SHAP_PREFIX}{feature}"


def shap_features(columns: Sequence[str]) -> list[str]:
    """The feature names behind the ``shap__<feature>`` columns, in column order."""
    return [c[len(SHAP_PREFIX) :] for c in columns if c.startswith(SHAP_PREFIX) and c != SHAP_BASE]


def top_contributions(
    contrib: np.ndarray, k: int, positive_only: bool = True, chunk_rows: int = CHUNK_ROWS
) -> list[list[int]]:
    """Per row of ``contrib`` (n, p), the column indices of its k largest contributions,
    largest first, ties in column order; with ``positive_only`` only those above zero.

    Rows are ordered in chunks, so the temporary sort indices stay a chunk's size.

    >>> top_contributions(np.array([[0.1, 0.5, -0.2], [-1.0, 0.0, 0.3]]), k=2)
    [[1, 0], [2]]
    """
    matrix = np.atleast_2d(np.asarray(contrib, dtype="float64"))
    if k < 0:
        raise ValueError(f"k must be a whole number >= 0. Got {k!r} instead.")
    out: list[list[int]] = []
    for start in range(0, len(matrix), chunk_rows):
        block = matrix[start : start + chunk_rows]
        order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        if positive_only:
            keep = np.take_along_axis(block, order, axis=1) > 0
            out.extend(row[mask].tolist() for row, mask in zip(order, keep, strict=True))
        else:
            out.extend(order.tolist())
    return out

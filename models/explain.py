"""The explanation core: TreeSHAP contributions of a LightGBM booster, the frame of risk,
margin and contributions, their column names, their additivity, the selection of each row's
top contributions, and the same contributions as a ``shap.Explanation``.

No MLflow here, and importing this module loads neither LightGBM (the caller brings the
booster) nor shap (imported by :func:`explanation` only). Everything that only needs
contributions (the ranking, the exports, the API, the truth check, training's SHAP charts)
imports this module, not the packaged pyfunc (``models.packaged``), which wraps
:func:`predict_frame` for MLflow.

Contributions come from LightGBM's native ``pred_contrib`` (exact TreeSHAP, multi-threaded),
computed in chunks of rows to bound memory, such that per row
``shap__base + sum(shap__<feature>) == margin`` (the booster's raw log-odds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.calibrator import Calibrator

if TYPE_CHECKING:  # annotations only
    import lightgbm as lgb
    import shap

SHAP_PREFIX = "shap__"
SHAP_BASE = "shap__base"
CHUNK_ROWS = 20_000
ADDITIVITY_TOLERANCE = 1e-6  # max |base + sum(contributions) - margin| a run may publish


def shap_column(feature: str) -> str:
    """The output column of a feature's contribution: ``shap__<feature>``."""
    return f"{SHAP_PREFIX}{feature}"


def shap_features(columns: Sequence[str]) -> list[str]:
    """The feature names behind the ``shap__<feature>`` columns, in column order."""
    return [c[len(SHAP_PREFIX) :] for c in columns if c.startswith(SHAP_PREFIX) and c != SHAP_BASE]


def contribution_columns(features: Sequence[str]) -> list[str]:
    """The contribution columns in model order: ``shap__<feature>`` per feature, then the base."""
    return [*(shap_column(f) for f in features), SHAP_BASE]


def feature_matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """The model's input: ``features`` of ``frame`` as float64 in model order, NaN = missing
    (no copy when the columns already are so)."""
    return frame.loc[:, list(features)].to_numpy(dtype="float64", na_value=np.nan)


def explain(
    booster: lgb.Booster,
    X: np.ndarray | pd.DataFrame,
    chunk_rows: int = CHUNK_ROWS,
    *,
    features: Sequence[str] | None = None,
) -> np.ndarray:
    """(n, n_features + 1) TreeSHAP contributions, last column the base value.

    ``X`` is a float matrix in model order, or a frame whose ``features`` (default: all its
    columns, in frame order) are converted one chunk of ``chunk_rows`` rows at a time, so no
    full float copy of the frame is made.
    """
    whole = isinstance(chunk_rows, int | np.integer) and not isinstance(chunk_rows, bool)
    if not whole or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an int >= 1. Got {chunk_rows!r} instead.")
    if isinstance(X, pd.DataFrame):
        cols = list(X.columns if features is None else features)
        width = len(cols)
    else:
        X = np.asarray(X, dtype="float64")
        width = X.shape[1]
    n = X.shape[0]
    out = np.empty((n, width + 1), dtype="float64")
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        if isinstance(X, pd.DataFrame):
            chunk = feature_matrix(X.iloc[start:stop], cols)
        else:
            chunk = X[start:stop]
        out[start:stop] = booster.predict(chunk, pred_contrib=True)
    return out


def predict_frame(
    booster: lgb.Booster,
    features: Sequence[str],
    frame: pd.DataFrame,
    chunk_rows: int = CHUNK_ROWS,
    calibrator: Calibrator | None = None,
) -> pd.DataFrame:
    """Risk, margin and contributions for the rows of ``frame`` (any column order).

    Columns ``risk``, ``margin``, then :func:`contribution_columns`; the index is the frame's.
    ``risk`` is the calibrated probability when a calibrator is given, else the booster's;
    ``margin`` is always the booster's raw log-odds, which the contributions add up to.
    """
    contrib = explain(booster, frame, chunk_rows, features=features)
    margin = contrib.sum(axis=1)
    out = pd.DataFrame(  # no copy of the (large) contribution matrix
        contrib, columns=contribution_columns(features), index=frame.index, copy=False
    )
    out.insert(0, "margin", margin)
    risk = calibrator.predict(margin) if calibrator else 1.0 / (1.0 + np.exp(-margin))
    out.insert(0, "risk", risk)
    return out


def explanation(
    booster: lgb.Booster,
    features: Sequence[str],
    frame: pd.DataFrame,
    chunk_rows: int = CHUNK_ROWS,
) -> shap.Explanation:
    """The contributions of :func:`explain` as a ``shap.Explanation`` for shap's plots.

    ``values`` (n, p) are the contributions in log-odds, ``base_values`` (n,) the base value,
    ``data`` the feature values (NaN = missing) and ``feature_names`` the model's features, so
    ``values.sum(axis=1) + base_values`` is the margin. For example
    ``shap.plots.waterfall(expl[0])`` or ``shap.plots.beeswarm(expl)``.
    """
    import shap

    names = list(features)
    contrib = explain(booster, frame, chunk_rows, features=names)
    return shap.Explanation(
        values=contrib[:, :-1],
        base_values=contrib[:, -1],
        data=feature_matrix(frame, names),
        feature_names=names,
    )


def additivity_error(output: pd.DataFrame, features: Sequence[str]) -> float:
    """max |shap__base + sum(shap__<feature>) - margin| over the rows of a model output."""
    total = output[[shap_column(f) for f in features]].to_numpy().sum(axis=1)
    total += output[SHAP_BASE].to_numpy()
    return float(np.max(np.abs(total - output["margin"].to_numpy()), initial=0.0))


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

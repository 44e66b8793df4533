"""The explanation core: TreeSHAP contributions of a LightGBM booster, the frame of risk,
margin and contributions, their column names, their additivity, the selection of each row's
top contributions, and the same contributions as a ``shap.Explanation``.

No MLflow here, and importing this module loads neither LightGBM (the caller brings the
booster) nor shap (imported by :func:`explanation` only). Everything that only needs
contributions (the ranking, the exports, the API, the truth check, training's SHAP charts)
imports this module, not the packaged pyfunc (``models.packaged``), which wraps
:func:`predict_frame` for MLflow.

Contributions are computed in chunks of rows to bound memory, by one of three methods
(``[explain] method``), such that per row ``shap__base + sum(shap__<feature>) == margin``
(the booster's raw log-odds):

* ``fast`` (default): :func:`tree_shap`, the exact path-dependent TreeSHAP kernel of
  ``models.treeshap`` (numba, parallel; the same values as ``pred_contrib`` within 1e-9,
  about 10x faster); a booster it cannot read (categorical splits) falls back to ``native``;
* ``native``: LightGBM's own ``pred_contrib`` (multi-threaded);
* ``interventional``: interventional TreeSHAP against the background sample stored with
  the model (``models.interventional``; the base value is the background's mean margin).

An :class:`Explainer` holds the precomputed tables of one booster and method; build it
once per loaded model (the packaged model does) and pass it to :func:`explain`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.calibrator import Calibrator
from wijkradar.config import EXPLAIN_METHODS

if TYPE_CHECKING:  # annotations only
    import lightgbm as lgb
    import shap

    from models.treeshap import Tables

SHAP_PREFIX = "shap__"
SHAP_BASE = "shap__base"
CHUNK_ROWS = 20_000
ADDITIVITY_TOLERANCE = 1e-6  # max |base + sum(contributions) - margin| a run may publish
METHODS = EXPLAIN_METHODS  # fast, native, interventional: declared with the config
# A bare booster's default: it needs no background. The scoring job passes its configured
# method ([explain] method, default interventional) explicitly.
DEFAULT_METHOD = "fast"
# The row orders ``predict_frame`` returns: the input's, or rank order (descending margin).
ROW_ORDERS = ("input", "margin")
# The packaged model's pyfunc parameters (``models.packaged``): the explanation method and the
# rows' order, as ``predict_frame`` takes them.
EXPLAIN_PARAM = "explain"
ORDER_PARAM = "order"


@dataclass(frozen=True)
class Explainer:
    """The contributions of one booster by one method: ``explainer(X)`` gives the
    (rows, features + 1) matrix of a float matrix in model order. ``method`` is what was
    asked for, ``used`` what runs (``native`` after a fallback, with the reason in
    ``fallback``)."""

    booster: Any
    method: str
    used: str
    tables: Tables | None = None
    background: np.ndarray | None = None
    fallback: str | None = None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.tables is not None:
            from models.treeshap import run_kernel

            return run_kernel(self.tables, X)
        return np.asarray(self.booster.predict(X, pred_contrib=True), dtype=np.float64)


def explainer(
    booster: lgb.Booster,
    method: str = DEFAULT_METHOD,
    background: np.ndarray | pd.DataFrame | None = None,
) -> Explainer:
    """The :class:`Explainer` of ``booster`` by ``method`` (tables built here, once).

    ``fast`` falls back to ``native`` when the kernel cannot read the booster (categorical
    splits), with a warning naming why; ``interventional`` then raises
    ``UnsupportedBoosterError`` (shap's own interventional explainer misreads LightGBM's
    categorical splits: its values do not add up to the margin). ``interventional`` needs
    ``background`` (float rows in model order, NaN = missing).
    """
    from wijkradar.errors import ExplanationError

    if method not in METHODS:
        raise ExplanationError(
            f"The explain method must be one of {', '.join(METHODS)}. Got {method!r} instead."
        )
    if method == "native":
        return Explainer(booster, method, "native")
    from models.treepaths import UnsupportedBoosterError

    if method == "fast":
        from models.treeshap import path_tables

        try:
            return Explainer(booster, method, "fast", tables=path_tables(booster))
        except UnsupportedBoosterError as exc:
            warnings.warn(f"{exc} Using LightGBM's pred_contrib instead.", stacklevel=2)
            return Explainer(booster, method, "native", fallback=str(exc))
    if background is None:
        raise ExplanationError(
            "Interventional explanations need the background sample stored with the model. "
            "Got a model without one: retrain it, or use [explain] method = \"fast\"."
        )
    from models.interventional import interventional_tables

    rows = np.ascontiguousarray(np.asarray(background, dtype=np.float64))
    try:
        tables = interventional_tables(booster, rows)
    except UnsupportedBoosterError as exc:  # shap misreads LightGBM's categorical splits
        raise UnsupportedBoosterError(
            f"{exc} Interventional explanations need a model without them; use "
            '[explain] method = "fast" (it falls back to pred_contrib).'
        ) from exc
    return Explainer(booster, method, "interventional", tables=tables, background=rows)


def tree_shap(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    """Exact path-dependent TreeSHAP of ``booster`` for the float matrix ``X`` (model order,
    NaN = missing): (rows, features + 1), last column the base value, the values of
    ``booster.predict(X, pred_contrib=True)`` within 1e-9 (binary: margin space).

    Builds the tables each call; to explain many chunks, use :func:`explainer` once. Raises
    ``models.treepaths.UnsupportedBoosterError`` (an ``ExplanationError``) for boosters with
    categorical splits, linear trees or several outputs.
    """
    from models.treeshap import path_tables, run_kernel

    return run_kernel(path_tables(booster), np.asarray(X, dtype=np.float64))


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
    method: str = DEFAULT_METHOD,
    background: np.ndarray | pd.DataFrame | None = None,
    using: Explainer | None = None,
) -> np.ndarray:
    """(n, n_features + 1) TreeSHAP contributions, last column the base value.

    ``X`` is a float matrix in model order, or a frame whose ``features`` (default: all its
    columns, in frame order) are converted one chunk of ``chunk_rows`` rows at a time, so no
    full float copy of the frame is made. The contributions are ``using``'s, else those of
    ``explainer(booster, method, background)`` built for this call.
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
    if n == 0:
        return out
    contributions = using or explainer(booster, method, background)
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        if isinstance(X, pd.DataFrame):
            chunk = feature_matrix(X.iloc[start:stop], cols)
        else:
            chunk = X[start:stop]
        out[start:stop] = contributions(chunk)
    return out


def predict_frame(
    booster: lgb.Booster,
    features: Sequence[str],
    frame: pd.DataFrame,
    chunk_rows: int = CHUNK_ROWS,
    calibrator: Calibrator | None = None,
    *,
    method: str = DEFAULT_METHOD,
    using: Explainer | None = None,
    order: str = "input",
) -> pd.DataFrame:
    """Risk, margin and contributions for the rows of ``frame`` (any column order), by
    ``using`` or else by ``method`` (see :func:`explain`).

    Columns ``risk``, ``margin``, then :func:`contribution_columns`; the index is the frame's.
    ``risk`` is the calibrated probability when a calibrator is given, else the booster's;
    ``margin`` is always the booster's raw log-odds, which the contributions add up to.
    ``order`` (``ROW_ORDERS``): the rows in the frame's order ("input"), or by descending
    margin, ties in the frame's order ("margin": rank order, sorted in place, so the
    contributions are never held twice); the index labels travel with their rows.
    """
    if order not in ROW_ORDERS:
        raise ValueError(f"order must be one of {ROW_ORDERS}. Got {order!r} instead.")
    contrib = explain(booster, frame, chunk_rows, features=features, method=method, using=using)
    margin = contrib.sum(axis=1)
    index = frame.index
    if order == "margin":
        from models.rows import permute_rows

        ranked = np.argsort(-margin, kind="stable")
        permute_rows(contrib, ranked)
        margin, index = margin[ranked], index[ranked]
    out = pd.DataFrame(  # no copy of the (large) contribution matrix
        contrib, columns=contribution_columns(features), index=index, copy=False
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
    *,
    method: str = DEFAULT_METHOD,
    using: Explainer | None = None,
) -> shap.Explanation:
    """The contributions of :func:`explain` as a ``shap.Explanation`` for shap's plots.

    ``values`` (n, p) are the contributions in log-odds, ``base_values`` (n,) the base value,
    ``data`` the feature values (NaN = missing) and ``feature_names`` the model's features, so
    ``values.sum(axis=1) + base_values`` is the margin. For example
    ``shap.plots.waterfall(expl[0])`` or ``shap.plots.beeswarm(expl)``.
    """
    import shap

    names = list(features)
    contrib = explain(booster, frame, chunk_rows, features=names, method=method, using=using)
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

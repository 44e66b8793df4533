"""Evaluation metrics for a ranked list of neighbourhoods at risk of declining livability.

The metrics a policy team acts on are top-k ones: of the k% of units the model flags first, how
many do decline (precision) and what share of all decliners is that (recall). ``k`` is rounded
up: the top 5% of 30 units is ``ceil(0.05 * 30) = 2`` units. Ties in score keep input order, so
results are deterministic.

Example: labels ``[1, 0, 1, 0, 0, 0, 0, 0, 0, 1]`` with scores ``[.9, .8, .7, ...]`` decreasing
give ``precision_at(y, s, 0.3) == 2/3`` (top 3 hold two decliners) and
``recall_at(y, s, 0.3) == 2/3`` (two of the three decliners).

Inputs are numpy arrays, pandas Series or lists, read positionally; two Series must share their
index. Labels must be 0/1 (or booleans); missing labels and missing scores are errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "binary_metrics",
    "check_binary",
    "normalized_auc",
    "precision_at",
    "recall_at",
    "top_count",
]

ArrayLike = Any  # numpy array, pandas Series or sequence

TOP_FRACS = {"1": 0.01, "5": 0.05, "10": 0.10}


def _to_float(values: ArrayLike, name: str) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        arr = np.asarray(values, dtype="float64")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional. Got shape {arr.shape} instead.")
    return arr


def _check_same_index(**named: ArrayLike) -> None:
    series = {k: v for k, v in named.items() if isinstance(v, pd.Series)}
    names = list(series)
    for other in names[1:]:
        if not series[names[0]].index.equals(series[other].index):
            raise ValueError(
                f"{names[0]} and {other} are pandas Series with different indexes; "
                "align them first (metrics read values by position)."
            )


def check_binary(y_true: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Labels as a 0/1 float array and scores as a float array, checked."""
    _check_same_index(y_true=y_true, score=score)
    y = _to_float(y_true, "y_true")
    s = _to_float(score, "score")
    if len(y) != len(s):
        raise ValueError(
            f"y_true and score must have the same length. Got {len(y)} and {len(s)} instead."
        )
    if len(y) == 0:
        raise ValueError("y_true and score are empty; metrics need at least one row.")
    n_nan = int(np.isnan(y).sum())
    if n_nan:
        raise ValueError(f"y_true contains {n_nan} NaN labels; drop unlabelled rows first.")
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"y_true must contain only 0 and 1. Got {int(bad.sum())} other values, "
            f"e.g. {y[bad][0]!r}."
        )
    n_nan = int(np.isnan(s).sum())
    if n_nan:
        raise ValueError(f"score contains {n_nan} NaN values.")
    return y, s


def _check_frac(frac: float) -> float:
    if isinstance(frac, bool) or not isinstance(frac, int | float | np.floating | np.integer):
        raise TypeError(f"The 'frac' parameter must be a float in (0, 1]. Got {frac!r} instead.")
    if not 0 < frac <= 1:
        raise ValueError(f"The 'frac' parameter must be in (0, 1]. Got {frac!r} instead.")
    return float(frac)


def top_count(n: int, frac: float) -> int:
    """How many of ``n`` units are "the top ``frac``": ``ceil(frac * n)``, at least 1 (0 when
    there are none), robust to float noise (0.07 * 100 is 7, not 8). The one definition of
    "top 10 %" that metrics, the ranking's flags and the truth check share."""
    return min(n, max(1, math.ceil(round(frac * n, 9))))


def _ranked(score: np.ndarray) -> np.ndarray:
    """Positions by decreasing score; equal scores keep input order."""
    return np.argsort(-score, kind="stable")


def precision_at(y_true: ArrayLike, score: ArrayLike, frac: float) -> float:
    """Share of positives among the top ``ceil(frac * n)`` rows by score (ties: input order)."""
    y, s = check_binary(y_true, score)
    k = top_count(len(y), _check_frac(frac))
    return float(y[_ranked(s)[:k]].mean())


def recall_at(y_true: ArrayLike, score: ArrayLike, frac: float) -> float:
    """Share of all positives that fall in the top ``ceil(frac * n)`` rows; nan if none."""
    y, s = check_binary(y_true, score)
    k = top_count(len(y), _check_frac(frac))
    total = y.sum()
    if total == 0:
        return math.nan
    return float(y[_ranked(s)[:k]].sum() / total)


def binary_metrics(y_true: ArrayLike, score: ArrayLike) -> dict[str, float]:
    """All headline metrics of one scored set.

    Keys: ``n``, ``base_rate``, ``roc_auc``, ``pr_auc`` (average precision),
    ``precision_at_{1,5,10}``, ``recall_at_{1,5,10}`` (top 1%, 5%, 10%) and ``brier``.
    ``roc_auc`` and ``pr_auc`` are nan when only one class is present; ``recall_at_*`` is nan
    without positives; ``brier`` is nan unless every score lies in [0, 1].
    """
    from sklearn import metrics  # here: a scoring run that needs only top_count skips it

    y, s = check_binary(y_true, score)
    two_classes = 0 < y.sum() < len(y)
    out: dict[str, float] = {
        "n": float(len(y)),
        "base_rate": float(y.mean()),
        "roc_auc": float(metrics.roc_auc_score(y, s)) if two_classes else math.nan,
        "pr_auc": float(metrics.average_precision_score(y, s)) if two_classes else math.nan,
    }
    for label, frac in TOP_FRACS.items():
        out[f"precision_at_{label}"] = precision_at(y, s, frac)
    for label, frac in TOP_FRACS.items():
        out[f"recall_at_{label}"] = recall_at(y, s, frac)
    in_unit = bool(((s >= 0) & (s <= 1)).all())
    out["brier"] = float(np.mean((s - y) ** 2)) if in_unit else math.nan
    return out


def normalized_auc(auc: float, oracle_auc: float) -> float:
    """``(auc - 0.5) / (oracle_auc - 0.5)``: the share of the oracle's lift over chance.

    nan when either input is nan or the oracle is no better than chance (``oracle_auc <= 0.5``).
    """
    for name, value in (("auc", auc), ("oracle_auc", oracle_auc)):
        if not math.isnan(value) and not 0 <= value <= 1:
            raise ValueError(f"The {name!r} parameter must be in [0, 1]. Got {value!r} instead.")
    if math.isnan(auc) or math.isnan(oracle_auc) or oracle_auc <= 0.5:
        return math.nan
    return (auc - 0.5) / (oracle_auc - 0.5)

"""Bootstrap intervals for the evaluation metrics, resampling units rather than rows.

When validation folds are pooled, a unit (buurt, wijk, PC4 area) appears once per test year and
its rows are correlated. Resampling rows would treat them as independent and give intervals that
are too narrow, so each resample draws unit ids with replacement and keeps every row of each
drawn unit (a unit drawn twice counts twice).

A resample is held as a weight per row (how often its unit was drawn), so the rows are sorted
by score once and every metric of a resample is a weighted cumulative sum over that order; a
block of resamples is one matrix. Weighted metrics equal the metrics of the expanded resampled
data: ROC-AUC counts ties as one half (as ``sklearn.metrics.roc_auc_score``), PR-AUC is average
precision over distinct score thresholds (as ``sklearn.metrics.average_precision_score``) and
the top-k metrics take ``ceil(frac * n)`` rows, ties in input order (as ``ml.metrics``), where
``n`` is the resample's row count.

The interval is the percentile interval of the resampled values (95 % by default). Resamples in
which a metric is undefined (ROC-AUC with one class, say) are left out of that metric's interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml.metrics import check_binary, top_count

__all__ = [
    "DEFAULT_METRICS",
    "bootstrap_by_model",
    "draw_units",
    "top_n_per_group_precision",
]

ArrayLike = Any  # numpy array, pandas Series or sequence

DEFAULT_METRICS = (
    "roc_auc",
    "pr_auc",
    "precision_at_1",
    "precision_at_5",
    "precision_at_10",
    "recall_at_10",
    "brier",
)
_PLAIN_METRICS = ("roc_auc", "pr_auc", "brier", "base_rate")
_TOP_RE = re.compile(r"^(precision|recall)_at_(\d+(?:\.\d+)?)$")
# Cells of a block of resamples (rows x resamples); bounds memory at a few tens of MB.
_BLOCK_CELLS = 1_500_000
_COLUMNS = ["metric", "value", "low", "high"]


def bootstrap_by_model(
    predictions: pd.DataFrame,
    *,
    n_boot: int = 200,
    seed: int | None = 0,
    metrics: Sequence[str] = DEFAULT_METRICS,
    level: float = 0.95,
    unit_column: str = "unit_code",
) -> pd.DataFrame:
    """Each metric per model of a ``TrainResult.predictions`` frame (folds pooled), with a
    percentile bootstrap interval over the units of ``unit_column``.

    Metrics are ``roc_auc``, ``pr_auc``, ``brier`` (NaN unless every score is in [0, 1]),
    ``base_rate`` and ``precision_at_<pct>`` / ``recall_at_<pct>`` for a top percentage (``1``,
    ``5``, ``10``, ``2.5``...); the values equal ``ml.metrics.binary_metrics``. Every model is
    evaluated on the same unit draws (``draw_units``), and the same ``seed`` gives the same
    intervals. Returns columns ``model``, ``metric``, ``value``, ``low``, ``high``, models in
    order of appearance.
    """
    spec = _metric_spec(metrics)
    level = _check_level(level)
    frames = []
    for model, (point, boot) in _per_model(predictions, n_boot, seed, spec, unit_column).items():
        frames.append(_table(spec, point, boot, level).assign(model=model))
    if not frames:
        return pd.DataFrame(columns=["model", *_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["model", *_COLUMNS]]


def top_n_per_group_precision(
    y_true: ArrayLike,
    score: ArrayLike,
    groups: ArrayLike,
    n: int,
    *,
    clusters: ArrayLike | None = None,
    n_boot: int = 200,
    seed: int | None = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Precision of the top ``n`` rows per group, pooled, with a bootstrap interval over clusters.

    The value is the share of positives among the top ``n`` rows by score within each group
    (ties in input order; a group with fewer rows gives all of them), e.g. the top 2 buurten per
    gemeente: groups ``[a, a, a, b]``, scores ``[.9, .1, .5, .3]``, labels ``[1, 1, 0, 0]``
    select rows 0, 2 (group a) and 3 (group b): 1/3. The rows are selected once, on the full
    data; the bootstrap then resamples ``clusters`` (default: the groups themselves)
    with their selected rows and hits. Resampling units inside a list of ``n`` would instead
    let undrawn top units be replaced by lower-ranked ones, an order-statistic effect that
    biases the resampled precision downwards. When folds are pooled, pass a group per (test
    year, gemeente) and ``clusters=gemeente_code``, so one gemeente's lists move together.
    Returns one row: ``metric`` (``precision_top_<n>_per_group``), ``value``, ``low``, ``high``.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"The 'n' parameter must be an int >= 1. Got {n!r} instead.")
    if n < 1:
        raise ValueError(f"The 'n' parameter must be >= 1. Got {n!r} instead.")
    y, s = check_binary(y_true, score)
    group_ids = _units(groups, len(y), name="groups")
    cluster_ids = group_ids if clusters is None else _units(clusters, len(y), name="clusters")
    n_boot = _check_n_boot(n_boot)
    level = _check_level(level)
    _, gcode = np.unique(group_ids, return_inverse=True)
    order = np.lexsort((np.arange(len(y)), -s, gcode))
    rank = np.empty(len(y), dtype="int64")
    first = np.r_[0, np.flatnonzero(np.diff(gcode[order])) + 1]
    rank[order] = np.arange(len(y)) - np.repeat(first, np.diff(np.r_[first, len(y)]))
    selected = rank < int(n)
    uniq, ccode = np.unique(cluster_ids, return_inverse=True)
    picked = np.bincount(ccode, weights=selected, minlength=len(uniq))
    hits = np.bincount(ccode, weights=selected * y, minlength=len(uniq))
    counts = draw_units(len(uniq), n_boot, seed).astype("float64")
    name = f"precision_top_{int(n)}_per_group"
    point = {name: float(hits.sum() / picked.sum())}
    boot = {name: (counts @ hits) / (counts @ picked)}
    return _table([name], point, boot, level)


def draw_units(n_units: int, n_boot: int, seed: int | None) -> np.ndarray:
    """(n_boot, n_units) matrix: how often each unit is drawn in each resample.

    Each resample draws ``n_units`` units uniformly with replacement. ``bootstrap_by_model``
    and ``top_n_per_group_precision`` number units (clusters) in the sorted order of their ids
    (``np.unique``), so unit ``j`` of a resample is the ``j``-th smallest id.
    """
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    flat = (draws + np.arange(n_boot)[:, None] * n_units).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units)


# ---------------------------------------------------------------------------------------------


def _units(values: ArrayLike, n: int, name: str = "units") -> np.ndarray:
    arr = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(
            f"{name} must be one-dimensional with {n} values. Got shape {arr.shape} instead."
        )
    n_missing = int(pd.isna(arr).sum())
    if n_missing:
        raise ValueError(f"{name} contains {n_missing} missing values.")
    return arr


def _check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"The 'n_boot' parameter must be an int >= 1. Got {n_boot!r} instead.")
    return int(n_boot)


def _check_level(level: float) -> float:
    if not isinstance(level, int | float | np.floating) or not 0 < level < 1:
        raise ValueError(f"The 'level' parameter must be in (0, 1). Got {level!r} instead.")
    return float(level)


def _metric_spec(metrics: Sequence[str]) -> dict[str, tuple[str, float]]:
    """name -> (kind, top fraction) for every requested metric, in order."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    spec: dict[str, tuple[str, float]] = {}
    for name in metrics:
        match = _TOP_RE.match(str(name))
        if name in _PLAIN_METRICS:
            spec[name] = (name, math.nan)
        elif match and 0 < float(match.group(2)) <= 100:
            spec[name] = (match.group(1), float(match.group(2)) / 100)
        else:
            raise ValueError(
                f"The 'metrics' parameter must name metrics among {list(_PLAIN_METRICS)} or "
                f"precision_at_<pct> / recall_at_<pct> with pct in (0, 100]. Got {name!r}."
            )
    if not spec:
        raise ValueError("The 'metrics' parameter must name at least one metric. Got none.")
    return spec


def _blocks(counts: np.ndarray, codes: np.ndarray, fn: Callable[[np.ndarray], Any]) -> Any:
    """``fn`` over blocks of resamples as row-weight matrices (rows in the order of codes)."""
    size = max(1, _BLOCK_CELLS // max(len(codes), 1))
    parts = [
        fn(counts[start : start + size][:, codes].astype("float64"))
        for start in range(0, len(counts), size)
    ]
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)


def _evaluate(
    y: np.ndarray,
    s: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    spec: dict[str, tuple[str, float]],
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point values (every row once) and per-resample values of each metric."""
    order = np.argsort(-s, kind="stable")
    y_d, s_d = y[order], s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s_d)) + 1]
    in_unit = bool(((s >= 0) & (s <= 1)).all())
    sq_err = (s_d - y_d) ** 2

    def compute(w: np.ndarray) -> dict[str, np.ndarray]:
        wy = w * y_d
        total = w.sum(axis=1)
        pos = wy.sum(axis=1)
        neg = total - pos
        out: dict[str, np.ndarray] = {}
        kinds = {kind for kind, _ in spec.values()}
        with np.errstate(divide="ignore", invalid="ignore"):
            if kinds & {"roc_auc", "pr_auc"}:
                pos_g = np.add.reduceat(wy, starts, axis=1)
                neg_g = np.add.reduceat(w - wy, starts, axis=1)
                tps, fps = np.cumsum(pos_g, axis=1), np.cumsum(neg_g, axis=1)
                both = (pos > 0) & (neg > 0)
            if "roc_auc" in kinds:
                # Negatives ranked below each positive, ties counted as one half.
                below = neg[:, None] - fps + 0.5 * neg_g
                out["roc_auc"] = np.where(both, (pos_g * below).sum(axis=1) / (pos * neg), np.nan)
            if "pr_auc" in kinds:
                called = tps + fps
                prec = np.divide(tps, called, out=np.zeros_like(tps), where=called > 0)
                ap = (pos_g * prec).sum(axis=1) / pos  # recall steps are pos_g / pos
                out["pr_auc"] = np.where(both, ap, np.nan)
            if "brier" in kinds:
                out["brier"] = (w @ sq_err) / total if in_unit else np.full(len(w), np.nan)
            if "base_rate" in kinds:
                out["base_rate"] = pos / total
            fracs = {frac for kind, frac in spec.values() if kind in ("precision", "recall")}
            if fracs:
                before = np.cumsum(w, axis=1) - w
            for frac in fracs:
                k = np.array([top_count(int(t), frac) for t in total], dtype="float64")
                hits = (np.clip(k[:, None] - before, 0.0, w) * y_d).sum(axis=1)
                out[f"precision:{frac}"] = hits / k
                out[f"recall:{frac}"] = np.where(pos > 0, hits / pos, np.nan)
        return out

    def named(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            name: values[kind if kind in _PLAIN_METRICS else f"{kind}:{frac}"]
            for name, (kind, frac) in spec.items()
        }

    point = {k: float(v[0]) for k, v in named(compute(np.ones((1, len(y))))).items()}
    boot = named(_blocks(counts, codes[order], compute))
    return point, boot


def _per_model(
    predictions: pd.DataFrame,
    n_boot: int,
    seed: int | None,
    spec: dict[str, tuple[str, float]],
    unit_column: str,
) -> dict[str, tuple[dict[str, float], dict[str, np.ndarray]]]:
    missing = [c for c in ("model", "y_true", "score", unit_column) if c not in predictions]
    if missing:
        raise ValueError(f"predictions lacks the column(s) {', '.join(missing)}.")
    n_boot = _check_n_boot(n_boot)
    uniq, codes = np.unique(_units(predictions[unit_column], len(predictions)), return_inverse=True)
    counts = draw_units(len(uniq), n_boot, seed)
    models = predictions["model"].astype(str).to_numpy()
    out = {}
    for model in dict.fromkeys(models):
        mask = models == model
        y, s = check_binary(
            predictions["y_true"].to_numpy()[mask], predictions["score"].to_numpy()[mask]
        )
        out[model] = _evaluate(y, s, codes[mask], counts, spec)
    return out


def _table(
    names: Sequence[str],
    point: dict[str, float],
    boot: dict[str, np.ndarray],
    level: float,
) -> pd.DataFrame:
    tail = 100 * (1 - level) / 2
    rows = []
    for name in names:
        values = boot[name][~np.isnan(boot[name])]
        low, high = (
            np.percentile(values, [tail, 100 - tail]) if values.size else (math.nan, math.nan)
        )
        rows.append({"metric": name, "value": point[name], "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=_COLUMNS)

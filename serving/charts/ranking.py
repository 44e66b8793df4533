"""Charts of the ranking's quality and history: precision-recall curves and small line charts.

Drawn with the helpers of ``serving.charts.base`` (a fresh figure per chart, SVG text).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from serving.charts.base import (
    NAN_COLOR,
    PRIMARY_MODEL,
    hide_spines,
    model_color,
    new_figure,
    no_data,
    order_models,
    plain,
    require_columns,
    slug,
    to_svg,
)
from serving.formatting import Lang
from serving.formatting import percent as share_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def precision_recall(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Recall, precision (ascending recall, starting at recall 0) and average precision.

    Ties in ``score`` form one threshold, as in ``sklearn.metrics.precision_recall_curve``;
    average precision is the step-wise area ``sum((R_k - R_{k-1}) * P_k)``. Rows with a
    missing score or label are dropped. Without positives, the curve is empty and AP is NaN.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(s))
    y, s = y[keep], s[keep]
    if y.size == 0 or y.sum() <= 0:
        return np.empty(0), np.empty(0), float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    precision = np.r_[1.0, tps / (tps + fps)]
    recall = np.r_[0.0, tps / tps[-1]]
    ap = float(np.sum(np.diff(recall) * precision[1:]))
    return recall, precision, ap


def pr_curve_svg(pr_curves: pd.DataFrame) -> str:
    """Precision-recall curves, one per model, with the base rate as a dashed line.

    ``pr_curves`` has columns ``model``, ``y_true`` (0/1) and ``score``. Each curve is an SVG
    group with id ``pr-curve-<model>``; the base-rate line has id ``pr-base-rate``.
    """
    require_columns(pr_curves, ("model", "y_true", "score"), "pr_curves")
    fig = new_figure(6.4, 4.6)
    ax = fig.add_subplot()
    base_rates: list[float] = []
    for i, model in enumerate(order_models(pr_curves["model"])):
        part = pr_curves[pr_curves["model"].astype(str) == model]
        y = pd.to_numeric(part["y_true"], errors="coerce").to_numpy(dtype=float)
        recall, precision, ap = precision_recall(y, part["score"].to_numpy(dtype=float))
        if recall.size == 0:
            continue
        base_rates.append(float(np.nanmean(y)))
        primary = model == PRIMARY_MODEL
        ax.plot(
            recall,
            precision,
            drawstyle="steps-pre",
            color=model_color(i),
            linewidth=2.2 if primary else 1.4,
            zorder=3 if primary else 2,
            label=f"{plain(model)} (PR-AUC {ap:.3f})",
            gid=f"pr-curve-{slug(model)}",
        )
    if base_rates:
        base = float(np.mean(base_rates))
        ax.axhline(
            base,
            color="#555555",
            linestyle="--",
            linewidth=1.0,
            label=f"base rate ({base:.3f})",
            gid="pr-base-rate",
        )
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    else:
        no_data(ax, "no held-out predictions with both classes")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall, last validation fold", fontsize=10)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    return to_svg(fig, "wijkradar-pr")


def history_svg(
    history: pd.DataFrame,
    *,
    ylabel: str,
    title: str,
    percent: bool = False,
    salt: str = "h",
    lang: Lang = "nl",
) -> str:
    """A small line chart of ``history`` (columns ``x``, ``y`` and optionally ``current``).

    Rows with ``current`` False (an earlier run of the same year, say) are grey dots off the
    line. The line has id ``history-line``. With ``percent`` the values are shares: the axis
    stays within 0-100 % and its ticks carry as many decimals as tell them apart, written in
    ``lang`` ('18,2%').
    """
    require_columns(history, ("x", "y"), "history")
    frame = history.assign(
        x=pd.to_numeric(history["x"], errors="coerce"),
        y=pd.to_numeric(history["y"], errors="coerce"),
    ).dropna(subset=["x", "y"])
    current = frame["current"].astype(bool) if "current" in frame.columns else None
    line = frame[current] if current is not None else frame
    other = frame[~current] if current is not None else frame.iloc[0:0]
    fig = new_figure(4.8, 2.6)
    ax = fig.add_subplot()
    if frame.empty:
        no_data(ax, "geen geschiedenis" if lang == "nl" else "no history")
        return to_svg(fig, f"wijkradar-history-{salt}")

    line = line.sort_values("x")
    ax.plot(
        line["x"], line["y"], marker="o", markersize=4, color=model_color(1), gid="history-line"
    )
    if not other.empty:
        ax.scatter(other["x"], other["y"], s=14, color=NAN_COLOR, zorder=3, label=_EARLIER[lang])
        ax.legend(loc="best", fontsize=7, frameon=False)
    if percent:
        _percent_axis(ax, frame["y"].to_numpy(dtype=float), lang)
    xs = sorted({int(x) for x in frame["x"]})
    ax.set_xticks(xs, [str(x) for x in xs], fontsize=7, rotation=45 if len(xs) > 6 else 0)
    ax.set_ylabel(plain(ylabel), fontsize=8)
    ax.set_title(plain(title), fontsize=9)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    hide_spines(ax)
    return to_svg(fig, f"wijkradar-history-{salt}")


_EARLIER: dict[str, str] = {"nl": "eerdere runs", "en": "earlier runs"}


def _percent_axis(ax: Axes, ys: np.ndarray, lang: Lang) -> None:
    """Shares on the y axis: limits within [0, 1], ticks with enough decimals to differ."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    lo, hi = float(np.nanmin(ys)), float(np.nanmax(ys))
    pad = max(0.08 * (hi - lo), 0.005)
    ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=2))
    low, high = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if low - 1e-12 <= t <= high + 1e-12]
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=1.0)
    decimals = 0 if step >= 0.01 - 1e-12 else (1 if step >= 0.001 - 1e-12 else 2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: share_text(v, decimals, lang)))

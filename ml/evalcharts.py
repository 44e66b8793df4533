"""Evaluation charts for the model card and the evaluation report, as inline SVG strings.

The conventions of ``serving.charts`` apply (and its helpers are reused): a fresh matplotlib
``Figure`` per chart, the SVG backend, no ``pyplot``, matplotlib imported only when a chart is
drawn, text kept as text, ids salted per chart, the primary model (LightGBM) first and in red.

Each series carries an SVG id, so a page or a test can find it:

* reliability diagram: ``reliability-<model>`` (line), ``reliability-points-<model>``
  (markers sized by bin count), ``reliability-diagonal``;
* metric intervals: ``interval-<model>`` (the interval) and ``point-<model>`` (the value);
* importance: ``importance-bar-<feature>``, one per bar.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from serving.charts import (
    _MODEL_COLORS,
    PRIMARY_MODEL,
    _figure,
    _no_data,
    _plain,
    _slug,
    _to_svg,
    order_models,
)

__all__ = ["importance_svg", "metric_intervals_svg", "reliability_svg"]

_RELIABILITY_COLUMNS = ("mean_predicted", "observed_rate", "n")


def reliability_svg(table_by_model: Mapping[str, pd.DataFrame]) -> str:
    """Reliability diagram: observed decline rate against mean predicted probability per bin.

    ``table_by_model`` maps a model (or calibration method) to its
    ``ml.calibration.reliability_table``. One line per entry; marker area grows with the bin's
    row count; the dashed diagonal is perfect calibration. The axes zoom to the data, since
    decline probabilities rarely pass 0.3.
    """
    for name, table in table_by_model.items():
        missing = [c for c in _RELIABILITY_COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"The table of {name!r} lacks the column(s) {', '.join(missing)}.")
    fig = _figure(5.4, 4.8)
    ax = fig.add_subplot()
    tables = {str(k): v for k, v in table_by_model.items() if len(v)}
    if not tables:
        _no_data(ax, "no calibrated predictions")
        return _to_svg(fig, "wijkradar-reliability")
    n_max = max(float(t["n"].max()) for t in tables.values()) or 1.0
    top = max(
        float(np.nanmax(t[["mean_predicted", "observed_rate"]].to_numpy(dtype=float)))
        for t in tables.values()
    )
    lim = min(1.0, max(top, 0.01) * 1.1)
    ax.plot(
        [0, lim],
        [0, lim],
        color="#555555",
        linestyle="--",
        linewidth=1.0,
        label="perfect calibration",
        gid="reliability-diagonal",
    )
    for i, model in enumerate(order_models(tables)):
        table = tables[model]
        colour = _MODEL_COLORS[i % len(_MODEL_COLORS)]
        x = table["mean_predicted"].to_numpy(dtype=float)
        y = table["observed_rate"].to_numpy(dtype=float)
        primary = model == PRIMARY_MODEL
        ax.plot(
            x,
            y,
            color=colour,
            linewidth=2.0 if primary else 1.3,
            label=_plain(model),
            gid=f"reliability-{_slug(model)}",
        )
        sizes = 12.0 + 108.0 * table["n"].to_numpy(dtype=float) / n_max
        ax.scatter(
            x,
            y,
            s=sizes,
            color=colour,
            alpha=0.75,
            linewidths=0,
            zorder=3,
            gid=f"reliability-points-{_slug(model)}",
        )
    ax.set_xlim(0.0, lim)
    ax.set_ylim(0.0, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability (bin)")
    ax.set_ylabel("observed decline rate (bin)")
    ax.set_title("Reliability, out-of-time predictions", fontsize=10)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return _to_svg(fig, "wijkradar-reliability")


def metric_intervals_svg(table: pd.DataFrame, metric: str) -> str:
    """One model per row: the metric's value and its bootstrap interval.

    ``table`` is ``ml.uncertainty.bootstrap_by_model`` output (``model``, ``metric``,
    ``value``, ``low``, ``high``) or ``paired_differences`` output (``difference`` instead of
    ``value``; a line at 0 is then drawn: an interval that crosses it is no clear difference).
    """
    value_col = "value" if "value" in table.columns else "difference"
    missing = [c for c in ("model", "metric", value_col, "low", "high") if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks the column(s) {', '.join(missing)}.")
    rows = table[table["metric"].astype(str) == str(metric)]
    models = order_models(rows["model"])
    fig = _figure(6.0, 1.2 + 0.45 * max(len(models), 2))
    ax = fig.add_subplot()
    if not models:
        _no_data(ax, f"no values of {metric}")
        return _to_svg(fig, f"wijkradar-intervals-{_slug(metric)}")
    for i, model in enumerate(models):
        row = rows[rows["model"].astype(str) == model].iloc[0]
        y = len(models) - 1 - i
        colour = _MODEL_COLORS[i % len(_MODEL_COLORS)]
        value, low, high = float(row[value_col]), float(row["low"]), float(row["high"])
        ax.plot(
            [low, high],
            [y, y],
            color=colour,
            linewidth=2.0,
            solid_capstyle="butt",
            gid=f"interval-{_slug(model)}",
        )
        ax.plot(
            [value],
            [y],
            marker="o",
            markersize=6,
            color=colour,
            linestyle="none",
            gid=f"point-{_slug(model)}",
        )
        ax.annotate(
            f"{value:.3f} [{low:.3f}, {high:.3f}]",
            (value, y),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    if value_col == "difference":
        ax.axvline(0.0, color="#555555", linestyle="--", linewidth=0.8)
    labels = [_plain(m) for m in models]
    if value_col == "difference" and "baseline" in rows.columns:
        base = dict(zip(rows["model"].astype(str), rows["baseline"].astype(str), strict=True))
        labels = [f"{label} − {_plain(base[m])}" for label, m in zip(labels, models, strict=True)]
    ax.set_yticks(range(len(models)), labels[::-1], fontsize=8)
    ax.set_ylim(-0.6, len(models) - 0.3)
    ax.set_xlabel(
        f"{_plain(metric)} ({'difference, ' if value_col == 'difference' else ''}"
        "bootstrap interval over units)"
    )
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig, f"wijkradar-intervals-{_slug(metric)}")


def importance_svg(importance: pd.Series, top: int = 15, xlabel: str = "importance") -> str:
    """Horizontal bars of the ``top`` largest importances (index: feature), largest on top."""
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ValueError(f"The 'top' parameter must be an int >= 1. Got {top!r} instead.")
    values = pd.to_numeric(importance, errors="coerce").astype(float).dropna()
    order = sorted(values.index, key=lambda f: (-values[f], str(f)))[: int(top)]
    values = values[order]
    n_feat = len(values)
    fig = _figure(5.4, 1.2 + 0.3 * max(n_feat, 3))
    ax = fig.add_subplot()
    if n_feat == 0:
        _no_data(ax, "no feature importances")
        return _to_svg(fig, "wijkradar-importance")
    ys = np.arange(n_feat)[::-1]
    bars = ax.barh(ys, values.to_numpy(), color=_MODEL_COLORS[0], height=0.65)
    for bar, feature in zip(bars, values.index, strict=True):
        bar.set_gid(f"importance-bar-{_slug(str(feature))}")
    ax.set_yticks(ys, [_plain(str(f)) for f in values.index], fontsize=8)
    for y, v in zip(ys, values.to_numpy(), strict=True):
        ax.annotate(
            f"{v:.3g}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    ax.set_xlabel(_plain(xlabel))
    high = float(values.max())
    ax.set_xlim(min(0.0, float(values.min())), high * 1.18 if high > 0 else 1.0)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig, "wijkradar-importance")

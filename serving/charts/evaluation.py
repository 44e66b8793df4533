"""Evaluation charts for the model card, the evaluation report and the static report.

Drawn with the helpers of ``serving.charts.base``. Each series carries an SVG id, so a page or
a test can find it:

* reliability diagram: ``reliability-<model>`` (line), ``reliability-points-<model>``
  (markers sized by bin count), ``reliability-diagonal``;
* metric intervals: ``interval-<model>`` (the interval) and ``point-<model>`` (the value);
* importance: ``importance-bar-<feature>``, one per bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.describe import feature_label
from serving.charts.base import (
    PRIMARY_MODEL,
    hide_spines,
    model_color,
    new_figure,
    no_data,
    number_axis,
    order_models,
    plain,
    require_columns,
    slug,
    to_svg,
)
from serving.formatting import Lang

if TYPE_CHECKING:
    from matplotlib.axes import Axes

RELIABILITY_COLUMNS = ("mean_predicted", "observed_rate", "n")


def reliability_svg(table_by_model: Mapping[str, pd.DataFrame]) -> str:
    """Reliability diagram: observed decline rate against mean predicted probability per bin.

    ``table_by_model`` maps a model (or calibration method) to its
    ``ml.calibration.reliability_table``. One line per entry; marker area grows with the bin's
    row count; the dashed diagonal is perfect calibration. The axes zoom to the data, since
    decline probabilities rarely pass 0.3.
    """
    for name, table in table_by_model.items():
        require_columns(table, RELIABILITY_COLUMNS, f"The table of {name!r}")
    fig = new_figure(5.4, 4.8)
    ax = fig.add_subplot()
    tables = {str(k): v for k, v in table_by_model.items() if len(v)}
    if not tables:
        no_data(ax, "no calibrated predictions")
        return to_svg(fig, "wijkradar-reliability")
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
    _reliability_curves(ax, tables)
    ax.set_xlim(0.0, lim)
    ax.set_ylim(0.0, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability (bin)")
    ax.set_ylabel("observed decline rate (bin)")
    ax.set_title("Reliability, out-of-time predictions", fontsize=10)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return to_svg(fig, "wijkradar-reliability")


def _reliability_curves(ax: Axes, tables: Mapping[str, pd.DataFrame]) -> None:
    """One line and one set of count-sized markers per table, the primary model first."""
    n_max = max(float(t["n"].max()) for t in tables.values()) or 1.0
    for i, model in enumerate(order_models(tables)):
        table = tables[model]
        colour = model_color(i)
        x = table["mean_predicted"].to_numpy(dtype=float)
        y = table["observed_rate"].to_numpy(dtype=float)
        primary = model == PRIMARY_MODEL
        ax.plot(
            x,
            y,
            color=colour,
            linewidth=2.0 if primary else 1.3,
            label=plain(model),
            gid=f"reliability-{slug(model)}",
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
            gid=f"reliability-points-{slug(model)}",
        )


def metric_intervals_svg(table: pd.DataFrame, metric: str) -> str:
    """One model per row: the metric's value and its bootstrap interval.

    ``table`` is ``ml.uncertainty.bootstrap_by_model`` output (``model``, ``metric``,
    ``value``, ``low``, ``high``).
    """
    require_columns(table, ("model", "metric", "value", "low", "high"), "table")
    rows = table[table["metric"].astype(str) == str(metric)]
    models = order_models(rows["model"])
    fig = new_figure(6.0, 1.2 + 0.45 * max(len(models), 2))
    ax = fig.add_subplot()
    if not models:
        no_data(ax, f"no values of {metric}")
        return to_svg(fig, f"wijkradar-intervals-{slug(metric)}")
    for i, model in enumerate(models):
        row = rows[rows["model"].astype(str) == model].iloc[0]
        bounds = float(row["value"]), float(row["low"]), float(row["high"])
        _interval(ax, len(models) - 1 - i, model, model_color(i), *bounds)
    ax.set_yticks(range(len(models)), [plain(m) for m in models][::-1], fontsize=8)
    ax.set_ylim(-0.6, len(models) - 0.3)
    ax.set_xlabel(f"{plain(metric)} (bootstrap interval over units)")
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.tick_params(axis="y", length=0)
    hide_spines(ax)
    return to_svg(fig, f"wijkradar-intervals-{slug(metric)}")


def _interval(
    ax: Axes, y: float, model: str, colour: str, value: float, low: float, high: float
) -> None:
    """One model's row: the interval as a line, the value as a dot, both printed above."""
    ax.plot(
        [low, high],
        [y, y],
        color=colour,
        linewidth=2.0,
        solid_capstyle="butt",
        gid=f"interval-{slug(model)}",
    )
    ax.plot(
        [value],
        [y],
        marker="o",
        markersize=6,
        color=colour,
        linestyle="none",
        gid=f"point-{slug(model)}",
    )
    ax.annotate(
        f"{value:.3f} [{low:.3f}, {high:.3f}]",
        (value, y),
        xytext=(0, 7),
        textcoords="offset points",
        ha="center",
        fontsize=7,
    )


def importance_svg(
    importance: pd.Series,
    top: int = 15,
    xlabel: str = "importance",
    *,
    value_format: str = ".3g",
    salt: str = "wijkradar-importance",
    labels: Mapping[str, str] | None = None,
    lang: Lang = "nl",
) -> str:
    """Horizontal bars of the ``top`` largest importances (index: feature), largest on top,
    each named by ``labels`` (default: the feature in words, ``features.describe``).

    Missing importances are left out; ties are broken by feature name. Each bar is printed
    with its value (``value_format``, a format spec) and has id ``importance-bar-<feature>``.
    ``salt`` salts the SVG's other ids: give two importance charts on one page different salts.
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ValueError(f"The 'top' parameter must be an int >= 1. Got {top!r} instead.")
    values = pd.to_numeric(importance, errors="coerce").astype(float).dropna()
    order = sorted(values.index, key=lambda f: (-values[f], str(f)))[: int(top)]
    values = values[order]
    n_feat = len(values)
    fig = new_figure(5.4, 1.2 + 0.3 * max(n_feat, 3))
    ax = fig.add_subplot()
    if n_feat == 0:
        no_data(ax, "geen belang van kenmerken" if lang == "nl" else "no feature importances")
        return to_svg(fig, salt)
    ys = np.arange(n_feat)[::-1]
    bars = ax.barh(ys, values.to_numpy(), color=model_color(0), height=0.65)
    for bar, feature in zip(bars, values.index, strict=True):
        bar.set_gid(f"importance-bar-{slug(str(feature))}")
    names = {str(f): feature_label(str(f), lang) for f in values.index} | dict(labels or {})
    ax.set_yticks(ys, [plain(names[str(f)]) for f in values.index], fontsize=8)
    for y, v in zip(ys, values.to_numpy(), strict=True):
        ax.annotate(
            _localised(format(v, value_format), lang),
            (v, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_xlabel(plain(xlabel))
    number_axis(ax, lang)
    high = float(values.max())
    ax.set_xlim(min(0.0, float(values.min())), high * 1.18 if high > 0 else 1.0)
    ax.tick_params(axis="y", length=0)
    hide_spines(ax)
    return to_svg(fig, salt)


def _localised(text: str, lang: Lang) -> str:
    """A formatted number with a decimal comma in Dutch ('0.123' -> '0,123')."""
    return text.replace(".", ",") if lang == "nl" else text

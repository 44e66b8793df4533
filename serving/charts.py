"""Charts for the static report, rendered as inline SVG strings.

Every chart is drawn on a fresh ``matplotlib.figure.Figure`` and saved with the SVG backend;
``pyplot`` is never used, so there is no global figure state. matplotlib is imported lazily
inside the functions: importing this module has no side effects.

The SVG text is trimmed for inlining into HTML: no XML prolog, no DOCTYPE, no RDF metadata.
Text is kept as ``<text>`` elements (``svg.fonttype = none``) and element ids are salted per
chart, so two charts in one page never share an id and the output is deterministic.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SHAP_PREFIX = "shap__"
PRIMARY_MODEL = "lightgbm"
NAN_COLOR = "#bdbdbd"
LOW_COLOR = "#1e88e5"
HIGH_COLOR = "#ff0d57"
# Above this many dots the beeswarm's dots are embedded as one PNG inside the SVG, which
# keeps a report of 14,500 buurten small; axes, labels and the colour bar stay vector.
RASTERIZE_ABOVE = 5_000
_MODEL_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_NOT_FEATURES = frozenset({"unit_code", "base"})
_METADATA_RE = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def order_models(models: Iterable[str]) -> list[str]:
    """Distinct model names in order of appearance, with the primary model (LightGBM) first."""
    seen = list(dict.fromkeys(str(m) for m in models))
    return sorted(seen, key=lambda m: m != PRIMARY_MODEL)


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


def shap_matrix(shap: pd.DataFrame) -> pd.DataFrame:
    """The per-feature SHAP values: ``shap__`` prefixes stripped, base value and codes dropped."""
    out: dict[str, pd.Series] = {}
    for column in shap.columns:
        name = str(column)
        name = name[len(SHAP_PREFIX) :] if name.startswith(SHAP_PREFIX) else name
        if name in _NOT_FEATURES:
            continue
        out[name] = pd.to_numeric(shap[column], errors="coerce").astype(float)
    return pd.DataFrame(out, index=shap.index)


def top_features(shap: pd.DataFrame, max_features: int = 15) -> pd.Series:
    """Mean |SHAP| of the ``max_features`` most important features, largest first."""
    values = shap_matrix(shap)
    if values.shape[1] == 0:
        return pd.Series(dtype=float)
    importance = values.abs().mean(axis=0, skipna=True).fillna(0.0)
    order = sorted(importance.index, key=lambda f: (-importance[f], f))
    return importance[order[: max(int(max_features), 0)]]


def pr_curve_svg(pr_curves: pd.DataFrame) -> str:
    """Precision-recall curves, one per model, with the base rate as a dashed line.

    ``pr_curves`` has columns ``model``, ``y_true`` (0/1) and ``score``. Each curve is an SVG
    group with id ``pr-curve-<model>``; the base-rate line has id ``pr-base-rate``.
    """
    _require(pr_curves, ("model", "y_true", "score"), "pr_curves")
    fig = _figure(6.4, 4.6)
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
            color=_MODEL_COLORS[i % len(_MODEL_COLORS)],
            linewidth=2.2 if primary else 1.4,
            zorder=3 if primary else 2,
            label=f"{_plain(model)} (PR-AUC {ap:.3f})",
            gid=f"pr-curve-{_slug(model)}",
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
        _no_data(ax, "no held-out predictions with both classes")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall, last validation fold", fontsize=10)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    return _to_svg(fig, "wijkradar-pr")


def shap_summary_svg(shap: pd.DataFrame, features: pd.DataFrame, max_features: int = 15) -> str:
    """Beeswarm of SHAP values: one dot per unit and feature, coloured by the feature's value.

    ``shap`` holds one column per feature (``shap__<feature>`` or plain ``<feature>``; a
    ``shap__base`` column is ignored). ``features`` holds the raw feature values. If both
    frames have a ``unit_code`` column, rows are matched on it; otherwise by position. The
    colour is the value's rank within its feature (blue low, red high, grey when missing).
    """
    values = shap_matrix(shap)
    importance = top_features(shap, max_features)
    raw = _align_features(shap, features)
    n_feat = len(importance)
    fig = _figure(7.2, 1.3 + 0.34 * max(n_feat, 3))
    ax = fig.add_subplot()
    if n_feat == 0:
        _no_data(ax, "no SHAP values")
        return _to_svg(fig, "wijkradar-shap-summary")

    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    cmap = LinearSegmentedColormap.from_list("low_high", [LOW_COLOR, "#7c4dff", HIGH_COLOR])
    n_points = int(values[list(importance.index)].notna().to_numpy().sum())
    rasterize = n_points > RASTERIZE_ABOVE
    size = 10.0 if len(values) <= 500 else 5.0
    rng = np.random.default_rng(0)
    for i, feature in enumerate(importance.index):
        y_pos = n_feat - 1 - i
        x = values[feature].to_numpy(dtype=float)
        colour_value = _rank_unit_interval(raw.get(feature), len(x))
        ok = ~np.isnan(x)
        x, colour_value = x[ok], colour_value[ok]
        y = y_pos + _swarm_offsets(x, rng)
        missing = np.isnan(colour_value)
        ax.scatter(x[missing], y[missing], s=size, c=NAN_COLOR, linewidths=0, rasterized=rasterize)
        ax.scatter(
            x[~missing],
            y[~missing],
            s=size,
            c=colour_value[~missing],
            cmap=cmap,
            vmin=0.0,
            vmax=1.0,
            linewidths=0,
            alpha=0.85,
            rasterized=rasterize,
            gid=f"shap-row-{_slug(feature)}",
        )
    ax.axvline(0.0, color="#888888", linewidth=0.8, zorder=0)
    ax.set_yticks(range(n_feat), [_plain(f) for f in reversed(importance.index)], fontsize=8)
    ax.set_ylim(-0.7, n_feat - 0.3)
    ax.set_xlabel("SHAP value (impact on the log-odds of a decline)")
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
    bar = fig.colorbar(mappable, ax=ax, ticks=[0.0, 1.0], aspect=40, pad=0.01)
    bar.ax.set_yticklabels(["low", "high"], fontsize=8)
    bar.set_label("feature value", fontsize=8)
    bar.outline.set_visible(False)
    return _to_svg(fig, "wijkradar-shap-summary")


def shap_importance_svg(shap: pd.DataFrame, max_features: int = 15) -> str:
    """Horizontal bars of mean |SHAP| for the ``max_features`` most important features."""
    importance = top_features(shap, max_features)
    n_feat = len(importance)
    fig = _figure(5.2, 1.2 + 0.3 * max(n_feat, 3))
    ax = fig.add_subplot()
    if n_feat == 0:
        _no_data(ax, "no SHAP values")
        return _to_svg(fig, "wijkradar-shap-importance")
    ys = np.arange(n_feat)[::-1]
    ax.barh(ys, importance.to_numpy(), color=_MODEL_COLORS[0], height=0.65, gid="shap-bars")
    ax.set_yticks(ys, [_plain(f) for f in importance.index], fontsize=8)
    for y, v in zip(ys, importance.to_numpy(), strict=True):
        ax.annotate(
            f"{v:.3f}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    ax.set_xlabel("mean |SHAP value| (log-odds)")
    ax.set_xlim(0.0, float(importance.max()) * 1.18 or 1.0)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig, "wijkradar-shap-importance")


def shap_waterfall_svg(
    contributions: pd.Series,
    base: float,
    labels: dict[str, str] | None = None,
    max_features: int = 10,
    risk: float | None = None,
) -> str:
    """One unit's explanation: from the base value, each feature's SHAP contribution in turn,
    to the unit's log-odds (largest |contribution| at the top, the rest summed in one bar).
    ``risk`` (the published, possibly calibrated, probability) is printed in the title when
    given; it need not equal the logistic of the log-odds.

    ``contributions`` maps feature -> SHAP value (log-odds); ``labels`` maps feature -> the
    text shown for it (default the feature name). Each bar is a group with id
    ``waterfall-<feature>`` (``waterfall-other`` for the rest).
    """
    values = pd.to_numeric(contributions, errors="coerce").astype(float).fillna(0.0)
    order = sorted(values.index, key=lambda f: (-abs(values[f]), str(f)))
    shown = order[: max(int(max_features), 0)]
    rest = order[len(shown) :]
    steps = [(str(f), (labels or {}).get(f, str(f)), float(values[f])) for f in shown]
    if rest:
        steps.append(("other", f"{len(rest)} other features", float(values[rest].sum())))
    margin = float(base) + float(values.sum())
    fig = _figure(7.2, 1.2 + 0.34 * max(len(steps), 3))
    ax = fig.add_subplot()
    if not steps:
        _no_data(ax, "no SHAP values")
        return _to_svg(fig, "wijkradar-waterfall")
    # The first step sits at the top and starts at the base value; the last ends at the margin.
    ys = np.arange(len(steps))[::-1]
    running = float(base)
    for y, (key, _, value) in zip(ys, steps, strict=True):
        colour = HIGH_COLOR if value > 0 else LOW_COLOR
        ax.barh(y, value, left=running, color=colour, height=0.62, gid=f"waterfall-{_slug(key)}")
        ax.annotate(
            f"{value:+.3f}",
            (running + value, y),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=7,
        )
        running += value
    ax.axvline(float(base), color="#888888", linewidth=0.8, linestyle=":", zorder=0)
    ax.axvline(margin, color="#333333", linewidth=0.9, zorder=0)
    ax.set_yticks(ys, [_plain(label) for _, label, _ in steps], fontsize=8)
    ax.tick_params(axis="y", length=0)
    ends = np.cumsum([float(base), *(v for _, _, v in steps)])
    lo, hi = float(min(ends.min(), base)), float(max(ends.max(), base))
    pad = 0.12 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("the model's log-odds of a decline")
    ax.set_axisbelow(True)
    shown = f", risk {risk:.1%}" if risk is not None and np.isfinite(risk) else ""
    ax.set_title(f"base {base:.3f} \u2192 {margin:.3f}{shown}", fontsize=9)
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig, "wijkradar-waterfall")


def history_svg(
    history: pd.DataFrame, *, ylabel: str, title: str, percent: bool = False, salt: str = "h"
) -> str:
    """A small line chart of ``history`` (columns ``x``, ``y`` and optionally ``current``).

    Rows with ``current`` False (an earlier run of the same year, say) are grey dots off the
    line. The line has id ``history-line``.
    """
    _require(history, ("x", "y"), "history")
    frame = history.assign(
        x=pd.to_numeric(history["x"], errors="coerce"),
        y=pd.to_numeric(history["y"], errors="coerce"),
    ).dropna(subset=["x", "y"])
    current = frame["current"].astype(bool) if "current" in frame.columns else None
    line = frame[current] if current is not None else frame
    other = frame[~current] if current is not None else frame.iloc[0:0]
    fig = _figure(4.8, 2.6)
    ax = fig.add_subplot()
    if frame.empty:
        _no_data(ax, "no history")
        return _to_svg(fig, f"wijkradar-history-{salt}")
    line = line.sort_values("x")
    ax.plot(
        line["x"], line["y"], marker="o", markersize=4, color=_MODEL_COLORS[1], gid="history-line"
    )
    if not other.empty:
        ax.scatter(other["x"], other["y"], s=14, color=NAN_COLOR, zorder=3, label="earlier runs")
        ax.legend(loc="best", fontsize=7, frameon=False)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    xs = sorted({int(x) for x in frame["x"]})
    ax.set_xticks(xs, [str(x) for x in xs], fontsize=7, rotation=45 if len(xs) > 6 else 0)
    ax.set_ylabel(_plain(ylabel), fontsize=8)
    ax.set_title(_plain(title), fontsize=9)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig, f"wijkradar-history-{salt}")


# ---------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}.")


def _align_features(shap: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The raw feature values in the row order of ``shap``."""
    if "unit_code" in shap.columns and "unit_code" in features.columns:
        by_code = features.drop_duplicates("unit_code").set_index("unit_code")
        return by_code.reindex(shap["unit_code"].to_numpy()).reset_index(drop=True)
    if len(features) != len(shap):
        raise ValueError(
            f"features has {len(features)} rows and shap {len(shap)}; without a unit_code "
            "column in both, they must match row by row."
        )
    return features.reset_index(drop=True)


def _rank_unit_interval(raw: pd.Series | None, n: int) -> np.ndarray:
    """Each value's rank within the series scaled to 0 (lowest) .. 1 (highest); NaN stays NaN."""
    if raw is None:
        return np.full(n, np.nan)
    numeric = pd.to_numeric(raw, errors="coerce").astype(float)
    ranks = numeric.rank(method="average").to_numpy(dtype=float)
    valid = int(np.sum(~np.isnan(ranks)))
    if valid <= 1:
        return np.where(np.isnan(ranks), np.nan, 0.5)
    return (ranks - 1.0) / (valid - 1.0)


def _swarm_offsets(x: np.ndarray, rng: np.random.Generator, width: float = 0.38) -> np.ndarray:
    """Vertical jitter whose spread follows the local density of ``x`` (a violin-like swarm)."""
    if x.size == 0:
        return np.empty(0)
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi - lo <= 0:
        density = np.full(x.size, min(1.0, x.size / 50.0))
    else:
        edges = np.linspace(lo, hi, 41)
        counts, _ = np.histogram(x, edges)
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, counts.size - 1)
        density = counts[which] / counts.max()
    return rng.uniform(-1.0, 1.0, x.size) * width * np.sqrt(density)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.patch.set_alpha(0.0)
    return fig


def _to_svg(fig: Figure, salt: str) -> str:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", dpi=150, metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    text = text[text.index("<svg") :]
    return _METADATA_RE.sub("", text).strip() + "\n"


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#777777")
    ax.set_axis_off()


def _plain(label: str) -> str:
    """A label matplotlib prints literally (a ``$`` would otherwise start mathtext)."""
    return str(label).replace("$", r"\$")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-") or "x"

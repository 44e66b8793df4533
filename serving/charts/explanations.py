"""Charts of the model's explanations: the SHAP beeswarm, SHAP importance and one unit's
waterfall, with the tables they are drawn from.

Drawn with the helpers of ``serving.charts.base``; the importance bars are
``serving.charts.evaluation.importance_svg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.describe import Extra, feature_label
from models.explain import SHAP_PREFIX
from serving.charts.base import (
    HIGH_COLOR,
    LOW_COLOR,
    NAN_COLOR,
    hide_spines,
    new_figure,
    no_data,
    number_axis,
    plain,
    slug,
    to_svg,
)
from serving.charts.evaluation import importance_svg
from serving.formatting import Lang, check_lang, number, percent, signed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

# Above this many dots the beeswarm's dots are embedded as one PNG inside the SVG, which
# keeps a report of 14,500 buurten small; axes, labels and the colour bar stay vector.
RASTERIZE_ABOVE = 5_000
NOT_FEATURES = frozenset({"unit_code", "base"})
# The words of the explanation charts; features are named by ``features.describe``.
WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "importance": "gemiddelde |SHAP-waarde| (log-odds)",
        "summary": "SHAP-waarde (invloed op de log-odds van een daling)",
        "waterfall": "log-odds van een daling volgens het model",
        "value": "waarde van het kenmerk", "low": "laag", "high": "hoog",
        "none": "geen SHAP-waarden", "other": "{n} andere kenmerken", "base": "basis",
        "risk": "risico",
    },
    "en": {
        "importance": "mean |SHAP value| (log-odds)",
        "summary": "SHAP value (impact on the log-odds of a decline)",
        "waterfall": "the model's log-odds of a decline",
        "value": "feature value", "low": "low", "high": "high",
        "none": "no SHAP values", "other": "{n} other features", "base": "base",
        "risk": "risk",
    },
}


def feature_labels(
    features: list[str] | pd.Index, lang: Lang = "nl", extra: Extra | None = None
) -> dict[str, str]:
    """Each feature in words (``features.describe.feature_label``; ``extra``: the panel's
    mapped columns): no raw codes on a chart."""
    return {str(f): feature_label(str(f), lang, extra) for f in features}


def shap_matrix(shap: pd.DataFrame) -> pd.DataFrame:
    """The per-feature SHAP values: ``shap__`` prefixes stripped, base value and codes dropped."""
    out: dict[str, pd.Series] = {}
    for column in shap.columns:
        name = str(column)
        name = name[len(SHAP_PREFIX) :] if name.startswith(SHAP_PREFIX) else name
        if name in NOT_FEATURES:
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


def shap_importance_svg(
    shap: pd.DataFrame, max_features: int = 15, lang: Lang = "nl", extra: Extra | None = None
) -> str:
    """``importance_svg`` of the mean |SHAP| of the ``max_features`` most important features,
    named in words (``feature_labels``)."""
    importance = top_features(shap, max_features)
    return importance_svg(
        importance,
        top=max(int(max_features), 1),
        xlabel=WORDS[check_lang(lang)]["importance"],
        value_format=".3f",
        salt="wijkradar-shap-importance",
        labels=feature_labels(importance.index, lang, extra),
        lang=lang,
    )


def shap_summary_svg(
    shap: pd.DataFrame,
    features: pd.DataFrame,
    max_features: int = 15,
    lang: Lang = "nl",
    labels: Mapping[str, str] | None = None,
    extra: Extra | None = None,
) -> str:
    """Beeswarm of SHAP values: one dot per unit and feature, coloured by the feature's value.

    ``shap`` holds one column per feature (``shap__<feature>`` or plain ``<feature>``; a
    ``shap__base`` column is ignored). ``features`` holds the raw feature values. If both
    frames have a ``unit_code`` column, rows are matched on it; otherwise by position. The
    colour is the value's rank within its feature (blue low, red high, grey when missing).
    Each feature's coloured dots are a group with id ``shap-row-<feature>``; its row is named
    by ``labels`` (default: the feature in words, ``feature_labels`` with ``extra``).
    """
    words = WORDS[check_lang(lang)]
    values = shap_matrix(shap)
    importance = top_features(shap, max_features)
    raw = _align_features(shap, features)
    n_feat = len(importance)
    fig = new_figure(7.2, 1.3 + 0.34 * max(n_feat, 3))
    ax = fig.add_subplot()
    if n_feat == 0:
        no_data(ax, words["none"])
        return to_svg(fig, "wijkradar-shap-summary")

    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("low_high", [LOW_COLOR, "#7c4dff", HIGH_COLOR])
    _swarm_rows(ax, values[list(importance.index)], raw, cmap)
    ax.axvline(0.0, color="#888888", linewidth=0.8, zorder=0)
    names = {**feature_labels(importance.index, lang, extra), **(labels or {})}
    ax.set_yticks(
        range(n_feat), [plain(names[str(f)]) for f in reversed(importance.index)], fontsize=8
    )
    ax.set_ylim(-0.7, n_feat - 0.3)
    ax.set_xlabel(words["summary"])
    number_axis(ax, lang)
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.tick_params(axis="y", length=0)
    hide_spines(ax, ("top", "right", "left"))
    _colour_bar(fig, ax, cmap, words)
    return to_svg(fig, "wijkradar-shap-summary")


def _swarm_rows(ax: Axes, values: pd.DataFrame, raw: pd.DataFrame, cmap: Colormap) -> None:
    """One jittered row of dots per column of ``values``, the first column at the top."""
    n_points = int(values.notna().to_numpy().sum())
    rasterize = n_points > RASTERIZE_ABOVE
    size = 10.0 if len(values) <= 500 else 5.0
    rng = np.random.default_rng(0)
    n_feat = values.shape[1]
    for i, feature in enumerate(values.columns):
        x = values[feature].to_numpy(dtype=float)
        colour_value = _rank_unit_interval(raw.get(feature), len(x))
        ok = ~np.isnan(x)
        x, colour_value = x[ok], colour_value[ok]
        y = n_feat - 1 - i + _swarm_offsets(x, rng)
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
            gid=f"shap-row-{slug(feature)}",
        )


def _colour_bar(fig: Figure, ax: Axes, cmap: Colormap, words: Mapping[str, str]) -> None:
    """The feature-value colour bar, labelled low .. high, beside ``ax``."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
    bar = fig.colorbar(mappable, ax=ax, ticks=[0.0, 1.0], aspect=40, pad=0.01)
    bar.ax.set_yticklabels([words["low"], words["high"]], fontsize=8)
    bar.set_label(words["value"], fontsize=8)
    bar.outline.set_visible(False)


def shap_waterfall_svg(
    contributions: pd.Series,
    base: float,
    labels: Mapping[str, str] | None = None,
    max_features: int = 10,
    risk: float | None = None,
    lang: Lang = "nl",
) -> str:
    """One unit's explanation: from the base value, each feature's SHAP contribution in turn,
    to the unit's log-odds (largest |contribution| at the top, the rest summed in one bar).
    ``risk`` (the published, possibly calibrated, probability) is printed in the title when
    given; it need not equal the logistic of the log-odds.

    ``contributions`` maps feature -> SHAP value (log-odds); ``labels`` maps feature -> the
    text shown for it (default the feature in words). Each bar is a group with id
    ``waterfall-<feature>`` (``waterfall-other`` for the rest).
    """
    lang = check_lang(lang)
    words = WORDS[lang]
    values = pd.to_numeric(contributions, errors="coerce").astype(float).fillna(0.0)
    order = sorted(values.index, key=lambda f: (-abs(values[f]), str(f)))
    shown = order[: max(int(max_features), 0)]
    rest = order[len(shown) :]
    names = {**feature_labels(shown, lang), **(labels or {})}
    steps = [(str(f), names[str(f)], float(values[f])) for f in shown]
    if rest:
        other = words["other"].format(n=len(rest))
        steps.append(("other", other, float(values[rest].sum())))
    margin = float(base) + float(values.sum())
    fig = new_figure(7.2, 1.2 + 0.34 * max(len(steps), 3))
    ax = fig.add_subplot()
    if not steps:
        no_data(ax, words["none"])
        return to_svg(fig, "wijkradar-waterfall")
    _waterfall_steps(ax, steps, float(base), lang)
    ax.axvline(float(base), color="#888888", linewidth=0.8, linestyle=":", zorder=0)
    ax.axvline(margin, color="#333333", linewidth=0.9, zorder=0)
    ends = np.cumsum([float(base), *(v for _, _, v in steps)])
    lo, hi = float(min(ends.min(), base)), float(max(ends.max(), base))
    pad = 0.12 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(words["waterfall"])
    number_axis(ax, lang)
    ax.set_axisbelow(True)
    printed = (
        f", {words['risk']} {percent(risk, 1, lang)}"
        if risk is not None and np.isfinite(risk) else ""
    )
    start, end = number(float(base), 3, lang), number(margin, 3, lang)
    ax.set_title(f"{words['base']} {start} \u2192 {end}{printed}", fontsize=9)
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    hide_spines(ax, ("top", "right", "left"))
    return to_svg(fig, "wijkradar-waterfall")


def _waterfall_steps(
    ax: Axes, steps: list[tuple[str, str, float]], base: float, lang: Lang
) -> None:
    """The bars of (key, label, value) ``steps``: the first at the top, starting at ``base``."""
    ys = np.arange(len(steps))[::-1]
    running = base
    for y, (key, _, value) in zip(ys, steps, strict=True):
        colour = HIGH_COLOR if value > 0 else LOW_COLOR
        ax.barh(y, value, left=running, color=colour, height=0.62, gid=f"waterfall-{slug(key)}")
        ax.annotate(
            signed(value, 3, lang),
            (running + value, y),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=7,
        )
        running += value
    ax.set_yticks(ys, [plain(label) for _, label, _ in steps], fontsize=8)
    ax.tick_params(axis="y", length=0)


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

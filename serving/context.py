"""Risk in context: what is predicted (a decline of at least ``delta`` by the next
Leefbarometer measurement), the base rate it compares with, the risk band of each unit, and
model quality in plain words. The bands are defined here once (``BANDS``) and documented in
docs/risk_bands.md.

A unit's band is its risk relative to the base rate (the national average risk): 'hoog' from
3× the base rate, 'verhoogd' from 1.5×, 'gemiddeld' from 2/3 (within a factor 1.5 of it
either way), 'laag' below.

>>> band_of(0.30, 0.06).key, relative_text(0.186, 0.06)
('hoog', '3,1× het landelijk gemiddelde')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from serving.formatting import Lang, check_lang, date_text, number, percent, times


@dataclass(frozen=True)
class Band:
    """A risk band: units whose risk is at least ``min_ratio`` times the base rate (and below
    the next band's)."""

    key: str  # hoog | verhoogd | gemiddeld | laag
    label_nl: str
    label_en: str
    min_ratio: float
    colour: str  # hex, for the page, the map legend and the report


BANDS: tuple[Band, ...] = (  # highest first
    Band("hoog", "hoog", "high", 3.0, "#b2182b"),
    Band("verhoogd", "verhoogd", "elevated", 1.5, "#ef8a62"),
    Band("gemiddeld", "gemiddeld", "average", 2.0 / 3.0, "#bdbdbd"),
    Band("laag", "laag", "low", 0.0, "#67a9cf"),
)
BAND_BY_KEY: dict[str, Band] = {b.key: b for b in BANDS}
_TOLERANCE = 1e-12  # 0.18 / 0.06 is 3 in words, 2.9999999999999996 in floating point


def _check_rate(base_rate: float) -> float:
    rate = float(base_rate)
    if not 0 < rate <= 1:
        raise ValueError(f"A base rate is a share in (0, 1]. Got {base_rate!r} instead.")
    return rate


def band_of(risk: float, base_rate: float) -> Band:
    """The band of ``risk`` (a probability) relative to ``base_rate``."""
    rate = _check_rate(base_rate)
    if risk is None or math.isnan(float(risk)):
        raise ValueError(f"A risk is a probability 0..1. Got {risk!r} instead.")
    ratio = float(risk) / rate * (1 + _TOLERANCE)
    return next(b for b in BANDS if ratio >= b.min_ratio)


def bands_of(risks: Sequence[float] | pd.Series, base_rate: float) -> list[str | None]:
    """The band keys of many risks at once (the same bounds as ``band_of``); None for a
    missing risk."""
    rate = _check_rate(base_rate)
    ratio = np.asarray(risks, dtype="float64") / rate * (1 + _TOLERANCE)
    bounds = np.array([b.min_ratio for b in BANDS[:-1]][::-1])  # ascending
    index = np.searchsorted(bounds, ratio, side="right")  # 0 = lowest band
    keys = [b.key for b in BANDS][::-1]
    return [None if np.isnan(r) else keys[i] for r, i in zip(ratio, index, strict=True)]


def band_label(band: Band, lang: Lang = "nl") -> str:
    return band.label_nl if check_lang(lang) == "nl" else band.label_en


def band_description(band: Band, lang: Lang = "nl") -> str:
    """What a band means, for a legend: 'hoog: 3× het landelijk gemiddelde of meer'."""
    lang = check_lang(lang)
    higher = BANDS[BANDS.index(band) - 1] if BANDS.index(band) > 0 else None
    avg = "het landelijk gemiddelde" if lang == "nl" else "the national average"
    low, high = times(band.min_ratio, lang), times(higher.min_ratio, lang) if higher else ""
    if higher is None:
        text = f"{low} {avg} of meer" if lang == "nl" else f"{low} {avg} or more"
    elif band.min_ratio == 0:
        text = f"minder dan {high} {avg}" if lang == "nl" else f"less than {high} {avg}"
    else:
        text = f"{low} tot {high} {avg}" if lang == "nl" else f"{low} to {high} {avg}"
    return f"{band_label(band, lang)}: {text}"


def relative_risk(risk: float, base_rate: float) -> float:
    return float(risk) / _check_rate(base_rate)


def relative_text(risk: float, base_rate: float, lang: Lang = "nl") -> str:
    """'3,1× het landelijk gemiddelde' ('3.1× the national average')."""
    avg = "het landelijk gemiddelde" if check_lang(lang) == "nl" else "the national average"
    return f"{times(relative_risk(risk, base_rate), lang)} {avg}"


def base_rate_of(risks: Sequence[float] | pd.Series) -> float:
    """The national base rate of a ranking: the mean risk of all its units (for a calibrated
    model, the expected share of units that decline)."""
    values = np.asarray(risks, dtype="float64")
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise ValueError("A base rate needs at least one risk. Got none.")
    return float(values.mean())


def base_rate_text(base_rate: float, lang: Lang = "nl") -> str:
    """'landelijk gemiddelde risico: 19%' ('national average risk: 19%')."""
    label = "landelijk gemiddelde risico" if check_lang(lang) == "nl" else "national average risk"
    return f"{label}: {rate_text(base_rate, lang)}"


# --- what is predicted ----------------------------------------------------------------------


def measurement_year(as_of_year: int, horizon: int) -> int:
    """The year of the Leefbarometer measurement a prediction of ``as_of_year`` is about."""
    if int(horizon) < 1:
        raise ValueError(f"A horizon is 1 or more years. Got {horizon!r} instead.")
    return int(as_of_year) + int(horizon)


def horizon_of(panel: pd.DataFrame) -> int | None:
    """The release's horizon: the years from a labelled as-of year to the measurement its label
    was read from (``label_outcome_year``), the most common one of the newest labelled as-of
    year; None when the panel has no labelled rows."""
    if "label_outcome_year" not in panel.columns:
        return None
    rows = panel[panel["label_outcome_year"].notna()]
    if rows.empty:
        return None
    newest = rows[rows["as_of_year"] == rows["as_of_year"].max()]
    gaps = (newest["label_outcome_year"].astype("float64") - newest["as_of_year"]).round()
    return int(gaps.mode().iloc[0])


def target_text(
    delta: float,
    measurement_year: int | None,
    lang: Lang = "nl",
    *,
    kind: str = "score_drop",
    max_class: int = 3,
) -> str:
    """'kans op een daling van ten minste 0,05 vóór de Leefbarometer-meting 2026'; without a
    year 'vóór de volgende Leefbarometer-meting'. ``kind='development_class'`` (the label of
    ``wijkradar.config.LabelConfig``) names the development class instead."""
    lang = check_lang(lang)
    if lang == "nl":
        when = (
            f"vóór de Leefbarometer-meting {measurement_year}"
            if measurement_year is not None else "vóór de volgende Leefbarometer-meting"
        )
        if kind == "development_class":
            return f"kans op ontwikkelingsklasse {max_class} of lager {when}"
        return f"kans op een daling van ten minste {number(delta, lang=lang)} {when}"
    when = (
        f"by the Leefbarometer measurement of {measurement_year}"
        if measurement_year is not None else "by the next Leefbarometer measurement"
    )
    if kind == "development_class":
        return f"probability of development class {max_class} or lower {when}"
    return f"probability of a decline of at least {number(delta, lang=lang)} {when}"


def context_line(
    as_of_year: int,
    knowledge_date: str | None,
    measurement_year: int | None,
    delta: float,
    lang: Lang = "nl",
    *,
    kind: str = "score_drop",
    max_class: int = 3,
) -> str:
    """One sentence: the as-of year, the knowledge date (when known) and what is predicted.
    'Peiljaar 2024, gegevens bekend op 1 juli 2025: kans op een daling van ten minste 0,05
    vóór de Leefbarometer-meting 2026.'"""
    lang = check_lang(lang)
    target = target_text(delta, measurement_year, lang, kind=kind, max_class=max_class)
    if lang == "nl":
        known = f", gegevens bekend op {date_text(knowledge_date, lang)}" if knowledge_date else ""
        return f"Peiljaar {as_of_year}{known}: {target}."
    known = f", data known on {date_text(knowledge_date, lang)}" if knowledge_date else ""
    return f"As of {as_of_year}{known}: {target}."


# --- quality in plain words -----------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    """The plain-language quality of a model: of the top ``top_frac`` by risk in the latest
    test year, the share that declined, against the base rate of that year."""

    test_year: int
    top_frac: float
    top_hit_rate: float
    base_rate: float


def quality_text(
    top_frac: float, top_hit_rate: float, base_rate: float, lang: Lang = "nl"
) -> str:
    """'van de 10% hoogste risico's daalde in de laatste toets 41%, tegen 6% gemiddeld'."""
    lang = check_lang(lang)
    top, hit, avg = rate_text(top_frac, lang), rate_text(top_hit_rate, lang), rate_text(
        base_rate, lang
    )
    if lang == "nl":
        return (
            f"van de {top} hoogste risico's daalde in de laatste toets {hit}, "
            f"tegen {avg} gemiddeld"
        )
    return (
        f"of the {top} highest risks, {hit} declined in the latest test, "
        f"against {avg} on average"
    )


def rate_text(share: float, lang: Lang = "nl") -> str:
    """A share as a percentage, with one decimal below 5% ('1,9%') and none above ('41%')."""
    return percent(share, 0 if float(share) >= 0.05 else 1, lang)


def latest_quality(
    evaluation: pd.DataFrame, model: str = "lightgbm", top_pct: int = 10
) -> Quality | None:
    """The ``Quality`` of ``model`` in the newest test year of an evaluation table (columns
    test_year, model, base_rate, precision_at_<top_pct>); None when the table lacks it."""
    column = f"precision_at_{top_pct}"
    needed = {"test_year", "model", "base_rate", column}
    if evaluation.empty or not needed <= set(evaluation.columns):
        return None
    rows = evaluation[evaluation["model"].astype(str) == model].dropna(subset=[column])
    if rows.empty:
        return None
    row = rows.loc[pd.to_numeric(rows["test_year"], errors="coerce").idxmax()]
    return Quality(int(row["test_year"]), top_pct / 100, float(row[column]),
                   float(row["base_rate"]))

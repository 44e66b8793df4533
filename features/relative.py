"""Year-relative features: nominal amounts expressed against the national median of their year.

WOZ values and incomes grow with prices: a model trained on 2008-2018 that splits on "WOZ
value above 250 thousand euro" sends nearly every wijk of 2024 down one branch, and the drift
check rightly warns about it on every run (PSI 1.5-3.0). ``<variable>_rel`` is the unit's
value as a percentage of the median over all units of the panel's level in the same
reference year (100 = the median of that year; "national" when the panel is national). It
carries the unit's place in its year, not the year's price level, so a model trained on
earlier years applies to later ones. Its changes ``<variable>_rel_chg<k>`` are in percentage
points of the median: a wijk that kept pace with the country has 0.

Knowledge date: the median of reference year R uses only values of year R, which CBS
publishes together in one release (``published_like_nominal`` gives the relative variable
the nominal one's publication dates), so a row that knew the unit's value of R knew the
median too. No later value enters.

``RELATIVE_TERMS`` declares them once, with labels and unit (``features.vocabulary.Term``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.vocabulary import Term, Unit

SUFFIX = "_rel"


@dataclass(frozen=True)
class RelativeTerm(Term):
    """A year-relative feature: a ``Term`` and the nominal variable it is made of."""

    nominal: str


RELATIVE_TERMS: tuple[RelativeTerm, ...] = (
    RelativeTerm(
        "woz_value_rel", "average WOZ value (% of the median of its year)",
        "gemiddelde WOZ-waarde (% van de mediaan van dat jaar)", Unit.PERCENT, "woz_value",
    ),
    RelativeTerm(
        "income_per_inhabitant_rel", "income per inhabitant (% of the median of its year)",
        "gemiddeld inkomen per inwoner (% van de mediaan van dat jaar)", Unit.PERCENT,
        "income_per_inhabitant",
    ),
)
RELATIVE_BY_NOMINAL: dict[str, RelativeTerm] = {t.nominal: t for t in RELATIVE_TERMS}


def relative_name(nominal: str) -> str:
    """``relative_name('woz_value') == 'woz_value_rel'``."""
    return f"{nominal}{SUFFIX}"


def year_median(values: pd.Series, year: pd.Series) -> pd.Series:
    """Per row: the median of ``values`` over the rows of the same ``year`` (NaN ignored;
    NaN where the year has no value)."""
    return values.groupby(year.to_numpy()).transform("median")


def relative_to_year(values: pd.Series, year: pd.Series) -> pd.Series:
    """``100 * value / median of its year``; NaN where the median is missing or not positive
    (a ratio to zero says nothing)."""
    median = year_median(values, year)
    return (100.0 * values / median.where(median > 0)).astype("float64")


def relative_variables(columns: Iterable[str]) -> list[RelativeTerm]:
    """The relative terms whose nominal variable is among ``columns``."""
    present = set(columns)
    return [t for t in RELATIVE_TERMS if t.nominal in present]


def with_relative(frame: pd.DataFrame) -> pd.DataFrame:
    """A yearly source frame (unit_code, year, variables; one level) with a ``<nominal>_rel``
    column for each declared nominal variable it holds."""
    out = frame.copy()
    for term in relative_variables(frame.columns):
        values = pd.to_numeric(frame[term.nominal], errors="coerce").astype("float64")
        out[term.name] = relative_to_year(values, frame["year"])
    return out


def model_variables(variables: Sequence[str]) -> list[str]:
    """``variables`` with each declared nominal one replaced by its relative version, in
    place: the variables whose levels and changes a model sees."""
    return [
        RELATIVE_BY_NOMINAL[v].name if v in RELATIVE_BY_NOMINAL else v for v in variables
    ]


def replaced(columns: Iterable[str]) -> list[str]:
    """The nominal columns among ``columns`` whose relative version is there too: shown to
    people (euros), never given to a model."""
    present = list(columns)
    names = set(present)
    return [c for c in present if c in RELATIVE_BY_NOMINAL and RELATIVE_BY_NOMINAL[c].name in names]


def published_like_nominal(published: pd.DataFrame) -> pd.DataFrame:
    """A publication table (``features.calendar.publication_table``) with rows for every
    relative variable, copied from its nominal variable: the median of a year is known when
    that year's values are."""
    extra = []
    for term in RELATIVE_TERMS:
        rows = published[published["variable"] == term.nominal]
        if not rows.empty:
            extra.append(rows.assign(variable=term.name))
    if not extra:
        return published
    return pd.concat([published, *extra], ignore_index=True)


def national_medians(frame: pd.DataFrame) -> pd.DataFrame:
    """Per year: the median of each declared nominal variable the frame holds (what 100
    means in ``<nominal>_rel``), for reports and the docs."""
    terms = relative_variables(frame.columns)
    medians = frame.groupby("year")[[t.nominal for t in terms]].median()
    return medians.astype(np.float64)

"""The publication calendar: when each source value became known, and what a row knew.

A source's value of reference year Y is published on the day its ``[source.calendar]`` says
(``wijkradar.calendar.Calendar``: ``on`` of year Y + ``years_after``, per variable group), or,
without one, on its kind's default (``DEFAULT_CALENDARS``; evidence in ``docs/sources.md``).
A file that states its own publication date (the CBS per-postcode title block) wins.

``publication_table`` turns the sources into one table (part, variable, year, published,
source, level); ``knowledge_dates`` gives each as-of year its knowledge date; the panel then
uses, per variable, the newest reference year published by that date (``newest_known``,
``known_measurements``). Pure functions on DataFrames.

Worked example (default calendars, as-of year T = 2020, knowledge date 2021-07-01)::

    inhabitants (CBS, Y + 1 on 07-01)         -> reference year 2020 (published 2021-07-01)
    income_per_inhabitant (CBS income, Y + 2) -> reference year 2019 (published 2021-07-01)
    income_per_inhabitant_chg3                -> value(2019) - value(2016)
    lbm (Leefbarometer, Y + 1 on 07-01)       -> measurement 2020 (published 2021-07-01)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from features import schema
from features.sources import SourceFrame
from wijkradar.calendar import KNOWLEDGE_LBM, Calendar, CalendarGroup
from wijkradar.errors import ConfigError
from wijkradar.records import KnowledgeNote, SourceUse

PUBLICATION_COLUMNS = ("part", "variable", "year", "published", "source", "level")
# CBS publishes the Kerncijfers wijken en buurten in stages: population and housing about a
# year after the reference date, income, social assistance and care about two years after.
CBS_INCOME_GROUP = CalendarGroup(
    name="income",
    years_after=2,
    on="07-01",
    variables=(
        "income_per_inhabitant", "low_income_hh_pct", "bijstand_per_1000", "wmo_clients_per_1000",
    ),
)
_KWB = Calendar(years_after=1, on="07-01", groups=(CBS_INCOME_GROUP,))
_LBM = Calendar(years_after=1, on="07-01")
# Kind -> (its default calendar, the label people read). Evidence: docs/sources.md.
DEFAULTS: dict[str, tuple[Calendar, str]] = {
    "cbs_kwb_csv": (_KWB, "CBS"),
    "cbs_kwb_json": (_KWB, "CBS"),
    # The file's own 'Datum' wins; the calendar only serves a file that states none.
    "cbs_pc4_xlsx": (Calendar(years_after=2, on="07-01"), "CBS per postcode"),
    "lbm3_scores": (_LBM, "Leefbarometer"),
    "lbm2_pc4": (_LBM, "Leefbarometer"),
    "lbm2_json": (_LBM, "Leefbarometer"),
    "investment_csv": (Calendar(years_after=1, on="03-01"), "investment"),
}
DEFAULT_CALENDARS: dict[str, Calendar] = {kind: cal for kind, (cal, _) in DEFAULTS.items()}
LBM_DEFAULT = _LBM  # the Leefbarometer's: a row's default knowledge date when none is listed


def known_variables(part: str) -> frozenset[str]:
    """The variables a calendar of a source of ``part`` may name."""
    if part == "cbs":
        return frozenset(v.name for v in (*schema.CBS_VARIABLES, *schema.CBS_PC4_VARIABLES))
    if part == "lbm":
        return frozenset((*schema.LBM_SCORE_COLUMNS, "lbm_class"))
    return frozenset(v.name for v in schema.INVESTMENT_VARIABLES)


def check_calendar(
    calendar: Calendar, part: str, where: str, extra: frozenset[str] = frozenset()
) -> None:
    """An unknown variable in a group of ``calendar`` is a ConfigError naming it; ``extra``
    are the source's further variables (mapped through ``columns``)."""
    allowed = known_variables(part) | extra
    for group in calendar.groups:
        unknown = sorted(set(group.variables) - allowed)
        if unknown:
            raise ConfigError(
                f"The calendar group {group.name!r} of {where} names unknown variable(s) "
                f"{', '.join(map(repr, unknown))}. Allowed: {', '.join(sorted(allowed))}."
            )


def calendar_of(frame: SourceFrame) -> Calendar:
    """The frame's own calendar, or its kind's default."""
    return frame.calendar if frame.calendar is not None else DEFAULT_CALENDARS[frame.kind]


def source_label(frame: SourceFrame, variable: str) -> str:
    """'CBS', 'CBS income' (a group), 'CBS per postcode', 'Leefbarometer', 'investment'."""
    base = DEFAULTS[frame.kind][1]
    if frame.published is not None:
        return base
    group = calendar_of(frame).group_of(variable)
    return f"{base} {group.name}" if group is not None else base


def publication_table(frames: Sequence[SourceFrame]) -> pd.DataFrame:
    """One row per (part, variable, reference year, level): the day it was published
    (datetime64[ns]) and the source's label. Where two files give the same key, the later
    date is kept: a value is known only once every file that holds it is out."""
    rows = []
    for frame in frames:
        calendar = calendar_of(frame)
        check_calendar(calendar, frame.part, f"the {frame.kind} source {frame.file}",
                       frozenset(frame.variables))
        for variable in frame.variables:
            label = source_label(frame, variable)
            for level, year in frame.years:
                day = frame.published or calendar.published(variable, year)
                rows.append((frame.part, variable, year, day, label, level))
    table = pd.DataFrame(rows, columns=list(PUBLICATION_COLUMNS))
    table = table.astype({"part": object, "variable": object, "year": "int64",
                          "source": object, "level": object})
    table["published"] = pd.to_datetime(table["published"]).astype("datetime64[ns]")
    table = table.sort_values("published", kind="stable")
    key = ["part", "variable", "year", "level"]
    table = table.drop_duplicates(key, keep="last")
    return table.sort_values(key, ignore_index=True, na_position="first")


def for_level(published: pd.DataFrame, part: str, level: str) -> pd.DataFrame:
    """The rows of ``part`` that apply to the panel's level (no level column: all)."""
    rows = published[published["part"] == part]
    if "level" in rows.columns:
        rows = rows[rows["level"].isna() | (rows["level"] == level)]
    return rows


def lbm_published(published: pd.DataFrame, level: str) -> pd.Series:
    """Leefbarometer measurement year -> the day it was published (its latest variable)."""
    rows = for_level(published, "lbm", level)
    return rows.groupby("year")["published"].max().sort_index()


def knowledge_dates(
    years: Sequence[int], published: pd.DataFrame, level: str,
    knowledge: str | Calendar | None = None,
) -> pd.Series:
    """as_of_year -> knowledge date. 'lbm_published' (the default): the day the measurement of
    that year was published; a year without one (a newer CBS year) gets the Leefbarometer's
    default calendar. A ``Calendar``: its day relative to the as-of year."""
    knowledge = KNOWLEDGE_LBM if knowledge is None else knowledge
    if isinstance(knowledge, Calendar):
        days = [knowledge.published("", int(t)) for t in years]
    elif knowledge == KNOWLEDGE_LBM:
        lbm = lbm_published(published, level)
        days = [lbm.get(int(t), pd.Timestamp(LBM_DEFAULT.published("lbm", int(t)))) for t in years]
    else:
        raise ConfigError(
            f"The panel 'knowledge' must be {KNOWLEDGE_LBM!r} or a Calendar. Got {knowledge!r}."
        )
    index = pd.Index([int(t) for t in years], name="as_of_year", dtype="int64")
    return pd.Series(pd.to_datetime(days), index=index, dtype="datetime64[ns]")


def _newest(years: np.ndarray, days: np.ndarray, t: int, k: np.datetime64) -> float:
    ok = (years <= t) & (days <= k)
    return float(years[ok].max()) if ok.any() else np.nan


def newest_known(
    published: pd.DataFrame, part: str, level: str, variables: Sequence[str],
    dates: pd.Series,
) -> pd.DataFrame:
    """Per as-of year (``dates``: as_of_year -> knowledge date) and variable: the newest
    reference year <= the as-of year published on or before the knowledge date (NaN: none)."""
    rows = for_level(published, part, level)
    by_var = {v: g for v, g in rows.groupby("variable")}
    out = pd.DataFrame(index=dates.index, columns=list(variables), dtype="float64")
    for v in variables:
        g = by_var.get(v)
        if g is None:
            continue
        years, days = g["year"].to_numpy(), g["published"].to_numpy()
        out[v] = [_newest(years, days, int(t), np.datetime64(k)) for t, k in dates.items()]
    return out


def is_known(days: pd.Series, years: pd.Series, dates: pd.Series) -> np.ndarray:
    """Whether the values of reference ``years`` (``days``: year -> publication day of one
    variable) were published on or before the aligned knowledge ``dates``; a year ``days``
    does not list is not known."""
    day = years.map(days)
    return (day.notna() & (day <= dates)).to_numpy()


def known_measurements(
    published: pd.DataFrame, level: str, dates: pd.Series
) -> dict[int, list[int]]:
    """as_of_year -> the Leefbarometer measurement years <= it published by its date."""
    lbm = lbm_published(published, level)
    return {
        int(t): [int(y) for y, day in lbm.items() if y <= t and day <= k]
        for t, k in dates.items()
    }


KnownCheck = Callable[[str, pd.Series], np.ndarray]


@dataclass(frozen=True)
class Knowledge:
    """What the rows of each as-of year knew: ``dates`` (as_of_year -> knowledge date) and the
    publication table (``publication_table``) read at the panel's ``level``."""

    published: pd.DataFrame
    level: str
    dates: pd.Series

    def row_dates(self, keys: pd.DataFrame) -> pd.Series:
        """The knowledge date of each row of ``keys`` (unit_code, as_of_year)."""
        return keys["as_of_year"].map(self.dates).astype("datetime64[ns]")

    def reference(self, part: str, keys: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
        """Per row of ``keys`` and variable: the newest known reference year (NaN: none)."""
        newest = newest_known(self.published, part, self.level, variables, self.dates)
        return newest.reindex(keys["as_of_year"].to_numpy()).set_axis(keys.index)

    def check(self, part: str, keys: pd.DataFrame) -> KnownCheck:
        """``check(variable, years)``: which values of the rows' reference ``years`` were out
        by each row's knowledge date."""
        rows = for_level(self.published, part, self.level)
        days = {v: g.set_index("year")["published"] for v, g in rows.groupby("variable")}
        dates = self.row_dates(keys)
        empty = pd.Series(dtype="datetime64[ns]")
        return lambda v, years: is_known(days.get(v, empty), years, dates)

    def measurements(self) -> dict[int, list[int]]:
        """as_of_year -> the Leefbarometer measurement years it knows."""
        return known_measurements(self.published, self.level, self.dates)


def _uses(
    part_rows: pd.DataFrame, newest: pd.DataFrame, t: int
) -> dict[str, tuple[int, pd.Timestamp]]:
    out: dict[str, tuple[int, pd.Timestamp]] = {}
    for variable, year in newest.loc[t].dropna().items():
        hit = part_rows[(part_rows["variable"] == variable) & (part_rows["year"] == int(year))]
        for label, day in zip(hit["source"], hit["published"], strict=True):
            best = out.get(label)
            if best is None or (int(year), day) > best:
                out[label] = (int(year), day)
    return out


def knowledge_notes(
    published: pd.DataFrame, level: str, dates: pd.Series, used: Mapping[str, Sequence[str]]
) -> tuple[KnowledgeNote, ...]:
    """Per as-of year: its knowledge date and, per source label, the newest reference year the
    rows use and its publication date. ``used``: part -> the variables the panel holds."""
    newest = {
        part: newest_known(published, part, level, variables, dates)
        for part, variables in used.items()
    }
    notes = []
    for t, k in dates.items():
        uses: dict[str, tuple[int, pd.Timestamp]] = {}
        for part, frame in newest.items():
            uses.update(_uses(for_level(published, part, level), frame, int(t)))
        notes.append(KnowledgeNote(
            as_of_year=int(t),
            knowledge_date=_iso(k),
            sources=tuple(
                SourceUse(source=label, reference_year=year, published=_iso(day))
                for label, (year, day) in sorted(uses.items())
            ),
        ))
    return tuple(notes)


def _iso(value: pd.Timestamp | date) -> str:
    return pd.Timestamp(value).date().isoformat()

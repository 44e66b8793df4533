"""The publication calendar in the config: when a source's values of a reference year become
known, and the TOML checks it shares with ``wijkradar.config``.

    [[source]]
    kind = "cbs_kwb_csv"
    path = "sources/cbs"
    [source.calendar]           # reference year Y is known on 1 July of Y + 1 ...
    years_after = 1
    on = "07-01"
    [[source.calendar.groups]]  # ... but income and care on 1 July of Y + 2
    name = "income"
    years_after = 2
    variables = ["income_per_inhabitant", "low_income_hh_pct"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from wijkradar.errors import ConfigError

# Dutch month names, as CBS states publication dates ('Datum: 14 mei 2025') and as the page
# and the exports write them.
MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)


def check_month_day(on: str, where: str) -> tuple[int, int]:
    """(month, day) of an 'MM-DD' string; anything else, or a day no year has, or 29
    February (which most years lack), is a ConfigError."""
    parts = on.split("-") if isinstance(on, str) else []
    ok = len(parts) == 2 and all(len(p) == 2 and p.isdigit() for p in parts)
    if ok:
        month, day = int(parts[0]), int(parts[1])
        try:
            date(2001, month, day)
        except ValueError:
            ok = False
    if not ok:
        raise ConfigError(
            f"The 'on' of {where} must be a month and day 'MM-DD' (such as '07-01'), a day "
            f"every year has. Got {on!r} instead."
        )
    return month, day


@dataclass(frozen=True)
class CalendarGroup:
    """Variables of a source published on their own lag: ``years_after`` the reference year,
    on ``on`` ('MM-DD'; None: the calendar's own day)."""

    name: str
    years_after: int
    on: str | None = None
    variables: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"the calendar group {self.name!r}"
        if not self.name:
            raise ConfigError("A calendar group needs a 'name'. Got none.")
        if not isinstance(self.years_after, int) or self.years_after < 0:
            raise ConfigError(
                f"The 'years_after' of {where} must be an integer >= 0. Got {self.years_after!r}."
            )
        if self.on is not None:
            check_month_day(self.on, where)
        if not self.variables:
            raise ConfigError(f"{where} must list at least one variable. Got none.")


@dataclass(frozen=True)
class Calendar:
    """When a source's values of reference year Y become known: on ``on`` ('MM-DD') of year
    Y + ``years_after``; ``groups`` override that for the variables they list."""

    years_after: int = 1
    on: str = "07-01"
    groups: tuple[CalendarGroup, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.years_after, int) or self.years_after < 0:
            raise ConfigError(
                f"The calendar 'years_after' must be an integer >= 0. Got {self.years_after!r}."
            )
        check_month_day(self.on, "the calendar")
        seen: dict[str, str] = {}
        for group in self.groups:
            for variable in group.variables:
                first = seen.setdefault(variable, group.name)
                if first != group.name:
                    raise ConfigError(
                        f"The variable {variable!r} is in two calendar groups, {first!r} and "
                        f"{group.name!r}; a variable has one publication date."
                    )

    def group_of(self, variable: str) -> CalendarGroup | None:
        """The group that lists ``variable``, if any."""
        return next((g for g in self.groups if variable in g.variables), None)

    def published(self, variable: str, year: int) -> date:
        """The day the value of ``variable`` of reference year ``year`` becomes known."""
        group = self.group_of(variable)
        years_after = group.years_after if group else self.years_after
        on = group.on if group and group.on else self.on
        month, day = check_month_day(on, "the calendar")
        return date(year + years_after, month, day)


KNOWLEDGE_LBM = "lbm_published"


def reject_unknown(table: dict[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in {where}. "
            f"Allowed: {', '.join(sorted(allowed))}."
        )


def as_int(value: Any, key: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"The {key!r} of {where} must be an integer. Got {value!r} instead.")
    return value


def as_str(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"The {key!r} of {where} must be a string. Got {value!r} instead.")
    return value


def _group(table: Any, where: str) -> CalendarGroup:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table. Got {table!r} instead.")
    reject_unknown(table, ("name", "years_after", "on", "variables"), where)
    for key in ("name", "years_after", "variables"):
        if key not in table:
            raise ConfigError(f"{where} needs {key!r}. Got only {', '.join(sorted(table))}.")
    variables = table["variables"]
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise ConfigError(
            f"The 'variables' of {where} must be a list of variable names. Got {variables!r}."
        )
    return CalendarGroup(
        name=as_str(table["name"], "name", where),
        years_after=as_int(table["years_after"], "years_after", where),
        on=as_str(table["on"], "on", where) if "on" in table else None,
        variables=tuple(variables),
    )


def parse_calendar(table: Any, where: str, groups: bool = True) -> Calendar:
    """A ``Calendar`` from its TOML table (``years_after``, ``on``, ``[[...groups]]``)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table. Got {table!r} instead.")
    allowed = ("years_after", "on", "groups") if groups else ("years_after", "on")
    reject_unknown(table, allowed, where)
    kwargs: dict[str, Any] = {}
    if "years_after" in table:
        kwargs["years_after"] = as_int(table["years_after"], "years_after", where)
    if "on" in table:
        kwargs["on"] = as_str(table["on"], "on", where)
    if "groups" in table:
        raw = table["groups"]
        if not isinstance(raw, list):
            raise ConfigError(f"The 'groups' of {where} must be [[...groups]] tables. Got {raw!r}.")
        kwargs["groups"] = tuple(
            _group(g, f"groups #{i} of {where}") for i, g in enumerate(raw, start=1)
        )
    return Calendar(**kwargs)

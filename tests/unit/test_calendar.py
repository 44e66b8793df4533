"""The publication calendar: kind defaults, group overrides, file dates, knowledge dates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from features.calendar import (
    DEFAULT_CALENDARS,
    knowledge_dates,
    newest_known,
    publication_table,
)
from features.sources import SourceFrame
from wijkradar.calendar import Calendar, CalendarGroup
from wijkradar.errors import ConfigError


def frame(
    kind: str = "cbs_kwb_csv",
    part: str = "cbs",
    variables: tuple[str, ...] = ("inhabitants", "income_per_inhabitant"),
    years: tuple[int, ...] = (2019, 2020),
    calendar: Calendar | None = None,
    published: date | None = None,
    level: str | None = "wijk",
) -> SourceFrame:
    return SourceFrame(
        part=part, kind=kind, file=f"{kind}.csv", calendar=calendar, variables=variables,
        years=tuple((level, y) for y in years), published=published,
    )


def day(table: pd.DataFrame, variable: str, year: int) -> str:
    row = table[(table["variable"] == variable) & (table["year"] == year)]
    assert len(row) == 1, row
    return row["published"].iloc[0].date().isoformat()


def test_cbs_kwb_default_publishes_income_a_year_later_than_population() -> None:
    table = publication_table([frame()])
    assert list(table.columns) == ["part", "variable", "year", "published", "source", "level"]
    assert str(table["published"].dtype) == "datetime64[ns]"
    assert day(table, "inhabitants", 2020) == "2021-07-01"
    assert day(table, "income_per_inhabitant", 2020) == "2022-07-01"
    sources = table.set_index(["variable", "year"])["source"]
    assert sources[("inhabitants", 2020)] == "CBS"
    assert sources[("income_per_inhabitant", 2020)] == "CBS income"


@pytest.mark.parametrize(
    ("kind", "part", "variable", "expected"),
    [
        ("lbm3_scores", "lbm", "lbm", "2021-07-01"),
        ("lbm2_pc4", "lbm", "lbm", "2021-07-01"),
        ("investment_csv", "investment", "corp_renovation_per_dwelling", "2021-03-01"),
    ],
)
def test_kind_defaults(kind: str, part: str, variable: str, expected: str) -> None:
    table = publication_table([frame(kind, part, (variable,), (2020,), level=None)])
    assert day(table, variable, 2020) == expected


def test_a_group_overrides_the_calendar_for_its_variables_only() -> None:
    calendar = Calendar(
        years_after=1, on="04-01",
        groups=(CalendarGroup("slow", years_after=3, on=None, variables=("inhabitants",)),),
    )
    table = publication_table([frame(calendar=calendar)])
    assert day(table, "inhabitants", 2020) == "2023-04-01"  # the group's lag, the calendar's day
    assert day(table, "income_per_inhabitant", 2020) == "2021-04-01"  # no group: the calendar
    assert set(table["source"]) == {"CBS", "CBS slow"}


def test_the_date_a_file_states_wins_over_any_calendar() -> None:
    calendar = Calendar(years_after=5)
    stated = frame("cbs_pc4_xlsx", calendar=calendar, years=(2020,), published=date(2021, 2, 17))
    table = publication_table([stated])
    assert day(table, "inhabitants", 2020) == "2021-02-17"
    assert day(table, "income_per_inhabitant", 2020) == "2021-02-17"
    assert set(table["source"]) == {"CBS per postcode"}


def test_an_unknown_variable_in_a_group_is_a_config_error_naming_it() -> None:
    calendar = Calendar(groups=(CalendarGroup("income", 2, None, ("income_per_inhabitnat",)),))
    with pytest.raises(ConfigError, match="income_per_inhabitnat") as err:
        publication_table([frame(calendar=calendar)])
    assert "income" in str(err.value) and "Allowed" in str(err.value)


def test_a_leefbarometer_variable_is_unknown_to_a_cbs_calendar() -> None:
    calendar = Calendar(groups=(CalendarGroup("scores", 2, None, ("lbm",)),))
    with pytest.raises(ConfigError, match="'lbm'"):
        publication_table([frame(calendar=calendar)])


def test_two_files_of_one_key_keep_the_later_date() -> None:
    early = frame(years=(2020,), variables=("inhabitants",))
    late = frame(years=(2020,), variables=("inhabitants",), calendar=Calendar(years_after=2))
    table = publication_table([late, early])
    assert day(table, "inhabitants", 2020) == "2022-07-01"


def test_knowledge_dates_default_to_the_leefbarometer_publication() -> None:
    lbm = frame("lbm3_scores", "lbm", ("lbm",), (2018, 2020), published=date(2021, 9, 15))
    table = publication_table([lbm])
    dates = knowledge_dates([2018, 2020, 2022], table, "wijk")
    assert [d.date().isoformat() for d in dates] == ["2021-09-15", "2021-09-15", "2023-07-01"]
    by_rule = knowledge_dates([2020], table, "wijk", Calendar(years_after=0, on="12-31"))
    assert by_rule[2020].date().isoformat() == "2020-12-31"


def test_newest_known_takes_per_variable_the_newest_published_year() -> None:
    table = publication_table([frame(years=(2017, 2018, 2019, 2020))])
    dates = knowledge_dates([2020], table, "wijk", Calendar(years_after=1, on="07-01"))
    newest = newest_known(table, "cbs", "wijk", ["inhabitants", "income_per_inhabitant"], dates)
    assert newest.loc[2020].to_dict() == {"inhabitants": 2020.0, "income_per_inhabitant": 2019.0}
    # Rows of another level do not apply.
    assert newest_known(table, "cbs", "buurt", ["inhabitants"], dates).isna().all().all()


def test_every_kind_with_a_calendar_has_a_default() -> None:
    assert set(DEFAULT_CALENDARS) == {
        "cbs_kwb_csv", "cbs_kwb_json", "cbs_pc4_xlsx", "lbm3_scores", "lbm2_pc4", "lbm2_json",
        "investment_csv",
    }

"""No leakage: a source value of year Y never changes a feature of an as-of year before Y.

Random small sources are built, values of one year Y (CBS, Leefbarometer score or dimension,
or investment: one value, or all of them) are changed, and the panel is rebuilt. Every feature
of every row with as_of_year < Y must be identical, NaN equal to NaN. Labels look ahead, so
they may change.

The panel is built with a random adjacency between the units, so the neighbour features
(``features.neighbours``) are covered: a changed value of a neighbour must not move them
either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from features import neighbours, schema
from features.calendar import PUBLICATION_COLUMNS
from features.panel import as_of_years, build_panel, feature_columns
from wijkradar.calendar import Calendar

YEARS = range(2005, 2017)
CBS_VARS = [v.name for v in schema.CBS_VARIABLES]
# Variables that feed derived features (weights and gemeente context) get random values;
# every other CBS column starts missing, and any CBS column may be the one that is changed.
FILLED_CBS_VARS = ["inhabitants", "households", "low_income_hh_pct", "woz_value", "dwellings"]
INV_VARS = [v.name for v in schema.INVESTMENT_VARIABLES]
LAGS = (1, 3)

values = st.one_of(
    st.just(math.nan), st.floats(min_value=0, max_value=5000, allow_nan=False, width=32)
)
scores = st.floats(min_value=2.0, max_value=6.0, allow_nan=False, width=32)
dimensions = st.one_of(st.just(math.nan), st.floats(-1.0, 1.0, allow_nan=False, width=32))


@dataclass
class Sources:
    cbs: pd.DataFrame
    lbm: pd.DataFrame
    investment: pd.DataFrame
    adjacency: pd.DataFrame


@st.composite
def sources(draw: st.DrawFn) -> Sources:
    n_units = draw(st.integers(1, 4))
    gemeenten = [draw(st.sampled_from(["0001", "0002"])) for _ in range(n_units)]
    codes = [f"WK{gm}{i:02d}" for i, gm in enumerate(gemeenten)]
    first = draw(st.sampled_from(YEARS))
    last = draw(st.sampled_from([y for y in YEARS if y >= first]))
    cbs_years = list(range(first, last + 1))

    cbs_rows = []
    lbm_rows = []
    inv_rows = []
    for code in codes:
        # Most units are in CBS every year; a few miss some years.
        years = [y for y in cbs_years if draw(st.integers(0, 9)) > 0] or cbs_years[-1:]
        for year in years:
            row = {"unit_code": code, "unit_name": code, "level": "wijk", "year": year}
            row.update({v: math.nan for v in CBS_VARS})
            row.update({v: draw(values) for v in FILLED_CBS_VARS})
            cbs_rows.append(row)
        for year in [y for y in cbs_years if draw(st.booleans())]:
            row = {"unit_code": code, "unit_name": code, "level": "wijk", "year": year}
            row.update({"lbm": draw(scores), "afw": math.nan})
            row.update({d: draw(dimensions) for d in schema.LBM_DIMENSIONS})
            lbm_rows.append(row)
        for year in sorted(draw(st.sets(st.sampled_from(YEARS), max_size=6))):
            row = {"unit_code": code, "year": year}
            row.update({v: draw(values) for v in INV_VARS})
            inv_rows.append(row)
    candidates = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    borders = [pair for pair in candidates if draw(st.booleans())]
    if not lbm_rows:  # the panel needs at least one measurement
        year = draw(st.sampled_from(cbs_years))
        lbm_rows.append({
            "unit_code": codes[0], "unit_name": codes[0], "level": "wijk", "year": year,
            "lbm": draw(scores), "afw": math.nan, **dict.fromkeys(schema.LBM_DIMENSIONS, 0.0),
        })
    return Sources(
        cbs=pd.DataFrame(cbs_rows, columns=["unit_code", "unit_name", "level", "year", *CBS_VARS]),
        lbm=pd.DataFrame(
            lbm_rows, columns=["unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS]
        ),
        investment=pd.DataFrame(inv_rows, columns=["unit_code", "year", *INV_VARS]).astype(
            {"year": "int64"}
        ),
        adjacency=pd.DataFrame(borders, columns=["unit_code", "neighbour_code"], dtype=str),
    )


def build(src: Sources) -> pd.DataFrame:
    return build_panel(
        src.cbs, src.lbm, src.investment, level="wijk", change_lags=LAGS, delta=0.05,
        adjacency=src.adjacency,
    )


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


COLUMNS = {
    "cbs": CBS_VARS,
    "lbm": list(schema.LBM_SCORE_COLUMNS),
    "investment": INV_VARS,
}


def new_value_for(draw: st.DrawFn, which: str, column: str, old: float) -> float:
    strategy = values if which != "lbm" else scores if column == "lbm" else dimensions
    new = draw(strategy)
    if same(old, new):  # make it a real change
        new = 1.0 if math.isnan(old) else old + 0.5
    return new


@st.composite
def changed_sources(draw: st.DrawFn) -> tuple[Sources, Sources, int, str]:
    """The sources, the sources with values of one year Y changed, Y, and what was changed.

    Either one value of year Y changes (one source, one row, one column), or every value of
    year Y in every source does: the same property, with more chances to expose a leak.
    """
    src = draw(sources())
    frames: dict[str, pd.DataFrame] = {
        "cbs": src.cbs, "lbm": src.lbm, "investment": src.investment
    }
    # Y is a year after the first as-of year, so that there are earlier rows to compare; often
    # a measurement year, whose previous as-of year is where a look-ahead would show.
    pool = frames["lbm"] if draw(st.booleans()) else pd.concat(frames.values())
    years = sorted({int(y) for y in pool["year"]})
    first_as_of = min(as_of_years(src.cbs, src.lbm))
    year = draw(st.sampled_from([y for y in years if y > first_as_of] or years))
    cells = [
        (which, i, column)
        for which, frame in frames.items()
        for i in np.flatnonzero(frame["year"].to_numpy() == year).tolist()
        for column in COLUMNS[which]
    ]
    if draw(st.booleans()):
        cells = [draw(st.sampled_from(cells))]
    changed = {which: pd.DataFrame(frame, copy=True) for which, frame in frames.items()}
    what = []
    for which, i, column in cells:
        frame = changed[which]
        old = float(frame.iloc[i][column])
        new = new_value_for(draw, which, column, old)
        frame.iloc[i, frame.columns.get_loc(column)] = new
        what.append(f"{which}[{frame.iloc[i]['unit_code']}, {year}].{column}: {old} -> {new}")
    return src, Sources(**changed, adjacency=src.adjacency), year, "\n".join(what)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=changed_sources())
def test_changing_a_value_of_year_y_leaves_earlier_features_alone(
    case: tuple[Sources, Sources, int, str],
) -> None:
    before_src, after_src, year, what = case
    note(what)
    before = build(before_src)
    after = build(after_src)
    # Changing values never adds or drops rows.
    pd.testing.assert_frame_equal(
        before[["unit_code", "as_of_year"]], after[["unit_code", "as_of_year"]]
    )
    features = feature_columns(before)
    assert features == feature_columns(after)
    assert set(neighbours.NEIGHBOUR_FEATURES) <= set(features)
    earlier = (before["as_of_year"] < year).to_numpy()
    pd.testing.assert_frame_equal(
        before.loc[earlier, features], after.loc[earlier, features], check_exact=True
    )


def _fixed_sources() -> Sources:
    """WK000101 (A) as the unit looked at; WK000102 (B), its neighbour, measured 4.5 always."""
    cbs = pd.DataFrame(
        [
            {"unit_code": "WK000101", "unit_name": "A", "level": "wijk", "year": y,
             **dict.fromkeys(CBS_VARS, np.nan), "inhabitants": 100.0 + y}
            for y in range(2010, 2015)
        ],
    )
    lbm = pd.DataFrame([
        {"unit_code": code, "unit_name": code, "level": "wijk", "year": y, "lbm": score,
         **dict.fromkeys(("afw", *schema.LBM_DIMENSIONS), np.nan)}
        for code, score in (("WK000101", 4.0), ("WK000102", 4.5))
        for y in (2010, 2012, 2014)
    ])
    investment = pd.DataFrame(
        [{"unit_code": "WK000101", "year": 2012, **dict.fromkeys(INV_VARS, 1.0)}]
    )
    adjacency = pd.DataFrame({"unit_code": ["WK000101"], "neighbour_code": ["WK000102"]})
    return Sources(cbs=cbs, lbm=lbm, investment=investment, adjacency=adjacency)


def test_the_comparison_does_see_changes_at_and_after_year_y() -> None:
    """Guard against a vacuous property: the same change does move features of year >= Y."""
    src = _fixed_sources()
    cbs = src.cbs.copy()
    cbs.loc[cbs["year"] == 2012, "inhabitants"] = 5.0
    lbm = src.lbm.copy()
    lbm.loc[lbm["year"] == 2012, "lbm"] = 3.0  # both units
    before = build(src).set_index("as_of_year")
    after = build(Sources(cbs=cbs, lbm=lbm, investment=src.investment, adjacency=src.adjacency))
    after = after.set_index("as_of_year")
    assert sorted(before.index) == [2010, 2012, 2014]  # A only: B has no CBS rows
    assert before.loc[2012, "nb_lbm"] == 4.5 and after.loc[2012, "nb_lbm"] == 3.0
    assert before.loc[2014, "nb_lbm_chg_prev"] == 0.0 and after.loc[2014, "nb_lbm_chg_prev"] == 1.5
    assert before.loc[2012, "inhabitants"] == 2112.0 and after.loc[2012, "inhabitants"] == 5.0
    assert before.loc[2014, "lbm_chg_prev"] == 0.0 and after.loc[2014, "lbm_chg_prev"] == 1.0
    assert after.loc[2012, "lbm"] == 3.0
    features = feature_columns(before)
    pd.testing.assert_series_equal(before.loc[2010, features], after.loc[2010, features])
    # The label of 2010 looks ahead to 2012, so it does change: features only are compared.
    assert before.loc[2010, "label"] == 0 and after.loc[2010, "label"] == 1


# --- Knowledge dates: a value published after a row's knowledge date never moves the row ----

PARTS = {"cbs": CBS_VARS, "lbm": list(schema.LBM_SCORE_COLUMNS), "investment": INV_VARS}
LEVEL_OF_PART = {"cbs": "wijk", "lbm": "wijk", "investment": None}


@st.composite
def publication(draw: st.DrawFn) -> pd.DataFrame:
    """A random publication table over every (part, variable, year): per variable a lag of
    0-3 years and a day, and now and then a file that states a date of its own, which may
    come before the date of an earlier reference year (a late revision, an early file)."""
    rows = []
    for part, variables in PARTS.items():
        for variable in variables:
            lag = draw(st.integers(0, 3))
            month = draw(st.sampled_from([1, 3, 7, 12]))
            for year in YEARS:
                when = pd.Timestamp(year + lag, month, 1)
                if draw(st.integers(0, 9)) == 0:
                    lag_of_file = draw(st.integers(0, 3))
                    when = pd.Timestamp(year + lag_of_file, draw(st.integers(1, 12)), 15)
                rows.append((part, variable, year, when, part, LEVEL_OF_PART[part]))
    table = pd.DataFrame(rows, columns=list(PUBLICATION_COLUMNS))
    table["published"] = table["published"].astype("datetime64[ns]")
    return table


knowledge_rules = st.one_of(
    st.just("lbm_published"),
    st.builds(
        Calendar, years_after=st.integers(0, 2), on=st.sampled_from(["01-01", "07-01", "09-01"])
    ),
)


def build_known(src: Sources, published: pd.DataFrame, knowledge: str | Calendar) -> pd.DataFrame:
    return build_panel(
        src.cbs, src.lbm, src.investment, level="wijk", change_lags=LAGS, delta=0.05,
        adjacency=src.adjacency, published=published, knowledge=knowledge,
    )


def publication_days(published: pd.DataFrame) -> dict[tuple[str, str, int], pd.Timestamp]:
    """(part, variable, year) -> the day it was published."""
    keys = zip(published["part"], published["variable"], published["year"], strict=True)
    return dict(zip(keys, published["published"], strict=True))


@st.composite
def changed_after(
    draw: st.DrawFn,
) -> tuple[Sources, Sources, pd.DataFrame, str | Calendar, pd.Timestamp, str]:
    """Sources, a publication table and knowledge rule, a cut-off day D (a row's knowledge
    date), and the sources with values published after D changed: every such value, or one."""
    src = draw(sources())
    published = draw(publication())
    knowledge = draw(knowledge_rules)
    dates = build_known(src, published, knowledge)["knowledge_date"].drop_duplicates()
    cut = draw(st.sampled_from(sorted(dates)))
    frames = {"cbs": src.cbs, "lbm": src.lbm, "investment": src.investment}
    days = publication_days(published)
    cells = [
        (which, i, column)
        for which, frame in frames.items()
        for i, year in enumerate(frame["year"].tolist())
        for column in COLUMNS[which]
        if days[(which, column, int(year))] > cut
    ]
    if cells and draw(st.booleans()):
        cells = [draw(st.sampled_from(cells))]
    changed = {which: pd.DataFrame(frame, copy=True) for which, frame in frames.items()}
    what = [f"knowledge {knowledge}, cut-off {cut.date()}"]
    for which, i, column in cells:
        frame = changed[which]
        old = float(frame.iloc[i][column])
        new = new_value_for(draw, which, column, old)
        frame.iloc[i, frame.columns.get_loc(column)] = new
        year = int(frame.iloc[i]["year"])
        when = days[(which, column, year)].date()
        what.append(f"{which}[{frame.iloc[i]['unit_code']}, {year}, published {when}]"
                    f".{column}: {old} -> {new}")
    after = Sources(**changed, adjacency=src.adjacency)
    return src, after, published, knowledge, cut, "\n".join(what)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=changed_after())
def test_a_value_published_after_the_knowledge_date_never_changes_the_row(
    case: tuple[Sources, Sources, pd.DataFrame, str | Calendar, pd.Timestamp, str],
) -> None:
    before_src, after_src, published, knowledge, cut, what = case
    note(what)
    before = build_known(before_src, published, knowledge)
    after = build_known(after_src, published, knowledge)
    ids = ["unit_code", "as_of_year", "knowledge_date"]
    pd.testing.assert_frame_equal(before[ids], after[ids])
    features = feature_columns(before)
    assert "knowledge_date" not in features
    assert set(neighbours.NEIGHBOUR_FEATURES) <= set(features)
    assert {"gm_inhabitants", "gm_low_income_hh_pct_chg3", "gm_lbm_chg_prev"} <= set(features)
    known_then = (before["knowledge_date"] <= cut).to_numpy()
    assert known_then.any()
    pd.testing.assert_frame_equal(
        before.loc[known_then, features], after.loc[known_then, features], check_exact=True
    )


def _late_income(published_year: int) -> pd.DataFrame:
    """The publication table of ``_fixed_sources``: everything one year after its reference
    year on 1 July, except CBS inhabitants of 2012, published in ``published_year``."""
    rows = [
        (part, v, y, pd.Timestamp(y + 1, 7, 1), part, LEVEL_OF_PART[part])
        for part, variables in PARTS.items() for v in variables for y in range(2008, 2016)
    ]
    table = pd.DataFrame(rows, columns=list(PUBLICATION_COLUMNS))
    late = (table["variable"] == "inhabitants") & (table["year"] == 2012)
    table.loc[late, "published"] = pd.Timestamp(published_year, 7, 1)
    table["published"] = table["published"].astype("datetime64[ns]")
    return table


def test_a_value_of_an_earlier_year_published_late_is_not_used_until_it_is_out() -> None:
    """Guard against a vacuous property: inhabitants of 2012, published in 2016, are unknown
    to the rows of 2012 and 2014 (knowledge dates 2013-07-01, 2015-07-01): those rows take the
    newest published year before it; published in 2013 instead, the value is used, and a
    change of it moves the rows."""
    src = _fixed_sources()
    cbs = src.cbs.copy()
    cbs.loc[cbs["year"] == 2012, "inhabitants"] = 5.0
    changed = Sources(cbs=cbs, lbm=src.lbm, investment=src.investment, adjacency=src.adjacency)
    late = _late_income(2016)
    before = build_known(src, late, "lbm_published").set_index("as_of_year")
    after = build_known(changed, late, "lbm_published").set_index("as_of_year")
    assert str(before.loc[2014, "knowledge_date"].date()) == "2015-07-01"
    assert before.loc[2012, "inhabitants"] == 2111.0  # 2011's value: 2012 is not out yet
    assert before.loc[2014, "inhabitants"] == 2114.0
    features = feature_columns(before)
    pd.testing.assert_frame_equal(before[features], after[features], check_exact=True)
    on_time = _late_income(2013)
    before = build_known(src, on_time, "lbm_published").set_index("as_of_year")
    after = build_known(changed, on_time, "lbm_published").set_index("as_of_year")
    assert before.loc[2012, "inhabitants"] == 2112.0 and after.loc[2012, "inhabitants"] == 5.0
    assert after.loc[2014, "inhabitants_chg3"] == 2114.0 - 2111.0
    assert after.loc[2012, "gm_inhabitants"] == 5.0


def test_an_earlier_knowledge_date_sees_only_the_measurements_published_by_then() -> None:
    src = _fixed_sources()
    table = _late_income(2013)
    early = build_known(src, table, Calendar(years_after=0, on="12-31")).set_index("as_of_year")
    # Measurement 2012 is published on 2013-07-01: on 2012-12-31 the row knows 2010's.
    assert early.loc[2012, "lbm_years_since"] == 2.0
    assert early.loc[2012, "nb_lbm"] == 4.5
    assert early.loc[2012, "lbm"] == 4.0 and math.isnan(early.loc[2010, "lbm"])

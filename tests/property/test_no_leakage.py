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
from features.panel import as_of_years, build_panel, feature_columns

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

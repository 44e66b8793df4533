"""The unit x as_of_year panel: point-in-time features and the decline label.

Every feature of row (unit, T) uses source values of years <= T only; the label looks ahead to
the next Leefbarometer measurement. With a publication table (``features.calendar``) the row
also has a ``knowledge_date`` and uses only values published by then: per variable the newest
such reference year R <= T, changes value(R) - value(R - k) (see ``features.calendar`` for a
worked example). Feature names do not depend on calendar years, so a model
trained on one period applies to the next.

Worked example (lags (1, 3), measurements 2012, 2014, 2016, T = 2014)::

    low_income_hh_pct       = CBS value of 2014
    low_income_hh_pct_chg3  = value(2014) - value(2011)
    lbm                     = Leefbarometer score of 2014 (the last measurement <= 2014)
    lbm_chg_prev            = lbm(2014) - lbm(2012)
    lbm_years_since         = 2014 - 2014 = 0;   lbm_years_between = 2014 - 2012 = 2
    label_outcome_year      = 2016;   label = lbm(2016) - lbm(2014) <= -delta
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features import calendar, derived, labels, neighbours, relative, schema
from features.names import names
from features.vocabulary import Term, Unit, change, change_since_previous
from wijkradar.calendar import Calendar

ID_COLUMNS = ("unit_code", "unit_name", "level", "gemeente_code", "gemeente_name", "as_of_year")
# With a publication table: the day the row's values were known (an id, never a feature).
KNOWLEDGE_DATE = "knowledge_date"
LABEL_COLUMNS = ("label_outcome_year", "label_lbm_change", "label")
# Whether ``build_panel`` replaces nominal amounts (WOZ value, income) by their year-relative
# versions as model features (``features.relative``); the nominal level stays as a column
# for people (``shown_columns``). On: nominal levels trend with prices, so a model trained on
# earlier years would split on price levels later years never have (drift PSI 1.5-3.0).
# Read at call time.
RELATIVE_TO_YEAR = True
# Scores are published as decimals: a drop of exactly delta must count, whatever binary
# floating point makes of the difference.
LBM_FEATURE_SOURCES = ("lbm", *schema.LBM_DIMENSIONS)
# The Leefbarometer features ``lbm_features`` makes; each also has its ``_chg_prev`` change.
LBM_TERMS: tuple[Term, ...] = (
    Term("lbm", "Leefbarometer score", "Leefbarometerscore", Unit.SCORE),
    Term(
        "lbm_fys", "Leefbarometer: physical environment", "Leefbarometer: fysieke omgeving",
        Unit.SCORE,
    ),
    Term(
        "lbm_onv", "Leefbarometer: nuisance and unsafety",
        "Leefbarometer: overlast en onveiligheid", Unit.SCORE,
    ),
    Term(
        "lbm_soc", "Leefbarometer: social cohesion", "Leefbarometer: sociale samenhang",
        Unit.SCORE,
    ),
    Term("lbm_vrz", "Leefbarometer: amenities", "Leefbarometer: voorzieningen", Unit.SCORE),
    Term("lbm_won", "Leefbarometer: housing", "Leefbarometer: woningvoorraad", Unit.SCORE),
    Term(
        "lbm_years_since", "years since the last measurement", "tijd sinds de laatste meting",
        Unit.YEARS,
    ),
    Term(
        "lbm_years_between", "years between the last two measurements",
        "tijd tussen de laatste twee metingen", Unit.YEARS,
    ),
    Term("lbm_class", "Leefbarometer class", "Leefbarometer-klasse", Unit.CLASS),
    Term(
        "lbm_development_class_prev", "Leefbarometer development class of the last period",
        "Leefbarometer-ontwikkelingsklasse van de laatste periode", Unit.CLASS,
    ),
)


def feature_columns(panel: pd.DataFrame) -> list[str]:
    """The panel's feature columns, in panel order: every column but the ids, the labels and
    the nominal amounts that have a year-relative version beside them (``shown_columns``)."""
    skip = set(ID_COLUMNS) | set(LABEL_COLUMNS) | {KNOWLEDGE_DATE}
    skip |= set(shown_columns(panel))
    return [c for c in panel.columns if c not in skip]


def shown_columns(panel: pd.DataFrame) -> list[str]:
    """Nominal amounts kept for people (euros) whose year-relative version is the feature:
    context beside the drivers, never a model feature (``features.relative.replaced``)."""
    return relative.replaced(panel.columns)


def as_of_years(cbs: pd.DataFrame, lbm: pd.DataFrame) -> list[int]:
    """Leefbarometer measurement years, plus the newest CBS year if it is later."""
    years = set(lbm["year"].unique().tolist())
    if not cbs.empty:
        years.add(int(cbs["year"].max()))
    return sorted(int(y) for y in years)


def _lbm_name(col: str) -> str:
    return col if col.startswith("lbm") else f"lbm_{col}"


def lbm_sources(lbm: pd.DataFrame) -> tuple[str, ...]:
    """The Leefbarometer columns that become features: score, dimensions, and the class
    where a release has one (2.0)."""
    extra = ("lbm_class",) if "lbm_class" in lbm.columns and lbm["lbm_class"].notna().any() else ()
    return (*LBM_FEATURE_SOURCES, *extra)


def unit_years(
    cbs: pd.DataFrame, lbm: pd.DataFrame, level: str, years: Sequence[int]
) -> pd.DataFrame:
    """The rows of the panel: for each as-of year T, the units of ``level`` in the CBS data of
    year T; in a year without CBS data at that level (a CBS source that covers only some
    years, or none), the units the Leefbarometer has measured by T."""
    cbs_l = cbs[cbs["level"] == level]
    cbs_years = set(cbs_l["year"].unique().tolist())
    from_cbs = cbs_l.loc[cbs_l["year"].isin(years), ["unit_code", "year"]]
    lbm_l = lbm[lbm["level"] == level]
    first = lbm_l.groupby("unit_code")["year"].min()
    from_lbm = pd.DataFrame(
        [(u, t) for u, y0 in first.items() for t in years if t >= y0 and t not in cbs_years],
        columns=["unit_code", "year"],
    )
    keys = pd.concat([from_cbs, from_lbm], ignore_index=True)
    keys = keys.rename(columns={"year": "as_of_year"}).astype({"as_of_year": "int64"})
    return keys.sort_values(["as_of_year", "unit_code"], ignore_index=True)


def yearly_features(
    frame: pd.DataFrame, keys: pd.DataFrame, variables: Sequence[str], lags: Sequence[int],
    reference: pd.DataFrame | None = None, known: calendar.KnownCheck | None = None,
) -> pd.DataFrame:
    """Levels at T and changes over each lag k (value(T) - value(T - k)) of yearly sources.

    With ``reference`` (per row, aligned with ``keys``, and variable: the newest reference
    year R known; NaN: none) the level is value(R) and the change value(R) - value(R - k);
    ``known(variable, years)`` then says which values of R - k were known, the others count
    as missing."""
    indexed = frame.set_index(["unit_code", "year"])[list(variables)]
    if reference is None:
        ref = pd.DataFrame({v: keys["as_of_year"] for v in variables}, index=keys.index)
    else:
        ref = reference[list(variables)].fillna(-1).astype("int64")

    def at(v: str, years: pd.Series) -> np.ndarray:
        where = pd.MultiIndex.from_arrays([keys["unit_code"], years])
        return indexed[v].reindex(where).to_numpy()

    out = {v: at(v, ref[v]) for v in variables}
    for k in lags:
        for v in variables:
            before = at(v, ref[v] - k)
            if known is not None:
                before = np.where(known(v, ref[v] - k), before, np.nan)
            out[change(v, k)] = out[v] - before
    return pd.DataFrame(out, index=keys.index)


def _measurements(lbm: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    m = lbm.sort_values(["unit_code", "year"]).reset_index(drop=True)
    prev = m.groupby("unit_code")[["year", *sources]].shift(1)
    m["prev_year"] = prev["year"]
    for col in sources:
        m[f"{col}__prev"] = prev[col]
    return m


def lbm_features(
    lbm: pd.DataFrame, keys: pd.DataFrame, development: pd.DataFrame | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """From the last measurement at or before T: score, dimensions, change since the
    measurement before it, years since it and years between the two; with a release's
    development classes, the official class of that last period too (known at T).
    ``sources``: the Leefbarometer columns (default ``lbm_sources(lbm)``)."""
    sources = lbm_sources(lbm) if sources is None else sources
    m = _measurements(lbm, sources).rename(columns={"year": "m_year"})
    left = keys[["unit_code", "as_of_year"]].reset_index().sort_values("as_of_year")
    right = m.sort_values("m_year")
    joined = (
        pd.merge_asof(
            left,
            right,
            left_on="as_of_year",
            right_on="m_year",
            by="unit_code",
            direction="backward",
        )
        .set_index("index")
        .reindex(keys.index)
    )
    out = pd.DataFrame(index=keys.index)
    for col in sources:
        out[_lbm_name(col)] = joined[col].astype("float64")
    for col in sources:
        since = change_since_previous(_lbm_name(col))
        out[since] = (joined[col] - joined[f"{col}__prev"]).astype("float64")
    out["lbm_years_since"] = (joined["as_of_year"] - joined["m_year"]).astype("float64")
    out["lbm_years_between"] = (joined["m_year"] - joined["prev_year"]).astype("float64")
    if development is not None:
        pairs = pd.DataFrame({"unit_code": keys["unit_code"], "from_year": joined["prev_year"],
                              "to_year": joined["m_year"]}, index=keys.index)
        dev = development.astype({"from_year": "float64", "to_year": "float64"})
        found = pairs.reset_index().merge(
            dev, on=["unit_code", "from_year", "to_year"], how="left"
        ).set_index("index").reindex(keys.index)
        out["lbm_development_class_prev"] = found["development_class"].astype("float64")
    return out


def known_lbm_features(
    lbm: pd.DataFrame, keys: pd.DataFrame, known: Mapping[int, Sequence[int]],
    development: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``lbm_features`` where the rows of as-of year T see only the measurement years
    ``known[T]`` (those published by T's knowledge date)."""
    sources = lbm_sources(lbm)
    pieces = []
    for t, years in known.items():
        rows = keys[keys["as_of_year"] == t]
        if not rows.empty:
            seen = lbm[lbm["year"].isin(list(years))]
            pieces.append(lbm_features(seen, rows, development, sources))
    if not pieces:
        return lbm_features(lbm.iloc[:0], keys, development, sources)
    return pd.concat(pieces).reindex(keys.index)


def neighbour_lbm_features(
    lbm: pd.DataFrame, keys: pd.DataFrame, years: Sequence[int], adjacency: pd.DataFrame,
    known: Mapping[int, Sequence[int]] | None = None,
) -> pd.DataFrame:
    """The neighbour features of the rows ``keys``: the Leefbarometer features of every unit
    and neighbour as of each year T (a neighbour need not be a panel row; with ``known``,
    the measurements known at T only), averaged over the neighbours by
    ``features.neighbours.neighbour_features``."""
    pairs = neighbours.check_adjacency(adjacency)
    measured = set(lbm["unit_code"].astype(str))
    codes = sorted((set(keys["unit_code"]) | set(pairs["neighbour_code"])) & measured)
    at = pd.DataFrame(
        [(code, int(t)) for t in years for code in codes], columns=["unit_code", "as_of_year"]
    ).astype({"unit_code": lbm["unit_code"].dtype, "as_of_year": "int64"})
    found = lbm_features(lbm, at) if known is None else known_lbm_features(lbm, at, known)
    at = pd.concat([at, found], axis=1)
    return neighbours.neighbour_features(keys, at, pairs)


def plain_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its code columns as plain Python strings (object dtype): readers may
    hand over pandas' ``str`` dtype, which does not merge with object keys."""
    cols = [c for c in ("unit_code", "gemeente_code", "neighbour_code") if c in frame.columns]
    return frame.astype(dict.fromkeys(cols, object)) if cols else frame


def _yearly(
    frame: pd.DataFrame, keys: pd.DataFrame, variables: Sequence[str], lags: Sequence[int],
    part: str, known: calendar.Knowledge | None,
) -> pd.DataFrame:
    if known is None:
        return yearly_features(frame, keys, variables, lags)
    return yearly_features(
        frame, keys, variables, lags, known.reference(part, keys, variables),
        known.check(part, keys),
    )


def build_panel(
    cbs: pd.DataFrame,
    lbm: pd.DataFrame,
    investment: pd.DataFrame | None,
    *,
    level: str,
    change_lags: Sequence[int],
    delta: float,
    years: Sequence[int] | None = None,
    label_kind: str = "score_drop",
    max_class: int = 3,
    development: pd.DataFrame | None = None,
    places: pd.DataFrame | None = None,
    adjacency: pd.DataFrame | None = None,
    published: pd.DataFrame | None = None,
    knowledge: str | Calendar | None = None,
    relative_to_year: bool | None = None,
) -> pd.DataFrame:
    """One row per (unit_code, as_of_year): ids, features, label.

    Without CBS data at ``level`` (PC4 areas, say), the features are the Leefbarometer's own.
    ``places`` (unit_code, gemeente_code, gemeente_name) fills the gemeente where the codes do
    not give it (see ``names``); with an ``adjacency`` (unit_code, neighbour_code; see
    ``features.geo.adjacency``) the neighbour features of ``features.neighbours`` are added.

    With ``published`` (``features.calendar.publication_table``) every row gets a
    ``knowledge_date`` (``features.calendar.knowledge_dates`` with ``knowledge``, default
    'lbm_published') and its features use only values published on or before it: per
    variable the newest known reference year <= T, the changes against k years before that,
    the Leefbarometer measurements published by then, and the context and neighbour features
    made of those. Without it, a row of T uses every value of years <= T.

    With ``relative_to_year`` (default ``RELATIVE_TO_YEAR``) the nominal amounts of
    ``features.relative`` enter as ``<variable>_rel`` (percent of the median of their year)
    with its changes; the nominal level stays for people (``shown_columns``).
    """
    use_relative = RELATIVE_TO_YEAR if relative_to_year is None else relative_to_year
    cbs, lbm = plain_codes(cbs), plain_codes(lbm)
    investment = plain_codes(investment) if investment is not None else None
    development = plain_codes(development) if development is not None else None
    years = list(years) if years is not None else as_of_years(cbs, lbm)
    known = None
    if published is not None:
        dates = calendar.knowledge_dates(years, published, level, knowledge)
        table = relative.published_like_nominal(published) if use_relative else published
        known = calendar.Knowledge(table, level, dates)
    lbm_l = lbm[lbm["level"] == level]
    keys = unit_years(cbs, lbm, level, years)
    parts = [keys, names(cbs, lbm, keys, places)]
    if known is not None:
        parts.append(pd.DataFrame({KNOWLEDGE_DATE: known.row_dates(keys)}, index=keys.index))
    cbs_l = cbs[cbs["level"] == level]
    if not cbs_l.empty:
        parts.extend(cbs_features(cbs_l, keys, change_lags, known, use_relative))
    measured = known.measurements() if known is not None else None
    if measured is None:
        parts.append(lbm_features(lbm_l, keys, development))
    else:
        parts.append(known_lbm_features(lbm_l, keys, measured, development))
    if adjacency is not None:
        parts.append(neighbour_lbm_features(lbm_l, keys, years, adjacency, measured))
    if investment is not None:
        inv_vars = [c for c in investment.columns if c not in ("unit_code", "year")]
        lag = (max(change_lags),)
        parts.append(_yearly(investment, keys, inv_vars, lag, "investment", known))
    panel = pd.concat(parts, axis=1)
    panel = derived.compute(panel, derived.available(panel, derived.GEMEENTE_CONTEXT))
    label = labels.panel_labels(lbm_l, keys, label_kind, delta, max_class, development)
    panel = pd.concat([panel, label], axis=1)
    ids = [*ID_COLUMNS, *([KNOWLEDGE_DATE] if known is not None else [])]
    ordered = [*ids, *feature_columns(panel), *shown_columns(panel), *LABEL_COLUMNS]
    return panel[ordered]


def cbs_features(
    cbs_l: pd.DataFrame, keys: pd.DataFrame, lags: Sequence[int],
    known: calendar.Knowledge | None, relative_to_year: bool,
) -> list[pd.DataFrame]:
    """The CBS levels and changes of the rows ``keys``; with ``relative_to_year`` the
    declared nominal amounts as year-relative levels and changes, plus their nominal level
    (``shown_columns``)."""
    variables = cbs_variables(cbs_l)
    if not relative_to_year:
        return [_yearly(cbs_l, keys, variables, lags, "cbs", known)]
    frame = relative.with_relative(cbs_l)
    modelled = relative.model_variables(variables)
    parts = [_yearly(frame, keys, modelled, lags, "cbs", known)]
    nominal = [v for v in variables if v not in modelled]
    if nominal:
        parts.append(_yearly(frame, keys, nominal, (), "cbs", known))
    return parts


_NOT_VARIABLES = ("unit_code", "unit_name", "level", "year")


def cbs_variables(cbs: pd.DataFrame) -> list[str]:
    """The CBS variables of a CBS frame: the schema's, in its order, then the columns mapped
    through a source's ``columns`` (every other non-id column)."""
    known = [v.name for v in (*schema.CBS_VARIABLES, *schema.CBS_PC4_VARIABLES)
             if v.name in cbs.columns]
    return [*known, *(c for c in cbs.columns if c not in known and c not in _NOT_VARIABLES)]

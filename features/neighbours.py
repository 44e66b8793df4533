"""Neighbour features: the Leefbarometer around a unit, from the units it shares a border
with (``features.geo.adjacency``).

They are point in time by construction: the feature of row (unit, T) is a mean over the
neighbours' own Leefbarometer features as of the same T (their last measurement at or before
T; with knowledge dates, the last one published by T's knowledge date, which every row of T
shares), so no value of a year after T, nor one published after the row's knowledge date,
enters.

Worked example (T = 2014; A borders B and C; B measured 3.9 in 2012 and 3.8 in 2014, C 4.1
in 2012 and not since; A scores 4.0)::

    nb_lbm          = mean(3.8, 4.1)         = 3.95
    nb_lbm_chg_prev = mean(3.8 - 3.9)        = -0.10   (C has no change by 2014)
    lbm_minus_nb    = 4.0 - 3.95             = 0.05

A unit with no neighbour that has a value gets NaN.

The names follow the grammar of ``features.vocabulary``: ``nb_lbm`` is a base feature (the
neighbours' score), ``nb_lbm_chg_prev`` its change since the previous measurement.
"""

from __future__ import annotations

import pandas as pd

from features.vocabulary import Term, Unit, change_since_previous

NEIGHBOUR_PREFIX = "nb_"
NB_LBM = f"{NEIGHBOUR_PREFIX}lbm"
NB_LBM_CHG_PREV = change_since_previous(NB_LBM)
LBM_MINUS_NB = "lbm_minus_nb"
# The neighbours' features come from these panel columns (Leefbarometer features).
FROM_COLUMNS = {NB_LBM: "lbm", NB_LBM_CHG_PREV: "lbm_chg_prev"}
NEIGHBOUR_FEATURES = (NB_LBM, NB_LBM_CHG_PREV, LBM_MINUS_NB)
# Base features as declared in the vocabulary (``nb_lbm_chg_prev`` is the change of nb_lbm).
NEIGHBOUR_TERMS: tuple[Term, ...] = (
    Term(
        NB_LBM, "neighbours' Leefbarometer score", "Leefbarometerscore van de buurgebieden",
        Unit.SCORE,
    ),
    Term(
        LBM_MINUS_NB, "Leefbarometer score minus the neighbours'",
        "Leefbarometerscore min die van de buurgebieden", Unit.SCORE,
    ),
)


def check_adjacency(adjacency: pd.DataFrame) -> pd.DataFrame:
    """The adjacency as (unit_code, neighbour_code) str pairs, both ways round, no self pairs.

    A pair given one way only is completed, so that neighbours are always mutual.
    """
    missing = {"unit_code", "neighbour_code"} - set(adjacency.columns)
    if missing:
        raise ValueError(
            f"The adjacency needs the columns unit_code and neighbour_code; "
            f"got {list(adjacency.columns)}."
        )
    pairs = adjacency[["unit_code", "neighbour_code"]].dropna().astype(str)
    flipped = pairs.rename(columns={"unit_code": "neighbour_code", "neighbour_code": "unit_code"})
    both = pd.concat([pairs, flipped[["unit_code", "neighbour_code"]]], ignore_index=True)
    both = both[both["unit_code"] != both["neighbour_code"]]
    return both.drop_duplicates(ignore_index=True)


def neighbour_features(
    keys: pd.DataFrame, lbm_at: pd.DataFrame, adjacency: pd.DataFrame
) -> pd.DataFrame:
    """``nb_lbm``, ``nb_lbm_chg_prev`` and ``lbm_minus_nb`` for the rows ``keys``
    (unit_code, as_of_year), aligned on its index.

    ``lbm_at`` holds the Leefbarometer features ``lbm`` and ``lbm_chg_prev`` of any unit
    (neighbours that are no panel row included) per (unit_code, as_of_year), as
    ``features.panel.lbm_features`` makes them; ``adjacency`` is checked by
    ``check_adjacency``.
    """
    pairs = check_adjacency(adjacency)
    left = keys[["unit_code", "as_of_year"]].astype({"unit_code": str}).reset_index(drop=True)
    left["_row"] = range(len(left))
    linked = left.merge(pairs, on="unit_code", how="inner")
    values = lbm_at[["unit_code", "as_of_year", *FROM_COLUMNS.values()]].rename(
        columns={"unit_code": "neighbour_code"}
    ).astype({"neighbour_code": str})
    linked = linked.merge(values, on=["neighbour_code", "as_of_year"], how="left")
    means = linked.groupby("_row")[list(FROM_COLUMNS.values())].mean()  # NaN skipped
    means = means.reindex(range(len(keys)))
    out = pd.DataFrame(index=keys.index)
    for feature, column in FROM_COLUMNS.items():
        out[feature] = means[column].to_numpy(dtype="float64")
    own = lbm_at.set_index(["unit_code", "as_of_year"])["lbm"]
    own = own.reindex(pd.MultiIndex.from_arrays([keys["unit_code"], keys["as_of_year"]]))
    out[LBM_MINUS_NB] = own.to_numpy(dtype="float64") - out[NB_LBM].to_numpy()
    return out

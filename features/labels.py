"""The decline label of a panel row (see ``docs/labels.md``): a score drop of at least
``delta`` by the release's next measurement, or the release's official development class.

Labels look ahead on purpose (they are what the model learns to predict); features never do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LABEL_TOLERANCE = 1e-9


def panel_labels(
    lbm: pd.DataFrame,
    keys: pd.DataFrame,
    kind: str,
    delta: float,
    max_class: int,
    development: pd.DataFrame | None,
) -> pd.DataFrame:
    """``label_outcome_year``, ``label_lbm_change`` and ``label`` of each row of ``keys``."""
    if kind != "development_class":
        return labels(lbm, keys, delta)
    if development is None:
        raise ValueError(
            "The 'development_class' label needs a release with development classes "
            "(lbm2_pc4 or lbm2_json). Got none."
        )
    return development_labels(development, lbm, keys, max_class)


def last_and_next(
    lbm: pd.DataFrame, keys: pd.DataFrame, value: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per row: the unit's last measurement at or before T, and its measurement in the
    release's next measurement year after T (missing if the unit was not measured then).

    The horizon is the release's calendar, not the unit's: a unit skipped in one edition
    has no label for that period rather than a label over a longer one.
    """
    m = lbm[["unit_code", "year", value]].rename(columns={"year": "m_year"})
    m = m[m[value].notna()].sort_values("m_year")
    left = keys[["unit_code", "as_of_year"]].reset_index().sort_values("as_of_year")
    last = pd.merge_asof(
        left, m, left_on="as_of_year", right_on="m_year", by="unit_code", direction="backward"
    ).set_index("index").reindex(keys.index)
    calendar = np.sort(m["m_year"].unique())
    pos = np.searchsorted(calendar, keys["as_of_year"].to_numpy(), side="right")
    if len(calendar) == 0:  # a release without this value (classes only): no next year
        next_year = np.full(len(keys), -1)
    else:
        next_year = np.where(
            pos < len(calendar), calendar[np.minimum(pos, len(calendar) - 1)], -1
        )
    wanted = pd.DataFrame(
        {"unit_code": keys["unit_code"].to_numpy(), "m_year": next_year}, index=keys.index
    )
    nxt = wanted.reset_index().merge(m, on=["unit_code", "m_year"], how="left")
    nxt = nxt.set_index("index").reindex(keys.index)
    nxt["m_year"] = nxt["m_year"].where(nxt[value].notna())
    return last, nxt


def labels(lbm: pd.DataFrame, keys: pd.DataFrame, delta: float) -> pd.DataFrame:
    """``label`` = 1 when lbm(next measurement after T) - lbm(last at or before T) <= -delta;
    missing when either measurement is missing."""
    last, nxt = last_and_next(lbm, keys, "lbm")
    change = nxt["lbm"] - last["lbm"]
    out = pd.DataFrame(index=keys.index)
    out["label_outcome_year"] = nxt["m_year"].where(change.notna()).astype("Int64")
    out["label_lbm_change"] = change.astype("float64")
    declined = change <= -delta + LABEL_TOLERANCE
    out["label"] = pd.array(np.where(change.isna(), pd.NA, declined), dtype="Int8")
    return out


def development_labels(
    development: pd.DataFrame, lbm: pd.DataFrame, keys: pd.DataFrame, max_class: int
) -> pd.DataFrame:
    """``label`` = 1 when the official development class between the last measurement at or
    before T and the next measurement is <= ``max_class``; missing where the release has none."""
    value = "lbm_class" if "lbm_class" in lbm.columns else "lbm"
    last, nxt = last_and_next(lbm, keys, value)
    pairs = pd.DataFrame(
        {"unit_code": keys["unit_code"], "from_year": last["m_year"], "to_year": nxt["m_year"]},
        index=keys.index,
    )
    dev = development.astype({"from_year": "float64", "to_year": "float64"})
    joined = (
        pairs.reset_index()
        .merge(dev, on=["unit_code", "from_year", "to_year"], how="left")
        .set_index("index")
        .reindex(keys.index)
    )
    cls = joined["development_class"]
    score_last, score_next = last_and_next(lbm, keys, "lbm")
    out = pd.DataFrame(index=keys.index)
    out["label_outcome_year"] = nxt["m_year"].where(cls.notna()).astype("Int64")
    out["label_lbm_change"] = (score_next["lbm"] - score_last["lbm"]).astype("float64")
    out["label"] = pd.array(np.where(cls.isna(), pd.NA, cls <= max_class), dtype="Int8")
    return out

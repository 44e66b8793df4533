"""Aggregation of units into larger ones: counts are summed, every other variable is a mean
weighted by its weight variable (inhabitants, households or dwellings), as ``features.schema``
declares. Used for gemeente totals, and for code changes (old codes merged into a new one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.schema import CBS_BY_NAME, unit_level
from wijkradar.sourceconfig import ColumnMap


def aggregate(frame: pd.DataFrame, new_code: pd.Series, variables: Sequence[str]) -> pd.DataFrame:
    """Aggregate ``frame`` (unit_code, year, variables) to (new_code, year).

    ``new_code`` is aligned with ``frame``'s rows. Missing values are left out of sums and
    means; a group whose values are all missing stays missing.
    """
    keys = pd.DataFrame({"unit_code": new_code.to_numpy(), "year": frame["year"].to_numpy()})
    out = keys.drop_duplicates().set_index(["unit_code", "year"]).sort_index()
    grouped_keys = [keys["unit_code"], keys["year"]]
    for name in variables:
        var = CBS_BY_NAME[name]
        values = frame[name].to_numpy(dtype="float64")
        if var.kind == "count":
            summed = pd.Series(values).groupby(grouped_keys).sum(min_count=1)
            out[name] = summed
            continue
        weights = frame[var.weight].to_numpy(dtype="float64") if var.weight else np.ones(len(frame))
        ok = ~np.isnan(values) & ~np.isnan(weights)
        wx = pd.Series(np.where(ok, values * weights, 0.0)).groupby(grouped_keys).sum()
        w = pd.Series(np.where(ok, weights, 0.0)).groupby(grouped_keys).sum()
        out[name] = wx / w.replace(0.0, np.nan)
    return out.reset_index()


CROSSWALK_COLUMNS = ("old_code", "new_code", "year", "weight")


def _recode_once(
    frame: pd.DataFrame,
    step: pd.DataFrame,
    variables: Sequence[str],
    weight_of: dict[str, str | None],
    population: pd.DataFrame | None,
) -> pd.DataFrame:
    """Apply the code changes of one year to the rows of earlier years."""
    year = int(step["year"].iloc[0])
    affected = frame["unit_code"].isin(step["old_code"]) & (frame["year"] < year)
    if not affected.any():
        return frame
    old = frame[affected].merge(
        step[["old_code", "new_code", "weight"]], left_on="unit_code", right_on="old_code"
    )
    if population is not None:
        pop = population.rename(columns={"unit_code": "old_code", "inhabitants": "_pop"})
        old = old.merge(pop[["old_code", "year", "_pop"]], on=["old_code", "year"], how="left")
    else:
        old["_pop"] = 1.0
    share = old["weight"].to_numpy(dtype="float64")
    parts = {}
    for name in variables:
        values = old[name].to_numpy(dtype="float64")
        weight_col = weight_of.get(name)
        if weight_col is None:  # a count: the old unit's share of it moves to the new unit
            parts[f"{name}__x"] = values * share
            continue
        source = old[weight_col] if weight_col in old.columns else old["_pop"]
        w = share * source.fillna(1.0).to_numpy(dtype="float64")
        ok = ~np.isnan(values)
        parts[f"{name}__wx"] = np.where(ok, values * w, 0.0)
        parts[f"{name}__w"] = np.where(ok, w, 0.0)
    sums = (
        pd.DataFrame(parts, index=old.index)
        .groupby([old["new_code"], old["year"]])
        .sum(min_count=1)
    )
    out = pd.DataFrame(index=sums.index)
    for name in variables:
        if weight_of.get(name) is None:
            out[name] = sums[f"{name}__x"]
        else:
            out[name] = sums[f"{name}__wx"] / sums[f"{name}__w"].where(sums[f"{name}__w"] > 0)
    out = out.reset_index().rename(columns={"new_code": "unit_code"})
    kept = frame[~affected]
    clash = out.merge(kept[["unit_code", "year"]], on=["unit_code", "year"])
    if not clash.empty:
        first = clash.iloc[0]
        raise ValueError(
            f"The crosswalk of {year} maps old codes onto {first['unit_code']}, which has its "
            f"own data for {first['year']}: a year's data must come from the old codes or the "
            "new code, not both."
        )
    if "unit_name" in frame.columns:
        newest = frame.sort_values("year").drop_duplicates("unit_code", keep="last")
        names = newest.set_index("unit_code")["unit_name"]
        mapped = out["unit_code"].map(names).astype(object)
        out["unit_name"] = mapped.where(mapped.notna(), out["unit_code"])
    if "level" in frame.columns:
        out["level"] = out["unit_code"].map(unit_level)
    return pd.concat([kept, out.reindex(columns=frame.columns)], ignore_index=True)


def apply_crosswalk(
    frame: pd.DataFrame,
    crosswalk: pd.DataFrame,
    variables: Sequence[str],
    weight_of: dict[str, str | None],
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Express the rows of years before each code change in the new codes.

    ``crosswalk`` rows (old_code, new_code, year, weight) say that from ``year`` on the area of
    ``old_code`` (a ``weight`` share of it; 1 for a plain recode or merger) belongs to
    ``new_code``. Rows of earlier years are moved to the new code: counts are summed (times the
    weight), every other variable is averaged with the weight times its weight variable
    (``weight_of``: variable -> weight column, None for counts); a weight variable the frame
    lacks is taken from ``population`` (unit_code, year, inhabitants), else equal weights.
    Changes are applied in year order, so chains (A -> B -> C) end at the newest code.
    """
    if crosswalk.empty:
        return frame
    out = frame
    for _, step in crosswalk.sort_values("year").groupby("year", sort=True):
        out = _recode_once(out, step, variables, weight_of, population)
    return out.sort_values(["unit_code", "year"], ignore_index=True)


def cbs_weights() -> dict[str, str | None]:
    """CBS variable -> its weight variable (None for counts, which are summed)."""
    return {name: (None if v.kind == "count" else v.weight) for name, v in CBS_BY_NAME.items()}


INVESTMENT_WEIGHTS: dict[str, str | None] = {
    "corp_renovation_per_dwelling": "dwellings",
    "middle_income_new_dwellings": None,
    "market_investment_per_dwelling": "dwellings",
    "krachtwijk": "dwellings",
    "programme_budget_per_dwelling": "dwellings",
}
SCORE_WEIGHTS: dict[str, str | None] = {
    c: "inhabitants" for c in ("lbm", "afw", "fys", "onv", "soc", "vrz", "won")
}


def mapped_weights(
    mapped: Sequence[ColumnMap], frame: pd.DataFrame, weight: str
) -> dict[str, str | None]:
    """The weights of the mapped columns ``frame`` holds (none of them built in): a count is
    summed, a share, rate or amount is a mean weighted by ``weight``."""
    builtin = {*CBS_BY_NAME, *INVESTMENT_WEIGHTS}
    return {
        c.name: (None if c.kind == "count" else weight)
        for c in mapped if c.name in frame.columns and c.name not in builtin
    }


def harmonize(
    cbs: pd.DataFrame,
    lbm: pd.DataFrame | None,
    investment: pd.DataFrame | None,
    crosswalk: pd.DataFrame,
    mapped: Sequence[ColumnMap] = (),
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """All sources in the newest codes. Leefbarometer scores and investment per dwelling are
    weighted by the old units' inhabitants (taken from the CBS data) or dwellings. Columns
    mapped through a source's ``columns`` (``mapped``) move with their kind: counts summed,
    the rest weighted by inhabitants (CBS) or dwellings (further yearly variables)."""
    if crosswalk.empty:
        return cbs, lbm, investment
    population = cbs[["unit_code", "year", "inhabitants", "dwellings"]]
    weights = {**cbs_weights(), **mapped_weights(mapped, cbs, "inhabitants")}
    cbs_h = apply_crosswalk(cbs, crosswalk, list(weights), weights)
    lbm_h = None
    if lbm is not None:
        lbm_vars = [c for c in SCORE_WEIGHTS if c in lbm.columns]
        lbm_h = apply_crosswalk(lbm, crosswalk, lbm_vars, SCORE_WEIGHTS, population)
    inv_h = None
    if investment is not None:
        inv_weights = {**INVESTMENT_WEIGHTS, **mapped_weights(mapped, investment, "dwellings")}
        inv_vars = [c for c in inv_weights if c in investment.columns]
        with_dw = investment.merge(
            population[["unit_code", "year", "dwellings"]], on=["unit_code", "year"], how="left"
        )
        inv_h = apply_crosswalk(with_dw, crosswalk, inv_vars, inv_weights)
        inv_h = inv_h.drop(columns="dwellings")
    return cbs_h, lbm_h, inv_h

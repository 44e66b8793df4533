"""Aggregation of units into larger ones: counts are summed, every other variable is a mean
weighted by its weight variable (inhabitants, households or dwellings), as ``features.schema``
declares. Used for gemeente totals, and for code changes (old codes merged into a new one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.schema import CBS_BY_NAME


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

"""Derived features, hamilton style: each function is named after the column it produces,
and its parameters name the panel columns it reads. ``compute`` runs them in order.

They are pure: Series in, Series out, aligned on the panel's index. They group by gemeente and
as-of year, and every row of an as-of year has the same knowledge date, so a context feature
is made of values its row knew (``features.panel.build_panel``). The gemeente context
features are declared in ``CONTEXT_FEATURES``: a name of the grammar ``gm_<feature>``
(``features.vocabulary``), whose labels and unit are those of ``<feature>``, and the part of
the gemeente it summarises.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.vocabulary import Scope


def _gemeente_weighted_mean(
    values: pd.Series,
    weights: pd.Series,
    gemeente_code: pd.Series,
    as_of_year: pd.Series,
    leave_out_self: bool = False,
) -> pd.Series:
    """Weighted mean over the units of the same gemeente and as-of year (NaN ignored).

    With ``leave_out_self`` each unit gets the mean of the *other* units of its gemeente
    (missing when it has none): what surrounds a unit, not the unit itself.
    """
    ok = values.notna() & weights.notna() & gemeente_code.notna()
    if not ok.any():  # e.g. PC4 units, which lie in no single gemeente
        return pd.Series(np.nan, index=values.index, dtype="float64")
    w = weights.where(ok, 0.0)
    wx = (values * w).where(ok, 0.0)
    frame = pd.DataFrame({"g": gemeente_code.fillna(""), "t": as_of_year, "wx": wx, "w": w})
    sums = frame.groupby(["g", "t"], sort=False)[["wx", "w"]].transform("sum")
    if leave_out_self:
        sums = sums - frame[["wx", "w"]]
    return (sums["wx"] / sums["w"].where(sums["w"] > 1e-9)).astype("float64")


def gm_lbm_chg_prev(
    lbm_chg_prev: pd.Series, inhabitants: pd.Series, gemeente_code: pd.Series, as_of_year: pd.Series
) -> pd.Series:
    """Spill-over: the population-weighted livability change since the previous measurement
    in the rest of the gemeente (the unit itself left out)."""
    return _gemeente_weighted_mean(
        lbm_chg_prev, inhabitants, gemeente_code, as_of_year, leave_out_self=True
    )


def gm_low_income_hh_pct_chg3(
    low_income_hh_pct_chg3: pd.Series,
    households: pd.Series,
    gemeente_code: pd.Series,
    as_of_year: pd.Series,
) -> pd.Series:
    """The gemeente's household-weighted 3-year change in the share of low-income households."""
    return _gemeente_weighted_mean(low_income_hh_pct_chg3, households, gemeente_code, as_of_year)


def gm_inhabitants(
    inhabitants: pd.Series, gemeente_code: pd.Series, as_of_year: pd.Series
) -> pd.Series:
    """Size of the gemeente (sum of its units' inhabitants)."""
    frame = pd.DataFrame({"g": gemeente_code.fillna(""), "t": as_of_year, "x": inhabitants})
    total = frame.groupby(["g", "t"], sort=False)["x"].transform("sum").astype("float64")
    return total.where(gemeente_code.notna())


@dataclass(frozen=True)
class ContextFeature:
    """A gemeente context feature: the function that makes it and what it summarises."""

    make: Callable[..., pd.Series]
    scope: Scope

    @property
    def name(self) -> str:
        return self.make.__name__


CONTEXT_FEATURES: tuple[ContextFeature, ...] = (
    ContextFeature(gm_lbm_chg_prev, Scope.REST_OF_GEMEENTE),  # leave_out_self=True
    ContextFeature(gm_low_income_hh_pct_chg3, Scope.GEMEENTE),
    ContextFeature(gm_inhabitants, Scope.GEMEENTE),
)
GEMEENTE_CONTEXT: tuple[Callable[..., pd.Series], ...] = tuple(c.make for c in CONTEXT_FEATURES)


def available(frame: pd.DataFrame, functions: Sequence[Callable[..., pd.Series]]) -> list[
    Callable[..., pd.Series]
]:
    """The functions whose inputs the frame has (e.g. no 3-year change without lag 3)."""
    return [
        fn for fn in functions if set(inspect.signature(fn).parameters) <= set(frame.columns)
    ]


def compute(frame: pd.DataFrame, functions: Sequence[Callable[..., pd.Series]]) -> pd.DataFrame:
    """Add one column per function, named after it, with its parameters taken from ``frame``.

    Functions may use columns added by earlier ones. A parameter that names no column is an
    error that says which function needed it.
    """
    out = frame.copy()
    for fn in functions:
        params = list(inspect.signature(fn).parameters)
        missing = [p for p in params if p not in out.columns]
        if missing:
            raise KeyError(f"feature {fn.__name__!r} needs column(s) {missing}, which are absent")
        out[fn.__name__] = fn(**{p: out[p] for p in params})
    return out

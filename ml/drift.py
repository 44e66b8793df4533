"""Input drift: does the panel being scored still look like the rows the model was trained on?

At training time ``training_profile`` records, per feature, quantile bin edges of the training
rows, the share of the non-missing values in each bin and the share missing (a small JSON
document to store with the model). At scoring time ``drift_table`` bins the current rows with
the same edges and compares:

* ``psi``: the population stability index of the non-missing values over the bins,
  ``sum((a - e) * ln(a / e))``. Rules of thumb: < 0.1 stable, 0.1-0.25 some shift,
  > 0.25 a shift worth a look.
* ``missing_train`` / ``missing_now``: the share missing, compared separately, because a
  feature that went missing is a different problem (a source not delivered) from one whose
  values moved.

Bins are ``(-inf, e1], (e1, e2], ..., (ek, inf)`` over the distinct interior quantiles, so a
value outside the training range falls in an outer bin and a feature with few distinct values
(0/1, say) gets one bin per value rather than empty duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
PSI_LIMIT = 0.25
MISSING_LIMIT = 0.1
EPS = 1e-4
DRIFT_COLUMNS = ("feature", "psi", "missing_train", "missing_now", "flagged")


def psi(
    expected_shares: Sequence[float] | np.ndarray,
    actual_shares: Sequence[float] | np.ndarray,
    eps: float = EPS,
) -> float:
    """Population stability index ``sum((a - e) * (ln a - ln e))``, shares below ``eps``
    raised to ``eps`` (an empty bin would otherwise be infinitely surprising).

    Non-negative, zero for identical shares, and symmetric: psi(e, a) == psi(a, e) exactly
    (each term is a product of two differences that both change sign)."""
    e = np.asarray(expected_shares, dtype="float64")
    a = np.asarray(actual_shares, dtype="float64")
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(f"shares must be two vectors of one length, got {e.shape}, {a.shape}")
    if (e < 0).any() or (a < 0).any() or np.isnan(e).any() or np.isnan(a).any():
        raise ValueError("shares must be non-negative numbers")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    terms = (a - e) * (np.log(a) - np.log(e))
    return float(np.sum(np.maximum(terms, 0.0)))  # each term is >= 0; clip rounding noise


def _values(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _edges(x: np.ndarray, bins: int) -> list[float]:
    """Distinct interior quantiles of the finite values (empty: one bin)."""
    finite = x[np.isfinite(x)]
    if finite.size == 0 or bins < 2:
        return []
    qs = np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return [float(q) for q in np.unique(qs)]


def bin_shares(x: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Share of the non-missing values of ``x`` in each of the len(edges) + 1 bins
    (all zero when none is present)."""
    present = x[~np.isnan(x)]
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype="float64"), present, side="left"),
        minlength=len(edges) + 1,
    )
    return counts / present.size if present.size else counts.astype("float64")


def training_profile(X: pd.DataFrame, bins: int = 10) -> dict[str, Any]:
    """Per feature: quantile bin edges of the training rows, the share of non-missing values
    per bin and the share missing. JSON-serialisable (plain floats; no NaN or inf)."""
    features: dict[str, Any] = {}
    for name in X.columns:
        x = _values(X[name])
        edges = _edges(x, bins)
        missing = float(np.isnan(x).mean()) if x.size else 1.0
        shares = bin_shares(x, edges) if missing < 1.0 else np.zeros(0)
        features[str(name)] = {
            "edges": edges,
            "shares": [float(s) for s in shares],
            "missing": missing,
        }
    return {"version": PROFILE_VERSION, "bins": bins, "rows": len(X), "features": features}


def flag_drift(
    table: pd.DataFrame, psi_limit: float = PSI_LIMIT, missing_limit: float = MISSING_LIMIT
) -> pd.DataFrame:
    """``table`` with ``flagged`` set where psi > psi_limit or the share missing moved by
    more than missing_limit (either way). A NaN psi (no values on one side) flags nothing by
    itself; the missing shares tell that story."""
    moved = (table["missing_now"] - table["missing_train"]).abs() > missing_limit
    out = table.copy()
    out["flagged"] = (table["psi"] > psi_limit).fillna(False).astype(bool) | moved
    return out


def drift_table(
    profile: dict[str, Any],
    X: pd.DataFrame,
    psi_limit: float = PSI_LIMIT,
    missing_limit: float = MISSING_LIMIT,
) -> pd.DataFrame:
    """One row per profiled feature: feature, psi, missing_train, missing_now, flagged (see
    ``flag_drift``). A feature ``X`` lacks counts as entirely missing now."""
    rows = []
    for name, spec in profile["features"].items():
        if name in X.columns and len(X):
            x = _values(X[name])
            missing_now = float(np.isnan(x).mean())
        else:
            x, missing_now = np.zeros(0), 1.0
        train_shares = np.asarray(spec["shares"], dtype="float64")
        value = math.nan
        if train_shares.size and missing_now < 1.0:
            value = psi(train_shares, bin_shares(x, spec["edges"]))
        rows.append(
            {
                "feature": name,
                "psi": value,
                "missing_train": float(spec["missing"]),
                "missing_now": missing_now,
                "flagged": False,
            }
        )
    table = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS)).astype(
        {"psi": "float64", "missing_train": "float64", "missing_now": "float64", "flagged": bool}
    )
    return flag_drift(table, psi_limit, missing_limit)

"""The long explanations of a ranking: one row per (unit, feature) with the feature's value,
its contribution and its rank within the unit, built whole (``explanations_long``, which
``serving.exports`` re-exports) or in pieces of units (``explanation_chunks``), which is how
a run's explanations.parquet is written (``serving.writers``): 1M units x 100 features are
100M rows, and no more than one piece of them is held at a time.

Inputs as in ``serving.exports``: ``ranking`` holds ``unit_code`` and the ``shap__<feature>``
columns, ``values`` holds ``unit_code`` and the feature values the model saw.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from models.explain import shap_column, shap_features
from serving.lookup import positions_of
from serving.ranking import ValueColumns, contribution_matrix

EXPLAIN_CHUNK_UNITS = 20_000  # units per piece (2M rows at 100 features)


def contributions(ranking: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The ranking's features (from its ``shap__<feature>`` columns) and their contributions
    (a view of the ranking's data where it can be: ``serving.ranking.contribution_matrix``)."""
    features = shap_features(list(ranking.columns))
    return features, contribution_matrix(ranking, [shap_column(f) for f in features])


def value_columns(
    unit_codes: pd.Series, values: pd.DataFrame, features: Sequence[str]
) -> ValueColumns:
    """The values of ``features`` for ``unit_codes``, by unit (``values``' columns as they
    are, no copy of float64 columns; NaN for a feature or a unit ``values`` lacks)."""
    if values["unit_code"].duplicated().any():
        raise ValueError("values holds a unit_code more than once.")
    positions = positions_of(unit_codes, values["unit_code"])
    columns = [
        values[f].to_numpy(dtype="float64", na_value=np.nan) if f in values.columns else None
        for f in features
    ]
    return ValueColumns(columns, positions)


def explanation_rows(
    codes: pd.Index, contrib: np.ndarray, vals: np.ndarray, features: Sequence[str]
) -> pd.DataFrame:
    """The long explanations of the units ``codes`` (their contributions ``contrib`` and
    values ``vals``, both (units, features)), as ``explanations_long`` describes them;
    unit_code's categories are ``codes``."""
    n, p = contrib.shape
    order = np.argsort(-contrib, axis=1, kind="stable")  # top_contributions, all of them
    rank_dtype = np.int16 if p < 2**15 else np.int32
    return pd.DataFrame(
        {
            "unit_code": pd.Categorical.from_codes(
                np.repeat(np.arange(n, dtype=np.int32), p), categories=codes
            ),
            "feature": pd.Categorical.from_codes(order.ravel(), categories=pd.Index(features)),
            "value": np.take_along_axis(vals, order, axis=1).ravel(),
            "contribution": np.take_along_axis(contrib, order, axis=1).ravel(),
            "rank": np.tile(np.arange(1, p + 1, dtype=rank_dtype), n),
        }
    )


def explanation_chunks(
    ranking: pd.DataFrame, values: pd.DataFrame, chunk_units: int = EXPLAIN_CHUNK_UNITS
) -> Iterator[pd.DataFrame]:
    """``explanations_long`` in pieces of ``chunk_units`` units, in the ranking's order (each
    piece's unit_code categories are its own units), so that no more than one piece of the
    long table is held at a time: 1M units x 100 features are 100M rows."""
    if chunk_units < 1:
        raise ValueError(f"chunk_units must be >= 1. Got {chunk_units!r} instead.")
    features, contrib = contributions(ranking)
    codes = ranking["unit_code"]
    if codes.duplicated().any():
        raise ValueError("The ranking holds a unit_code more than once.")
    columns = value_columns(codes, values, features)
    for start in range(0, max(len(ranking), 1), chunk_units):
        stop = min(start + chunk_units, len(ranking))
        rows = np.arange(start, stop)
        vals = np.empty((len(rows), len(features)))
        for j in range(len(features)):
            vals[:, j] = columns.at(j, rows)
        block = np.array(contrib[start:stop], dtype="float64", order="C")
        yield explanation_rows(pd.Index(codes.iloc[start:stop]), block, vals, features)


def explanations_long(ranking: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, feature): unit_code, feature, value, contribution, rank, where
    rank 1 is the largest (most risk-raising) contribution within the unit. Rows follow
    the ranking's order and, within a unit, the rank. unit_code and feature are
    categoricals, so 14,500 units x 100 features take about 30 MB. (A run's
    explanations.parquet is written in pieces: ``explanation_chunks``.)"""
    return next(explanation_chunks(ranking, values, max(len(ranking), 1)))



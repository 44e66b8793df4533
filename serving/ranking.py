"""The ranking: pure construction of the published table from the model's output.

The contributions, their columns and each row's top contributions come from the explanation
core (``models.explain``); this module turns them into ranks and driver texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.describe import Extra
from models.explain import (
    CHUNK_ROWS,
    SHAP_BASE,
    shap_column,
    shap_features,
    top_contributions,
)
from serving.drivers import driver_sentence
from serving.formatting import Lang

RANKING_ID_COLUMNS = (
    "unit_code",
    "unit_name",
    "gemeente_code",
    "gemeente_name",
    "as_of_year",
    "risk",
    "margin",
    "rank",
    "rank_in_gemeente",
    "top_drivers",
)


def top_positive(shap: np.ndarray, k: int, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """(n, k) column indices of each row's k largest positive contributions, largest first,
    ties in column order, -1 where a row has fewer: what ``models.explain.top_contributions``
    selects, as one integer array (k passes of ``argmax`` per chunk of rows, no sort)."""
    matrix = np.atleast_2d(shap)
    if k < 0:
        raise ValueError(f"k must be a whole number >= 0. Got {k!r} instead.")
    out = np.full((len(matrix), k), -1, dtype=np.intp)
    for start in range(0, len(matrix), chunk_rows):
        block = np.array(matrix[start : start + chunk_rows], dtype="float64", order="C")
        block[~(block > 0)] = -np.inf  # neither NaN nor a risk-lowering value is a driver
        rows = np.arange(len(block))
        for t in range(min(k, block.shape[1])):
            j = block.argmax(axis=1)  # the first of equal maxima: ties in column order
            hit = block[rows, j] > -np.inf
            out[start + rows[hit], t] = j[hit]
            block[rows, j] = -np.inf
    return out


@dataclass(frozen=True)
class ValueColumns:
    """The feature values behind a contribution matrix's rows, one float64 column per
    feature (None: unknown), row i of the matrix at ``positions[i]`` of the columns (all
    rows in order when None; -1: an unknown unit, all its values missing)."""

    columns: Sequence[np.ndarray | None]
    positions: np.ndarray | None = None

    def at(self, j: int, rows: np.ndarray) -> np.ndarray:
        """The values of feature ``j`` at the matrix rows ``rows`` (NaN where unknown)."""
        column = self.columns[j]
        if column is None or len(column) == 0:
            return np.full(len(rows), np.nan)
        if self.positions is None:
            return column[rows]
        where = self.positions[rows]
        return np.where(where >= 0, column[np.maximum(where, 0)], np.nan)

    @classmethod
    def of_frame(
        cls, frame: pd.DataFrame, features: Sequence[str], positions: np.ndarray | None = None
    ) -> ValueColumns:
        """The ``features`` of ``frame`` (a column it lacks is unknown), row for row, or the
        matrix's row i at ``positions[i]`` of the frame."""
        columns = [_floats(frame[f]) if f in frame.columns else None for f in features]
        return cls(columns, positions)


def _floats(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="float64", na_value=np.nan)


def driver_texts(
    shap: np.ndarray,
    values: ValueColumns,
    features: Sequence[str],
    k: int = 3,
    lang: Lang = "nl",
    extra: Extra | None = None,
) -> list[str]:
    """Per row of ``shap`` (n, features), its k largest positive contributions as driver
    sentences (``serving.drivers.driver_sentence``; ``extra``: the panel's mapped columns)
    joined by "; ", "" without any.

    Each distinct sentence is made once: the values of a feature are grouped by what a
    sentence can show of them (``sentence_groups``), one sentence per group."""
    top = top_positive(shap, k)
    n = len(top)
    parts = np.full(top.shape, "", dtype=object)
    flat = top.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(len(features) + 1))
    for j, feature in enumerate(features):
        cells = order[starts[j] : starts[j + 1]]  # flat cells holding feature j
        if len(cells) == 0:
            continue
        vals = values.at(j, cells // max(k, 1))
        first, inverse = sentence_groups(vals)
        said = np.array(
            [driver_sentence(feature, float(v), lang, extra) for v in vals[first]], dtype=object
        )
        parts.ravel()[cells] = said[inverse]
    joined = parts[:, 0] if k else np.full(n, "", dtype=object)
    for t in range(1, k):
        more = top[:, t] >= 0
        joined = np.where(more, joined + "; " + parts[:, t], joined)
    return joined.tolist()


_HALF_STEP_MARGIN = 1e-9  # plus 4.5e-16 x the scaled value: numpy's rounding error
_POWER_MARGIN = 1e-9  # |log10| this close to a whole number: decimals may differ
_SCALED_MAX = 1e12


def sentence_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values grouped such that values of a group read alike in any driver sentence:
    (the index of one value per group, the group of each value).

    A sentence (``serving.drivers.driver_sentence``) shows a value as
    ``features.numbers.number`` writes it: d = 0..3 decimals by its magnitude (about 3
    significant digits), |value| rounded to d decimals, its sign; and it reads whether the
    value is missing, at least 0.5 (a flag), below 0.0005 in size (no change) or whole (a
    class). A group shares all of these. Where numpy's rounding could differ from Python's (a
    value within about 1e-9 of a half step or of a power of ten, an infinity, a huge value)
    a value is its own group (by its bits). ``tests/unit/test_writers.py`` checks this
    against ``driver_sentence`` value by value."""
    v = np.asarray(values, dtype="float64")
    a = np.abs(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.log10(a)
        places = np.where(a == 0, 0.0, np.clip(2.0 - np.floor(lg), 0.0, 3.0))
        scaled = a * 10.0**places
        half = np.abs(scaled - np.floor(scaled) - 0.5)
        safe = (
            np.isfinite(scaled)
            & (scaled < _SCALED_MAX)
            & (half > _HALF_STEP_MARGIN + 4.5e-16 * scaled)
            & ((a == 0) | (np.abs(lg - np.rint(lg)) > _POWER_MARGIN))
        )
        rounded = np.where(safe, np.rint(scaled) * 4 + places, 0.0).astype(np.int64)
    flags = (
        (v > 0).astype(np.int64)
        | (v < 0) << 1
        | (v >= 0.5) << 2
        | (a < 0.0005) << 3
        | (v == np.floor(v)) << 4
        | np.isnan(v) << 5
        | ~safe << 6
    )
    code = np.where(safe, rounded, np.where(np.isnan(v), 0, v.view(np.int64)))
    order = np.lexsort((code, flags))
    fs, cs = flags[order], code[order]
    new = np.ones(len(v), dtype=bool)
    new[1:] = (fs[1:] != fs[:-1]) | (cs[1:] != cs[:-1])
    inverse = np.empty(len(v), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def top_drivers(
    shap: np.ndarray, values: np.ndarray, features: Sequence[str], k: int = 3
) -> list[str]:
    """Per row, the k features that raise its risk most (largest positive contributions of
    ``shap``, see ``models.explain.top_contributions``) as Dutch sentences, joined by "; "
    ("het aandeel huishoudens met laag inkomen steeg 5,4 procentpunt in 3 jaar"). ``values``
    is the (n, features) matrix of feature values (``driver_texts`` takes columns)."""
    matrix = np.asarray(values, dtype="float64")
    columns = ValueColumns([matrix[:, j] for j in range(matrix.shape[1])])
    return driver_texts(shap, columns, features, k, "nl")


def contribution_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """``columns`` of ``frame`` as an (n, len(columns)) float64 array: a view of the frame's
    data when they are adjacent columns of one float64 block (a model output's
    contributions), else a copy."""
    where = frame.columns.get_indexer(list(columns))
    if len(where) and (where >= 0).all() and (np.diff(where) == 1).all():
        return frame.iloc[:, where[0] : where[-1] + 1].to_numpy(dtype="float64", copy=False)
    return frame[list(columns)].to_numpy(dtype="float64")


def top_driver_features(shap: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """Per row of a frame with ``shap__<feature>`` columns, the names of the k features with
    the largest positive contributions (largest first)."""
    names = shap_features(shap.columns)
    matrix = shap[[shap_column(f) for f in names]].to_numpy(dtype="float64")
    return [[names[j] for j in idx] for idx in top_contributions(matrix, k)]


def build_ranking(
    rows: pd.DataFrame, output: pd.DataFrame, features: Sequence[str],
    extra: Extra | None = None,
) -> pd.DataFrame:
    """Join ids with the model's output, rank nationally and within each gemeente; the
    drivers in words name the panel's mapped columns (``extra``) by their labels.

    ``output``'s rows are ``rows``' row for row, or any order of them with their index labels
    (the packaged model's ``order="margin"`` gives rank order). The output frame is extended
    in place, in the published column order; the contributions are copied only when their
    rows are not in rank order yet (by the final sort).
    """
    positions = row_positions(rows.index, output.index)
    shap_cols = [shap_column(f) for f in features]
    shap = contribution_matrix(output, shap_cols)  # a view: no copy of the contributions
    values = ValueColumns.of_frame(rows, features, positions)
    drivers = driver_texts(shap, values, features, extra=extra)
    del shap
    out = output.reset_index(drop=True)  # copy-on-write: no data is copied here
    for i, col in enumerate(
        ("unit_code", "unit_name", "gemeente_code", "gemeente_name", "as_of_year")
    ):
        ids = rows[col].array  # in its own dtype: no detour through Python objects
        out.insert(i, col, ids.copy() if positions is None else ids.take(positions))
    # Ranked by the margin: the calibrated risk is a monotone function of it, but an isotonic
    # calibration has ties.
    margin = out["margin"].to_numpy()
    order = np.argsort(-margin, kind="stable")
    rank = np.empty(len(out), dtype="int64")
    rank[order] = np.arange(1, len(out) + 1)
    out.insert(7, "rank", rank)
    in_gemeente = (
        out.groupby("gemeente_code", dropna=False)["margin"]
        .rank(ascending=False, method="first")
        .astype("int64")
    )
    out.insert(8, "rank_in_gemeente", in_gemeente.to_numpy())
    out.insert(9, "top_drivers", drivers)
    assert list(out.columns) == [*RANKING_ID_COLUMNS, *shap_cols, SHAP_BASE]
    if np.array_equal(order, np.arange(len(out))):
        return out  # in rank order already: nothing to copy
    return out.take(order).reset_index(drop=True)


def row_positions(rows: pd.Index, output: pd.Index) -> np.ndarray | None:
    """Where each of the model's output rows is among the scored rows: None when they are
    the same rows in the same order, else their positions (``output`` any order of
    ``rows``' unique labels)."""
    if output.equals(rows):
        return None
    unique = rows.is_unique and output.is_unique
    positions = rows.get_indexer(output) if unique else np.full(len(output), -1)
    if len(output) != len(rows) or (positions < 0).any():
        raise ValueError(
            f"The model's output holds {len(output):,} rows that are not the {len(rows):,} "
            "rows scored, in any order (an output row's index label must name one row)."
        )
    return positions

"""The ranking: pure construction of the published table from the model's output."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.describe import describe, driver_text
from models.packaged import shap_column

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
ADDITIVITY_TOLERANCE = 1e-6


DRIVER_CHUNK_ROWS = 20_000


def top_drivers(
    shap: np.ndarray, values: np.ndarray, features: Sequence[str], k: int = 3
) -> list[str]:
    """The k features that raise each row's risk most (largest positive contributions).

    Rows are ordered in chunks, so the temporary sort indices stay a chunk's size.
    """
    labels = [describe(f) for f in features]  # once per feature, not per row
    out: list[str] = []
    for start in range(0, len(shap), DRIVER_CHUNK_ROWS):
        block = shap[start : start + DRIVER_CHUNK_ROWS]
        order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        for i, idx in enumerate(order):
            row = start + i
            out.append(
                "; ".join(
                    driver_text(
                        features[j], float(values[row, j]), float(shap[row, j]), labels[j]
                    )
                    for j in idx
                    if shap[row, j] > 0
                )
            )
    return out


def top_driver_features(shap: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """Per row, the names of the k features with the largest positive contributions."""
    cols = [c for c in shap.columns if c.startswith("shap__") and c != "shap__base"]
    matrix = shap[cols].to_numpy()
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :k]
    return [
        [cols[j][len("shap__") :] for j in idx if matrix[i, j] > 0] for i, idx in enumerate(order)
    ]


def additivity_error(output: pd.DataFrame, features: Sequence[str]) -> float:
    """max |shap__base + sum(shap__*) - margin| over the rows."""
    cols = [shap_column(f) for f in features]
    total = output[cols].to_numpy().sum(axis=1) + output["shap__base"].to_numpy()
    return float(np.max(np.abs(total - output["margin"].to_numpy()), initial=0.0))


def build_ranking(
    rows: pd.DataFrame, output: pd.DataFrame, features: Sequence[str]
) -> pd.DataFrame:
    """Join ids with the model's output, rank nationally and within each gemeente.

    The model's output frame is extended in place, in the published column order, so the
    contribution matrix is copied once: by the final sort into rank order.
    """
    shap_cols = [shap_column(f) for f in features]
    shap = output[shap_cols].to_numpy()
    drivers = top_drivers(shap, rows[list(features)].to_numpy(dtype="float64"), features)
    del shap
    out = output.reset_index(drop=True)  # copy-on-write: no data is copied here
    for i, col in enumerate(
        ("unit_code", "unit_name", "gemeente_code", "gemeente_name", "as_of_year")
    ):
        out.insert(i, col, rows[col].to_numpy())
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
    assert list(out.columns) == [*RANKING_ID_COLUMNS, *shap_cols, "shap__base"]
    return out.take(order).reset_index(drop=True)

"""The ranking: pure construction of the published table from the model's output.

The contributions, their columns and each row's top contributions come from the explanation
core (``models.explain``); this module turns them into ranks and driver texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.explain import (
    SHAP_BASE,
    feature_matrix,
    shap_column,
    shap_features,
    top_contributions,
)
from serving.drivers import driver_sentence

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


def top_drivers(
    shap: np.ndarray, values: np.ndarray, features: Sequence[str], k: int = 3
) -> list[str]:
    """Per row, the k features that raise its risk most (largest positive contributions of
    ``shap``, see ``models.explain.top_contributions``) as Dutch sentences, joined by "; "
    ("het aandeel huishoudens met laag inkomen steeg 5,4 procentpunt in 3 jaar")."""
    return [
        "; ".join(driver_sentence(features[j], float(values[row, j]), "nl") for j in idx)
        for row, idx in enumerate(top_contributions(shap, k))
    ]


def top_driver_features(shap: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """Per row of a frame with ``shap__<feature>`` columns, the names of the k features with
    the largest positive contributions (largest first)."""
    names = shap_features(shap.columns)
    matrix = shap[[shap_column(f) for f in names]].to_numpy(dtype="float64")
    return [[names[j] for j in idx] for idx in top_contributions(matrix, k)]


def build_ranking(
    rows: pd.DataFrame, output: pd.DataFrame, features: Sequence[str]
) -> pd.DataFrame:
    """Join ids with the model's output, rank nationally and within each gemeente.

    The model's output frame is extended in place, in the published column order, so the
    contribution matrix is copied once: by the final sort into rank order.
    """
    shap_cols = [shap_column(f) for f in features]
    shap = output[shap_cols].to_numpy()
    drivers = top_drivers(shap, feature_matrix(rows, features), features)
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
    assert list(out.columns) == [*RANKING_ID_COLUMNS, *shap_cols, SHAP_BASE]
    return out.take(order).reset_index(drop=True)

"""Model skill and explanation fidelity against a generated workspace's ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ml.metrics import normalized_auc, precision_at, top_count
from models.explain import shap_column, shap_features, top_contributions

TRUE_PREFIX = "true_shap__"
DRIVERS = 3  # how many top drivers are compared per unit


def compare(ranking: pd.DataFrame, truth: pd.DataFrame, top_frac: float = 0.1) -> dict[str, float]:
    """Skill of ``ranking['risk']`` against the truth of the same as-of year.

    Returns the model's and the oracle's (``p_decline``) ROC-AUC and precision at 10 %
    against the realised ``declined``, the normalised AUC, and driver fidelity: over the top
    ``top_frac`` of units by ``p_decline`` (``ml.metrics.top_count`` of them), the mean share
    of each unit's true top-3 drivers found among the ranking's top-3 positive SHAP drivers
    (when the ranking has SHAP columns).
    """
    year = int(ranking["as_of_year"].iloc[0])
    t = truth[truth["as_of_year"] == year]
    joined = ranking.merge(t, on=["unit_code", "as_of_year"], how="inner", validate="1:1")
    out: dict[str, float] = {"n": float(len(joined))}
    known = joined[joined["declined"].notna()]
    if len(known) and known["declined"].nunique() == 2:
        y = known["declined"].to_numpy(dtype="int64")
        out["roc_auc"] = float(roc_auc_score(y, known["risk"]))
        out["oracle_roc_auc"] = float(roc_auc_score(y, known["p_decline"]))
        out["normalized_auc"] = normalized_auc(out["roc_auc"], out["oracle_roc_auc"])
        out["precision_at_10"] = precision_at(y, known["risk"].to_numpy(), 0.1)
        out["oracle_precision_at_10"] = precision_at(y, known["p_decline"].to_numpy(), 0.1)
    model_names = shap_features(ranking.columns)
    if not model_names:
        return out
    top = joined.nlargest(top_count(len(joined), top_frac), "p_decline")
    true_top, model_top = true_and_model_drivers(top, model_names)
    overlap = [len(set(a) & set(b)) / DRIVERS for a, b in zip(true_top, model_top, strict=True)]
    out["driver_top3_recall"] = float(np.mean(overlap))
    return out


def true_and_model_drivers(
    joined: pd.DataFrame, model_names: list[str], k: int = DRIVERS
) -> tuple[list[list[str]], list[list[str]]]:
    """Per row of a ranking joined with its truth: the k true drivers (largest
    ``true_shap__*``, whatever their sign) and the model's k largest positive contributions."""
    true_cols = [c for c in joined.columns if c.startswith(TRUE_PREFIX)]
    true_names = [c[len(TRUE_PREFIX) :] for c in true_cols]
    true_matrix = joined[true_cols].to_numpy(dtype="float64")
    model_matrix = joined[[shap_column(f) for f in model_names]].to_numpy(dtype="float64")
    true_top = top_contributions(true_matrix, k, positive_only=False)
    model_top = top_contributions(model_matrix, k)
    return (
        [[true_names[j] for j in idx] for idx in true_top],
        [[model_names[j] for j in idx] for idx in model_top],
    )

"""Model skill and explanation fidelity against a generated workspace's ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ml.metrics import normalized_auc, precision_at
from serving.ranking import top_driver_features

TRUE_PREFIX = "true_shap__"


def compare(ranking: pd.DataFrame, truth: pd.DataFrame, top_frac: float = 0.1) -> dict[str, float]:
    """Skill of ``ranking['risk']`` against the truth of the same as-of year.

    Returns the model's and the oracle's (``p_decline``) ROC-AUC and precision at 10 %
    against the realised ``declined``, the normalised AUC, and driver fidelity: over the top
    ``top_frac`` of units by ``p_decline``, the mean share of each unit's true top-3 drivers
    found among the ranking's top-3 SHAP drivers (when the ranking has SHAP columns).
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
    if not any(c.startswith("shap__") for c in ranking.columns):
        return out
    top = joined.nlargest(max(1, round(top_frac * len(joined))), "p_decline")
    true_cols = [c for c in top.columns if c.startswith(TRUE_PREFIX)]
    true_matrix = top[true_cols].to_numpy()
    order = np.argsort(-true_matrix, axis=1, kind="stable")[:, :3]
    true_top = [[true_cols[j][len(TRUE_PREFIX) :] for j in idx] for idx in order]
    model_top = top_driver_features(top)
    overlap = [len(set(a) & set(b)) / 3 for a, b in zip(true_top, model_top, strict=True)]
    out["driver_top3_recall"] = float(np.mean(overlap))
    return out

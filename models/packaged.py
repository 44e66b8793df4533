"""The packaged model: a LightGBM booster with its explainer, as an MLflow pyfunc.

``predict`` returns, per row, the risk (probability), the margin (log-odds) and the exact
TreeSHAP contribution of every feature plus the base value, such that
``shap__base + sum(shap__<feature>) == margin``. Contributions come from LightGBM's native
``pred_contrib`` (exact TreeSHAP, multi-threaded), computed in chunks to bound memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import lightgbm as lgb
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema

BOOSTER_ARTIFACT = "booster"
FEATURES_ARTIFACT = "features"
CALIBRATOR_ARTIFACT = "calibrator"
DEFAULT_CHUNK_ROWS = 20_000


def shap_column(feature: str) -> str:
    return f"shap__{feature}"


def output_columns(features: Sequence[str]) -> list[str]:
    return ["risk", "margin", *(shap_column(f) for f in features), "shap__base"]


def signature(features: Sequence[str]) -> ModelSignature:
    """Explicit signature: every feature a double (NaN = missing); outputs all doubles."""
    return ModelSignature(
        inputs=Schema([ColSpec("double", f) for f in features]),
        outputs=Schema([ColSpec("double", c) for c in output_columns(features)]),
    )


def explain(
    booster: lgb.Booster, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """(n, n_features + 1) TreeSHAP contributions, last column the base value."""
    n = X.shape[0]
    out = np.empty((n, X.shape[1] + 1), dtype="float64")
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        out[start:stop] = booster.predict(X[start:stop], pred_contrib=True)
    return out


def predict_frame(
    booster: lgb.Booster,
    features: Sequence[str],
    frame: pd.DataFrame,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    calibrator: Calibrating | None = None,
) -> pd.DataFrame:
    """Risk, margin and contributions for the rows of ``frame`` (columns in model order).

    ``risk`` is the calibrated probability when a calibrator is given, else the booster's;
    ``margin`` is always the booster's raw log-odds, which the contributions add up to.
    """
    cols = list(features)
    contrib = np.empty((len(frame), len(cols) + 1), dtype="float64")
    for start in range(0, len(frame), chunk_rows):  # one chunk of the input at a time
        chunk = frame.iloc[start : start + chunk_rows].loc[:, cols]
        X = chunk.to_numpy(dtype="float64", na_value=np.nan)
        contrib[start : start + len(X)] = booster.predict(X, pred_contrib=True)
    margin = contrib.sum(axis=1)
    out = pd.DataFrame(  # no copy of the (large) contribution matrix
        contrib,
        columns=[*(shap_column(f) for f in features), "shap__base"],
        index=frame.index,
        copy=False,
    )
    out.insert(0, "margin", margin)
    risk = calibrator.predict(margin) if calibrator else 1.0 / (1.0 + np.exp(-margin))
    out.insert(0, "risk", risk)
    return out  # already in output_columns(features) order


class Calibrating(Protocol):
    def predict(self, margin: np.ndarray) -> np.ndarray: ...


class RiskModel(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc wrapper; artifacts: the booster's text file, the feature list and the
    calibrator (JSON, see ``ml.calibration.Calibrator``)."""

    def load_context(self, context: Any) -> None:
        from ml.calibration import Calibrator

        self.booster_ = lgb.Booster(model_file=context.artifacts[BOOSTER_ARTIFACT])
        self.features_ = json.loads(Path(context.artifacts[FEATURES_ARTIFACT]).read_text())
        path = context.artifacts.get(CALIBRATOR_ARTIFACT)
        self.calibrator_ = (
            Calibrator.from_dict(json.loads(Path(path).read_text())) if path else None
        )

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        return predict_frame(
            self.booster_, self.features_, model_input, calibrator=self.calibrator_
        )

"""The packaged model: a LightGBM booster with its explainer and calibrator, as an MLflow pyfunc.

``predict`` returns, per row, the risk (calibrated probability), the margin (log-odds) and the
exact TreeSHAP contribution of every feature plus the base value, such that
``shap__base + sum(shap__<feature>) == margin``; the computation is
``models.explain.predict_frame``. ``explanation`` gives the same contributions as a
``shap.Explanation``. Only this module (and the registry that logs it) needs MLflow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import mlflow.pyfunc
import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema

from models.calibrator import Calibrator
from models.explain import contribution_columns, explanation, predict_frame

if TYPE_CHECKING:
    import shap

BOOSTER_ARTIFACT = "booster"
BACKGROUND_ARTIFACT = "background"  # Parquet: a fixed sample of the training rows
FEATURES_ARTIFACT = "features"
CALIBRATOR_ARTIFACT = "calibrator"


def output_columns(features: Sequence[str]) -> list[str]:
    """The columns ``predict`` returns: risk, margin, one contribution per feature, the base."""
    return ["risk", "margin", *contribution_columns(features)]


def signature(features: Sequence[str]) -> ModelSignature:
    """Explicit signature: every feature a double (NaN = missing); outputs all doubles."""
    return ModelSignature(
        inputs=Schema([ColSpec("double", f) for f in features]),
        outputs=Schema([ColSpec("double", c) for c in output_columns(features)]),
    )


class RiskModel(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc wrapper; artifacts: the booster's text file, the feature list and the
    calibrator (JSON, see ``models.calibrator.Calibrator``).

    In a notebook, ``mlflow.pyfunc.load_model(uri).unwrap_python_model()`` is this object;
    its ``explanation(frame)`` feeds ``shap.plots.waterfall`` and ``shap.plots.beeswarm``.
    """

    def load_context(self, context: Any) -> None:
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

    def explanation(self, frame: pd.DataFrame) -> shap.Explanation:
        """The contributions for the rows of ``frame`` as a ``shap.Explanation`` (log-odds:
        values plus base value is the margin; see ``models.explain.explanation``)."""
        return explanation(self.booster_, self.features_, frame)

"""The packaged model: a LightGBM booster with its explainer and calibrator, as an MLflow pyfunc.

``predict`` returns, per row, the risk (calibrated probability), the margin (log-odds) and the
exact TreeSHAP contribution of every feature plus the base value, such that
``shap__base + sum(shap__<feature>) == margin``; the computation is
``models.explain.predict_frame``. ``explanation`` gives the same contributions as a
``shap.Explanation``. Only this module (and the registry that logs it) needs MLflow.

The explanation method is the pyfunc parameter ``explain`` (``fast``, the default,
``native`` or ``interventional``; ``model.predict(frame, params={"explain": method})``).
Interventional explanations use the background sample stored as artifact
``BACKGROUND_ARTIFACT``. The tables of each method are built once per loaded model. The
parameter ``order`` = ``margin`` returns the rows in rank order (descending margin; the index
labels travel with their rows), sorted in place: the scoring job asks for it, so that the
contributions are never held twice.
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
from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

from models.calibrator import Calibrator
from models.explain import (
    DEFAULT_METHOD,
    EXPLAIN_PARAM,
    ORDER_PARAM,
    ROW_ORDERS,
    Explainer,
    contribution_columns,
    explainer,
    explanation,
    feature_matrix,
    predict_frame,
)

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
    """Explicit signature: every feature a double (NaN = missing); outputs all doubles; the
    parameters ``explain`` (string, default ``fast``) and ``order`` (``input``, the default,
    or ``margin``: rank order; ``models.explain.predict_frame``)."""
    return ModelSignature(
        inputs=Schema([ColSpec("double", f) for f in features]),
        outputs=Schema([ColSpec("double", c) for c in output_columns(features)]),
        params=ParamSchema([
            ParamSpec(EXPLAIN_PARAM, "string", DEFAULT_METHOD),
            ParamSpec(ORDER_PARAM, "string", ROW_ORDERS[0]),
        ]),
    )


class RiskModel(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc wrapper; artifacts: the booster's text file, the feature list, the
    calibrator (JSON, see ``models.calibrator.Calibrator``) and, optionally, the background
    sample of the training rows (Parquet) for interventional explanations.

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
        background = context.artifacts.get(BACKGROUND_ARTIFACT)
        self.background_ = (
            feature_matrix(pd.read_parquet(background), self.features_) if background else None
        )
        self.explainers_: dict[str, Explainer] = {}

    def explainer(self, method: str | None = None) -> Explainer:
        """The explainer of ``method`` (default ``fast``), built on first use, then kept."""
        method = method or DEFAULT_METHOD
        if method not in self.explainers_:
            self.explainers_[method] = explainer(self.booster_, method, self.background_)
        return self.explainers_[method]

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        method = (params or {}).get(EXPLAIN_PARAM) or DEFAULT_METHOD
        order = (params or {}).get(ORDER_PARAM) or ROW_ORDERS[0]
        return predict_frame(
            self.booster_, self.features_, model_input, calibrator=self.calibrator_,
            using=self.explainer(method), order=order,
        )

    def explanation(self, frame: pd.DataFrame, method: str | None = None) -> shap.Explanation:
        """The contributions for the rows of ``frame`` as a ``shap.Explanation`` (log-odds:
        values plus base value is the margin; see ``models.explain.explanation``)."""
        return explanation(self.booster_, self.features_, frame, using=self.explainer(method))

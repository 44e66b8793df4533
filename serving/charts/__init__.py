"""Every chart of wijkradar, drawn with matplotlib and returned as inline SVG text.

* ``base``: the shared figure, SVG, colour, label and id helpers;
* ``ranking``: precision-recall curves and small history line charts;
* ``explanations``: the SHAP beeswarm, SHAP importance and one unit's waterfall;
* ``evaluation``: the reliability diagram, metric intervals and the importance bars;
* ``training``: the charts of a training run, logged with the run as files.

The names below are the package's interface: ``from serving import charts;
charts.pr_curve_svg(...)``. Importing the package does not import matplotlib.
"""

from models.explain import SHAP_PREFIX
from serving.charts.base import (
    HIGH_COLOR,
    LOW_COLOR,
    MODEL_COLORS,
    NAN_COLOR,
    PRIMARY_MODEL,
    order_models,
)
from serving.charts.evaluation import importance_svg, metric_intervals_svg, reliability_svg
from serving.charts.explanations import (
    RASTERIZE_ABOVE,
    shap_importance_svg,
    shap_matrix,
    shap_summary_svg,
    shap_waterfall_svg,
    top_features,
)
from serving.charts.ranking import history_svg, pr_curve_svg, precision_recall
from serving.charts.training import training_charts

__all__ = [
    "HIGH_COLOR",
    "LOW_COLOR",
    "MODEL_COLORS",
    "NAN_COLOR",
    "PRIMARY_MODEL",
    "RASTERIZE_ABOVE",
    "SHAP_PREFIX",
    "history_svg",
    "importance_svg",
    "metric_intervals_svg",
    "order_models",
    "pr_curve_svg",
    "precision_recall",
    "reliability_svg",
    "shap_importance_svg",
    "shap_matrix",
    "shap_summary_svg",
    "shap_waterfall_svg",
    "top_features",
    "training_charts",
]

"""The charts of a training run, drawn by the orchestration and logged with the run as files.

``training_charts`` returns file name -> SVG text; ``wijkradar.app.pipeline`` puts them in
``ml.registry.RunRecord.texts`` and ``serving.evalreport`` shows them from the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.explain import explain, shap_column
from serving.charts.evaluation import importance_svg, metric_intervals_svg, reliability_svg
from serving.charts.explanations import WORDS, shap_summary_svg
from serving.charts.ranking import pr_curve_svg
from serving.formatting import Lang

if TYPE_CHECKING:
    from ml.evaluate import Evaluation
    from ml.train import TrainResult


def training_charts(
    result: TrainResult, evaluation: Evaluation, panel: pd.DataFrame, lang: Lang = "nl"
) -> dict[str, str]:
    """SVG charts of a training run on its last fold: PR curves, PR-AUC intervals, reliability,
    SHAP summary and importance (mean |SHAP| of the labelled rows of the fold's year).

    Files: ``pr_curve.svg``, ``reliability.svg``, ``shap_summary.svg``, ``importance.svg``,
    ``pr_auc_intervals.svg``. Features are named in words (``lang``), never by their codes.
    """
    last = result.folds[-1].test_year
    preds = result.predictions[result.predictions["test_year"] == last]
    rows = panel[(panel["as_of_year"] == last) & panel["label"].notna()]
    X = rows[result.features].to_numpy(dtype="float64", na_value=np.nan)
    contrib = explain(result.booster, X)[:, :-1]
    shap = pd.DataFrame(contrib, columns=[shap_column(f) for f in result.features])
    shap.insert(0, "unit_code", rows["unit_code"].to_numpy())
    values = rows[["unit_code", *result.features]].reset_index(drop=True)
    importance = pd.Series(np.abs(contrib).mean(axis=0), index=result.features)
    curves = {name: t for name, t in evaluation.reliability.groupby("curve", sort=False)}
    intervals = evaluation.per_fold[evaluation.per_fold["test_year"] == last]
    return {
        "pr_curve.svg": pr_curve_svg(preds[["model", "y_true", "score"]]),
        "reliability.svg": reliability_svg(curves),
        "shap_summary.svg": shap_summary_svg(shap, values, lang=lang),
        "importance.svg": importance_svg(
            importance.sort_values(ascending=False), xlabel=WORDS[lang]["importance"], lang=lang
        ),
        "pr_auc_intervals.svg": metric_intervals_svg(intervals, "pr_auc"),
    }

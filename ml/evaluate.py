"""The numbers the model card and the evaluation report show, computed from a training result:
metrics with bootstrap intervals (per fold and pooled), the out-of-time calibration choice,
reliability and the bias audit. The run's charts are drawn from them by
``serving.charts.training_charts``.

Calibration is chosen on the folds in time order (each method fit on earlier folds, scored on
the next) and the chosen method is then fit on all folds' out-of-time predictions; the
reliability table shows the last fold with a calibrator fit on the folds before it only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.schema import gemeente_of
from ml.calibration import (
    Calibrator,
    choose_calibration,
    expected_calibration_error,
    fit_calibrator,
    margin_from_probability,
    reliability_table,
)
from ml.fairness import audit_groups, bias_audit
from ml.train import TrainResult
from ml.uncertainty import bootstrap_by_model, top_n_per_group_precision

TERCILE_REFERENCE = {"urbanity": "mid", "corporation_share": "mid"}


@dataclass(frozen=True)
class Evaluation:
    per_fold: pd.DataFrame  # test_year, model, metric, value, low, high
    pooled: pd.DataFrame  # model, metric, value, low, high
    calibrator: Calibrator
    calibration_folds: pd.DataFrame  # fold, method, n_train, n_test, brier, log_loss
    reliability: pd.DataFrame  # curve, bin, mean_predicted, observed_rate, n
    ece: dict[str, float]
    bias: pd.DataFrame


def _lightgbm_folds(predictions: pd.DataFrame) -> list[tuple[int, np.ndarray, np.ndarray]]:
    lgbm = predictions[predictions["model"] == "lightgbm"]
    return [
        (int(year), margin_from_probability(g["score"].to_numpy()), g["y_true"].to_numpy())
        for year, g in sorted(lgbm.groupby("test_year"), key=lambda kv: kv[0])
    ]


def calibrate(predictions: pd.DataFrame) -> tuple[Calibrator, pd.DataFrame]:
    """Choose the method on the folds in time order; fit it on all of them."""
    folds = _lightgbm_folds(predictions)
    method, table = choose_calibration([(m, y) for _, m, y in folds])
    margin = np.concatenate([m for _, m, _ in folds])
    y = np.concatenate([t for _, _, t in folds])
    return fit_calibrator(method, margin, y), table


def _reliability(
    predictions: pd.DataFrame, method: str
) -> tuple[pd.DataFrame, dict[str, float]]:
    folds = _lightgbm_folds(predictions)
    _, margin, y = folds[-1]
    curves = {"uncalibrated": 1.0 / (1.0 + np.exp(-margin))}
    if method != "none" and len(folds) > 1:
        earlier = fit_calibrator(
            method,
            np.concatenate([m for _, m, _ in folds[:-1]]),
            np.concatenate([t for _, _, t in folds[:-1]]),
        )
        curves[f"calibrated ({method}, fit on earlier folds)"] = earlier.predict(margin)
    tables, ece = [], {}
    for name, p in curves.items():
        tables.append(reliability_table(y, p).assign(curve=name))
        ece[name] = expected_calibration_error(y, p)
    return pd.concat(tables, ignore_index=True), ece


def audit(result: TrainResult, panel: pd.DataFrame) -> pd.DataFrame:
    """The bias audit of LightGBM on the last fold (top 10 % flagged)."""
    last = result.folds[-1].test_year
    preds = result.predictions
    lgbm = preds[(preds["model"] == "lightgbm") & (preds["test_year"] == last)]
    rows = lgbm.merge(
        panel[panel["as_of_year"] == last], on="unit_code", how="left", validate="1:1"
    )
    groups = audit_groups(rows, history=panel)
    return bias_audit(
        rows["y_true"].to_numpy(), rows["score"].to_numpy(), groups,
        reference=TERCILE_REFERENCE,
    )


TOP_N_PER_GEMEENTE = 3


def top_n_per_gemeente(
    predictions: pd.DataFrame, n: int = TOP_N_PER_GEMEENTE, n_boot: int = 200
) -> pd.DataFrame:
    """Precision of each gemeente's own top N (what a municipality acts on), per model, with
    an interval that resamples gemeenten. Units without a gemeente (PC4) are left out."""
    rows = []
    for model, g in predictions.groupby("model", sort=False):
        gemeente = g["unit_code"].map(gemeente_of)
        keep = gemeente.notna().to_numpy()
        if not keep.any():
            continue
        table = top_n_per_group_precision(
            g["y_true"].to_numpy()[keep], g["score"].to_numpy()[keep],
            gemeente.to_numpy()[keep], n, n_boot=n_boot,
        )
        rows.append(table.assign(model=model, metric=f"precision_top{n}_per_gemeente"))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def evaluate(result: TrainResult, panel: pd.DataFrame, n_boot: int = 200) -> Evaluation:
    preds = result.predictions
    per_fold = pd.concat(
        [
            pd.concat(
                [bootstrap_by_model(g, n_boot=n_boot), top_n_per_gemeente(g, n_boot=n_boot)],
                ignore_index=True,
            ).assign(test_year=int(year))
            for year, g in preds.groupby("test_year")
        ],
        ignore_index=True,
    )
    pooled = bootstrap_by_model(preds, n_boot=n_boot)
    calibrator, calibration_folds = calibrate(preds)
    reliability, ece = _reliability(preds, calibrator.method)
    return Evaluation(
        per_fold=per_fold[["test_year", "model", "metric", "value", "low", "high"]],
        pooled=pooled,
        calibrator=calibrator,
        calibration_folds=calibration_folds,
        reliability=reliability,
        ece=ece,
        bias=audit(result, panel),
    )

"""A small search over the LightGBM parameters that matter, scored on the temporal folds.

Each candidate is trained like the final model (trees fixed on an inner out-of-time year) for
every fold and scored on the fold's test year; the table reports mean and per-fold PR-AUC and
ROC-AUC, and the cost of explaining: TreeSHAP rows per second on the last fold, because
explanation cost grows with tree depth. The search never looks at a fold's test year to fit.
The folds are fitted and scored by ``ml.folds.fit_and_score``, which skips one-class folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd

from ml import temporal
from ml.folds import FoldData, FoldResult, Scorer, fit_and_score
from ml.train import fit_lightgbm, outcome_years
from models.estimators import LightGBMRisk
from models.explain import explain
from wijkradar.config import Config, ModelConfig

Progress = Callable[[str], None]

# Shallow trees first: they explain cheaply and attribute cleanly; the deep candidate is the
# common default (31 leaves, no depth limit) for comparison.
GRID: tuple[dict[str, object], ...] = (
    {"num_leaves": 8, "max_depth": 3, "learning_rate": 0.05, "min_child_samples": 40},
    {"num_leaves": 8, "max_depth": 3, "learning_rate": 0.1, "min_child_samples": 100},
    {"num_leaves": 4, "max_depth": 2, "learning_rate": 0.05, "min_child_samples": 40},
    {"num_leaves": 15, "max_depth": 4, "learning_rate": 0.05, "min_child_samples": 40,
     "reg_lambda": 5.0},
    {"num_leaves": 31, "max_depth": 6, "learning_rate": 0.05, "min_child_samples": 20},
    {"num_leaves": 31, "max_depth": -1, "learning_rate": 0.05, "min_child_samples": 20},
)


def candidates(base: ModelConfig, grid: Iterable[dict[str, object]] = GRID) -> list[ModelConfig]:
    return [replace(base, **params) for params in grid]  # type: ignore[arg-type]


def search(
    panel: pd.DataFrame, cfg: Config, cutoff: int, progress: Progress | None = None,
    grid: Iterable[dict[str, object]] = GRID,
) -> pd.DataFrame:
    """One row per candidate: its parameters, mean and per-fold metrics, SHAP rows/s.

    Folds whose training or test labels hold one class are skipped (``ml.folds``).
    """
    say = progress or (lambda _msg: None)
    visible = temporal.visible_outcomes(outcome_years(panel), cutoff)
    folds = temporal.temporal_folds(
        visible, min_train_years=cfg.validation.min_train_years, n_folds=cfg.validation.n_folds
    )
    rows = []
    for i, model in enumerate(candidates(cfg.model, grid)):
        say(f"candidate {i + 1}: leaves {model.num_leaves}, depth {model.max_depth}, "
            f"learning rate {model.learning_rate}")
        trial = replace(cfg, model=model)

        def fit(data: FoldData, trial: Config = trial) -> dict[str, Scorer]:
            return {"lightgbm": fit_lightgbm(panel, data.fold.train_years, data.features, trial)}

        run = fit_and_score(panel, folds, fit, progress=say)
        run.require_results()
        pr = [r.metrics["lightgbm"]["pr_auc"] for r in run.results]
        roc = [r.metrics["lightgbm"]["roc_auc"] for r in run.results]
        trees = [_lightgbm(r).best_iteration_ for r in run.results]
        rows.append({
            "candidate": i + 1, "num_leaves": model.num_leaves, "max_depth": model.max_depth,
            "learning_rate": model.learning_rate, "min_child_samples": model.min_child_samples,
            "reg_lambda": model.reg_lambda, "mean_pr_auc": float(np.mean(pr)),
            "mean_roc_auc": float(np.mean(roc)), "last_pr_auc": pr[-1],
            "mean_trees": float(np.mean(trees)), "shap_rows_per_s": _shap_rate(run.results[-1]),
        })
    return pd.DataFrame(rows).sort_values("mean_pr_auc", ascending=False, ignore_index=True)


def _lightgbm(result: FoldResult) -> LightGBMRisk:
    return cast(LightGBMRisk, result.estimators["lightgbm"])  # what ``fit`` in search fits


def _shap_rate(result: FoldResult) -> float:
    """TreeSHAP rows per second of the fold's LightGBM on its test rows."""
    booster = _lightgbm(result).booster_
    X = result.data.test[result.data.features].to_numpy(dtype="float64", na_value=np.nan)
    start = time.perf_counter()
    explain(booster, X)
    return len(X) / (time.perf_counter() - start)


def best(table: pd.DataFrame, base: ModelConfig) -> ModelConfig:
    """The candidate with the highest mean PR-AUC; ties go to the cheaper explanation."""
    top = table.sort_values(["mean_pr_auc", "shap_rows_per_s"], ascending=[False, False]).iloc[0]
    return replace(
        base, num_leaves=int(top["num_leaves"]), max_depth=int(top["max_depth"]),
        learning_rate=float(top["learning_rate"]),
        min_child_samples=int(top["min_child_samples"]), reg_lambda=float(top["reg_lambda"]),
    )

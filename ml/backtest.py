"""Backtest: for every cut-off, train on the periods whose outcome is known by then and test
on the next period, LightGBM against the baselines.

Worked example (Leefbarometer 2.0 PC4: measurements 2002, 2008, 2012, 2014, 2016)::

    period 2008->2012  trains on 2002->2008
    period 2012->2014  trains on 2002->2008, 2008->2012
    period 2014->2016  trains on 2002->2008, 2008->2012, 2012->2014

The periods are the folds of ``ml.temporal.temporal_folds`` with one training year at least
and every possible test year.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ml import metrics, temporal
from ml.train import _rows, _y, fit_lightgbm, outcome_years, usable_features
from ml.uncertainty import bootstrap_by_model
from models.estimators import (
    CurrentLevelBaseline,
    LastChangeBaseline,
    LogisticBaseline,
)
from wijkradar.config import Config

Progress = Callable[[str], None]
INTERVAL_METRICS = ("roc_auc", "pr_auc", "precision_at_5", "precision_at_10", "recall_at_10")
METRICS = (
    "n", "base_rate", "roc_auc", "pr_auc", "precision_at_1", "precision_at_5",
    "precision_at_10", "recall_at_1", "recall_at_5", "recall_at_10",
)


def backtest(panel: pd.DataFrame, cfg: Config, progress: Progress | None = None) -> pd.DataFrame:
    """One row per (period, model) with the metrics in METRICS."""
    say = progress or (lambda _msg: None)
    outcomes = outcome_years(panel)
    n_possible = sum(1 for o in outcomes.values() if o is not None)
    folds = temporal.temporal_folds(outcomes, min_train_years=1, n_folds=max(n_possible, 1))
    rows, preds = [], []
    for fold in folds:
        period = f"{fold.test_year}->{outcomes[fold.test_year]}"
        say(f"period {period}: training on {len(fold.train_years)} earlier period(s)")
        train, test = _rows(panel, fold.train_years), _rows(panel, (fold.test_year,))
        temporal.check_fold_rows(fold, train["as_of_year"], train["label_outcome_year"])
        if _y(train).min() == _y(train).max():
            say(f"period {period}: skipped, the training labels have one class only")
            continue
        features = usable_features(panel, train)
        estimators = {
            "lightgbm": fit_lightgbm(panel, fold.train_years, features, cfg),
            "logistic": LogisticBaseline().fit(train, _y(train), features),
            "last_change": LastChangeBaseline().fit(train, _y(train), features),
            "current_level": CurrentLevelBaseline().fit(train, _y(train), features),
        }
        for name, estimator in estimators.items():
            score = estimator.score_samples(test)
            scores = metrics.binary_metrics(_y(test), score)
            rows.append({"period": period, "test_year": fold.test_year,
                         "train_years": len(fold.train_years), "model": name,
                         **{k: scores[k] for k in METRICS}})
            preds.append(pd.DataFrame({"period": period, "model": name, "y_true": _y(test),
                                       "score": score, "unit_code": test["unit_code"].to_numpy()}))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["n"] = table["n"].astype("int64")
    return table.merge(_intervals(pd.concat(preds, ignore_index=True)), on=["period", "model"])


def _intervals(predictions: pd.DataFrame, n_boot: int = 200) -> pd.DataFrame:
    """95 % bootstrap intervals (resampling units) of the headline metrics, per period."""
    wide = []
    for period, group in predictions.groupby("period", sort=False):
        ci = bootstrap_by_model(group, n_boot=n_boot, metrics=INTERVAL_METRICS)
        ci = ci.pivot(index="model", columns="metric", values=["low", "high"])
        ci.columns = [f"{metric}_{bound}" for bound, metric in ci.columns]
        wide.append(ci.reset_index().assign(period=period))
    return pd.concat(wide, ignore_index=True)

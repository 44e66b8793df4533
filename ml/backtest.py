"""Backtest: for every cut-off, train on the periods whose outcome is known by then and test
on the next period, LightGBM against the baselines (``logistic``, ``last_change``,
``current_level``, and ``neighbours_level`` where the panel has neighbour features).

Worked example (Leefbarometer 2.0 PC4: measurements 2002, 2008, 2012, 2014, 2016)::

    period 2008->2012  trains on 2002->2008
    period 2012->2014  trains on 2002->2008, 2008->2012
    period 2014->2016  trains on 2002->2008, 2008->2012, 2012->2014

The periods are the folds of ``ml.temporal.temporal_folds`` with one training year at least
and every possible test year, fitted and scored by ``ml.folds.fit_and_score``; a period whose
training or test labels hold one class is skipped there. The first period (2002->2008 above)
has no earlier period to learn from: only the rules that learn nothing from labels
(``RULES``: last change, current level, neighbours' level) are scored on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ml import temporal
from ml.folds import (
    FoldData,
    FoldResult,
    FoldRun,
    Scorer,
    fit_and_score,
    labelled_rows,
    labels,
    skip_reason,
    usable_features,
)
from ml.metrics import binary_metrics
from ml.train import fit_lightgbm, neighbours_baseline, outcome_years
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


def rules(train: pd.DataFrame, y: np.ndarray, features: list[str]) -> dict[str, Scorer]:
    """The baselines that use no labels: each reads one feature of the row itself."""
    return {
        "last_change": LastChangeBaseline().fit(train, y, features),
        "current_level": CurrentLevelBaseline().fit(train, y, features),
        **neighbours_baseline(train, y, features),
    }


def first_period(panel: pd.DataFrame, outcomes: dict[int, int | None]) -> FoldResult | None:
    """The rules scored on the earliest labelled period, which no model can be trained for."""
    years = sorted(y for y, o in outcomes.items() if o is not None)
    if not years:
        return None
    fold = temporal.Fold(test_year=years[0], train_years=(), cutoff=years[0])
    test = labelled_rows(panel, (years[0],))
    y = labels(test)
    if skip_reason(y, y) is not None:
        return None
    data = FoldData(fold=fold, train=test, test=test, features=usable_features(panel, test))
    estimators = rules(test, y, data.features)  # fitted on features only; labels unused
    scores = {name: est.score_samples(test) for name, est in estimators.items()}
    return FoldResult(
        data=data, estimators=estimators, scores=scores,
        metrics={name: binary_metrics(y, s) for name, s in scores.items()},
    )


def backtest(panel: pd.DataFrame, cfg: Config, progress: Progress | None = None) -> pd.DataFrame:
    """One row per (period, model) with the metrics in METRICS and their 95 % intervals."""
    outcomes = outcome_years(panel)
    n_possible = sum(1 for o in outcomes.values() if o is not None)
    folds = temporal.temporal_folds(outcomes, min_train_years=1, n_folds=max(n_possible, 1))

    def period(fold: temporal.Fold) -> str:
        return f"{fold.test_year}->{outcomes[fold.test_year]}"

    def fit(data: FoldData) -> dict[str, Scorer]:
        train, features, y = data.train, data.features, labels(data.train)
        return {
            "lightgbm": fit_lightgbm(panel, data.fold.train_years, features, cfg),
            "logistic": LogisticBaseline().fit(train, y, features),
            **rules(train, y, features),
        }

    def announce(fold: temporal.Fold) -> str:
        return f"period {period(fold)}: training on {len(fold.train_years)} earlier period(s)"

    run = fit_and_score(
        panel, folds, fit, progress=progress, announce=announce,
        name=lambda fold: f"period {period(fold)}",
    )
    first = first_period(panel, outcomes)
    if first is not None:
        if progress is not None:
            progress(f"period {period(first.data.fold)}: rules only, no earlier period")
        run = FoldRun(results=[first, *run.results], skipped=run.skipped)
    table = pd.DataFrame([
        {"period": period(r.data.fold), "test_year": r.data.fold.test_year,
         "train_years": len(r.data.fold.train_years), "model": name,
         **{k: scores[k] for k in METRICS}}
        for r in run.results for name, scores in r.metrics.items()
    ])
    if table.empty:
        return table
    table["n"] = table["n"].astype("int64")
    return table.merge(_intervals(run.predictions_frame()), on=["test_year", "model"])


def _intervals(predictions: pd.DataFrame, n_boot: int = 200) -> pd.DataFrame:
    """95 % bootstrap intervals (resampling units) of the headline metrics, per test year."""
    wide = []
    for year, group in predictions.groupby("test_year", sort=False):
        ci = bootstrap_by_model(group, n_boot=n_boot, metrics=INTERVAL_METRICS)
        ci = ci.pivot(index="model", columns="metric", values=["low", "high"])
        ci.columns = [f"{metric}_{bound}" for bound, metric in ci.columns]
        wide.append(ci.reset_index().assign(test_year=year))
    return pd.concat(wide, ignore_index=True)

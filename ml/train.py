"""Training with rolling-origin temporal validation.

For a cutoff year C ("train as of C"), only rows whose label outcome year is <= C are used.
Validation folds (``ml.temporal``) each test one as-of year against models trained on the
years before it whose outcomes were known by then. Early stopping never looks at a fold's test
year: within a training window the last year serves as an inner out-of-time validation set
that fixes the number of trees, and the model is then refit on the whole window. The folds are
fitted and scored by ``ml.folds.fit_and_score``, which also skips folds with one class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.neighbours import NB_LBM
from ml import temporal
from ml.folds import (
    FoldData,
    Scorer,
    SkippedFold,
    fit_and_score,
    labelled_rows,
    labels,
    usable_features,
)
from models.estimators import (
    CurrentLevelBaseline,
    LastChangeBaseline,
    LightGBMRisk,
    LogisticBaseline,
)
from wijkradar.config import Config
from wijkradar.errors import NotEnoughDataError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    booster: lgb.Booster
    features: list[str]
    cutoff: int
    train_years: tuple[int, ...]
    folds: list[temporal.Fold]  # the folds that were scored, in time order
    evaluation: pd.DataFrame  # test_year, model, n, base_rate, roc_auc, pr_auc, ...
    predictions: pd.DataFrame  # test_year, unit_code, model, y_true, score (all folds)
    n_trees: int
    n_train_rows: int
    skipped_folds: list[SkippedFold] = field(default_factory=list)  # one class in train or test


def outcome_years(panel: pd.DataFrame) -> dict[int, int | None]:
    """as_of_year -> the latest label outcome year among its rows (None if none known)."""
    labelled = panel[panel["label"].notna()]
    latest = labelled.groupby("as_of_year")["label_outcome_year"].max()
    return {
        int(y): (int(latest[y]) if y in latest.index else None)
        for y in sorted(panel["as_of_year"].unique())
    }


def fit_lightgbm(
    panel: pd.DataFrame, years: tuple[int, ...], features: list[str], cfg: Config
) -> LightGBMRisk:
    """Fix the number of trees on the last year of ``years`` (out of time), refit on all."""
    train = labelled_rows(panel, years)
    if len(years) >= 2:
        inner, valid = labelled_rows(panel, years[:-1]), labelled_rows(panel, years[-1:])
        probe = LightGBMRisk(cfg.model).fit(
            inner, labels(inner), features, eval_set=(valid, labels(valid))
        )
        n_trees = max(int(probe.best_iteration_), 10)
    else:
        n_trees = cfg.model.n_estimators
    return LightGBMRisk(cfg.model, n_estimators=n_trees).fit(train, labels(train), features)


def neighbours_baseline(
    train: pd.DataFrame, y: np.ndarray, features: list[str]
) -> dict[str, Scorer]:
    """The neighbours' level baseline (model ``neighbours_level``: the lower the neighbours'
    score, the higher the risk) when the panel has neighbour features; else nothing."""
    if NB_LBM not in features:
        return {}
    return {"neighbours_level": CurrentLevelBaseline(columns=(NB_LBM,)).fit(train, y, features)}


def _announce(fold: temporal.Fold) -> str:
    return f"fold: test {fold.test_year}, train {fold.train_years[0]}-{fold.train_years[-1]}"


def train(
    panel: pd.DataFrame, cfg: Config, cutoff: int | None = None, progress: Progress | None = None
) -> TrainResult:
    """Validate on temporal folds, then fit the final model on every year known by ``cutoff``.

    Folds whose training or test labels hold one class are skipped (``ml.folds``) and listed
    in ``skipped_folds``; every fold uses the features of the final model's training rows.
    """
    say = progress or (lambda _msg: None)
    outcomes = outcome_years(panel)
    known = [o for o in outcomes.values() if o is not None]
    if not known:
        raise NotEnoughDataError("The panel has no labelled rows: no measurement follows another.")
    if cutoff is not None and int(cutoff) > max(known):
        raise NotEnoughDataError(
            f"No measurement lies at or after {cutoff}: the newest label outcome year is "
            f"{max(known)}. Train --as-of a year up to {max(known)} (default: the newest)."
        )
    cutoff = int(cutoff if cutoff is not None else max(known))
    visible = temporal.visible_outcomes(outcomes, cutoff)
    train_years = temporal.training_years(visible, cutoff)
    if not train_years:
        raise NotEnoughDataError(
            f"No as-of year has a label outcome at or before {cutoff}. "
            f"Outcome years known: {sorted(set(known))}."
        )
    train_rows = labelled_rows(panel, train_years)
    features = usable_features(panel, train_rows)
    folds = temporal.temporal_folds(
        visible, min_train_years=cfg.validation.min_train_years, n_folds=cfg.validation.n_folds
    )

    def fit(data: FoldData) -> dict[str, Scorer]:
        y = labels(data.train)
        return {
            "lightgbm": fit_lightgbm(panel, data.fold.train_years, data.features, cfg),
            "logistic": LogisticBaseline().fit(data.train, y, data.features),
            "last_change": LastChangeBaseline().fit(data.train, y, data.features),
            **neighbours_baseline(data.train, y, data.features),
        }

    run = fit_and_score(panel, folds, fit, features=features, progress=say, announce=_announce)
    run.require_results()
    say(f"final model: {len(train_years)} as-of years up to outcome {cutoff}")
    final = fit_lightgbm(panel, train_years, features, cfg)
    return TrainResult(
        booster=final.booster_,
        features=features,
        cutoff=cutoff,
        train_years=train_years,
        folds=run.folds,
        evaluation=run.metrics_frame(),
        predictions=run.predictions_frame(),
        n_trees=int(final.best_iteration_),
        n_train_rows=len(train_rows),
        skipped_folds=run.skipped,
    )

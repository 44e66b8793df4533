"""Training with rolling-origin temporal validation.

For a cutoff year C ("train as of C"), only rows whose label outcome year is <= C are used.
Validation folds (``ml.temporal``) each test one as-of year against models trained on the
years before it whose outcomes were known by then. Early stopping never looks at a fold's test
year: within a training window the last year serves as an inner out-of-time validation set
that fixes the number of trees, and the model is then refit on the whole window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.panel import feature_columns
from ml import metrics, temporal
from models.estimators import LastChangeBaseline, LightGBMRisk, LogisticBaseline
from wijkradar.config import Config
from wijkradar.errors import NotEnoughDataError

Progress = Callable[[str], None]
MODELS = ("lightgbm", "logistic", "last_change")


@dataclass(frozen=True)
class TrainResult:
    booster: lgb.Booster
    features: list[str]
    cutoff: int
    train_years: tuple[int, ...]
    folds: list[temporal.Fold]
    evaluation: pd.DataFrame  # test_year, model, n, base_rate, roc_auc, pr_auc, ...
    predictions: pd.DataFrame  # test_year, unit_code, model, y_true, score (all folds)
    n_trees: int
    n_train_rows: int


def outcome_years(panel: pd.DataFrame) -> dict[int, int | None]:
    """as_of_year -> the latest label outcome year among its rows (None if none known)."""
    labelled = panel[panel["label"].notna()]
    latest = labelled.groupby("as_of_year")["label_outcome_year"].max()
    return {
        int(y): (int(latest[y]) if y in latest.index else None)
        for y in sorted(panel["as_of_year"].unique())
    }


def _rows(panel: pd.DataFrame, years: tuple[int, ...]) -> pd.DataFrame:
    return panel[panel["as_of_year"].isin(years) & panel["label"].notna()]


def _y(rows: pd.DataFrame) -> np.ndarray:
    return rows["label"].to_numpy(dtype="int64")


def fit_lightgbm(
    panel: pd.DataFrame, years: tuple[int, ...], features: list[str], cfg: Config
) -> LightGBMRisk:
    """Fix the number of trees on the last year of ``years`` (out of time), refit on all."""
    train = _rows(panel, years)
    if len(years) >= 2:
        inner, valid = _rows(panel, years[:-1]), _rows(panel, years[-1:])
        probe = LightGBMRisk(cfg.model).fit(inner, _y(inner), features, eval_set=(valid, _y(valid)))
        n_trees = max(int(probe.best_iteration_), 10)
    else:
        n_trees = cfg.model.n_estimators
    return LightGBMRisk(cfg.model, n_estimators=n_trees).fit(train, _y(train), features)


def usable_features(panel: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Panel features that are not entirely missing in the training rows."""
    return [f for f in feature_columns(panel) if rows[f].notna().any()]


def train(
    panel: pd.DataFrame, cfg: Config, cutoff: int | None = None, progress: Progress | None = None
) -> TrainResult:
    """Validate on temporal folds, then fit the final model on every year known by ``cutoff``."""
    say = progress or (lambda _msg: None)
    outcomes = outcome_years(panel)
    known = [o for o in outcomes.values() if o is not None]
    if not known:
        raise NotEnoughDataError("The panel has no labelled rows: no measurement follows another.")
    cutoff = int(cutoff if cutoff is not None else max(known))
    visible = {y: (o if o is not None and o <= cutoff else None) for y, o in outcomes.items()}
    train_years = temporal.training_years(visible, cutoff)
    if not train_years:
        raise NotEnoughDataError(
            f"No as-of year has a label outcome at or before {cutoff}. "
            f"Outcome years known: {sorted(set(known))}."
        )
    features = usable_features(panel, _rows(panel, train_years))
    folds = temporal.temporal_folds(
        visible, min_train_years=cfg.validation.min_train_years, n_folds=cfg.validation.n_folds
    )
    rows, preds = [], []
    for fold in folds:
        say(f"fold: test {fold.test_year}, train {fold.train_years[0]}-{fold.train_years[-1]}")
        tr, te = _rows(panel, fold.train_years), _rows(panel, (fold.test_year,))
        temporal.check_fold_rows(fold, tr["as_of_year"], tr["label_outcome_year"])
        estimators = {
            "lightgbm": fit_lightgbm(panel, fold.train_years, features, cfg),
            "logistic": LogisticBaseline().fit(tr, _y(tr), features),
            "last_change": LastChangeBaseline().fit(tr, _y(tr), features),
        }
        for name, est in estimators.items():
            score = est.score_samples(te)
            rows.append(
                {
                    "test_year": fold.test_year,
                    "model": name,
                    **metrics.binary_metrics(_y(te), score),
                }
            )
            preds.append(
                pd.DataFrame(
                    {
                        "test_year": fold.test_year,
                        "unit_code": te["unit_code"].to_numpy(),
                        "model": name,
                        "y_true": _y(te),
                        "score": score,
                    }
                )
            )
    say(f"final model: {len(train_years)} as-of years up to outcome {cutoff}")
    final = fit_lightgbm(panel, train_years, features, cfg)
    evaluation = pd.DataFrame(rows)
    evaluation["n"] = evaluation["n"].astype("int64")
    return TrainResult(
        booster=final.booster_,
        features=features,
        cutoff=cutoff,
        train_years=train_years,
        folds=folds,
        evaluation=evaluation,
        predictions=pd.concat(preds, ignore_index=True),
        n_trees=int(final.best_iteration_),
        n_train_rows=len(_rows(panel, train_years)),
    )

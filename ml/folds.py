"""The one fit-and-score loop over temporal folds, shared by training, backtest and search.

``ml.temporal`` says which as-of years a fold trains and tests on (pure year arithmetic); this
module takes those folds to the panel. For each fold, in order, ``fit_and_score``:

1. selects the labelled rows of the fold's training years and of its test year;
2. checks the training rows against the fold (``ml.temporal.check_fold_rows``, the leakage
   guard);
3. skips the fold when its training or its test labels hold one class only, says so through
   ``progress`` and records it in ``FoldRun.skipped``: a model cannot learn from one class and
   ROC-AUC and PR-AUC are undefined on it. This is the only place where a fold is skipped;
4. fits the caller's models on the training rows and scores each on the test rows with
   ``ml.metrics.binary_metrics``.

What is fitted is the caller's choice (``fit``): training fits LightGBM and two baselines,
the backtest adds a third baseline, the search fits one LightGBM candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from features.panel import feature_columns
from ml import metrics, temporal
from wijkradar.errors import NotEnoughDataError

__all__ = [
    "FoldData",
    "FoldResult",
    "FoldRun",
    "Scorer",
    "SkippedFold",
    "fit_and_score",
    "labelled_rows",
    "labels",
    "skip_reason",
    "usable_features",
]

Progress = Callable[[str], None]


class Scorer(Protocol):
    """A fitted model: a risk score per row, higher means more likely to decline."""

    def score_samples(self, X: pd.DataFrame) -> np.ndarray: ...


def labelled_rows(panel: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """The panel rows of the as-of ``years`` that have a label, in panel order."""
    return panel[panel["as_of_year"].isin(years) & panel["label"].notna()]


def labels(rows: pd.DataFrame) -> np.ndarray:
    """The 0/1 labels of labelled rows as an int64 array."""
    return rows["label"].to_numpy(dtype="int64")


def usable_features(panel: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Panel features that are not entirely missing in the training rows."""
    return [f for f in feature_columns(panel) if rows[f].notna().any()]


@dataclass(frozen=True)
class FoldData:
    """What a fold's models are fitted on: its labelled training and test rows."""

    fold: temporal.Fold
    train: pd.DataFrame
    test: pd.DataFrame
    features: list[str]


@dataclass(frozen=True)
class FoldResult:
    """A scored fold: each model's fitted estimator, test scores and metrics."""

    data: FoldData
    estimators: dict[str, Scorer]
    scores: dict[str, np.ndarray]  # model -> score of each test row
    metrics: dict[str, dict[str, float]]  # model -> ml.metrics.binary_metrics


@dataclass(frozen=True)
class SkippedFold:
    fold: temporal.Fold
    reason: str  # e.g. "the training labels have one class only"


@dataclass(frozen=True)
class FoldRun:
    """The scored folds in time order and the folds that were skipped."""

    results: list[FoldResult]
    skipped: list[SkippedFold]

    @property
    def folds(self) -> list[temporal.Fold]:
        """The folds that were scored."""
        return [r.data.fold for r in self.results]

    def metrics_frame(self) -> pd.DataFrame:
        """One row per (fold, model): ``test_year``, ``model`` and the binary metrics."""
        rows = [
            {"test_year": r.data.fold.test_year, "model": name, **scores}
            for r in self.results
            for name, scores in r.metrics.items()
        ]
        table = pd.DataFrame(rows)
        if not table.empty:
            table["n"] = table["n"].astype("int64")
        return table

    def predictions_frame(self) -> pd.DataFrame:
        """One row per (fold, model, test row): test_year, unit_code, model, y_true, score."""
        columns = ["test_year", "unit_code", "model", "y_true", "score"]
        parts = [
            pd.DataFrame(
                {
                    "test_year": r.data.fold.test_year,
                    "unit_code": r.data.test["unit_code"].to_numpy(),
                    "model": name,
                    "y_true": labels(r.data.test),
                    "score": score,
                }
            )
            for r in self.results
            for name, score in r.scores.items()
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)

    def require_results(self) -> None:
        """Raise NotEnoughDataError, naming each skipped fold, when no fold was scored."""
        if not self.results:
            reasons = "; ".join(f"test {s.fold.test_year}: {s.reason}" for s in self.skipped)
            raise NotEnoughDataError(
                f"No temporal fold could be scored: every fold was skipped ({reasons or 'none'}). "
                "A fold needs both classes among its training labels and its test labels."
            )


def _one_class(y: np.ndarray) -> bool:
    return len(y) == 0 or y.min() == y.max()


def skip_reason(train: np.ndarray, test: np.ndarray) -> str | None:
    """Why a fold with these training and test labels cannot be scored; None if it can."""
    if _one_class(train):
        return "the training labels have one class only"
    if _one_class(test):
        return "the test labels have one class only"
    return None


def fit_and_score(
    panel: pd.DataFrame,
    folds: Sequence[temporal.Fold],
    fit: Callable[[FoldData], Mapping[str, Scorer]],
    *,
    features: list[str] | None = None,
    progress: Progress | None = None,
    announce: Callable[[temporal.Fold], str] | None = None,
    name: Callable[[temporal.Fold], str] = lambda fold: f"fold {fold.test_year}",
) -> FoldRun:
    """Fit ``fit``'s models on each fold's training rows and score them on its test rows.

    ``features`` fixes the feature list of every fold; by default each fold uses the panel
    features not entirely missing in its training rows (``usable_features``). ``announce``
    gives the line said through ``progress`` before a fold is fitted (none by default);
    ``name`` names a fold in the line said when it is skipped, e.g. "fold 2008: skipped, the
    training labels have one class only". Models are scored in the order ``fit`` returns them.
    """
    say = progress or (lambda _msg: None)
    results, skipped = [], []
    for fold in folds:
        if announce is not None:
            say(announce(fold))
        train = labelled_rows(panel, fold.train_years)
        test = labelled_rows(panel, (fold.test_year,))
        temporal.check_fold_rows(fold, train["as_of_year"], train["label_outcome_year"])
        reason = skip_reason(labels(train), labels(test))
        if reason is not None:
            say(f"{name(fold)}: skipped, {reason}")
            skipped.append(SkippedFold(fold=fold, reason=reason))
            continue
        data = FoldData(
            fold=fold, train=train, test=test,
            features=list(features) if features is not None else usable_features(panel, train),
        )
        estimators = dict(fit(data))
        scores = {model: est.score_samples(test) for model, est in estimators.items()}
        y_test = labels(test)
        results.append(
            FoldResult(
                data=data, estimators=estimators, scores=scores,
                metrics={m: metrics.binary_metrics(y_test, s) for m, s in scores.items()},
            )
        )
    return FoldRun(results=results, skipped=skipped)

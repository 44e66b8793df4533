"""The estimators: LightGBM on the panel's features, and the baselines it must beat.

Every estimator follows scikit-learn's conventions: parameters are set in ``__init__`` only,
learned state ends in ``_``, ``fit`` returns ``self`` and ``score_samples`` gives a risk
score where higher means more likely to decline.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from models.explain import feature_matrix
from wijkradar.config import ModelConfig


class LightGBMRisk:
    """Gradient-boosted trees on the decline label, early-stopped on an out-of-time fold."""

    def __init__(self, config: ModelConfig, n_estimators: int | None = None) -> None:
        self.config = config
        self.n_estimators = n_estimators

    def params(self) -> dict[str, object]:
        c = self.config
        return {
            "objective": "binary",
            "learning_rate": c.learning_rate,
            "num_leaves": c.num_leaves,
            "max_depth": c.max_depth,
            "min_data_in_leaf": c.min_child_samples,
            "bagging_fraction": c.subsample,
            "bagging_freq": 1 if c.subsample < 1 else 0,
            "feature_fraction": c.colsample_bytree,
            "lambda_l2": c.reg_lambda,
            "seed": c.random_state,
            "num_threads": c.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        features: Sequence[str],
        eval_set: tuple[pd.DataFrame, np.ndarray] | None = None,
    ) -> LightGBMRisk:
        self.features_ = list(features)
        train = lgb.Dataset(
            feature_matrix(X, features), label=y, feature_name=self.features_, free_raw_data=True
        )
        rounds = self.n_estimators or self.config.n_estimators
        callbacks = []
        valid_sets = []
        if eval_set is not None:
            valid_sets = [
                lgb.Dataset(
                    feature_matrix(eval_set[0], features), label=eval_set[1], reference=train
                )
            ]
            callbacks.append(lgb.early_stopping(self.config.early_stopping_rounds, verbose=False))
        self.booster_ = lgb.train(
            {**self.params(), "metric": "average_precision"},
            train,
            num_boost_round=rounds,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        self.best_iteration_ = self.booster_.best_iteration or self.booster_.current_iteration()
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        X_model = feature_matrix(X, self.features_)
        return self.booster_.predict(X_model, num_iteration=self.best_iteration_)


class LogisticBaseline:
    """Logistic regression on the same features: median-imputed (with missing indicators)
    and standardised."""

    def __init__(self, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: np.ndarray, features: Sequence[str]) -> LogisticBaseline:
        self.features_ = list(features)
        self.pipeline_: Pipeline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=self.max_iter),
        )
        self.pipeline_.fit(feature_matrix(X, features), y)
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.predict_proba(feature_matrix(X, self.features_))[:, 1]


class LastChangeBaseline:
    """No learning: the larger the last fall in the score, the higher the risk. Where a row
    has no score change, the change in class (a release with classes only) stands in."""

    def __init__(self, columns: tuple[str, ...] = ("lbm_chg_prev", "lbm_class_chg_prev")) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: np.ndarray, features: Sequence[str]) -> LastChangeBaseline:
        self.columns_ = [c for c in self.columns if c in X.columns]
        if not self.columns_:
            raise ValueError(
                f"The 'columns' parameter must name a panel column. Got {list(self.columns)} "
                "instead."
            )
        # Put each column on the scale of its spread, so a class step and a score change
        # are comparable. A column without values in the training rows (a first period has
        # no previous change) keeps scale 1: it scores nothing.
        self.scales_ = [_spread(X[c]) for c in self.columns_]
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        score = np.full(len(X), np.nan)
        for column, scale in zip(self.columns_, self.scales_, strict=True):
            change = X[column].to_numpy(dtype="float64", na_value=np.nan) / scale
            score = np.where(np.isnan(score), -change, score)
        return np.nan_to_num(score, nan=0.0)


def _spread(column: pd.Series) -> float:
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return float(values.std()) or 1.0 if len(values) else 1.0


class CurrentLevelBaseline:
    """No learning: the lower the current class (or score), the higher the risk.

    ``columns`` are tried in order; the first with values in the training rows is used (a
    missing value counts as the training median). One class, two uses: the unit's own level
    (the default) and the neighbours' level (``columns=("nb_lbm",)``, see
    ``features.neighbours``).
    """

    def __init__(self, columns: tuple[str, ...] = ("lbm_class", "lbm")) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: np.ndarray, features: Sequence[str]) -> CurrentLevelBaseline:
        usable = [c for c in self.columns if c in X.columns and X[c].notna().any()]
        if not usable:
            raise ValueError(
                f"The 'columns' parameter must name a panel column with values. "
                f"Got {list(self.columns)} instead."
            )
        self.column_ = usable[0]
        self.fill_ = float(X[self.column_].median())
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        level = X[self.column_].to_numpy(dtype="float64", na_value=np.nan)
        return -np.nan_to_num(level, nan=self.fill_)

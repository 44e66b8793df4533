"""Unit tests of ml.folds, the one fit-and-score loop, and of train, backtest and search on it."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import backtest, search, train
from ml.folds import (
    FoldData,
    Scorer,
    fit_and_score,
    labelled_rows,
    labels,
    skip_reason,
    usable_features,
)
from ml.metrics import binary_metrics
from ml.temporal import Fold, temporal_folds
from wijkradar.config import Config, ModelConfig
from wijkradar.errors import NotEnoughDataError, WijkradarError

YEARS = (2002, 2008, 2012, 2014, 2016, 2018, 2020)
ONE_CLASS = (2002, 2014)  # every label 0: 2002 cannot train alone, 2014 cannot be tested
N_UNITS = 120


def make_panel(seed: int = 0) -> pd.DataFrame:
    """Units measured in YEARS; the label follows ``lbm_chg_prev``; 2020 has no outcome yet."""
    rng = np.random.default_rng(seed)
    frames = []
    for year, outcome in itertools.zip_longest(YEARS, YEARS[1:]):
        change = rng.normal(size=N_UNITS)
        label = (change + rng.normal(scale=0.7, size=N_UNITS) < -1.0).astype("float64")
        if year in ONE_CLASS:
            label[:] = 0.0
        frames.append(pd.DataFrame({
            "unit_code": [f"BU{i:08d}" for i in range(N_UNITS)],
            "as_of_year": year,
            "lbm": 4.0 + rng.normal(scale=0.2, size=N_UNITS),
            "lbm_chg_prev": change,
            "income": np.nan if year < 2012 else rng.normal(size=N_UNITS),
            "label_outcome_year": pd.array([outcome] * N_UNITS, dtype="Int64"),
            "label": label if outcome is not None else np.nan,
        }))
    return pd.concat(frames, ignore_index=True)


class Column:
    """A no-learning scorer: the lower ``column``, the higher the risk."""

    def __init__(self, column: str = "lbm_chg_prev") -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: np.ndarray, features: list[str]) -> Column:
        self.features_ = list(features)
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        return -X[self.column].to_numpy(dtype="float64")


def fit_column(data: FoldData) -> dict[str, Scorer]:
    y = labels(data.train)
    return {"change": Column().fit(data.train, y, data.features),
            "level": Column("lbm").fit(data.train, y, data.features)}


def test_rows_labels_and_usable_features() -> None:
    panel = make_panel()
    rows = labelled_rows(panel, (2008, 2012))
    assert sorted(rows["as_of_year"].unique()) == [2008, 2012]
    assert labelled_rows(panel, (2020,)).empty  # no outcome, no label
    y = labels(rows)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert usable_features(panel, labelled_rows(panel, (2002, 2008))) == ["lbm", "lbm_chg_prev"]
    assert usable_features(panel, rows) == ["lbm", "lbm_chg_prev", "income"]


def test_skip_reason_names_the_side_with_one_class() -> None:
    both = np.array([0, 1, 0])
    assert skip_reason(both, both) is None
    assert skip_reason(np.zeros(4, dtype=int), both) == "the training labels have one class only"
    assert skip_reason(both, np.ones(2, dtype=int)) == "the test labels have one class only"
    assert skip_reason(both, np.array([], dtype=int)) == "the test labels have one class only"


def test_fit_and_score_scores_every_fold_with_binary_metrics() -> None:
    panel = make_panel()
    folds = [Fold(2012, (2002, 2008), 2012), Fold(2016, (2002, 2008, 2012, 2014), 2016)]
    said: list[str] = []
    run = fit_and_score(panel, folds, fit_column, progress=said.append,
                        announce=lambda f: f"fitting {f.test_year}")
    assert said == ["fitting 2012", "fitting 2016"] and run.skipped == []
    assert run.folds == folds
    first = run.results[0]
    assert first.data.features == ["lbm", "lbm_chg_prev"]  # income is missing before 2012
    assert run.results[1].data.features == ["lbm", "lbm_chg_prev", "income"]
    test = labelled_rows(panel, (2012,))
    assert first.metrics["change"] == binary_metrics(labels(test), -test["lbm_chg_prev"])
    table = run.metrics_frame()
    assert list(table[["test_year", "model"]].itertuples(index=False, name=None)) == [
        (2012, "change"), (2012, "level"), (2016, "change"), (2016, "level")
    ]
    assert table["n"].dtype == np.int64 and (table["n"] == N_UNITS).all()
    preds = run.predictions_frame()
    assert list(preds.columns) == ["test_year", "unit_code", "model", "y_true", "score"]
    assert len(preds) == 4 * N_UNITS
    part = preds[(preds["test_year"] == 2012) & (preds["model"] == "change")]
    np.testing.assert_array_equal(part["score"], -test["lbm_chg_prev"].to_numpy())
    fixed = fit_and_score(panel, folds[:1], fit_column, features=["lbm"])
    assert fixed.results[0].data.features == ["lbm"]


def test_one_class_folds_are_skipped_and_reported() -> None:
    panel = make_panel()
    folds = temporal_folds(train.outcome_years(panel), min_train_years=1, n_folds=10)
    said: list[str] = []
    run = fit_and_score(panel, folds, fit_column, progress=said.append)
    assert [(s.fold.test_year, s.reason) for s in run.skipped] == [
        (2008, "the training labels have one class only"),
        (2014, "the test labels have one class only"),
    ]
    assert said == [
        "fold 2008: skipped, the training labels have one class only",
        "fold 2014: skipped, the test labels have one class only",
    ]
    assert [f.test_year for f in run.folds] == [2012, 2016, 2018]
    assert set(run.metrics_frame()["test_year"]) == {2012, 2016, 2018}


def test_no_scored_fold_is_an_error_naming_the_skips() -> None:
    panel = make_panel()
    run = fit_and_score(panel, [Fold(2014, (2002, 2008, 2012), 2014)], fit_column)
    assert run.results == [] and run.metrics_frame().empty
    assert list(run.predictions_frame().columns) == [
        "test_year", "unit_code", "model", "y_true", "score"
    ]
    with pytest.raises(NotEnoughDataError, match="test 2014: the test labels have one class"):
        run.require_results()


def test_the_leakage_guard_runs_on_every_fold() -> None:
    panel = make_panel()
    leaky = Fold(2012, (2002, 2008, 2012), 2012)  # trains on its own test year
    with pytest.raises(WijkradarError, match="label outcome year 2014, after the cutoff"):
        fit_and_score(panel, [leaky], fit_column)


# --- the callers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cfg() -> Config:
    model = ModelConfig(n_estimators=40, min_child_samples=10, early_stopping_rounds=10)
    return Config(root=Path("."), sources=(), model=model)


def test_train_skips_one_class_folds(cfg: Config) -> None:
    said: list[str] = []
    result = train.train(make_panel(), cfg, progress=said.append)
    assert [(s.fold.test_year, s.reason) for s in result.skipped_folds] == [
        (2014, "the test labels have one class only")
    ]
    assert "fold 2014: skipped, the test labels have one class only" in said
    assert [f.test_year for f in result.folds] == [2016, 2018]
    assert sorted(result.evaluation["test_year"].unique()) == [2016, 2018]
    assert set(result.predictions["model"]) == {"lightgbm", "logistic", "last_change"}
    assert result.train_years == YEARS[:-1] and result.cutoff == 2020
    assert result.n_train_rows == len(YEARS[:-1]) * N_UNITS


def test_backtest_skips_one_class_periods(cfg: Config) -> None:
    said: list[str] = []
    table = backtest.backtest(make_panel(), cfg, progress=said.append)
    assert "period 2008->2012: skipped, the training labels have one class only" in said
    assert "period 2014->2016: skipped, the test labels have one class only" in said
    assert list(dict.fromkeys(table["period"])) == ["2012->2014", "2016->2018", "2018->2020"]
    assert list(table.columns[:4]) == ["period", "test_year", "train_years", "model"]
    assert [c for c in backtest.METRICS if c not in table.columns] == []
    assert (table["roc_auc_low"] <= table["roc_auc_high"]).all()


def test_search_skips_one_class_folds(cfg: Config) -> None:
    grid = [{"num_leaves": 4, "max_depth": 2}]
    table = search.search(make_panel(), cfg, 2020, grid=grid)
    assert len(table) == 1 and table["shap_rows_per_s"].iloc[0] > 0
    assert 0 <= table["mean_pr_auc"].iloc[0] <= 1
    chosen = search.best(table, cfg.model)
    assert chosen == replace(cfg.model, num_leaves=4, max_depth=2)
    with pytest.raises(NotEnoughDataError, match="every fold was skipped"):
        search.search(make_panel(), replace(cfg, validation=replace(cfg.validation, n_folds=1)),
                      2016, grid=grid)

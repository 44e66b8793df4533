"""Fixtures shared by the unit tests of the registry and of promotion: a small real booster on
features ``a`` and ``b``, and a real SQLite tracking store in the test's own folder."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from ml import registry

TWO_FEATURES = ["a", "b"]


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    return lgb.train({"objective": "binary", "verbosity": -1, "num_threads": 1},
                     lgb.Dataset(X, label=y, feature_name=TWO_FEATURES), num_boost_round=5)


@pytest.fixture
def tracking(tmp_path: Path) -> registry.Tracking:
    return registry.Tracking(uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="t",
                             model_name="wijkradar", artifact_root=tmp_path / "artifacts")

"""The registry on a real MLflow SQLite store: every call goes through the workspace's own
client, so MLflow's process-wide tracking and registry URIs are neither changed nor used, and
a run that fails midway is recorded as FAILED rather than left RUNNING."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from ml import registry
from wijkradar.errors import StoreError

FEATURES = ["a", "b"]


class BrokenBooster:
    """Fails at the artifact step, after the run has started."""

    def save_model(self, filename: str) -> None:
        raise OSError(f"disk full while writing {filename}")


def _statuses(tracking: registry.Tracking) -> list[str]:
    runs = registry.client(tracking).search_runs([registry.experiment_id(tracking)])
    return [run.info.status for run in runs]


def test_logging_resolving_and_loading_leave_the_global_uris_alone(
    tracking, booster, tmp_path, monkeypatch
):
    other = f"sqlite:///{tmp_path / 'elsewhere' / 'global.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", other)
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    assert before == (other, other)
    assert registry.client(tracking).tracking_uri == tracking.uri

    record = registry.RunRecord(params={"p": 1}, metrics={"m": 0.5},
                                step_metrics=[("s", 0.1, 2020)], tags={"t": "x"},
                                texts={"note.txt": "hi"})
    ref = registry.log_training(tracking, record, booster=booster, features=FEATURES)
    resolved = registry.resolve(tracking, ref.uri)
    model, features = registry.load(tracking, resolved)

    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == before
    assert not (tmp_path / "elsewhere").exists()  # nothing went through the global URI
    assert mlflow.active_run() is None
    assert (resolved.version, resolved.run_id) == (ref.version, ref.run_id)
    assert features == FEATURES
    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(20, 2)), columns=FEATURES)
    np.testing.assert_allclose(model.predict(frame)["risk"], booster.predict(frame.to_numpy()))
    run = registry.client(tracking).get_run(ref.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"p": "1"}
    assert run.data.metrics == {"m": 0.5, "s": 0.1}
    assert run.data.tags["t"] == "x"
    assert registry.run_text(tracking, ref.run_id, "note.txt") == "hi"


def test_a_training_run_that_fails_midway_ends_failed_and_registers_nothing(tracking):
    with pytest.raises(OSError, match="disk full"):
        registry.log_training(
            tracking, registry.RunRecord(params={"p": 1}), booster=BrokenBooster(),
            features=FEATURES,
        )
    assert _statuses(tracking) == ["FAILED"]
    assert registry.client(tracking).search_model_versions("name='wijkradar'") == []


def test_an_evaluation_run_that_fails_midway_ends_failed(tracking):
    record = registry.RunRecord(texts={"no/such/folder.txt": "x"})
    with pytest.raises(FileNotFoundError):
        registry.log_evaluation(tracking, record, run_name="backtest")
    assert _statuses(tracking) == ["FAILED"]
    run_id = registry.log_evaluation(tracking, registry.RunRecord(), run_name="backtest")
    assert sorted(_statuses(tracking)) == ["FAILED", "FINISHED"]
    assert registry.client(tracking).get_run(run_id).info.run_name == "backtest"


def test_an_alias_read_from_the_sqlite_file_is_what_mlflow_says(tracking, booster):
    from pathlib import Path

    from ml import store
    from wijkradar.errors import NoModelError

    db = Path(tracking.uri[len("sqlite:///"):])
    assert store.alias_target(db, tracking.model_name, registry.CHAMPION) is None
    with pytest.raises(NoModelError):
        registry.resolve(tracking, None)
    refs = [registry.log_training(tracking, registry.RunRecord(), booster=booster,
                                  features=FEATURES) for _ in range(2)]
    mlflow_client = registry.client(tracking)
    mlflow_client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, "1")
    mv = mlflow_client.get_model_version_by_alias(tracking.model_name, registry.CHAMPION)
    assert store.alias_target(db, tracking.model_name, registry.CHAMPION) == (
        str(mv.version), str(mv.run_id))
    assert registry.resolve(tracking, None) == refs[0]
    mlflow_client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, "2")
    assert registry.resolve(tracking, None) == refs[1]
    assert registry.resolve(tracking, "models:/wijkradar/1") == refs[0]  # through MLflow


def test_files_read_in_place_from_the_sqlite_file_are_what_mlflow_downloads(tracking, booster):
    from pathlib import Path

    import mlflow.artifacts

    from ml import store

    db = store.sqlite_file(tracking.uri)
    assert db == Path(tracking.uri[len("sqlite:///"):])
    assert store.sqlite_file("http://mlflow.example:5000") is None
    record = registry.RunRecord(texts={"note.txt": "hoi"})
    ref = registry.log_training(tracking, record, booster=booster, features=FEATURES)
    folder = store.version_folder(db, ref.name, ref.version)
    assert folder is not None and (folder / "MLmodel").is_file()
    source = registry.client(tracking).get_model_version_download_uri(ref.name, ref.version)
    assert folder == Path(store.local_path(source))  # the version's files, where MLflow has them
    downloaded = Path(mlflow.artifacts.download_artifacts(
        run_id=ref.run_id, artifact_path="evaluation/note.txt", tracking_uri=tracking.uri))
    assert registry.evaluation_file(tracking, ref.run_id, "note.txt").read_bytes() == (
        downloaded.read_bytes())
    (folder / "requirements.txt").write_text("lightgbm==0.0.1\n")  # a pin this machine misses
    with pytest.warns(RuntimeWarning, match=r"lightgbm==0\.0\.1, this machine has"):
        registry.load(tracking, ref)
    assert store.version_folder(db, ref.name, "99") is None  # no such version: ask MLflow
    assert store.run_artifacts(db, "no-such-run") is None
    assert registry.run_text(tracking, ref.run_id, "absent.txt") is None
    with pytest.raises(StoreError, match=r"absent\.parquet"):
        registry.run_table(tracking, ref.run_id, "absent")
    # Files that are gone: the in-place read gives way, and MLflow's error is the message.
    import shutil

    shutil.rmtree(folder)
    assert store.version_folder(db, ref.name, ref.version) is None
    with pytest.raises(StoreError, match=ref.uri):
        registry.load(tracking, ref)

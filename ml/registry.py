"""MLflow: the tracking run of every training, the registered model and its aliases.

The embedded default is the workspace's SQLite store (``mlflow/mlflow.db``) with artifacts
beside it; ``[tracking] uri`` in the config points at a shared server instead. Nothing here
keeps process-wide state: every call goes through ``client(tracking)``, an ``MlflowClient``
bound to the workspace's URI, and never through MLflow's global tracking URI or active run.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ml import store
from ml.packages import pip_requirements, requirement_mismatches
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import NoModelError, StoreError

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION = "champion"
MODEL_ARTIFACT_PATH = "model"  # where a training run keeps its pyfunc model
PROFILE_ARTIFACT = "training_profile.json"  # the training rows' drift profile (evaluation/)


@dataclass(frozen=True)
class Tracking:
    uri: str
    experiment: str
    model_name: str
    artifact_root: Path | None  # where a new experiment keeps artifacts (embedded store only)


def tracking_for(ws: Workspace, cfg: Config) -> Tracking:
    """The tracking store of a workspace: ``[tracking] uri`` when set, else the embedded
    SQLite store with artifacts beside it, checked and re-rooted under the workspace where it
    now lives (``ml.store.open_embedded``)."""
    if not cfg.tracking.uri:
        store.open_embedded(ws.mlflow_db, ws.root)
    return Tracking(
        uri=ws.tracking_uri(cfg.tracking.uri),
        experiment=cfg.tracking.experiment,
        model_name=cfg.tracking.model_name,
        artifact_root=None if cfg.tracking.uri else ws.mlflow_artifacts,
    )


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    run_id: str
    uri: str


def client(tracking: Tracking) -> MlflowClient:
    """The one way to reach a workspace's tracking store and model registry."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)


def experiment_id(tracking: Tracking) -> str:
    """The id of the workspace's experiment, created (artifacts under ``artifact_root``) when
    it does not exist yet."""
    mlflow_client = client(tracking)
    found = mlflow_client.get_experiment_by_name(tracking.experiment)
    if found is not None:
        return str(found.experiment_id)
    location = tracking.artifact_root.resolve().as_uri() if tracking.artifact_root else None
    if tracking.artifact_root:
        tracking.artifact_root.mkdir(parents=True, exist_ok=True)
    return str(mlflow_client.create_experiment(tracking.experiment, artifact_location=location))


@dataclass(frozen=True)
class RunRecord:
    """What one MLflow run records besides a model."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    step_metrics: list[tuple[str, float, int]] = field(default_factory=list)  # key, value, step
    tags: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # -> evaluation/<name>.*
    texts: dict[str, str] = field(default_factory=dict)  # -> evaluation/<name>


@contextmanager
def _run(mlflow_client: MlflowClient, tracking: Tracking, run_name: str | None) -> Iterator[str]:
    """A run in the workspace's experiment, yielding its id: FINISHED when the block completes,
    FAILED (and the error re-raised) when it does not."""
    from mlflow.tracking.context.registry import resolve_tags

    # The context tags (user, source, git commit) that MLflow's fluent API would have added.
    tags = {**resolve_tags(), **store.run_owner()}
    run = mlflow_client.create_run(experiment_id(tracking), tags=tags, run_name=run_name)
    run_id = str(run.info.run_id)
    try:
        yield run_id
    except BaseException:
        mlflow_client.set_terminated(run_id, "FAILED")
        raise
    mlflow_client.set_terminated(run_id, "FINISHED")


def _record(mlflow_client: MlflowClient, run_id: str, record: RunRecord, folder: Path) -> None:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    now = get_current_time_millis()
    metrics = [Metric(key, float(value), now, 0) for key, value in record.metrics.items()]
    metrics += [Metric(key, float(value), now, step) for key, value, step in record.step_metrics]
    mlflow_client.log_batch(
        run_id,
        metrics=metrics,
        params=[Param(key, str(value)) for key, value in record.params.items()],
        tags=[RunTag(key, str(value)) for key, value in record.tags.items()],
    )
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in record.tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
        table.to_csv(folder / f"{name}.csv", index=False)
    for name, text in record.texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    if record.tables or record.texts:
        mlflow_client.log_artifacts(run_id, str(folder), artifact_path="evaluation")


def log_evaluation(tracking: Tracking, record: RunRecord, run_name: str) -> str:
    """An MLflow run without a model (a backtest, say); returns its run id."""
    mlflow_client = client(tracking)
    with tempfile.TemporaryDirectory() as tmp, _run(mlflow_client, tracking, run_name) as run_id:
        _record(mlflow_client, run_id, record, Path(tmp))
        return run_id


def _save_model(
    folder: Path,
    booster: Any,
    features: list[str],
    calibrator: dict[str, Any] | None,
    background: pd.DataFrame | None = None,
) -> Path:
    """The pyfunc model saved under ``folder/model`` (its inputs staged beside it)."""
    import mlflow.pyfunc

    from models.packaged import (
        BACKGROUND_ARTIFACT,
        BOOSTER_ARTIFACT,
        CALIBRATOR_ARTIFACT,
        FEATURES_ARTIFACT,
        RiskModel,
        signature,
    )

    staging = folder / "staging"
    staging.mkdir()
    booster_path, features_path = staging / "booster.txt", staging / "features.json"
    booster.save_model(str(booster_path))
    features_path.write_text(json.dumps(features))
    artifacts = {BOOSTER_ARTIFACT: str(booster_path), FEATURES_ARTIFACT: str(features_path)}
    if calibrator is not None:
        calibrator_path = staging / "calibrator.json"
        calibrator_path.write_text(json.dumps(calibrator))
        artifacts[CALIBRATOR_ARTIFACT] = str(calibrator_path)
    if background is not None:
        background_path = staging / "background.parquet"
        background[features].to_parquet(background_path, index=False)
        artifacts[BACKGROUND_ARTIFACT] = str(background_path)
    model_dir = folder / MODEL_ARTIFACT_PATH
    with warnings.catch_warnings():
        # The signature is explicit, and the model is our own class: neither MLflow's
        # advice to add an input example nor its note on pickled models applies.
        warnings.filterwarnings("ignore", message=".*input example.*")
        warnings.filterwarnings("ignore", message=".*CloudPickle.*")
        mlflow.pyfunc.save_model(
            str(model_dir),
            python_model=RiskModel(),
            artifacts=artifacts,
            signature=signature(features),
            pip_requirements=pip_requirements(),
        )
    return model_dir


def _register(mlflow_client: MlflowClient, name: str, run_id: str) -> str:
    """A new version of registered model ``name`` (created when absent) from the run's model;
    returns the version."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import (
        ALREADY_EXISTS,
        RESOURCE_ALREADY_EXISTS,
        ErrorCode,
    )

    try:
        mlflow_client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code not in (
            ErrorCode.Name(RESOURCE_ALREADY_EXISTS), ErrorCode.Name(ALREADY_EXISTS)
        ):
            raise
    artifact_uri = mlflow_client.get_run(run_id).info.artifact_uri
    source = f"{artifact_uri.rstrip('/')}/{MODEL_ARTIFACT_PATH}"
    return str(mlflow_client.create_model_version(name, source=source, run_id=run_id).version)


def log_training(
    tracking: Tracking,
    record: RunRecord,
    *,
    booster: Any,
    features: list[str],
    calibrator: dict[str, Any] | None = None,
    background: pd.DataFrame | None = None,
) -> ModelRef:
    """One MLflow run: the record and the pyfunc model (artifact ``model``, with the
    ``background`` sample of the training rows for interventional explanations), registered
    as a new version. Whether it becomes the champion is ``ml.promotion.decide``'s call."""
    mlflow_client = client(tracking)
    with tempfile.TemporaryDirectory() as tmp, _run(mlflow_client, tracking, None) as run_id:
        folder = Path(tmp)
        _record(mlflow_client, run_id, record, folder / "evaluation")
        model_dir = _save_model(folder, booster, features, calibrator, background)
        mlflow_client.log_artifacts(run_id, str(model_dir), artifact_path=MODEL_ARTIFACT_PATH)
        version = _register(mlflow_client, tracking.model_name, run_id)
    return ModelRef(
        tracking.model_name, version, run_id, f"models:/{tracking.model_name}/{version}"
    )


def fail_orphans(tracking: Tracking) -> list[str]:
    """Mark FAILED (tag ``wijkradar.failure``) every RUNNING run of this host whose process
    died, such as a killed ``train``; returns their ids. A version registered from such a run
    is listed as failed and never gets an alias (``run_finished``)."""
    import socket

    mlflow_client = client(tracking)
    found = mlflow_client.get_experiment_by_name(tracking.experiment)
    if found is None:
        return []
    host = socket.gethostname()
    failed = []
    for run in mlflow_client.search_runs(
        [found.experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    ):
        if store.is_orphan(run.info.status, dict(run.data.tags), host):
            reason = f"process {run.data.tags.get(store.PID_TAG)} died before the run ended"
            mlflow_client.set_tag(run.info.run_id, store.FAILURE_TAG, reason)
            mlflow_client.set_terminated(run.info.run_id, "FAILED")
            failed.append(str(run.info.run_id))
    return failed


def run_finished(tracking: Tracking, run_id: str) -> bool:
    """Whether the training run ``run_id`` ended well (FINISHED): only then may its model
    version be given an alias."""
    try:
        return client(tracking).get_run(run_id).info.status == "FINISHED"
    except Exception:  # the run is gone
        return False


def require_run(tracking: Tracking, run_id: str) -> None:
    """A ``NoModelError`` unless ``run_id`` is a run of this store that logged an evaluation
    (a training or backtest run)."""
    try:
        run = client(tracking).get_run(run_id)
    except Exception as exc:
        raise NoModelError(
            f"No run {run_id!r} in {tracking.uri}. `wijkradar models list` shows the runs of "
            "the registered versions."
        ) from exc
    names = {a.path for a in client(tracking).list_artifacts(run.info.run_id, "evaluation")}
    if "evaluation/evaluation.parquet" not in names:
        raise NoModelError(
            f"Run {run_id} logged no evaluation table; it is no training run."
        )


def log_texts(tracking: Tracking, run_id: str, texts: dict[str, str]) -> None:
    """Add text artifacts under ``evaluation/`` to a finished run."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in texts.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        client(tracking).log_artifacts(run_id, tmp, artifact_path="evaluation")


def resolve(tracking: Tracking, uri: str | None) -> ModelRef:
    """Which registered version a URI means (default: the champion). An alias in the embedded
    store is read from its SQLite file directly (``ml.store.alias_target``); everything else,
    and anything that file cannot tell, goes through MLflow's client."""
    name = tracking.model_name
    target = uri or f"models:/{name}@{CHAMPION}"
    by_alias = target.startswith("models:/") and "@" in target
    db = store.sqlite_file(tracking.uri)
    if by_alias:
        name, alias = target[len("models:/") :].split("@", 1)
        if db is not None:
            found = store.alias_target(db, name, alias)
            if found is not None:
                return ModelRef(name, found[0], found[1], f"models:/{name}/{found[0]}")
    mlflow_client = client(tracking)
    try:
        if by_alias:
            mv = mlflow_client.get_model_version_by_alias(name, alias)
        elif target.startswith("models:/"):
            name, ver = target[len("models:/") :].split("/", 1)
            mv = mlflow_client.get_model_version(name, ver)
        else:
            raise NoModelError(
                f"The model URI must be models:/NAME@ALIAS or models:/NAME/VERSION. "
                f"Got {target!r} instead."
            )
    except NoModelError:
        raise
    except Exception as exc:
        raise NoModelError(
            f"No approved model at {target} in {tracking.uri}. Run `wijkradar train` first."
        ) from exc
    return ModelRef(name, str(mv.version), str(mv.run_id), f"models:/{name}/{mv.version}")


def load(tracking: Tracking, ref: ModelRef) -> tuple[Any, list[str]]:
    """The pyfunc model and its feature list (from the explicit signature). Files kept on
    this machine (a SQLite store's) are loaded where they are; others are fetched through the
    workspace's client into a temporary folder. The loaded model keeps none of them open."""
    import mlflow.artifacts
    import mlflow.pyfunc

    def opened(folder: str) -> Any:  # MLflow's own version check scans every package: 0.6 s
        model = mlflow.pyfunc.load_model(folder, suppress_warnings=True)
        for mismatch in requirement_mismatches(Path(folder)):
            warnings.warn(f"Model {ref.uri}: {mismatch}", RuntimeWarning, stacklevel=3)
        return model

    db = store.sqlite_file(tracking.uri)
    try:
        folder = store.version_folder(db, ref.name, ref.version) if db else None
        if folder is not None:
            model = opened(str(folder))
        else:
            source = client(tracking).get_model_version_download_uri(ref.name, ref.version)
            with tempfile.TemporaryDirectory() as tmp:
                model = opened(mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=tmp,
                    tracking_uri=tracking.uri, registry_uri=tracking.uri,
                ))
    except Exception as exc:
        raise StoreError(
            f"The files of registered model {ref.uri} cannot be read from {tracking.uri} "
            f"(artifacts of run {ref.run_id}): {exc}"
        ) from exc
    return model, list(model.metadata.get_input_schema().input_names())


def evaluation_file(tracking: Tracking, run_id: str, name: str) -> Path:
    """The local path of ``evaluation/<name>`` of a training run: in place for a SQLite
    store's local artifacts, else downloaded through MLflow. Raises when it is absent."""
    db = store.sqlite_file(tracking.uri)
    folder = store.run_artifacts(db, run_id) if db else None
    if folder is None:
        import mlflow.artifacts

        return Path(mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"evaluation/{name}", tracking_uri=tracking.uri
        ))
    path = folder / "evaluation" / name
    if not path.is_file():
        raise FileNotFoundError(f"run {run_id} has no artifact evaluation/{name} ({path})")
    return path


def run_text(tracking: Tracking, run_id: str, name: str) -> str | None:
    """A text artifact the training run logged under ``evaluation/`` (None if absent)."""
    try:
        return evaluation_file(tracking, run_id, name).read_text(encoding="utf-8")
    except Exception:  # an older run without this artifact, or one that cannot be read
        return None


def run_table(tracking: Tracking, run_id: str, name: str) -> pd.DataFrame:
    """A table the training run logged under ``evaluation/``."""
    try:
        return pd.read_parquet(evaluation_file(tracking, run_id, f"{name}.parquet"))
    except Exception as exc:
        raise StoreError(
            f"The table evaluation/{name}.parquet of run {run_id} cannot be read from "
            f"{tracking.uri}: {exc}"
        ) from exc

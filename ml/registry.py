"""MLflow: the tracking run of every training, the registered model and its aliases.

The embedded default is the workspace's SQLite store (``mlflow/mlflow.db``) with artifacts
beside it; ``[tracking] uri`` in the config points at a shared server instead. Nothing here
keeps global state between calls: each function receives the URI it needs.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import pandas as pd

from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import NoModelError

CHAMPION = "champion"


@dataclass(frozen=True)
class Tracking:
    uri: str
    experiment: str
    model_name: str
    artifact_root: Path | None  # where a new experiment keeps artifacts (embedded store only)


def tracking_for(ws: Workspace, cfg: Config) -> Tracking:
    """The tracking store of a workspace: ``[tracking] uri`` when set, else the embedded
    SQLite store with artifacts beside it."""
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


def _client(tracking: Tracking) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)


def experiment_id(tracking: Tracking) -> str:
    client = _client(tracking)
    found = client.get_experiment_by_name(tracking.experiment)
    if found is not None:
        return str(found.experiment_id)
    location = tracking.artifact_root.resolve().as_uri() if tracking.artifact_root else None
    if tracking.artifact_root:
        tracking.artifact_root.mkdir(parents=True, exist_ok=True)
    return str(client.create_experiment(tracking.experiment, artifact_location=location))


def pip_requirements() -> list[str]:
    """Pinned to what is installed, so MLflow need not infer them (3-4 s saved per model)."""
    return [f"{p}=={package_version(p)}" for p in ("lightgbm", "numpy", "pandas", "mlflow")]


@dataclass(frozen=True)
class RunRecord:
    """What one MLflow run records besides a model."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    step_metrics: list[tuple[str, float, int]] = field(default_factory=list)  # key, value, step
    tags: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # -> evaluation/<name>.*
    texts: dict[str, str] = field(default_factory=dict)  # -> evaluation/<name>


def _record(mlflow: Any, record: RunRecord, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mlflow.log_params(record.params)
    mlflow.log_metrics(record.metrics)
    for key, value, step in record.step_metrics:
        mlflow.log_metric(key, value, step=step)
    mlflow.set_tags(record.tags)
    for name, table in record.tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
        table.to_csv(folder / f"{name}.csv", index=False)
    for name, text in record.texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    if record.tables or record.texts:
        mlflow.log_artifacts(str(folder), artifact_path="evaluation")


def log_evaluation(tracking: Tracking, record: RunRecord, run_name: str) -> str:
    """An MLflow run without a model (a backtest, say); returns its run id."""
    import mlflow

    mlflow.set_tracking_uri(tracking.uri)
    exp = experiment_id(tracking)
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(
        experiment_id=exp, run_name=run_name
    ) as run:
        _record(mlflow, record, Path(tmp))
        return str(run.info.run_id)


def log_training(
    tracking: Tracking,
    record: RunRecord,
    *,
    booster: Any,
    features: list[str],
    calibrator: dict[str, Any] | None = None,
) -> ModelRef:
    """One MLflow run: the record and the pyfunc model, registered as a new version. Whether it
    becomes the champion is ``ml.promotion.decide``'s call."""
    import mlflow

    from models.packaged import (
        BOOSTER_ARTIFACT,
        CALIBRATOR_ARTIFACT,
        FEATURES_ARTIFACT,
        RiskModel,
        signature,
    )

    mlflow.set_tracking_uri(tracking.uri)
    mlflow.set_registry_uri(tracking.uri)
    exp = experiment_id(tracking)
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(experiment_id=exp) as run:
        folder = Path(tmp)
        _record(mlflow, record, folder / "evaluation")
        model_dir = folder / "model"
        model_dir.mkdir()
        booster_path, features_path = model_dir / "booster.txt", model_dir / "features.json"
        booster.save_model(str(booster_path))
        features_path.write_text(json.dumps(features))
        artifacts = {BOOSTER_ARTIFACT: str(booster_path), FEATURES_ARTIFACT: str(features_path)}
        if calibrator is not None:
            calibrator_path = model_dir / "calibrator.json"
            calibrator_path.write_text(json.dumps(calibrator))
            artifacts[CALIBRATOR_ARTIFACT] = str(calibrator_path)
        with warnings.catch_warnings():
            # The signature is explicit, and the model is our own class: neither MLflow's
            # advice to add an input example nor its note on pickled models applies.
            warnings.filterwarnings("ignore", message=".*input example.*")
            warnings.filterwarnings("ignore", message=".*CloudPickle.*")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=RiskModel(),
                artifacts=artifacts,
                signature=signature(features),
                pip_requirements=pip_requirements(),
                registered_model_name=tracking.model_name,
            )
        run_id = run.info.run_id
    version = str(info.registered_model_version)
    return ModelRef(
        tracking.model_name, version, run_id, f"models:/{tracking.model_name}/{version}"
    )


def log_texts(tracking: Tracking, run_id: str, texts: dict[str, str]) -> None:
    """Add text artifacts under ``evaluation/`` to a finished run."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking.uri)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in texts.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        client.log_artifacts(run_id, tmp, artifact_path="evaluation")


def resolve(tracking: Tracking, uri: str | None) -> ModelRef:
    """Which registered version a URI means (default: the champion)."""
    client = _client(tracking)
    name = tracking.model_name
    target = uri or f"models:/{name}@{CHAMPION}"
    try:
        if target.startswith("models:/") and "@" in target:
            name, alias = target[len("models:/") :].split("@", 1)
            mv = client.get_model_version_by_alias(name, alias)
        elif target.startswith("models:/"):
            name, ver = target[len("models:/") :].split("/", 1)
            mv = client.get_model_version(name, ver)
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
    """The pyfunc model and its feature list (from the explicit signature)."""
    import mlflow

    mlflow.set_tracking_uri(tracking.uri)
    mlflow.set_registry_uri(tracking.uri)
    try:
        model = mlflow.pyfunc.load_model(ref.uri)
    except Exception as exc:
        raise NoModelError(f"Could not load {ref.uri}: {exc}") from exc
    features = model.metadata.get_input_schema().input_names()
    return model, list(features)


def run_text(tracking: Tracking, run_id: str, name: str) -> str | None:
    """A text artifact the training run logged under ``evaluation/`` (None if absent)."""
    import mlflow

    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"evaluation/{name}", tracking_uri=tracking.uri
        )
    except Exception:  # an older run without this artifact
        return None
    return Path(path).read_text(encoding="utf-8")


def run_table(tracking: Tracking, run_id: str, name: str) -> pd.DataFrame:
    """A table the training run logged under ``evaluation/``."""
    import mlflow

    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=f"evaluation/{name}.parquet", tracking_uri=tracking.uri
    )
    return pd.read_parquet(path)

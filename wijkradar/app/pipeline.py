"""The pipeline's stages that the CLI and the demo run: generate, train, backtest.

Each stage reads its inputs through the catalog (the panel through ``features.build``), calls
the pure functions of ``ml``, and writes through the catalog or the registry. Scoring and
publishing are ``serving.job``'s. Stages communicate through files, never through shared
state.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

import wijkradar
from features.build import ensure_panel
from features.describe import Extra, mapped_terms
from ml import modelcard, promotion, registry, truthcheck
from ml.drift import training_profile
from ml.evaluate import Evaluation, evaluate
from ml.train import TrainResult, outcome_years, train
from models.interventional import background_sample
from serving.charts import training_charts
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.records import PanelMeta

Progress = Callable[[str], None]


def generate(ws: Workspace, seed: int, n_gemeenten: int) -> dict[str, int]:
    """Write a synthetic workspace: sources, truth and config."""
    from features.synth import generate as synth

    data = synth(seed=seed, n_gemeenten=n_gemeenten)
    for rel, text in data.files.items():
        catalog.write_text(text, ws.root / rel)
    catalog.write_parquet(data.truth, ws.truth)
    catalog.write_text(data.config, ws.config)
    return {"files": len(data.files), "truth_rows": len(data.truth)}


def code_version() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(wijkradar.__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{wijkradar.__version__}+{sha}" if sha else wijkradar.__version__


@dataclass(frozen=True)
class TrainSummary:
    ref: registry.ModelRef
    result: TrainResult
    truth: dict[str, float] | None
    decision: promotion.Decision
    evaluation: Evaluation


def _last_fold_truth(result: TrainResult, ws: Workspace) -> dict[str, float] | None:
    if not ws.truth.exists() or not result.folds:
        return None
    last = result.folds[-1].test_year
    preds = result.predictions
    lgbm = preds[(preds["test_year"] == last) & (preds["model"] == "lightgbm")]
    ranking = pd.DataFrame(
        {"unit_code": lgbm["unit_code"], "as_of_year": last, "risk": lgbm["score"]}
    )
    t = catalog.read_parquet(ws.truth)
    return truthcheck.compare(ranking, t)


def model_card(
    cfg: Config,
    ref: registry.ModelRef,
    result: TrainResult,
    evaluation: Evaluation,
    extra: Extra | None = None,
) -> modelcard.ModelCard:
    """The model card of a trained and registered model; ``extra`` names the config's mapped
    columns by their configured labels (``features.describe.mapped_terms``)."""
    last = result.folds[-1].test_year
    metrics = evaluation.per_fold[evaluation.per_fold["test_year"] == last].drop(
        columns="test_year"
    )
    rule = modelcard.LabelRule(cfg.label.kind, cfg.label.delta, cfg.label.max_class)
    return modelcard.ModelCard(
        name=ref.name, version=ref.version, run_id=ref.run_id, cutoff=result.cutoff,
        train_years=result.train_years, n_train_rows=result.n_train_rows,
        n_features=len(result.features), label=rule,
        calibration=evaluation.calibrator.method, metrics=metrics, bias=evaluation.bias,
        params=asdict(cfg.model), features=tuple(result.features), extra=dict(extra or {}),
    )


HEADLINE_METRICS = ("roc_auc", "pr_auc", "precision_at_10", "recall_at_10")


def searched_config(
    panel: pd.DataFrame, cfg: Config, cutoff: int | None, progress: Progress
) -> tuple[Config, pd.DataFrame]:
    """The config with the model settings the search on the temporal folds found best, and
    the search table (skill and TreeSHAP cost per candidate)."""
    from ml import search as model_search

    year = cutoff if cutoff is not None else max(
        o for o in outcome_years(panel).values() if o is not None
    )
    table = model_search.search(panel, cfg, year, progress)
    cfg = replace(cfg, model=model_search.best(table, cfg.model))
    progress(f"search: best leaves {cfg.model.num_leaves}, depth {cfg.model.max_depth}, "
             f"learning rate {cfg.model.learning_rate}")
    return cfg, table


def training_record(
    cfg: Config,
    panel: pd.DataFrame,
    meta: PanelMeta,
    result: TrainResult,
    evaluation: Evaluation,
    truth_scores: dict[str, float] | None,
    extra_tables: dict[str, pd.DataFrame],
) -> registry.RunRecord:
    """What the training's MLflow run records: params, last-fold and per-fold metrics, the
    evaluation tables, the config, the training profile (for drift) and the charts."""
    ev = result.evaluation
    last_year = int(ev["test_year"].max())
    metrics = {
        f"last_fold_{r.model}_{m}": float(getattr(r, m))
        for r in ev[ev["test_year"] == last_year].itertuples()
        for m in HEADLINE_METRICS
    }
    metrics["calibration_ece"] = float(next(iter(evaluation.ece.values())))
    metrics.update({f"last_fold_truth_{k}": v for k, v in (truth_scores or {}).items()})
    pr = result.predictions[result.predictions["test_year"] == last_year]
    rows = panel["as_of_year"].isin(result.train_years) & panel["label"].notna()
    trained_on = panel.loc[rows, result.features]
    gains = dict(zip(result.features, result.booster.feature_importance("gain"), strict=True))
    return registry.RunRecord(
        params={
            **{f"model.{k}": v for k, v in asdict(cfg.model).items()},
            "label.delta": cfg.label.delta,
            "panel.level": cfg.panel.level,
            "cutoff": result.cutoff,
            "train_years": ",".join(map(str, result.train_years)),
            "n_train_rows": result.n_train_rows,
            "n_features": len(result.features),
            "n_trees": result.n_trees,
            "calibration": evaluation.calibrator.method,
        },
        metrics=metrics,
        step_metrics=[
            (f"{r.model}_{m}", float(getattr(r, m)), int(r.test_year))
            for r in ev.itertuples()
            for m in HEADLINE_METRICS
        ],
        tags={
            "panel_fingerprint": meta.fingerprint,
            "code_version": code_version(),
            "cutoff": str(result.cutoff),
        },
        tables={
            "evaluation": ev, "pr_curves": pr[["model", "y_true", "score"]],
            "metrics_per_fold": evaluation.per_fold, "metrics_pooled": evaluation.pooled,
            "calibration": evaluation.calibration_folds, "reliability": evaluation.reliability,
            "bias_audit": evaluation.bias, **extra_tables,
        },
        texts={
            "config.json": json.dumps(asdict(cfg), indent=2, default=str),
            registry.PROFILE_ARTIFACT: json.dumps(training_profile(
                trained_on, years=panel.loc[rows, "as_of_year"], importance=gains)),
            **training_charts(result, evaluation, panel),
        },
    )


def run_train(
    ws: Workspace, cfg: Config, cutoff: int | None, progress: Progress, search: bool = False
) -> TrainSummary:
    """Validate on the temporal folds, train the final model, log and register it as the
    challenger, and let the promotion rule decide whether it becomes the champion."""
    panel, meta = ensure_panel(ws, cfg, progress=progress)
    tracking = registry.tracking_for(ws, cfg)
    for run_id in registry.fail_orphans(tracking):
        progress(f"marked run {run_id} FAILED: its training process died before it ended")
    tables: dict[str, pd.DataFrame] = {}
    if search:
        cfg, tables["search"] = searched_config(panel, cfg, cutoff, progress)
    result = train(panel, cfg, cutoff, progress)
    progress("evaluating: bootstrap intervals, calibration, bias audit")
    evaluation = evaluate(result, panel)
    truth_scores = _last_fold_truth(result, ws)
    record = training_record(cfg, panel, meta, result, evaluation, truth_scores, tables)
    progress("logging to MLflow and registering the model")
    ref = registry.log_training(
        tracking, record, booster=result.booster, features=result.features,
        calibrator=evaluation.calibrator.to_dict(),
        background=background_sample(
            panel.loc[panel["as_of_year"].isin(result.train_years) & panel["label"].notna(),
                      result.features],
            cfg.explain.background_rows, cfg.model.random_state,
        ),
    )
    card = model_card(cfg, ref, result, evaluation, mapped_terms(meta.mapped_columns))
    registry.log_texts(tracking, ref.run_id, modelcard.card_texts(card))
    decision = promotion.decide(tracking, ref, cfg.promotion)
    progress(("promoted to champion: " if decision.promoted else "kept as challenger: ")
             + decision.reason)
    return TrainSummary(
        ref=ref, result=result, truth=truth_scores, decision=decision, evaluation=evaluation
    )


def run_backtest(ws: Workspace, cfg: Config, progress: Progress) -> tuple[pd.DataFrame, str]:
    """Backtest every period; log the table and per-period metrics to MLflow."""
    from ml.backtest import METRICS, backtest

    panel, meta = ensure_panel(ws, cfg, progress=progress)
    table = backtest(panel, cfg, progress)
    record = registry.RunRecord(
        params={"label.kind": cfg.label.kind, "panel.level": cfg.panel.level,
                **{f"model.{k}": v for k, v in asdict(cfg.model).items()}},
        step_metrics=[
            (f"{r.model}_{m}", float(getattr(r, m)), int(r.test_year))
            for r in table.itertuples() for m in METRICS if m != "n"
        ],
        tags={"panel_fingerprint": meta.fingerprint, "code_version": code_version(),
              "kind": "backtest"},
        tables={"backtest": table},
    )
    run_id = registry.log_evaluation(registry.tracking_for(ws, cfg), record, run_name="backtest")
    return table, run_id

"""The batch scoring job and the report: the I/O edge of serving.

A scoring run is identified by the panel fingerprint, the model version and the as-of year.
It is written to a staging folder and published by rename; ``scores/<year>/latest`` then
names it. Re-running with the same inputs publishes nothing new.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.panel import feature_columns
from ml import registry
from serving.ranking import ADDITIVITY_TOLERANCE, additivity_error, build_ranking
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import ExplanationError, NotEnoughDataError, SchemaMismatchError
from wijkradar.stages import ensure_panel, tracking_of

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScoreOutcome:
    run_id: str
    run_dir: Path
    published: bool  # False: the same inputs and model were already scored
    ranking: pd.DataFrame
    manifest: dict


def schema_differences(model_features: list[str], panel_features: list[str]) -> list[str]:
    """What keeps a model from scoring a panel, in words (empty when it fits)."""
    missing = [f for f in model_features if f not in panel_features]
    return [f"the panel lacks feature {f!r}" for f in missing]


def score_rows(
    predict: Callable[[pd.DataFrame], pd.DataFrame], rows: pd.DataFrame, features: list[str]
) -> tuple[pd.DataFrame, float]:
    """Score, explain and rank ``rows`` (pure apart from the model call). Returns the ranking
    and the largest additivity error; raises when the explanations do not add up."""
    output = predict(rows[features].astype("float64"))
    error = additivity_error(output, features)
    if error > ADDITIVITY_TOLERANCE:
        raise ExplanationError(
            f"SHAP additivity violated: max |base + sum(shap) - margin| = {error:.3g} "
            f"> {ADDITIVITY_TOLERANCE:g}. Nothing was published."
        )
    return build_ranking(rows, output, features), error


def run_id_of(panel_fingerprint: str, ref: registry.ModelRef, as_of_year: int) -> str:
    key = f"{panel_fingerprint}\0{ref.name}\0{ref.version}\0{as_of_year}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def run_score(
    ws: Workspace, cfg: Config, as_of: int | None, model_uri: str | None, progress: Progress
) -> ScoreOutcome:
    """Score under the workspace's lock: a second run at the same time fails with
    ``LockHeldError``; a lock left by a killed run is taken over."""
    from serving.lock import RunLock

    with RunLock(ws.lock) as lock:
        if lock.took_over_from_:
            progress(f"took over a stale lock of pid {lock.took_over_from_.get('pid')}")
        return _run_score(ws, cfg, as_of, model_uri, progress)


def _run_score(
    ws: Workspace, cfg: Config, as_of: int | None, model_uri: str | None, progress: Progress
) -> ScoreOutcome:
    panel, meta = ensure_panel(ws, cfg)
    year = int(as_of if as_of is not None else panel["as_of_year"].max())
    rows = panel[panel["as_of_year"] == year].reset_index(drop=True)
    if rows.empty:
        raise NotEnoughDataError(
            f"The panel has no rows for as-of year {year}. "
            f"As-of years present: {sorted(int(y) for y in panel['as_of_year'].unique())}."
        )
    tracking = tracking_of(ws, cfg)
    ref = registry.resolve(tracking, model_uri)
    run_id = run_id_of(meta["fingerprint"], ref, year)
    current = catalog.latest_run(ws, year)
    if current is not None and current.name == run_id:
        progress(f"nothing new: run {run_id} already published")
        return ScoreOutcome(
            run_id,
            current,
            False,
            catalog.read_parquet(current / "ranking.parquet"),
            catalog.read_json(current / "manifest.json"),
        )
    progress(f"loading model {ref.name} v{ref.version}")
    model, features = registry.load(tracking, ref)
    problems = schema_differences(features, feature_columns(panel))
    if problems:
        raise SchemaMismatchError(f"Model {ref.uri} does not fit the panel: " + "; ".join(problems))
    progress(f"scoring and explaining {len(rows):,} units")
    ranking, error = score_rows(model.predict, rows, features)
    manifest = {
        "run_id": run_id,
        "as_of_year": year,
        "model_name": ref.name,
        "model_version": ref.version,
        "model_run_id": ref.run_id,
        "panel_fingerprint": meta["fingerprint"],
        "row_count": len(ranking),
        "features": features,
        "additivity_max_error": error,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    final = ws.run_dir(year, run_id)
    with catalog.staged_dir(final) as tmp:
        ranking.to_parquet(tmp / "ranking.parquet", index=False)
        ranking.to_csv(tmp / "ranking.csv", index=False)
        manifest["files"] = catalog.file_digests(tmp)
        catalog.write_json(manifest, tmp / "manifest.json")  # last: a run with it is whole
    catalog.point_latest(ws, year, run_id)
    progress(f"published run {run_id}")
    return ScoreOutcome(run_id, final, True, ranking, manifest)


def run_report(ws: Workspace, cfg: Config, as_of: int | None) -> Path:
    """Render the report of the newest published run (of ``as_of``, default the latest year)."""
    from serving.report import ReportInputs, render_report

    years = catalog.scored_years(ws)
    year = as_of if as_of is not None else (years[-1] if years else None)
    run = catalog.latest_run(ws, year) if year is not None else None
    if run is None:
        raise NotEnoughDataError("No published scoring run to report on. Run `wijkradar score`.")
    ranking = catalog.read_parquet(run / "ranking.parquet")
    manifest = catalog.read_json(run / "manifest.json")
    panel, _ = ensure_panel(ws, cfg)
    rows = panel[panel["as_of_year"] == year]
    features = rows[["unit_code", *manifest["features"]]]
    tracking = tracking_of(ws, cfg)
    inputs = ReportInputs(
        ranking=ranking,
        features=features,
        evaluation=registry.run_table(tracking, manifest["model_run_id"], "evaluation"),
        pr_curves=registry.run_table(tracking, manifest["model_run_id"], "pr_curves"),
        manifest=manifest,
    )
    catalog.write_text(render_report(inputs), ws.report)
    return ws.report


def run_evaluate(ws: Workspace, cfg: Config, model_uri: str | None, run_id: str | None) -> Path:
    """Write ``report/evaluation.html`` for a training run (default: the champion's)."""
    from serving.evalreport import render

    tracking = tracking_of(ws, cfg)
    if run_id is None:
        ref = registry.resolve(tracking, model_uri)
        run_id, title = ref.run_id, f"Evaluation of {ref.name} version {ref.version}"
    else:
        title = f"Evaluation of run {run_id}"

    def table(name: str) -> pd.DataFrame | None:
        try:
            return registry.run_table(tracking, run_id, name)
        except Exception:  # a table this run did not log (e.g. no search)
            return None

    page = render(run_id, title, table, lambda name: registry.run_text(tracking, run_id, name))
    catalog.write_text(page, ws.evaluation_report)
    return ws.evaluation_report

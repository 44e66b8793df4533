"""What is made from a published run: its report (``run_report``), a model's evaluation page
(``run_evaluate``) and the run's files for analysts on demand (``run_export``).

``wijkradar export``: a run scored with ``[exports] when = "on_demand"`` holds only what the
page, the API and the report read. ``run_export`` writes the rest, exactly as a run with
``when = "run"`` holds it (``serving.writers.write_export_files``: ranking.csv,
explanations.parquet and the per-gemeente CSV/Excel files), into
``Workspace.export_dir(as_of, run_id)``, from:

* the run's own ranking.parquet and manifest (its gemeenten, knowledge date and sources);
* the panel rows it scored, used only when the panel's SHA-256 is the one the manifest
  records (``panel_hash``): the values the model saw, and the context features;
* the previous run's ranking (``previous_run``), for the rank changes, when it still exists.

The folder is written whole to a staging sibling and renamed into place, with
``exports.json`` (the run id and each file's SHA-256) last. A run already exported is left
as it is unless ``force``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.build import ensure_panel
from features.describe import mapped_terms
from ml import registry
from serving.exports import PREVIOUS_COLUMNS, context_values, knowledge_notes_nl
from serving.writers import RunContent, write_export_files
from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace
from wijkradar.config import Config
from wijkradar.errors import InputError, NotEnoughDataError
from wijkradar.records import ALL_GEMEENTEN

Progress = Callable[[str], None]
EXPORTS_RECORD = "exports.json"


@dataclass(frozen=True)
class ExportOutcome:
    folder: RunFolder
    run_id: str
    written: bool  # False: this run had been exported already


def run_export(
    ws: Workspace, cfg: Config, as_of: int | None, progress: Progress, force: bool = False
) -> ExportOutcome:
    """Write the analysts' files of the newest published run of ``as_of`` (default: the
    newest scored as-of year); see the module's docstring."""
    catalog.remove_stale_staging(ws, progress)  # the caller holds the lock
    run = published_run(ws, as_of, "export")
    manifest = catalog.read_manifest(run)
    target = ws.export_dir(manifest.as_of_year, run.run_id)
    if (target.path / EXPORTS_RECORD).is_file() and not force:
        progress(f"run {run.run_id} was exported already: {target.path}")
        return ExportOutcome(target, run.run_id, False)
    panel, meta = ensure_panel(ws, cfg, progress=progress)
    if manifest.panel_hash and meta.content_hash != manifest.panel_hash:
        raise InputError(
            f"The panel changed since run {run.run_id} was scored (SHA-256 "
            f"{meta.content_hash[:12]}…, the run scored {manifest.panel_hash[:12]}…), so the "
            "values its explanations show are gone. Score again (`wijkradar score`) and "
            "export that run.",
            file=str(ws.panel),
        )
    rows = panel[panel["as_of_year"] == manifest.as_of_year].reset_index(drop=True)
    previous = (
        ws.run_dir(manifest.as_of_year, manifest.previous_run) if manifest.previous_run else None
    )
    progress(f"exporting run {run.run_id} ({manifest.row_count:,} units)")
    content = RunContent(
        ranking=catalog.read_parquet(run.ranking),
        values=rows[["unit_code", *manifest.features]],
        drift=pd.DataFrame(),  # the run folder's drift.json: not an export
        previous=(catalog.read_parquet(previous.ranking, PREVIOUS_COLUMNS)
                  if previous is not None and previous.ranking.is_file() else None),
        gemeenten=None if manifest.gemeenten == ALL_GEMEENTEN else list(manifest.gemeenten),
        context=context_values(rows, meta.context_features),
        terms=mapped_terms(meta.mapped_columns),
    )
    notes = knowledge_notes_nl(manifest.knowledge_date, manifest.sources)
    with catalog.staged_dir(target.path) as tmp:
        staged = RunFolder(tmp)
        write_export_files(staged, content, notes, progress)
        record = {"run_id": run.run_id, "as_of_year": manifest.as_of_year,
                  "files": catalog.file_digests(tmp)}
        catalog.write_json(record, tmp / EXPORTS_RECORD)
    progress(f"exported run {run.run_id}: {target.path}")
    return ExportOutcome(target, run.run_id, True)


def published_run(ws: Workspace, as_of: int | None, purpose: str) -> RunFolder:
    """The newest published run of ``as_of`` (default: the newest scored as-of year); else
    ``NotEnoughDataError`` saying there is none to ``purpose`` ("export", "report on")."""
    years = catalog.scored_years(ws)
    year = as_of if as_of is not None else (max(years) if years else None)
    run = catalog.latest_run(ws, year) if year is not None else None
    if run is None:
        scored = ", ".join(map(str, years)) or "none"
        raise NotEnoughDataError(
            f"No published run to {purpose} for as-of year {year if year is not None else '(any)'}"
            f". As-of years scored: {scored}. Run `wijkradar score` first."
        )
    return run


def run_report(ws: Workspace, cfg: Config, as_of: int | None) -> Path:
    """Render the report of the newest published run (of ``as_of``, default the latest year)."""
    from serving.context import horizon_of
    from serving.report import ReportInputs, render_report

    run = published_run(ws, as_of, "report on")
    ranking = catalog.read_parquet(run.ranking)
    manifest = catalog.read_manifest(run)
    panel, meta = ensure_panel(ws, cfg)
    rows = panel[panel["as_of_year"] == manifest.as_of_year]
    features = rows[["unit_code", *manifest.features]]
    tracking = registry.tracking_for(ws, cfg)
    inputs = ReportInputs(
        ranking=ranking,
        features=features,
        evaluation=registry.run_table(tracking, manifest.model_run_id, "evaluation"),
        pr_curves=registry.run_table(tracking, manifest.model_run_id, "pr_curves"),
        manifest=manifest,
        delta=cfg.label.delta,
        horizon=horizon_of(panel),
        label_kind=cfg.label.kind,
        max_class=cfg.label.max_class,
        terms=mapped_terms(meta.mapped_columns),
    )
    catalog.write_text(render_report(inputs), ws.report)
    return ws.report


def run_evaluate(ws: Workspace, cfg: Config, model_uri: str | None, run_id: str | None) -> Path:
    """Write ``report/evaluation.html`` (in Dutch) for a training run (default: the
    champion's)."""
    from serving.evalreport import render, title_of

    tracking = registry.tracking_for(ws, cfg)
    if run_id is None:
        ref = registry.resolve(tracking, model_uri)
        run_id, title = ref.run_id, title_of(ref.name, ref.version, ref.run_id)
    else:
        registry.require_run(tracking, run_id)
        title = title_of(None, None, run_id)

    def table(name: str) -> pd.DataFrame | None:
        try:
            return registry.run_table(tracking, run_id, name)
        except Exception:  # a table this run did not log (e.g. no search)
            return None

    page = render(run_id, title, table, lambda name: registry.run_text(tracking, run_id, name))
    catalog.write_text(page, ws.evaluation_report)
    return ws.evaluation_report

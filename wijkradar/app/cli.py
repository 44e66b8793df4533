"""The one command-line entry point: ``wijkradar``.

Every command takes ``--workspace`` (default ``./workspace``) and ``--config`` (default
``WORKSPACE/wijkradar.toml``). Errors wijkradar raises on purpose end the process with their
class's exit code and a one-line message; nothing partial is published.
"""

from __future__ import annotations

import gc
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wijkradar.app.console import (
    OUTPUT,
    LogFormatOpt,
    Output,
    chosen_format,
    console,
    guarded,
    json_line,
    json_requested,
    outcome,
    print_table,
    say_line,
    status,
)
from wijkradar.app.fetch import fetch_app
from wijkradar.app.modelscmd import models_app
from wijkradar.app.options import ConfigOpt, WorkspaceOpt, context
from wijkradar.catalog import Workspace
from wijkradar.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from serving.job import ScoreOutcome, Scorer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Early warning of declining livability (Leefbarometer) in Dutch neighbourhoods.",
)
app.add_typer(fetch_app, name="fetch")
app.add_typer(models_app, name="models")

AsOfOpt = Annotated[int | None, typer.Option("--as-of", help="As-of year.")]
KnownAtOpt = Annotated[
    datetime | None,
    typer.Option(
        "--known-at",
        formats=["%Y-%m-%d"],
        help="Replay the past: score what was known on this date (YYYY-MM-DD; default today).",
    ),
]
ModelOpt = Annotated[str | None, typer.Option(help="Model URI (default: the champion).")]
GemeenteOpt = Annotated[
    list[str] | None,
    typer.Option("--gemeente", help="Export only this gemeente (GMxxxx); repeatable."),
]
AllowProfileOpt = Annotated[
    bool,
    typer.Option(
        "--allow-missing-profile",
        help="Publish even when the model's drift profile cannot be read (recorded).",
    ),
]


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the traceback of a failure.")
    ] = False,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json: one JSON object per line.")
    ] = "text",
) -> None:
    """Early warning of declining livability (Leefbarometer) in Dutch neighbourhoods.

    Exit codes: 0 done, 1 internal error, 2 config, 3 input, 4 no model, 5 schema mismatch,
    6 not enough data, 7 lock held, 8 explanations, 9 model store, 10 storage, 11 download."""
    OUTPUT.set(Output(debug=debug, log_format=log_format))


@app.command()
@guarded
def generate(
    workspace: WorkspaceOpt = Path("workspace"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    gemeenten: Annotated[int, typer.Option(help="Number of gemeenten (NL: 342).")] = 342,
) -> None:
    """Generate a synthetic NL-sized workspace: sources, truth and config."""
    from wijkradar.app import pipeline

    ws = Workspace(workspace.resolve())
    with status("generating"):
        info = pipeline.generate(ws, seed, gemeenten)
    say_line(
        f"wrote {info['files']} source files and {info['truth_rows']:,} truth rows to {ws.root}"
    )


@app.command()
@guarded
def panel(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if unchanged.")] = False,
) -> None:
    """Build WORKSPACE/panel/panel.parquet from the sources (only when they changed)."""
    from features.build import ensure_panel

    ws, cfg = context(workspace, config)
    with status("panel") as say:
        _, meta = ensure_panel(ws, cfg, force=force, progress=say)
    say_line(
        f"panel: {meta.rows:,} rows, {meta.units:,} units, "
        f"{len(meta.features)} features, as-of years {meta.as_of_years}"
    )


SearchOpt = Annotated[
    bool, typer.Option(help="First search LightGBM's parameters on the temporal folds.")
]


@app.command()
@guarded
def train(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    search: SearchOpt = False,
) -> None:
    """Train with temporal validation, log to MLflow; promote if it beats the champion."""
    from wijkradar.app import pipeline

    ws, cfg = context(workspace, config)
    with status("training") as say:
        summary = pipeline.run_train(ws, cfg, as_of, say, search=search)
    from wijkradar.app.views import evaluation_table, truth_line

    print_table(*evaluation_table(summary), keys=2)
    if line := truth_line(summary):
        say_line(line)
    role = "champion" if summary.decision.promoted else "challenger"
    say_line(
        f"registered {summary.ref.name} version {summary.ref.version} as {role} "
        f"(run {summary.ref.run_id}): {summary.decision.reason}"
    )


@app.command()
@guarded
def score(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    model: ModelOpt = None,
    gemeente: GemeenteOpt = None,
    log_format: LogFormatOpt = None,
    known_at: KnownAtOpt = None,
    allow_missing_profile: AllowProfileOpt = False,
    engine: Annotated[
        str, typer.Option(help="single (this process), or dask: a Dask cluster.")
    ] = "single",
    scheduler: Annotated[
        str | None,
        typer.Option(help="With --engine dask: a scheduler address (default: a LocalCluster)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="With --engine dask and no --scheduler: local workers.")
    ] = None,
) -> None:
    """Score and explain every unit of an as-of year (default: the newest whose data is known
    by today or --known-at); publish atomically (exit codes: see the README)."""
    from serving.job import run_score

    log_format = chosen_format(log_format)
    ws, cfg = context(workspace, config)
    when = _day(known_at)
    with status("score", log_format) as say:
        scorer = _scorer(ws, engine, scheduler, workers, say)
        res = run_score(ws, cfg, as_of, model, say, gemeente, known_at=when,
                        allow_missing_profile=allow_missing_profile, scorer=scorer)
    _done("score", res, log_format)


def _scorer(
    ws: Workspace, engine: str, scheduler: str | None, workers: int | None,
    progress: Callable[[str], None],
) -> Scorer | None:
    """None (``score_rows`` in this process) or the Dask engine's scorer."""
    if engine not in ("single", "dask"):
        raise ConfigError(f"--engine must be single or dask. Got {engine!r} instead.")
    if engine == "single":
        if scheduler is not None or workers is not None:
            raise ConfigError("--scheduler and --workers need --engine dask.")
        return None
    from serving.distributed import DaskOptions, dask_scorer

    options = DaskOptions(scheduler=scheduler, n_workers=workers or os.cpu_count() or 1)
    return dask_scorer(options, scratch=ws.scratch, progress=progress)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def _done(step: str, res: ScoreOutcome, log_format: str) -> None:
    state = "published" if res.published else "nothing new (already published)"
    outcome(step, log_format, f"{state}: {res.run.path}", run_id=res.run.run_id,
            run_dir=str(res.run.path), published=res.published)


@app.command()
@guarded
def run(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    gemeente: GemeenteOpt = None,
    log_format: LogFormatOpt = None,
    known_at: KnownAtOpt = None,
    allow_missing_profile: AllowProfileOpt = False,
) -> None:
    """For schedulers: refresh the panel, score with the champion (the newest as-of year
    whose data is known by today or --known-at), publish, write the report."""
    from serving.job import run_score
    from serving.published import run_report

    log_format = chosen_format(log_format)
    ws, cfg = context(workspace, config)
    when = _day(known_at)
    with status("run", log_format) as say:
        res = run_score(ws, cfg, as_of, None, say, gemeente, known_at=when,
                        allow_missing_profile=allow_missing_profile)
        if res.published:
            say("writing the report")
            run_report(ws, cfg, res.manifest.as_of_year)
    _done("run", res, log_format)


@app.command()
@guarded
def export(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    log_format: LogFormatOpt = None,
    force: Annotated[bool, typer.Option(help="Write them again.")] = False,
) -> None:
    """Write the newest published run's files for analysts (ranking.csv, explanations,
    per-gemeente CSV/Excel) into WORKSPACE/exports/<as-of>/<run id>/: for runs scored with
    when = "on_demand" in the config's exports section."""
    from serving.lock import RunLock
    from serving.published import run_export

    log_format = chosen_format(log_format)
    ws, cfg = context(workspace, config)
    with status("export", log_format) as say, RunLock(ws.lock):
        res = run_export(ws, cfg, as_of, say, force=force)
    state = "exported" if res.written else "nothing new (already exported)"
    outcome("export", log_format, f"{state}: {res.folder.path}", run_id=res.run_id,
            export_dir=str(res.folder.path), written=res.written)


@app.command()
@guarded
def report(
    workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None, as_of: AsOfOpt = None
) -> None:
    """Write WORKSPACE/report/index.html for the newest published run."""
    from serving.published import run_report

    ws, cfg = context(workspace, config)
    with status("report"):
        path = run_report(ws, cfg, as_of)
    say_line(f"report: {path}")


@app.command()
@guarded
def backtest(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None) -> None:
    """Train on the periods known by each cut-off, test on the next; LightGBM vs baselines."""
    from wijkradar.app import pipeline

    ws, cfg = context(workspace, config)
    with status("backtest") as say:
        table, run_id = pipeline.run_backtest(ws, cfg, say)
    cols = ("period", "model", "n", "base rate", "ROC-AUC", "PR-AUC [95 % CI]", "P@1%", "P@5%",
            "P@10%", "R@1%", "R@5%", "R@10%")
    rows = [
        (r.period, r.model, f"{r.n:,}", f"{r.base_rate:.3f}", f"{r.roc_auc:.3f}",
         f"{r.pr_auc:.3f} [{r.pr_auc_low:.3f}, {r.pr_auc_high:.3f}]",
         *(f"{getattr(r, m):.3f}" for m in ("precision_at_1", "precision_at_5",
                                            "precision_at_10", "recall_at_1", "recall_at_5",
                                            "recall_at_10")))
        for r in table.itertuples()
    ]
    print_table("Backtest: each period tested on models trained before it", cols, rows, keys=2)
    say_line(f"logged to MLflow run {run_id}")


@app.command()
@guarded
def serve(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Interface (default: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the analysts' page and the read-only API."""
    from serving.api import serve as run

    say_line(f"wijkradar: open http://{host}:{port}/ (Ctrl-C stops)")
    run(workspace.resolve(), config, host=host, port=port)


@app.command()
@guarded
def evaluate(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    model: Annotated[str | None, typer.Option(help="Model URI (default: the champion).")] = None,
    run: Annotated[str | None, typer.Option(help="An MLflow run id instead.")] = None,
) -> None:
    """Write WORKSPACE/report/evaluation.html for a training run or the champion."""
    from serving.published import run_evaluate

    ws, cfg = context(workspace, config)
    with status("evaluation report"):
        path = run_evaluate(ws, cfg, model, run)
    say_line(f"evaluation report: {path}")


@app.command()
@guarded
def demo(
    workspace: WorkspaceOpt = Path("workspace"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate, build the panel, train, score and report: the whole job, end to end."""
    from wijkradar.app.demo import run_demo

    run_demo(Workspace(workspace.resolve()), seed, console)


def main() -> None:
    # OpenMP (LightGBM) spin-waits by default, which collapses throughput when another
    # process shares the cores; set before LightGBM is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # MLflow: no progress bars or INFO chatter in a batch job's log, and no telemetry.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Importing MLflow, scikit-learn and LightGBM makes about a million objects: at Python's
    # default threshold (700) that is 540 collections, 0.15 s of a scheduled run's start.
    gc.set_threshold(100_000, 20, 20)
    try:
        _main()
    finally:
        # On the way out nothing needs collecting: without this the interpreter's last
        # collections walk every object the imports made, 0.5 s of each run's end.
        gc.freeze()


def _main() -> None:
    if not json_requested(sys.argv[1:]):
        app(prog_name="wijkradar")
        return
    # JSON: a usage error (an unknown option, a bad value) is one JSON object too.
    try:
        code = app(prog_name="wijkradar", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except Exception as exc:
        if not hasattr(exc, "format_message"):
            raise
        json_line("error", "usage", exc.format_message(), error=type(exc).__name__,
                  exit_code=getattr(exc, "exit_code", 2))
        code = getattr(exc, "exit_code", 2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The one command-line entry point: ``wijkradar``.

Every command takes ``--workspace`` (default ``./workspace``) and ``--config`` (default
``WORKSPACE/wijkradar.toml``). Errors wijkradar raises on purpose end the process with their
class's exit code and a one-line message; nothing partial is published.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from wijkradar.catalog import Workspace
from wijkradar.config import Config, load_config
from wijkradar.errors import WijkradarError

if TYPE_CHECKING:
    from serving.job import ScoreOutcome

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Early warning of declining livability (Leefbarometer) in Dutch neighbourhoods.",
)
console = Console(stderr=True)
out = Console()
T = TypeVar("T")

WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder.", file_okay=False)
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default WORKSPACE/wijkradar.toml)."),
]
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
LogFormatOpt = Annotated[
    str, typer.Option("--log-format", help="text, or json: one JSON object per line on stderr.")
]


def _context(workspace: Path, config: Path | None) -> tuple[Workspace, Config]:
    ws = Workspace(workspace.resolve())
    return ws, load_config(config or ws.config)


@contextmanager
def _json_line(level: str, step: str, message: str, **extra: object) -> None:
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "step": step,
              "message": message, **extra}
    print(json.dumps(record, default=str), file=sys.stderr, flush=True)


@contextmanager
def _status(title: str, log_format: str = "text") -> Iterator[Callable[[str], None]]:
    if log_format == "json":
        yield lambda msg: _json_line("warning" if msg.startswith("warning") else "info",
                                     title, msg)
        return
    with console.status(f"[bold]{title}[/bold]") as status:

        def say(msg: str) -> None:
            status.update(f"[bold]{title}[/bold]: {msg}")
            console.log(msg)

        yield say


def _guard(fn: Callable[[], T], log_format: str = "text") -> T:
    try:
        return fn()
    except WijkradarError as exc:
        if log_format == "json":
            _json_line("error", "run", str(exc), error=type(exc).__name__,
                       exit_code=exc.exit_code)
        else:
            console.print(f"[bold red]error[/bold red] ({type(exc).__name__}): {exc}")
        raise typer.Exit(exc.exit_code) from exc


@app.command()
def generate(
    workspace: WorkspaceOpt = Path("workspace"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    gemeenten: Annotated[int, typer.Option(help="Number of gemeenten (NL: 342).")] = 342,
) -> None:
    """Generate a synthetic NL-sized workspace: sources, truth and config."""
    from wijkradar.app import pipeline

    ws = Workspace(workspace.resolve())
    with _status("generating"):
        info = _guard(lambda: pipeline.generate(ws, seed, gemeenten))
    out.print(
        f"wrote {info['files']} source files and {info['truth_rows']:,} truth rows to {ws.root}"
    )


@app.command()
def panel(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if unchanged.")] = False,
) -> None:
    """Build WORKSPACE/panel/panel.parquet from the sources (only when they changed)."""
    from features.build import ensure_panel

    ws, cfg = _guard(lambda: _context(workspace, config))
    with _status("panel"):
        _, meta = _guard(lambda: ensure_panel(ws, cfg, force=force))
    out.print(
        f"panel: {meta.rows:,} rows, {meta.units:,} units, "
        f"{len(meta.features)} features, as-of years {meta.as_of_years}"
    )


SearchOpt = Annotated[
    bool, typer.Option(help="First search LightGBM's parameters on the temporal folds.")
]


@app.command()
def train(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    search: SearchOpt = False,
) -> None:
    """Train with temporal validation, log to MLflow; promote if it beats the champion."""
    from wijkradar.app import pipeline

    ws, cfg = _guard(lambda: _context(workspace, config))
    with _status("training") as say:
        summary = _guard(lambda: pipeline.run_train(ws, cfg, as_of, say, search=search))
    from wijkradar.app.views import evaluation_table, truth_line

    out.print(evaluation_table(summary))
    if line := truth_line(summary):
        out.print(line)
    role = "champion" if summary.decision.promoted else "challenger"
    out.print(
        f"registered {summary.ref.name} version {summary.ref.version} as {role} "
        f"(run {summary.ref.run_id}): {summary.decision.reason}"
    )


@app.command()
def score(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    model: ModelOpt = None,
    gemeente: GemeenteOpt = None,
    log_format: LogFormatOpt = "text",
    known_at: KnownAtOpt = None,
) -> None:
    """Score and explain every unit of an as-of year (default: the newest whose data is known
    by today or --known-at); publish atomically (exit codes: see the README)."""
    from serving.job import run_score

    ws, cfg = _guard(lambda: _context(workspace, config), log_format)
    when = _day(known_at)
    with _status("score", log_format) as say:
        res = _guard(
            lambda: run_score(ws, cfg, as_of, model, say, gemeente, known_at=when), log_format
        )
    _done("score", res, log_format)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def _done(step: str, res: ScoreOutcome, log_format: str) -> None:
    state = "published" if res.published else "nothing new (already published)"
    if log_format == "json":
        _json_line("info", step, state, run_id=res.run.run_id, run_dir=str(res.run.path),
                   published=res.published)
    else:
        out.print(f"{state}: {res.run.path}")


@app.command()
def run(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    gemeente: GemeenteOpt = None,
    log_format: LogFormatOpt = "text",
    known_at: KnownAtOpt = None,
) -> None:
    """For schedulers: refresh the panel, score with the champion (the newest as-of year
    whose data is known by today or --known-at), publish, write the report."""
    from serving.job import run_report, run_score

    ws, cfg = _guard(lambda: _context(workspace, config), log_format)
    when = _day(known_at)
    with _status("run", log_format) as say:
        res = _guard(
            lambda: run_score(ws, cfg, as_of, None, say, gemeente, known_at=when), log_format
        )
        if res.published:
            say("writing the report")
            _guard(lambda: run_report(ws, cfg, res.manifest.as_of_year), log_format)
    _done("run", res, log_format)


@app.command()
def report(
    workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None, as_of: AsOfOpt = None
) -> None:
    """Write WORKSPACE/report/index.html for the newest published run."""
    from serving.job import run_report

    ws, cfg = _guard(lambda: _context(workspace, config))
    with _status("report"):
        path = _guard(lambda: run_report(ws, cfg, as_of))
    out.print(f"report: {path}")


@app.command()
def backtest(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None) -> None:
    """Train on the periods known by each cut-off, test on the next; LightGBM vs baselines."""
    from wijkradar.app import pipeline

    ws, cfg = _guard(lambda: _context(workspace, config))
    with _status("backtest") as say:
        table, run_id = _guard(lambda: pipeline.run_backtest(ws, cfg, say))
    view = Table(title="Backtest: each period tested on models trained before it")
    cols = ("period", "model", "n", "base rate", "ROC-AUC", "PR-AUC", "P@1%", "P@5%", "P@10%",
            "R@1%", "R@5%", "R@10%")
    for col in cols:
        view.add_column(col, justify="right")
    for r in table.itertuples():
        view.add_row(r.period, r.model, f"{r.n:,}", f"{r.base_rate:.3f}", f"{r.roc_auc:.3f}",
                     f"{r.pr_auc:.3f} [{r.pr_auc_low:.3f}, {r.pr_auc_high:.3f}]",
                     f"{r.precision_at_1:.3f}", f"{r.precision_at_5:.3f}",
                     f"{r.precision_at_10:.3f}", f"{r.recall_at_1:.3f}", f"{r.recall_at_5:.3f}",
                     f"{r.recall_at_10:.3f}")
    out.print(view)
    out.print(f"logged to MLflow run {run_id}")


@app.command()
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

    out.print(f"wijkradar: open http://{host}:{port}/ (Ctrl-C stops)")
    _guard(lambda: run(workspace.resolve(), config, host=host, port=port))


@app.command()
def evaluate(
    workspace: WorkspaceOpt = Path("workspace"),
    config: ConfigOpt = None,
    model: Annotated[str | None, typer.Option(help="Model URI (default: the champion).")] = None,
    run: Annotated[str | None, typer.Option(help="An MLflow run id instead.")] = None,
) -> None:
    """Write WORKSPACE/report/evaluation.html for a training run or the champion."""
    from serving.job import run_evaluate

    ws, cfg = _guard(lambda: _context(workspace, config))
    with _status("evaluation report"):
        path = _guard(lambda: run_evaluate(ws, cfg, model, run))
    out.print(f"evaluation report: {path}")


models_app = typer.Typer(no_args_is_help=True, help="The registered models: list, promote, "
                         "roll back.")
app.add_typer(models_app, name="models")
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the registry).")]


@models_app.command("list")
def models_list(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None) -> None:
    """Every registered version, its aliases and its promotion record."""
    from ml import promotion, registry

    ws, cfg = _guard(lambda: _context(workspace, config))
    table = _guard(lambda: promotion.versions(registry.tracking_for(ws, cfg)))
    view = Table(title=f"Registered model {cfg.tracking.model_name}")
    for col in ("version", "aliases", "created", "decision", "reason", "promoted by"):
        view.add_column(col)
    for r in table.itertuples():
        view.add_row(str(r.version), r.aliases, r.created, r.decision, r.reason, r.promoted_by)
    out.print(view)


@models_app.command("promote")
def models_promote(version: str, workspace: WorkspaceOpt = Path("workspace"),
                   config: ConfigOpt = None, reason: ReasonOpt = "promoted by hand") -> None:
    """Make VERSION the champion."""
    from ml import promotion, registry

    ws, cfg = _guard(lambda: _context(workspace, config))
    _guard(lambda: promotion.promote(registry.tracking_for(ws, cfg), version, reason))
    out.print(f"version {version} is now the champion ({reason})")


@models_app.command("rollback")
def models_rollback(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None,
                    reason: ReasonOpt = "rolled back by hand") -> None:
    """Restore the champion that the current one replaced."""
    from ml import promotion, registry

    ws, cfg = _guard(lambda: _context(workspace, config))
    version = _guard(lambda: promotion.rollback(registry.tracking_for(ws, cfg), reason))
    out.print(f"version {version} is the champion again ({reason})")


@app.command()
def demo(
    workspace: WorkspaceOpt = Path("workspace"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate, build the panel, train, score and report: the whole job, end to end."""
    from wijkradar.app.demo import run_demo

    _guard(lambda: run_demo(Workspace(workspace.resolve()), seed, out, console))


def main() -> None:
    # OpenMP (LightGBM) spin-waits by default, which collapses throughput when another
    # process shares the cores; set before LightGBM is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # MLflow: no progress bars or INFO chatter in a batch job's log, and no telemetry.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    app(prog_name="wijkradar")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``wijkradar demo``: the whole job on a generated workspace, with progress and a summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from features.build import ensure_panel
from features.describe import feature_label
from ml import truthcheck
from serving.formatting import percent
from serving.job import ScoreOutcome, run_score
from serving.published import run_report
from serving.ranking import top_driver_features
from serving.report import knowledge_line
from wijkradar import catalog
from wijkradar.app import pipeline
from wijkradar.app.console import print_table, say_line
from wijkradar.app.pipeline import TrainSummary
from wijkradar.app.views import evaluation_table, truth_line
from wijkradar.catalog import Workspace
from wijkradar.config import Config, load_config
from wijkradar.records import PanelMeta


def run_demo(ws: Workspace, seed: int, console: Console) -> None:
    steps = ("generate", "panel", "train", "score", "report")
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("demo", total=len(steps))

        def say(msg: str) -> None:
            progress.update(task, description=msg)

        say(f"generating the NL-sized panel (seed {seed})")
        pipeline.generate(ws, seed, 342)
        cfg = load_config(ws.config)
        progress.advance(task)
        say("building the panel")
        _, meta = ensure_panel(ws, cfg, progress=say)
        progress.advance(task)
        summary = pipeline.run_train(ws, cfg, None, say)
        progress.advance(task)
        scored = run_score(ws, cfg, None, None, say)
        progress.advance(task)
        say("writing the report")
        report = run_report(ws, cfg, None)
        progress.advance(task)
        say("done")
    _print_summary(ws, cfg, meta, summary, scored, report)


def _print_summary(
    ws: Workspace,
    cfg: Config,
    meta: PanelMeta,
    summary: TrainSummary,
    scored: ScoreOutcome,
    report: Path,
) -> None:
    """The panel, the validation, the ten highest risks and where everything was written."""
    say_line(
        f"panel: {meta.rows:,} rows ({meta.units:,} wijken x "
        f"{len(meta.as_of_years)} as-of years), {len(meta.features)} features"
    )
    print_table(*evaluation_table(summary), keys=2)
    if line := truth_line(summary):
        say_line(line)
    ranking = scored.ranking
    fidelity = truthcheck.compare(ranking, catalog.read_parquet(ws.truth))
    year = scored.manifest.as_of_year
    if known := knowledge_line(scored.manifest):
        say_line(f"scored as of {year}, {known}")
    top = ranking.head(10)
    rows = [
        (str(r.rank), f"{r.unit_name} ({r.unit_code})", str(r.gemeente_name),
         percent(r.risk, 1), "; ".join(feature_label(d) for d in drivers))
        for r, drivers in zip(top.itertuples(), top_driver_features(top), strict=True)
    ]
    print_table(f"Hoogste kans op een daling vóór de volgende meting (peiljaar {year})",
                ("rang", "wijk", "gemeente", "risico", "belangrijkste factoren"), rows, keys=2,
                justify="left")
    say_line(
        f"driver fidelity (top decile by true risk): "
        f"{fidelity['driver_top3_recall']:.2f} of the true top-3 drivers are in the "
        f"ranking's top 3"
    )
    say_line(f"ranking:  {scored.run.ranking_csv}")
    say_line(f"report:   {report}")
    say_line(
        f"MLflow:   .venv/bin/mlflow ui --backend-store-uri {ws.tracking_uri(cfg.tracking.uri)}"
    )
    say_line(
        f"page:     .venv/bin/wijkradar serve --workspace {ws.root}  "
        "(then open http://127.0.0.1:8000/)"
    )

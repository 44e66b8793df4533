"""Scoring on Dask: the job's scoring step run partition by partition on a cluster.

``wijkradar score --engine dask [--scheduler ADDRESS]`` swaps the job's one scoring call,
``serving.job.score_rows(predict, rows, features, extra)``, for :func:`dask_scorer`'s callable of
the same signature. Everything around it (the choice of rows, the lock, the guards, the
drift table, the manifest and the atomic publish) stays the job's own, so a Dask run
publishes what a single-process run publishes: the same units, the same risks and the same
ranks.

What the callable does (:func:`score_partitioned`, then :func:`assemble_ranking`):

1. writes the rows to score as partitioned Parquet, by as-of year and gemeente
   (``serving.partitioned``), in a scratch folder that is removed afterwards;
2. starts a ``dask.distributed.LocalCluster`` (processes, one thread each, OpenMP waiting
   passively), or connects to ``scheduler``; the workers must see the scratch folder (a
   shared file system) and have wijkradar installed;
3. sends the loaded model to every worker once (``Client.scatter(broadcast=True)``), so a
   worker neither loads it from the registry nor receives it per task;
4. scores each group of whole gemeenten on a worker with ``score_rows`` itself (additivity
   check, ranking, rank within the gemeente), and writes its ranking as partitioned Parquet
   (and, with ``DaskOptions.explanations``, its long explanations,
   ``serving.exports.explanations_long``, for a publish step that takes them as they are);
5. reads the ranking partitions back and ranks nationally by the margin, ties in the rows'
   original order, exactly as ``serving.ranking.build_ranking`` does in one process.

dask and distributed (the extra ``wijkradar[dask]``) are imported only when a cluster is
started, so importing this module costs nothing.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.describe import Extra
from features.vocabulary import Term
from serving.lookup import positions_of
from serving.partitioned import PartFile, batches, read_files, read_placed, write_partitioned
from serving.ranking import RANKING_ID_COLUMNS
from wijkradar.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa
    from distributed import Client

Predict = Callable[[pd.DataFrame], pd.DataFrame]
Progress = Callable[[str], None]

ROW = "__row"  # the row's position in the job's rows: ties are ranked in this order
ID_COLUMNS = RANKING_ID_COLUMNS[:5]  # unit and gemeente codes and names, as-of year
MAX_TASK_ROWS = 50_000  # rows per task at most (more tasks on larger inputs)
TASKS_PER_WORKER = 4  # at least this many tasks per worker, for balance


@dataclass(frozen=True)
class DaskOptions:
    """How to reach a cluster: ``scheduler`` (``tcp://host:8786``; None starts a
    LocalCluster of ``n_workers`` processes with ``threads_per_worker`` threads each and
    ``memory_limit`` per worker, Dask's notation), and whether the workers also write the
    long explanations as partitions (``explanations``; off while the job's ``publish_run``
    writes ``explanations.parquet`` itself, as it would then be written twice)."""

    scheduler: str | None = None
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "auto"
    explanations: bool = False
    connect_timeout: str = "10s"


@dataclass(frozen=True)
class TaskSpec:
    """One task: the input files of whole gemeenten and where to write its outputs."""

    task: int
    files: tuple[str, ...]
    input_base: str
    columns: tuple[str, ...]
    features: tuple[str, ...]
    ranking_base: str
    explanations_base: str | None
    terms: tuple[Term, ...] = ()  # the panel's mapped columns (``score_rows``' ``extra``)


@dataclass(frozen=True)
class TaskResult:
    rows: int
    error: float  # the largest additivity error of the task's rows
    ranking_files: tuple[PartFile, ...]
    explanation_files: tuple[PartFile, ...]
    seconds: float


@dataclass(frozen=True)
class EngineTimings:
    """Wall seconds of the engine's stages (the cluster's start-up included in ``cluster``)."""

    write_input: float = 0.0
    cluster: float = 0.0
    score: float = 0.0  # on the workers, from the first submit to the last result
    assemble: float = 0.0
    workers: int = 0
    tasks: int = 0


@dataclass(frozen=True)
class PartitionedScores:
    """What the workers wrote: the ranking partitions (with ``ROW``), the explanation
    partitions (empty when not asked for), the ranking's columns and the largest
    additivity error."""

    ranking_base: Path
    ranking_files: tuple[PartFile, ...]
    explanations_base: Path | None
    explanation_files: tuple[PartFile, ...]
    columns: tuple[str, ...]
    rows: int
    error: float
    timings: EngineTimings = field(default_factory=EngineTimings)


def worker_env(threads: int) -> dict[str, str]:
    """The environment of each worker process: OpenMP (LightGBM) and numba use the worker's
    threads, and OpenMP threads wait passively, so workers on shared cores do not spin."""
    n = str(max(int(threads), 1))
    return {
        "OMP_WAIT_POLICY": "PASSIVE",
        "OMP_NUM_THREADS": n,
        "NUMBA_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
    }


@contextmanager
def dask_client(options: DaskOptions) -> Iterator[Client]:
    """A client of the scheduler at ``options.scheduler``, or of a new LocalCluster; the
    client and the cluster are closed on leaving, also on an error."""
    import logging

    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "--engine dask needs dask and distributed, the optional extra: "
            f"pip install 'wijkradar[dask]'. Importing them failed: {exc}."
        ) from exc

    if options.scheduler:
        try:
            client = Client(options.scheduler, timeout=options.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"Could not reach the Dask scheduler at {options.scheduler!r} within "
                f"{options.connect_timeout}: {exc}. Expected the address of a running "
                f"scheduler, such as tcp://host:8786; leave --scheduler out to start a "
                f"local cluster."
            ) from exc
        with client:
            yield client
        return
    if options.n_workers < 1 or options.threads_per_worker < 1:
        raise ConfigError(
            f"A local Dask cluster needs at least 1 worker of at least 1 thread. Got "
            f"{options.n_workers} worker(s) of {options.threads_per_worker} thread(s)."
        )
    with (
        LocalCluster(
            n_workers=options.n_workers,
            threads_per_worker=options.threads_per_worker,
            processes=True,
            memory_limit=options.memory_limit,
            env=worker_env(options.threads_per_worker),
            dashboard_address=":0",  # any free port: no clash with other clusters
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def scratch_folder(parent: Path) -> Iterator[Path]:
    """A new folder below ``parent`` (on a file system the workers share), removed on
    leaving, also on an error."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=parent, prefix="dask-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def warm_up() -> None:
    """On each worker, once: import what ``score_task`` and the packaged model need."""
    import importlib

    for module in ("serving.job", "serving.exports", "models.packaged"):
        importlib.import_module(module)


def score_task(predict: Predict, spec: TaskSpec) -> TaskResult:
    """On a worker: score, explain and rank one group of whole gemeenten with the job's own
    ``score_rows``, and write the ranking (with ``ROW``) and the long explanations."""
    from serving.job import score_rows

    start = time.perf_counter()
    base = Path(spec.input_base)
    rows = read_files(spec.files, base, spec.columns).sort_values(ROW, kind="stable")
    rows = rows.reset_index(drop=True)
    features = list(spec.features)
    ranking, error = score_rows(predict, rows, features, {t.name: t for t in spec.terms})
    codes = pd.Index(rows["unit_code"])
    if not codes.is_unique:
        raise ValueError("The rows to score hold a unit_code more than once.")
    ranking.insert(0, ROW, rows[ROW].to_numpy()[positions_of(ranking["unit_code"], codes)])
    name = f"t{spec.task}"
    ranking_files = write_partitioned(ranking, Path(spec.ranking_base), name)
    explanation_files: list[PartFile] = []
    if spec.explanations_base is not None:
        values = rows[["unit_code", *features]]
        explanation_files = _write_explanations(
            ranking.drop(columns=[ROW]), values, Path(spec.explanations_base), name
        )
    return TaskResult(
        len(rows), error, tuple(ranking_files), tuple(explanation_files),
        time.perf_counter() - start,
    )


def _write_explanations(
    ranking: pd.DataFrame, values: pd.DataFrame, base: Path, name: str
) -> list[PartFile]:
    """The long explanations of ``ranking`` (in its rank order, so each gemeente's rows in
    its own rank order), with the partition columns of each row's unit added."""
    from serving.exports import explanations_long

    long = explanations_long(ranking, values)
    keys = ranking.set_index("unit_code")[["as_of_year", "gemeente_code"]]
    codes = long["unit_code"].astype("str")
    long["as_of_year"] = keys["as_of_year"].reindex(codes).to_numpy()
    long["gemeente_code"] = pd.array(keys["gemeente_code"].reindex(codes).to_numpy(),
                                     dtype="str")
    return write_partitioned(long, base, name, chunk_rows=max(len(long), 1), compressed=True)


def score_partitioned(
    client: Client,
    predict: Predict,
    rows: pd.DataFrame,
    features: Sequence[str],
    folder: Path,
    explanations: bool = False,
    progress: Progress | None = None,
    extra: Extra | None = None,
) -> PartitionedScores:
    """Write ``rows`` below ``folder`` as partitioned Parquet, score them on ``client``'s
    workers (``score_task``; ``extra``: the panel's mapped columns) and return what they
    wrote. Raises what a task raised (such as ``ExplanationError`` when the explanations do
    not add up)."""
    say = progress or (lambda _: None)
    t0 = time.perf_counter()
    addresses = list(client.scheduler_info()["workers"])
    warming = [  # the workers import while the input is written
        client.submit(warm_up, workers=[a], allow_other_workers=False, pure=False)
        for a in addresses
    ]
    columns = list(dict.fromkeys([ROW, *ID_COLUMNS, *features]))
    frame = rows.assign(**{ROW: np.arange(len(rows), dtype="int64")})[columns]
    files = write_partitioned(frame, folder / "rows", "rows", threads=True)
    del frame
    t1 = time.perf_counter()
    workers = max(len(addresses), 1)
    n_tasks = max(workers * TASKS_PER_WORKER, math.ceil(len(rows) / MAX_TASK_ROWS))
    groups = batches(files, n_tasks)
    ranking_base, explanations_base = folder / "ranking", folder / "explanations"
    model = client.scatter(predict, broadcast=True, hash=False)
    specs = [
        TaskSpec(
            i, tuple(f.path for f in group), str(folder / "rows"), tuple(columns),
            tuple(features), str(ranking_base), str(explanations_base) if explanations else None,
            tuple((extra or {}).values()),
        )
        for i, group in enumerate(groups)
    ]
    say(f"scoring {len(rows):,} units in {len(specs)} tasks on {workers} Dask worker(s)")
    futures = [client.submit(score_task, model, spec, pure=False) for spec in specs]
    results: list[TaskResult] = client.gather(futures)
    client.gather(warming)  # raises what a worker could not import
    t2 = time.perf_counter()
    scored = sum(r.rows for r in results)
    if scored != len(rows):
        raise RuntimeError(f"The workers scored {scored:,} rows; expected {len(rows):,}.")
    return PartitionedScores(
        ranking_base=ranking_base,
        ranking_files=tuple(f for r in results for f in r.ranking_files),
        explanations_base=explanations_base if explanations else None,
        explanation_files=tuple(f for r in results for f in r.explanation_files),
        columns=(ROW, *_ranking_columns(features)),
        rows=len(rows),
        error=max((r.error for r in results), default=0.0),
        timings=EngineTimings(write_input=t1 - t0, score=t2 - t1, workers=workers,
                              tasks=len(specs)),
    )


def _ranking_columns(features: Sequence[str]) -> list[str]:
    from models.explain import contribution_columns

    return [*RANKING_ID_COLUMNS, *contribution_columns(features)]


def assemble_ranking(scores: PartitionedScores) -> pd.DataFrame:
    """The national ranking from the ranking partitions, as ``serving.job.score_rows``
    returns it in one process: sorted by the margin (largest first, ties in the rows'
    original order), ``rank`` 1..n; ``rank_in_gemeente`` comes from the workers (a gemeente
    is never split)."""
    def places(table: pa.Table) -> np.ndarray:  # the ranking's row of each scored row
        row = table.column(ROW).to_numpy()
        order = np.lexsort((row, -table.column("margin").to_numpy()))
        out = np.empty(len(row), dtype=np.intp)
        out[row[order]] = np.arange(len(row))
        return out

    files = [f.path for f in scores.ranking_files]
    columns = [c for c in scores.columns if c != ROW]
    out = read_placed(files, scores.ranking_base, columns, ROW, places, keys=["margin"])
    out["rank"] = np.arange(1, len(out) + 1, dtype="int64")
    return out


class DaskScorer:
    """A drop-in for ``serving.job.score_rows`` that scores on Dask: ``scorer(predict, rows,
    features, extra) -> (ranking, max additivity error)``. Each call writes below a new folder in
    ``scratch`` (on a file system the workers share; removed afterwards) and uses its own
    cluster or client, closed afterwards. ``timings_`` holds the last call's
    ``EngineTimings``."""

    def __init__(
        self, options: DaskOptions, scratch: Path, progress: Progress | None = None
    ) -> None:
        self.options = options
        self.scratch = scratch
        self.progress = progress
        self.timings_ = EngineTimings()

    def __call__(
        self, predict: Predict, rows: pd.DataFrame, features: list[str],
        extra: Extra | None = None,
    ) -> tuple[pd.DataFrame, float]:
        t0 = time.perf_counter()
        with scratch_folder(self.scratch) as folder, dask_client(self.options) as client:
            up = time.perf_counter() - t0
            scores = score_partitioned(
                client, predict, rows, features, folder, self.options.explanations,
                self.progress, extra,
            )
            t1 = time.perf_counter()
            ranking = assemble_ranking(scores)
            done = time.perf_counter() - t1
        self.timings_ = EngineTimings(
            scores.timings.write_input, up, scores.timings.score, done,
            scores.timings.workers, scores.timings.tasks,
        )
        return ranking, scores.error


def dask_scorer(
    options: DaskOptions, scratch: Path, progress: Progress | None = None
) -> DaskScorer:
    """The ``score_rows``-compatible scorer of ``options`` (see ``DaskScorer``)."""
    return DaskScorer(options, scratch, progress)

"""Many spreadsheet files at once: the per-gemeente CSV and Excel files of a run
(``serving.exports.write_gemeente_exports``), written one part after another or by worker
processes.

Writing an Excel file is pure Python (xlsxwriter), so threads would take turns; processes
write in parallel. They are started by ``forkserver``, not ``fork``: the caller may be
running threads (Arrow's, OpenMP's), which a forked child would inherit in any state.
Starting them costs about a second, so small runs are written in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from serving.formatting import Lang
from serving.sheets import csv_bytes, write_xlsx

PARALLEL_ROWS = 10_000  # from this many rows on, the files are written by worker processes
MAX_WORKERS = 2
BATCHES_PER_WORKER = 4  # parts are sent in about this many batches per worker


@dataclass(frozen=True)
class ExportJob:
    """Where and how the parts are written: ``out/<code>.csv`` and ``out/<code>.xlsx`` with
    these headers, the notes on the Excel files' second sheet, in ``lang``."""

    out: Path
    headers: tuple[str, ...]
    notes: tuple[str, ...]
    lang: Lang


Part = tuple[str, pd.DataFrame]  # (gemeente code, its rows)


def export_workers(rows: int) -> int:
    """How many processes write ``rows`` rows: 1 below ``PARALLEL_ROWS``, else up to
    ``MAX_WORKERS`` (no more than the machine's cores)."""
    if rows < PARALLEL_ROWS:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def write_part(job: ExportJob, code: str, part: pd.DataFrame) -> list[Path]:
    """One gemeente's CSV and Excel file; returns their paths."""
    csv_path, xlsx_path = job.out / f"{code}.csv", job.out / f"{code}.xlsx"
    csv_path.write_bytes(csv_bytes(part, job.lang, headers=job.headers))
    write_xlsx(part, xlsx_path, code, notes=job.notes, lang=job.lang, headers=job.headers)
    return [csv_path, xlsx_path]


def write_batch(job: ExportJob, parts: Sequence[Part]) -> list[Path]:
    """The files of ``parts``, in their order."""
    return [path for code, part in parts for path in write_part(job, code, part)]


def batches(parts: Sequence[Part], n: int) -> list[list[Part]]:
    """``parts`` in about ``n`` consecutive batches of similar row counts, order kept."""
    total = sum(len(p) for _, p in parts)
    target = max(total / max(n, 1), 1.0)
    out: list[list[Part]] = [[]]
    size = 0
    for part in parts:
        if out[-1] and size >= target:
            out.append([])
            size = 0
        out[-1].append(part)
        size += len(part[1])
    return [b for b in out if b]


def write_parts(job: ExportJob, parts: Sequence[Part], workers: int = 1) -> list[Path]:
    """Write every part (``write_part``) with ``workers`` processes (1: in this process);
    returns the paths in the parts' order. A worker's error is raised here."""
    if workers <= 1 or len(parts) <= 1:
        return write_batch(job, parts)
    groups = batches(parts, workers * BATCHES_PER_WORKER)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(min(workers, len(groups)), mp_context=context) as pool:
        futures = [pool.submit(write_batch, job, group) for group in groups]
        return [path for future in futures for path in future.result()]

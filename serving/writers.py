"""The files of one scoring run, written into its staging folder (``catalog.RunFolder``).

``serving.job.publish_run`` stages the folder, calls ``write_run_files`` and then writes the
manifest and renames the folder into place; nothing here publishes or locks.

The writers stream: ranking.parquet and ranking.csv are converted to Arrow ``WRITE_CHUNK_ROWS``
rows at a time, explanations.parquet is written one piece of units at a time
(``serving.explanations.explanation_chunks``, one row group each), and the contributions are
read where they lie in the ranking (no copy of the whole matrix). The files read back as
before: ``pd.read_parquet`` gives the same frames (explanations.parquet: ``explanations_long``),
``pd.read_csv`` the same table (``write_csv`` says how the text differs). The per-gemeente
exports take the ranking's own Dutch drivers and are written by two processes on large runs
(``serving.sheetfiles``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.describe import Extra
from models.explain import SHAP_PREFIX
from serving.explanations import EXPLAIN_CHUNK_UNITS, explanation_chunks
from serving.exports import write_gemeente_exports
from wijkradar import catalog
from wijkradar.catalog import RunFolder

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[str], None]
WRITE_CHUNK_ROWS = 65_536  # rows per Arrow batch (and Parquet row group) of the ranking
DICTIONARY_SAMPLE_ROWS = 4_096  # rows whose values decide a column's dictionary encoding
DICTIONARY_MAX_DISTINCT = 0.5  # the largest share of distinct values that gets a dictionary


@dataclass(frozen=True)
class RunContent:
    """What a run folder holds.

    ``ranking`` is the guarded ranking (``serving.job.with_guards``); ``values`` holds
    ``unit_code`` and the feature values the model saw; ``drift`` is the drift table
    (``ml.drift``); ``previous`` is the ranking of the run the rank changes compare with (for
    the gemeente exports), or None; ``gemeenten`` limits those exports (None: all);
    ``context`` (``serving.exports.context_values``) holds the year's values of the panel's
    context features, which those exports show last; ``terms`` are the panel's mapped columns
    (``features.describe.mapped_terms``), which the exports' headers name by their labels.
    """

    ranking: pd.DataFrame
    values: pd.DataFrame
    drift: pd.DataFrame
    previous: pd.DataFrame | None = None
    gemeenten: Sequence[str] | None = None
    context: pd.DataFrame | None = None
    terms: Extra | None = None


def write_run_files(
    staged: RunFolder, content: RunContent, notes: Sequence[str], progress: Progress,
    *, exports: bool = True,
) -> None:
    """Every file of the run except its manifest, into ``staged``; ``notes`` are the lines of
    the Excel files' "Toelichting" sheet (what the run knew: its knowledge date and sources).
    Without ``exports`` only what the page, the API and the report read (ranking.parquet,
    drift.json): the rest is made on demand (``write_export_files``)."""
    progress("writing the ranking")
    write_parquet(content.ranking, staged.ranking)
    catalog.write_json({"features": content.drift.to_dict("records")}, staged.drift)
    if exports:
        write_export_files(staged, content, notes, progress)


def write_export_files(
    folder: RunFolder, content: RunContent, notes: Sequence[str], progress: Progress
) -> None:
    """A run's files for analysts into ``folder`` (a run folder, or ``Workspace.export_dir``):
    ranking.csv, explanations.parquet and the per-gemeente CSV/Excel files."""
    ranking = content.ranking
    progress("writing the ranking's CSV and the explanations")
    write_csv(ranking, folder.ranking_csv)
    write_explanations(ranking, content.values, folder.explanations)
    progress("writing the exports per gemeente")
    drivers = ranking["top_drivers"].tolist() if "top_drivers" in ranking.columns else None
    write_gemeente_exports(
        ranking, content.values, content.previous, folder.gemeenten, content.gemeenten,
        context=content.context, notes=list(notes), drivers=drivers, extra=content.terms,
    )


def _chunks(frame: pd.DataFrame, rows: int) -> Iterable[pd.DataFrame]:
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]


def dictionary_columns(
    frame: pd.DataFrame, sample_rows: int = DICTIONARY_SAMPLE_ROWS,
    max_distinct: float = DICTIONARY_MAX_DISTINCT,
) -> list[str]:
    """The columns worth dictionary encoding: at most ``max_distinct`` of the values of their
    first ``sample_rows`` rows distinct. Arrow tries a dictionary for every column and gives
    up only once it outgrows a page, which on 1M x 117 columns of distinct floats costs 7.0 s
    instead of 1.1 s; repeated values (contributions of a shallow model over similar units,
    codes of gemeenten) still get it, and their file stays small."""
    head = frame.iloc[:sample_rows]
    if head.empty:
        return [str(c) for c in frame.columns]
    return [str(c) for c in frame.columns
            if isinstance(head[c].dtype, pd.CategoricalDtype)  # a dictionary already
            or head[c].nunique(dropna=False) <= max_distinct * len(head)]


def write_parquet(frame: pd.DataFrame, path: Path, chunk_rows: int = WRITE_CHUNK_ROWS) -> None:
    """``frame.to_parquet(path, index=False)``, converted ``chunk_rows`` rows at a time (one
    row group each), so that no whole Arrow copy of the frame is made; a dictionary only for
    the columns that repeat their values (``dictionary_columns``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    # No min/max statistics for the contributions, which nothing filters on (-10 % time).
    statistics = [c for c in frame.columns if not str(c).startswith(SHAP_PREFIX)]

    def arrow(chunk: pd.DataFrame) -> pa.Table:
        return pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)

    # The next chunk is converted on a second thread while this one is encoded; both run
    # mostly outside the GIL (1M x 117 columns: 3.0 s -> 2.0 s on two cores).
    with pq.ParquetWriter(path, schema, compression="snappy", write_statistics=statistics,
                          use_dictionary=dictionary_columns(frame)) as writer, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="wijkradar-arrow") as beside:
        pending = None
        for chunk in _chunks(frame, chunk_rows):
            converting = beside.submit(arrow, chunk)
            if pending is not None:
                writer.write_table(pending.result())
            pending = converting
        if pending is not None:
            writer.write_table(pending.result())
        if frame.empty:
            writer.write_table(schema.empty_table())


def write_explanations(
    ranking: pd.DataFrame, values: pd.DataFrame, path: Path,
    chunk_units: int = EXPLAIN_CHUNK_UNITS,
) -> None:
    """explanations.parquet: ``explanations_long(ranking, values)``, one piece of units at a
    time (``explanation_chunks``), one row group per piece. Read whole, the file gives that
    frame: each piece's unit codes are its own categories, which Arrow joins in file order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    try:
        for piece in explanation_chunks(ranking, values, chunk_units):
            table = pa.Table.from_pandas(piece, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy",
                                          use_dictionary=dictionary_columns(piece))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def write_csv(frame: pd.DataFrame, path: Path, chunk_rows: int = WRITE_CHUNK_ROWS) -> None:
    """The frame as a machine CSV (',', '.', a header of column names, UTF-8), written by
    Arrow ``chunk_rows`` rows at a time: about 7x faster than ``DataFrame.to_csv``.

    ``pd.read_csv`` reads it back as it reads ``frame.to_csv(index=False)``: the same values
    and types. The text differs: strings and headers are quoted, booleans are written
    true/false, numbers in their shortest exact form ('1e-05' may read '0.00001'); a float
    column that holds only whole numbers is written with one decimal ('3.0'), so that it reads
    back as floats."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = _csv_schema(frame)
    options = pacsv.WriteOptions(include_header=True)
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for chunk in _chunks(frame, chunk_rows):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer.write_table(table.cast(schema))


def _csv_schema(frame: pd.DataFrame) -> pa.Schema:
    """The frame's Arrow schema, whole-number float columns as decimals with one place."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(frame, preserve_index=False).remove_metadata()
    for i, field in enumerate(schema):
        if pa.types.is_floating(field.type) and _whole_floats(frame[field.name]):
            schema = schema.set(i, field.with_type(pa.decimal128(38, 1)))
    return schema


def _whole_floats(column: pd.Series) -> bool:
    """True when every value of a float column is whole (or missing) and small enough to be
    written exactly with one decimal; infinities are written 'inf' and read back as floats."""
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    finite = values[~np.isnan(values)]
    if not np.isfinite(finite).all():
        return False
    return bool((finite == np.rint(finite)).all() and (np.abs(finite) < 1e36).all())

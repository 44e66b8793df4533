"""Table building blocks of the readers: source text to checked cells.

``features.readers`` and the other readers (``features.odata``, ``features.lbm2``,
``features.namelist``) share them: ``decode`` (UTF-8 only), ``read_table`` (every cell as
text, rows indexed by their file line), ``numeric_column`` and ``checked_column`` (numbers,
CBS's symbols, bounds), ``unit_codes``, ``first_present``, ``check_unique`` and
``year_column``, and the handling of a source's ``columns`` mappings (``mapped_frame``,
``mapped_names``, ``unknown_headers``). They are pure; a rejection is an ``InputError`` that
names the file, the column and the row (the line number in the file, header = line 1) or
the unit code. ``features.readers`` re-exports them for its callers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from wijkradar.errors import InputError
from wijkradar.sourceconfig import ColumnMap

_NUMBER = re.compile(r"^-?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")


def decode(data: bytes, file: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is rejected."""
    if not data.strip():
        raise InputError("the file is empty", file=file)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is not UTF-8 (byte {exc.start} cannot be decoded); "
            "export it from StatLine as UTF-8",
            file=file,
            row=data[: exc.start].count(b"\n") + 1,
        ) from exc


def _check_field_counts(text: str, file: str, sep: str) -> None:
    """Reject a row with more fields than the header. pandas would otherwise take the first
    column as the index when every row has one field too many, shifting all columns."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    repeated = sorted({h for h in names if h and names.count(h) > 1})
    if repeated:
        n = names.count(repeated[0])
        raise InputError(
            f"the header names this column {'twice' if n == 2 else f'{n} times'}",
            file=file,
            column=repeated[0],
        )
    for row in reader:
        if len(row) > len(header):
            raise InputError(
                f"the row has {len(row)} fields, more than the header's {len(header)}",
                file=file,
                row=reader.line_num,
            )


def read_table(text: str, file: str, sep: str) -> pd.DataFrame:
    """All cells as text, indexed by file line (header = 1); short (ragged) rows are padded
    with empty cells, blank lines dropped, a row with too many fields rejected."""
    _check_field_counts(text, file, sep)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=False,
            index_col=False,
            skip_blank_lines=False,
        )
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))  # 1-based line
        start = re.search(r"starting at row (\d+)", str(exc))  # 0-based, header = row 0
        row = int(line.group(1)) if line else int(start.group(1)) + 1 if start else None
        raise InputError(f"the file cannot be parsed ({exc})", file=file, row=row) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError("the file has no header", file=file) from exc
    df.columns = [str(c).strip() for c in df.columns]
    df = df.fillna("")
    # The index holds each row's line in the file (header = line 1); blank lines are dropped
    # without renumbering the rows after them.
    df.index = pd.Index(np.arange(2, len(df) + 2), name="line")
    blank = df.eq("").all(axis=1) if len(df.columns) else pd.Series(False, index=df.index)
    return df[~blank]


def line_of(rows: pd.Series | pd.DataFrame, pos: int) -> int:
    """The file line of the row at position ``pos``: from a line-numbered index (tables read
    by ``read_table``), else counted from the header."""
    if rows.index.name == "line":
        return int(rows.index[pos])
    return pos + 2


def numeric_column(
    cells: pd.Series,
    *,
    file: str,
    column: str,
    cbs_symbols: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    whole: bool = False,
    rows: Sequence[int | str] | None = None,
) -> pd.Series:
    """Parse a column of text cells to floats.

    Empty cells are missing. With ``cbs_symbols``, ``.``, ``x`` and ``?`` are missing, ``-``
    is zero, and CBS's codes -99997 (secret) and -99995 (not yet available) are missing, as
    CBS defines them. A Dutch decimal comma is accepted. Text that is none of these, values
    outside [minimum, maximum] and, with ``whole``, a fraction are rejected naming the first
    offending row: ``rows[pos]`` where given, else the file line (``line_of``).
    """
    s = cells.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    s = s.where(s.notna(), "")
    missing = s.isin(schema.CBS_MISSING_SYMBOLS) if cbs_symbols else s.eq("")
    nil = s.isin(schema.CBS_NIL_SYMBOLS) if cbs_symbols else pd.Series(False, index=s.index)
    candidate = s[~missing & ~nil]
    ok = candidate.map(lambda v: bool(_NUMBER.match(v)))

    def where(mask: pd.Series) -> int | str:
        pos = s.index.get_loc(mask[mask].index[0])
        return rows[pos] if rows is not None else line_of(s, pos)

    if not ok.all():
        raise InputError(
            f"expected a number{' or a CBS symbol (. x ? -)' if cbs_symbols else ''}, "
            f"got {candidate[~ok].iloc[0]!r}",
            file=file, column=column, row=where(~ok),
        )
    values = pd.Series(np.nan, index=s.index, dtype="float64")
    values[candidate.index] = candidate.str.replace(",", ".", regex=False).astype("float64")
    values[nil] = 0.0
    if cbs_symbols:
        values[values.isin(schema.CBS_CODE_VALUES)] = np.nan
    checks = (
        (values < minimum if minimum is not None else None, f"below the minimum {minimum:g}"
         if minimum is not None else ""),
        (values > maximum if maximum is not None else None, f"above the maximum {maximum:g}"
         if maximum is not None else ""),
        (values.notna() & (values != values.round()) if whole else None, "not a whole count"),
    )
    for bad, what in checks:
        if bad is not None and bad.any():
            raise InputError(
                f"value {s[bad].iloc[0]!r} ({values[bad].iloc[0]:g}) is {what}",
                file=file, column=column, row=where(bad),
            )
    return values


def checked_column(
    cells: pd.Series, check: schema.Check, *, file: str, column: str, cbs_symbols: bool = False,
    rows: Sequence[int | str] | None = None,
) -> pd.Series:
    """``numeric_column`` with the bounds of ``check``."""
    return numeric_column(
        cells, file=file, column=column, cbs_symbols=cbs_symbols, minimum=check.minimum,
        maximum=check.maximum, whole=check.whole, rows=rows,
    )


@dataclass(frozen=True)
class Parsed:
    """A parsed file: its long frame and the headers of its columns that are neither built in
    nor mapped (``ignored``, in file order)."""

    frame: pd.DataFrame
    ignored: tuple[str, ...] = ()


def unit_codes(
    cells: pd.Series, file: str, column: str, levels: Iterable[str] | None
) -> pd.DataFrame:
    """``unit_code`` (stripped) and its ``level`` (``schema.unit_level``); a code of no known
    form, or of a level not in ``levels`` (None: any), is rejected naming its row."""
    codes = cells.str.strip()
    level = codes.map(schema.unit_level)
    bad = level.isna() | (level.isin(tuple(levels)) == False if levels else False)  # noqa: E712
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        allowed = ", ".join(levels) if levels else "GMxxxx, WKxxxxxx, BUxxxxxxxx or a PC4"
        raise InputError(
            f"unit code {codes.iloc[pos]!r} is not of the allowed form ({allowed})",
            file=file,
            column=column,
            row=line_of(codes, pos),
        )
    return pd.DataFrame({"unit_code": codes, "level": level})


def first_present(df: pd.DataFrame, candidates: Sequence[str], file: str, what: str) -> str:
    """The first of ``candidates`` that is a column of ``df``; none is an error naming all."""
    for c in candidates:
        if c in df.columns:
            return c
    raise InputError(
        f"no {what} column; expected one of {', '.join(map(repr, candidates))}. "
        f"Columns present: {', '.join(map(repr, df.columns))}",
        file=file,
    )


def check_unique(df: pd.DataFrame, keys: list[str], file: str, column: str) -> None:
    """Reject the first row whose ``keys`` repeat an earlier row's."""
    dup = df.duplicated(keys, keep="first")
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        key = ", ".join(str(df[k].iloc[pos]) for k in keys)
        raise InputError(
            f"duplicate row for ({key})", file=file, column=column, row=line_of(df, pos)
        )


def year_column(cells: pd.Series, file: str, column: str) -> pd.Series:
    """A column of years: a year, or StatLine's whole-year period code (2019JJ00)."""
    # A year, or StatLine's whole-year period code; 2019KW01 (a quarter) or 2019MM01 (a
    # month) is no year and must not be read as 2019.
    years = cells.str.strip().str.extract(r"^(\d{4})(?:JJ00)?$", expand=False)
    if years.isna().any():
        pos = int(np.flatnonzero(years.isna().to_numpy())[0])
        raise InputError(
            f"expected a year such as 2019 or 2019JJ00, got {cells.iloc[pos]!r}",
            file=file,
            column=column,
            row=line_of(cells, pos),
        )
    return years.astype("int64")


def mapped_names(columns: Sequence[ColumnMap], builtin: Iterable[str]) -> list[str]:
    """The names of ``columns`` that are no built-in variable, in config order."""
    known = set(builtin)
    return [c.name for c in columns if c.name not in known]


def mapped_frame(
    raw: pd.DataFrame, keys: pd.DataFrame, columns: Sequence[ColumnMap], file: str,
    cbs_symbols: bool = False,
) -> pd.DataFrame:
    """``keys`` (unit_code, year) with the checked values of every mapped header of ``raw``."""
    out = keys.copy()
    for column in columns:
        if column.source in raw.columns:
            out[column.name] = checked_column(
                raw[column.source], schema.check_of(column.kind), file=file,
                column=column.source, cbs_symbols=cbs_symbols,
            )
    return out


def unknown_headers(raw: pd.DataFrame, known: Iterable[str], columns: Sequence[ColumnMap]) -> tuple[
    str, ...
]:
    """The headers of ``raw`` that are neither ``known`` nor mapped, in file order."""
    skip = {*known, *(c.source for c in columns)}
    return tuple(shown_header(raw, h) for h in raw.columns if h not in skip)


def shown_header(raw: pd.DataFrame, header: str) -> str:
    """A header as people read it: pandas' name of an empty one is its column number."""
    if re.fullmatch(r"Unnamed: \d+", header):
        return f"(column {list(raw.columns).index(header) + 1}, no header)"
    return header

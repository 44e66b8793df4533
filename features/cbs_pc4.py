"""Reader for CBS "Statistiek per postcode" (Kerncijfers per PC4) Excel files (source kind
``cbs_pc4_xlsx``).

CBS publishes the table as a workbook with one sheet: a title block (the title with the
peildatum, "Definitieve gegevens, versie N", "Datum: 14 mei 2025", the meaning of -99 997),
two or three rows of grouped Dutch headers, in some versions a row of variable codes
(``PC4, INWONER, MAN, ...``; 2020 v1 has it, 2023 v2 and 2024 v1 do not) and a row of units
(``Code, x1, %, ...``), then one row per PC4 area.

The header block is found by its content: the units row is the first whose first cell is
``Code``; a codes row directly above it starts with ``PC4``; the Dutch header rows are the
rows above those whose first cell is ``Postcode-4`` or empty. A column is matched to
``PC4_COLUMNS`` (the column table, ``features.pc4_columns``) by its code where the file has
codes, else by its Dutch header path (the grouped headers joined with " / ", whitespace
collapsed), so that all versions line up on one set of stable names. A source's ``columns``
table maps further columns (by code or header path; its kind sets the bounds); columns named
by neither are listed in ``CbsPc4Table.ignored``.

``-99997`` (0-4 / secret) and ``-99995`` (not yet available) become missing and are counted.
Every kept cell is validated; a bad one is an ``InputError`` naming the file, the sheet, the
cell, the code and the value.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from features import schema
from features.pc4_columns import (
    PC4_BY_CODE,
    PC4_BY_HEADER,
    SCALE_BOUNDS,
    Pc4Column,
    mapped_entry,
)
from features.pc4_columns import PC4_COLUMNS as PC4_COLUMNS  # re-exported: the column table
from wijkradar.calendar import MONTHS_NL
from wijkradar.errors import InputError
from wijkradar.sourceconfig import ColumnMap

SECRET = int(schema.CBS_SECRET)  # "0 - 4 / geheim"
UNAVAILABLE = int(schema.CBS_UNAVAILABLE)  # not yet available
MONTHS = {m: i for i, m in enumerate(MONTHS_NL, start=1)}
_DATE = r"(\d{1,2})\s+([a-z]+)\s+(\d{4})"
_REFERENCE = re.compile(rf"peildatum\s+{_DATE}", re.IGNORECASE)
_PUBLISHED = re.compile(rf"^\s*datum\s*:\s*{_DATE}", re.IGNORECASE)
_HEADER_SCAN_ROWS = 40

CODE_HEADERS = ("PC4",)
PC4_HEADERS = ("Postcode-4",)
VARIABLES = (*(v.name for v in schema.CBS_VARIABLES), *(v.name for v in schema.CBS_PC4_VARIABLES))
COLUMNS = ("unit_code", "unit_name", "level", "year", *VARIABLES)


@dataclass(frozen=True)
class CbsFileInfo:
    """What one CBS per-postcode file says about itself, for the panel meta: its peildatum
    (``reference_date``), its publication date, and how many kept cells were ``-99997``
    (``secret``) and ``-99995`` (``unavailable``); ``variables``: the stable names it fills."""

    file: str
    sheet: str
    reference_date: date
    published: date
    secret: int
    unavailable: int
    variables: tuple[str, ...]


@dataclass(frozen=True)
class CbsPc4Table:
    """A parsed file: ``frame`` in the CBS form (``COLUMNS``, level 'pc4', year = the
    peildatum's year) and its ``info``."""

    frame: pd.DataFrame
    info: CbsFileInfo
    ignored: tuple[str, ...] = ()  # columns neither in PC4_COLUMNS nor mapped


@dataclass(frozen=True)
class _Where:
    file: str
    sheet: str

    def error(self, message: str, row: int, col: int, code: str | None = None) -> InputError:
        cell = f"{get_column_letter(col + 1)}{row}"
        return InputError(
            f"sheet {self.sheet!r}, cell {cell}: {message}", file=self.file, column=code, row=row
        )


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _header_rows(rows: Sequence[tuple[Any, ...]], where: _Where) -> tuple[int, int | None, int]:
    """(first Dutch header row, codes row or None, units row), 0-based."""
    units = next(
        (i for i, r in enumerate(rows[:_HEADER_SCAN_ROWS]) if r and _text(r[0]) == "Code"), None
    )
    if units is None:
        raise InputError(
            f"sheet {where.sheet!r}: no header block; expected a row of units whose first "
            f"cell is 'Code' in the first {_HEADER_SCAN_ROWS} rows",
            file=where.file,
        )
    codes = units - 1 if units > 0 and _text(rows[units - 1][0]) in CODE_HEADERS else None
    top = (codes if codes is not None else units) - 1
    if top < 0 or _text(rows[top][0]) not in PC4_HEADERS:
        raise where.error(
            f"expected the Dutch header {PC4_HEADERS[0]!r} above the units row, got "
            f"{_text(rows[top][0]) if top >= 0 else ''!r}",
            row=top + 1, col=0,
        )
    while top > 0 and not _text(rows[top - 1][0]) and any(_text(c) for c in rows[top - 1]):
        top -= 1
    return top, codes, units


def _header_paths(block: Sequence[tuple[Any, ...]], width: int) -> list[str]:
    """Each column's Dutch header path: a grouped (merged) header spans the columns to its
    right until the next header on its row or on a row above."""
    filled: list[list[str]] = []
    for r, row in enumerate(block):
        cells = [_text(row[c]) if c < len(row) else "" for c in range(width)]
        out = []
        for c, text in enumerate(cells):
            starts_above = any(filled[u][c] and _starts(block, u, c) for u in range(r))
            leaf = r == len(block) - 1
            out.append(text or ("" if leaf or c == 0 or starts_above else out[c - 1]))
        filled.append(out)
    return [" / ".join(p for p in (f[c] for f in filled) if p) for c in range(width)]


def _starts(block: Sequence[tuple[Any, ...]], r: int, c: int) -> bool:
    return c < len(block[r]) and bool(_text(block[r][c]))


def _date(match: re.Match[str], where: _Where, row: int, value: str) -> date:
    day, month, year = int(match.group(1)), match.group(2).lower(), int(match.group(3))
    try:
        return date(year, MONTHS[month], day)
    except (KeyError, ValueError) as exc:
        raise where.error(
            f"expected a date such as '14 mei 2025' (Dutch month name), got {value!r}",
            row=row, col=0,
        ) from exc


def _title_dates(rows: Sequence[tuple[Any, ...]], where: _Where) -> tuple[date, date]:
    """The peildatum and the publication date from the title block (column A)."""
    found: dict[str, date] = {}
    for i, row in enumerate(rows):
        value = _text(row[0]) if row else ""
        for key, pattern in (("reference", _REFERENCE), ("published", _PUBLISHED)):
            if key not in found and (m := pattern.search(value)):
                found[key] = _date(m, where, i + 1, value)
            elif key not in found and key == "published" and value.lower().startswith("datum"):
                raise where.error(
                    f"expected a date such as 'Datum: 14 mei 2025', got {value!r}",
                    row=i + 1, col=0,
                )
    for key, what in (("reference", "'peildatum 1 januari 2020'"), ("published", "'Datum: ...'")):
        if key not in found:
            raise InputError(
                f"sheet {where.sheet!r}: the title block (rows 1-{len(rows)}) has no {what}",
                file=where.file,
            )
    return found["reference"], found["published"]


def _match_columns(
    paths: list[str], codes: tuple[Any, ...] | None, where: _Where, row: int,
    columns: Sequence[ColumnMap] = (),
) -> tuple[dict[int, Pc4Column], tuple[str, ...]]:
    """Column index -> table entry, by code where the file has codes, else by header path;
    a mapped column (``columns``: its code or header path) wins over the table. Also the
    columns matched by neither (their code, else header path), in sheet order."""
    matched: dict[int, Pc4Column] = {}
    ignored: list[str] = []
    seen: dict[str, int] = {}
    mapped = {c.source: mapped_entry(c) for c in columns}
    for c, path in enumerate(paths[1:], start=1):
        code = _text(codes[c]) if codes is not None and c < len(codes) else ""
        entry = mapped.get(code) or mapped.get(path)
        if entry is None:
            entry = PC4_BY_CODE.get(code) if codes is not None else PC4_BY_HEADER.get(path)
        if entry is None:
            ignored += [code or path] if code or path else []
            continue
        if entry.name in seen:
            first = get_column_letter(seen[entry.name] + 1)
            raise where.error(
                f"column {get_column_letter(c + 1)} holds {entry.label!r} as column {first} "
                "does", row=row, col=c, code=entry.label,
            )
        seen[entry.name] = c
        matched[c] = entry
    if not matched:
        raise where.error(
            "no known column (by code or Dutch header) in the header block", row=row, col=0
        )
    return matched, tuple(ignored)


def _pc4_codes(rows: Sequence[tuple[Any, ...]], first: int, where: _Where) -> list[str]:
    codes: list[str] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        value = row[0]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = "" if value is None else str(value).strip()
        if not schema.UNIT_CODE_PATTERNS["pc4"].match(text):
            raise where.error(
                f"expected a PC4 code (a 4-digit postcode 1000-9999), got {value!r}",
                row=first + i, col=0, code="PC4",
            )
        if text in seen:
            raise where.error(
                f"PC4 {text} is also in row {seen[text]}", row=first + i, col=0, code="PC4"
            )
        seen[text] = first + i
        codes.append(text)
    return codes


def _cell_value(value: object, entry: Pc4Column, where: _Where, row: int, col: int) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return np.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"expected a number, got {value!r}", row=row, col=col, code=entry.label)
    if value in (SECRET, UNAVAILABLE):
        return float(value)
    low, high = SCALE_BOUNDS[entry.scale]
    if value < low or (high is not None and value > high):
        bounds = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
        what = {"count": "a count", "percent": "a share in %"}.get(entry.scale, "a value")
        raise where.error(
            f"expected {what} ({bounds}), got {value!r}", row=row, col=col, code=entry.label
        )
    if entry.whole and value != round(value):
        raise where.error(
            f"expected a whole count, got {value!r}", row=row, col=col, code=entry.label
        )
    return float(value)


def _values(
    rows: Sequence[tuple[Any, ...]], first: int, matched: dict[int, Pc4Column], where: _Where
) -> tuple[dict[str, np.ndarray], int, int]:
    raw: dict[str, np.ndarray] = {}
    secret = unavailable = 0
    for c, entry in matched.items():
        values = np.array(
            [
                _cell_value(r[c] if c < len(r) else None, entry, where, first + i, c)
                for i, r in enumerate(rows)
            ],
            dtype="float64",
        )
        secret += int((values == SECRET).sum())
        unavailable += int((values == UNAVAILABLE).sum())
        values[(values == SECRET) | (values == UNAVAILABLE)] = np.nan
        if entry.zero_missing:
            values[values == 0] = np.nan
        raw[entry.name] = values
    return raw, secret, unavailable


def _derive(raw: dict[str, np.ndarray], matched: dict[int, Pc4Column]) -> dict[str, np.ndarray]:
    """Counts with a denominator become shares (or rates) of it; a missing or zero
    denominator gives a missing value."""
    out = dict(raw)
    for entry in matched.values():
        if entry.per is None:
            continue
        per = raw.get(entry.per)
        if per is None:
            out[entry.name] = np.full(len(raw[entry.name]), np.nan)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            share = entry.factor * raw[entry.name] / np.where(per > 0, per, np.nan)
        out[entry.name] = share
    return out


def parse_cbs_pc4_xlsx(data: bytes, file: str, columns: Sequence[ColumnMap] = ()) -> CbsPc4Table:
    """A CBS "Statistiek per postcode" workbook (first sheet with a header block); ``columns``
    maps further columns by code or Dutch header path (their values follow the frame's
    ``COLUMNS``)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError on non-xlsx bytes
        raise InputError(f"the file is not an Excel workbook (.xlsx): {exc}", file=file) from exc
    try:
        sheet = book.worksheets[0]
        where = _Where(file, sheet.title)
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    rows = [r + (None,) * (width - len(r)) for r in rows]  # a written-out file has short rows
    if not width:
        raise InputError("the workbook's first sheet is empty", file=file)
    top, codes_row, units_row = _header_rows(rows, where)
    paths = _header_paths(rows[top : (codes_row if codes_row is not None else units_row)], width)
    codes = rows[codes_row] if codes_row is not None else None
    matched, ignored = _match_columns(
        paths, codes, where, (codes_row if codes_row is not None else units_row) + 1, columns
    )
    reference, published = _title_dates(rows[:top], where)
    data_rows = [r for r in rows[units_row + 1 :] if any(_text(c) for c in r)]
    first = units_row + 2
    index = [i for i, r in enumerate(rows[units_row + 1 :]) if any(_text(c) for c in r)]
    if not data_rows:
        raise InputError(f"sheet {where.sheet!r}: the table has no rows", file=file)
    if index[-1] != len(index) - 1:
        blank = next(i for i, j in enumerate(index) if i != j)
        raise where.error("a blank row inside the table", row=first + blank, col=0)
    pc4 = _pc4_codes(data_rows, first, where)
    raw, secret, unavailable = _values(data_rows, first, matched, where)
    values = _derive(raw, matched)
    frame = pd.DataFrame(
        {
            "unit_code": pd.Series(pc4, dtype=object),
            "unit_name": pd.Series(pc4, dtype=object),
            "level": pd.Series(["pc4"] * len(pc4), dtype=object),
            "year": pd.Series([reference.year] * len(pc4), dtype="int64"),
        }
    )
    extra = [c.name for c in columns if c.name not in VARIABLES and c.name in values]
    for name in (*VARIABLES, *extra):
        frame[name] = values.get(name, np.full(len(pc4), np.nan))
    info = CbsFileInfo(
        file=file, sheet=where.sheet, reference_date=reference, published=published,
        secret=secret, unavailable=unavailable,
        variables=tuple(n for n in (*VARIABLES, *extra) if n in values),
    )
    return CbsPc4Table(frame=frame[[*COLUMNS, *extra]], info=info, ignored=ignored)

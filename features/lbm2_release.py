"""The Leefbarometer 2.0 release as both its forms share it (``features.lbm2``: the PC4 pair
in CSV and the classes per wijk or gemeente in JSON): the ``Lbm2`` record, the grammar of its
class columns (``KLyy``: class 1-9; ``VKLaabb``: development class 1-7 from year ``aa`` to
``bb``; years read from the headers), the per-year columns a source maps through its
``columns`` table, and the release joined into scores and development classes. Errors name
the file, the column (header or JSON key) and the row (line number, or the unit code in
JSON).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from features.tables import checked_column
from wijkradar.errors import InputError
from wijkradar.records import IgnoredColumn
from wijkradar.sourceconfig import ColumnMap

CODE_COLUMNS = ("GBD", "CODE", "PC4")  # the code column of a CSV release

_CLASS = re.compile(r"^KL(\d{2})$", re.IGNORECASE)
_DEVELOPMENT = re.compile(r"^VKL(\d{2})(\d{2})$", re.IGNORECASE)
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)$")
CLASS_MAX = 9  # liveability class: 1 (very insufficient) - 9 (excellent)
DEVELOPMENT_CLASS_MAX = 7  # development class: 1-3 decline, 4 no notable change, 5-7 rise

SCORE_COLUMNS = (
    "unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS, "lbm_class"
)
DEVELOPMENT_COLUMNS = ("unit_code", "from_year", "to_year", "development_class")


@dataclass(frozen=True)
class Lbm2:
    """A Leefbarometer 2.0 release at one level.

    ``scores``: one row per (unit, year) with a score or a class, columns ``SCORE_COLUMNS``
    (``unit_name`` = the code: the releases hold no names; ``afw`` NaN: 2.0 has no such
    column; the JSON release has classes only, so its scores are NaN). ``development``: one
    row per (unit, from_year, to_year) with a class, columns ``DEVELOPMENT_COLUMNS``."""

    scores: pd.DataFrame
    development: pd.DataFrame
    extra: pd.DataFrame | None = None  # unit_code, year + the mapped columns (``columns``)
    ignored: tuple[IgnoredColumn, ...] = ()  # headers (keys) neither built in nor mapped


def two_digit_year(two_digits: str) -> int:
    """The year of a header's two digits: below 50 is 20YY, else 19YY."""
    yy = int(two_digits)
    return 2000 + yy if yy < 50 else 1900 + yy


def claim(claimed: dict[object, str], key: object, header: str, file: str) -> None:
    """Note that ``header`` holds ``key``; a second header holding it is an error."""
    if key in claimed:
        raise InputError(
            f"columns {claimed[key]!r} and {header!r} hold the same values", file=file,
            column=header,
        )
    claimed[key] = header


def _class_value(cell: object, top: int, what: str) -> float | str:
    """A class cell as a number (NaN when empty), or why it is not a whole number 1-top."""
    if not isinstance(cell, str):
        return math.nan  # a padded (ragged) or absent cell
    text = cell.strip()
    if text == "":
        return math.nan
    if not _NUMBER.match(text):
        return f"expected a {what}, a whole number 1-{top}; got {cell!r}"
    value = float(text.replace(",", "."))
    if value != round(value):
        return f"a {what} is a whole number 1-{top}, got {value:g}"
    if value < 1:
        return f"{what} {value:g} is below the minimum 1 ({what}es run 1-{top})"
    if value > top:
        return f"{what} {value:g} is above the maximum {top} ({what}es run 1-{top})"
    return value


def _classes(
    cells: pd.Series, file: str, column: str, rows: Sequence[int | str], development: bool
) -> np.ndarray:
    """The column's classes (NaN where empty); the first bad cell is named by ``rows``."""
    what, top = ("development class", DEVELOPMENT_CLASS_MAX) if development else (
        "class", CLASS_MAX
    )
    values = np.full(len(cells), np.nan)
    for pos, cell in enumerate(cells.tolist()):
        value = _class_value(cell, top, what)
        if isinstance(value, str):
            raise InputError(value, file=file, column=column, row=rows[pos])
        values[pos] = value
    return values


def _mapped_year(header: str, columns: Sequence[ColumnMap]) -> tuple[ColumnMap, int] | None:
    """The mapped column ``header`` is a year of (its source + two digits), if any."""
    for column in columns:
        rest = header[len(column.source):]
        if header.upper().startswith(column.source.upper()) and re.fullmatch(r"\d{2}", rest):
            return column, two_digit_year(rest)
    return None


def mapped_years(
    cells: pd.DataFrame, codes: pd.Series, rows: Sequence[int | str], file: str,
    columns: Sequence[ColumnMap],
) -> tuple[pd.DataFrame | None, set[str]]:
    """The checked values of every mapped per-year column of ``cells`` as one long frame
    (unit_code, year, names; None: none) and the headers it used."""
    parts: dict[int, pd.DataFrame] = {}
    used: set[str] = set()
    claimed: dict[object, str] = {}
    for header in cells.columns:
        found = _mapped_year(header, columns)
        if found is None:
            continue
        column, year = found
        claim(claimed, (column.name, year), header, file)
        used.add(header)
        part = parts.setdefault(year, pd.DataFrame(
            {"unit_code": codes.to_numpy(), "year": year}, index=cells.index
        ))
        part[column.name] = checked_column(
            cells[header], schema.check_of(column.kind), file=file, column=header, rows=rows
        ).to_numpy()
    if not parts:
        return None, used
    frame = pd.concat(parts.values(), ignore_index=True).astype({"unit_code": "str"})
    return frame, used


def merge_extra(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame | None:
    """Mapped per-year frames of one release, outer-joined on (unit_code, year)."""
    found = [f for f in frames if f is not None]
    if not found:
        return None
    out = found[0]
    for other in found[1:]:
        out = out.merge(other, on=["unit_code", "year"], how="outer")
    return out.sort_values(["unit_code", "year"], ignore_index=True)


def class_tables(
    cells: pd.DataFrame, codes: pd.Series, rows: Sequence[int | str], file: str,
    skip: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long classes (unit_code, year, lbm_class) and development classes from the ``KLyy`` and
    ``VKLaabb`` columns of ``cells`` (one row per code, positionally; ``rows`` name them);
    the headers in ``skip`` (mapped ones) are left alone."""
    codes = pd.Series(codes.to_numpy(), dtype="str")
    claimed: dict[object, str] = {}
    classes, development = [], []
    for header in cells.columns:
        if skip and header in skip:
            continue
        if m := _CLASS.match(header):
            year = two_digit_year(m.group(1))
            claim(claimed, year, header, file)
            values = _classes(cells[header], file, header, rows, development=False)
            classes.append(pd.DataFrame({"unit_code": codes, "year": year, "lbm_class": values}))
        elif m := _DEVELOPMENT.match(header):
            start, end = two_digit_year(m.group(1)), two_digit_year(m.group(2))
            if start >= end:
                raise InputError(
                    f"a development column runs from an earlier to a later year, "
                    f"not {start} -> {end}",
                    file=file, column=header,
                )
            claim(claimed, (start, end), header, file)
            values = _classes(cells[header], file, header, rows, development=True)
            development.append(pd.DataFrame(
                {"unit_code": codes, "from_year": start, "to_year": end,
                 "development_class": values}
            ))
    if not classes and not development:
        raise InputError("no class columns (KLyy or VKLaabb)", file=file)
    long_classes = pd.concat(
        [c.dropna(subset=["lbm_class"]) for c in classes]
        or [pd.DataFrame(columns=["unit_code", "year", "lbm_class"])],
        ignore_index=True,
    )
    long_development = pd.concat(
        [d.dropna(subset=["development_class"]) for d in development]
        or [pd.DataFrame(columns=list(DEVELOPMENT_COLUMNS))],
        ignore_index=True,
    )
    return long_classes, long_development


def class_ignored(cells: pd.DataFrame, used: set[str], file: str) -> list[IgnoredColumn]:
    """The headers of ``cells`` that are no class, development, mapped or code column."""
    return [
        IgnoredColumn(file, h) for h in cells.columns
        if not (_CLASS.match(h) or _DEVELOPMENT.match(h) or h in used or h in CODE_COLUMNS)
    ]


def joined_release(
    dims: pd.DataFrame, classes: pd.DataFrame, development: pd.DataFrame, level: str
) -> Lbm2:
    """Scores outer-joined with classes on (unit, year), in the release's columns and dtypes."""
    score_cols = ["unit_code", "year", *schema.LBM_SCORE_COLUMNS]
    for column in schema.LBM_SCORE_COLUMNS:
        if column not in dims.columns:
            dims[column] = np.nan
    dims = dims.astype({"unit_code": "str", "year": "int64"})
    classes = classes.astype({"unit_code": "str", "year": "int64", "lbm_class": "float64"})
    scores = dims[score_cols].merge(classes, on=["unit_code", "year"], how="outer")
    scores["unit_name"] = scores["unit_code"]
    scores["level"] = level
    scores = scores.astype({c: "float64" for c in (*schema.LBM_SCORE_COLUMNS, "lbm_class")})
    scores = scores.sort_values(["unit_code", "year"], ignore_index=True)
    development = development.astype(
        {"unit_code": "str", "from_year": "int64", "to_year": "int64",
         "development_class": "int64"}
    ).sort_values(["unit_code", "from_year", "to_year"], ignore_index=True)
    return Lbm2(scores=scores[list(SCORE_COLUMNS)], development=development)

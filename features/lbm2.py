"""Readers for the Leefbarometer 2.0 releases: the PC4 pair (source kind ``lbm2_pc4``) and the
classes per wijk or gemeente in JSON (source kind ``lbm2_json``).

The PC4 release comes as two comma-separated files keyed by 4-digit postcode (PC4):

* ``PC4DIMENSIE.csv``: ``GBD`` and, per two-digit year ``YY``, ``RLBRMTRYY`` (total score,
  relative to the national mean -> ``lbm``), ``RLBWONYY`` (woningen -> ``won``), ``RLBBEVYY``
  (bewoners -> ``soc``), ``RLBVRZYY`` (voorzieningen -> ``vrz``), ``RLBVEIYY`` (veiligheid ->
  ``onv``) and ``RLBFYSYY`` (fysieke omgeving -> ``fys``);
* ``PC4LBR.csv``: ``CODE`` and the class columns.

The JSON release (``wijk.json``, ``gemeente.json``) is one object keyed by unit code
(``WK000300``, ``GM0003``); each value is an object of the same class columns, as strings,
``null`` (or absent) where the unit has no class. It holds classes only, no scores and no names.

The class columns, one grammar for both: ``KLYY`` (liveability class 1-9 -> ``lbm_class``)
and ``VKLaabb`` (development class 1-7 from year ``aa`` to year ``bb``; 4 = no notable change,
lower = decline). Years are read from the headers (``YY`` < 50 is 20YY, else 19YY), so a
release with other years loads unchanged. A source's ``columns`` table maps further per-year
columns by their name without the two-digit year (``{"RLBXYZ" = {...}}`` reads ``RLBXYZ12``,
``RLBXYZ14``, ...) into ``Lbm2.extra``; columns of none of these are listed in
``Lbm2.ignored``. Rows of PC4
areas without values are ragged (the code alone, or fewer cells than the header): their
missing cells are missing values. Errors name the file, the column (header or JSON key) and
the row (line number, header = 1; the unit code in JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from features import schema
from features.readers import (
    check_unique,
    checked_column,
    first_present,
    line_of,
    numeric_column,
    read_table,
)
from wijkradar.errors import ConfigError, InputError
from wijkradar.records import IgnoredColumn
from wijkradar.sourceconfig import ColumnMap

_DIMENSION = re.compile(r"^RLB(RMTR|WON|BEV|VRZ|VEI|FYS)(\d{2})$", re.IGNORECASE)
_DIMENSION_COLUMN = {
    "RMTR": "lbm", "WON": "won", "BEV": "soc", "VRZ": "vrz", "VEI": "onv", "FYS": "fys"
}
_CLASS = re.compile(r"^KL(\d{2})$", re.IGNORECASE)
_DEVELOPMENT = re.compile(r"^VKL(\d{2})(\d{2})$", re.IGNORECASE)
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)$")
_CODE_COLUMNS = ("GBD", "CODE", "PC4")
_EXAMPLE_CODE = {"gemeente": "GM0363", "wijk": "WK036301", "buurt": "BU03630101", "pc4": "1011"}

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


def _year(two_digits: str) -> int:
    yy = int(two_digits)
    return 2000 + yy if yy < 50 else 1900 + yy


def _table(text: str, file: str) -> tuple[pd.DataFrame, pd.Series]:
    """The file's cells (short rows padded) and its validated, unique PC4 codes."""
    raw = read_table(text, file, sep=",")
    code_col = first_present(raw, _CODE_COLUMNS, file, "PC4 code")
    if raw.empty:
        raise InputError("the file has a header but no rows", file=file)
    codes = raw[code_col].str.strip()
    bad = ~codes.str.match(schema.UNIT_CODE_PATTERNS["pc4"])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"PC4 code {codes.iloc[pos]!r} is not a 4-digit postcode 1000-9999",
            file=file, column=code_col, row=line_of(codes, pos),
        )
    check_unique(pd.DataFrame({"unit_code": codes}), ["unit_code"], file, code_col)
    return raw, codes


def _claim(claimed: dict[object, str], key: object, header: str, file: str) -> None:
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
            return column, _year(rest)
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
        _claim(claimed, (column.name, year), header, file)
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


def _dimension_scores(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> tuple[
    pd.DataFrame, pd.DataFrame | None, tuple[str, ...]
]:
    """Long scores, the mapped columns and the ignored headers of a dimension file."""
    raw, codes = _table(text, file)
    rows = [int(line) for line in raw.index]
    extra, used = mapped_years(raw, codes, rows, file, columns)
    claimed: dict[object, str] = {}
    parts: dict[int, pd.DataFrame] = {}
    ignored = []
    for header in raw.columns:
        m = _DIMENSION.match(header)
        if m is None:
            ignored += [] if header in used or header in _CODE_COLUMNS else [header]
            continue
        column, year = _DIMENSION_COLUMN[m.group(1).upper()], _year(m.group(2))
        _claim(claimed, (column, year), header, file)
        part = parts.setdefault(year, pd.DataFrame({"unit_code": codes, "year": year}))
        part[column] = numeric_column(raw[header], file=file, column=header)
    if not parts:
        raise InputError(
            "no score columns (RLBRMTRyy, RLBWONyy, RLBBEVyy, RLBVRZyy, RLBVEIyy, RLBFYSyy)",
            file=file,
        )
    frames = []
    for part in parts.values():
        values = [c for c in schema.LBM_SCORE_COLUMNS if c in part.columns]
        frames.append(part[part[values].notna().any(axis=1)])
    return pd.concat(frames, ignore_index=True), extra, tuple(ignored)


def _class_tables(
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
            year = _year(m.group(1))
            _claim(claimed, year, header, file)
            values = _classes(cells[header], file, header, rows, development=False)
            classes.append(pd.DataFrame({"unit_code": codes, "year": year, "lbm_class": values}))
        elif m := _DEVELOPMENT.match(header):
            start, end = _year(m.group(1)), _year(m.group(2))
            if start >= end:
                raise InputError(
                    f"a development column runs from an earlier to a later year, "
                    f"not {start} -> {end}",
                    file=file, column=header,
                )
            _claim(claimed, (start, end), header, file)
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


def _class_ignored(cells: pd.DataFrame, used: set[str], file: str) -> list[IgnoredColumn]:
    return [
        IgnoredColumn(file, h) for h in cells.columns
        if not (_CLASS.match(h) or _DEVELOPMENT.match(h) or h in used or h in _CODE_COLUMNS)
    ]


def _release(
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


def parse_lbm2_pc4(
    dimensions_text: str | None,
    classes_text: str | None,
    dimensions_file: str = "PC4DIMENSIE.csv",
    classes_file: str = "PC4LBR.csv",
    columns: Sequence[ColumnMap] = (),
) -> Lbm2:
    """Read the Leefbarometer 2.0 PC4 pair (either file may be absent, not both).

    ``scores`` outer-joins the two files on (PC4, year): years with classes only (2002 and
    2008 in the real release) have NaN scores, and a PC4 with a score but no class has a NaN
    ``lbm_class``."""
    if dimensions_text is None and classes_text is None:
        raise InputError(
            "neither the dimension file nor the class file was given", file=dimensions_file
        )
    extras: list[pd.DataFrame | None] = []
    ignored: list[IgnoredColumn] = []
    if dimensions_text is not None:
        dims, extra, skipped = _dimension_scores(dimensions_text, dimensions_file, columns)
        extras.append(extra)
        ignored += [IgnoredColumn(dimensions_file, h) for h in skipped]
    else:
        dims = pd.DataFrame(columns=["unit_code", "year", *schema.LBM_SCORE_COLUMNS])
    if classes_text is not None:
        raw, codes = _table(classes_text, classes_file)
        rows = [int(line) for line in raw.index]
        extra, used = mapped_years(raw, codes, rows, classes_file, columns)
        extras.append(extra)
        ignored += _class_ignored(raw, used, classes_file)
        classes, development = _class_tables(raw, codes, rows, classes_file, used)
    else:
        classes = pd.DataFrame(columns=["unit_code", "year", "lbm_class"])
        development = pd.DataFrame(columns=list(DEVELOPMENT_COLUMNS))
    release = _release(dims, classes, development, "pc4")
    return replace(release, extra=merge_extra(extras), ignored=tuple(ignored))


class _Pairs(list[tuple[str, object]]):
    """A JSON object as its (key, value) pairs in file order, so repeats can be named."""


def _json_type(value: object) -> str:
    if isinstance(value, _Pairs):
        return "object"
    if isinstance(value, list):
        return "list"
    return {bool: "boolean", str: "string", type(None): "null"}.get(type(value), "number")


def _json_cell(value: object, file: str, key: str, code: str) -> str | None:
    """A JSON class value as text (None where null); a class may be a string or a number."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    kind = _json_type(value)
    shown = f" {json.dumps(value)}" if kind in ("boolean", "number") else ""
    raise InputError(
        f"expected a class as a string or a number, got a JSON {kind}{shown}",
        file=file, column=key, row=code,
    )


def _json_units(text: str, file: str, level: str) -> dict[str, dict[str, str | None]]:
    """{code: {key: text or None}}, codes stripped and of ``level``, no code or key twice."""
    try:
        doc = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=file, row=exc.lineno,
        ) from exc
    if not isinstance(doc, _Pairs):
        raise InputError(
            f"expected an object keyed by {level} code, got a JSON {_json_type(doc)}", file=file
        )
    if not doc:
        raise InputError(f"the file holds no {level} codes", file=file)
    pattern = schema.UNIT_CODE_PATTERNS[level]
    units: dict[str, dict[str, str | None]] = {}
    for key, record in doc:
        code = key.strip()
        if not pattern.match(code):
            other = schema.unit_level(code)
            is_what = f"a {other} code" if other else "of no unit code form"
            raise InputError(
                f"the code {key!r} is {is_what}; this source is read at {level} level "
                f"(codes like {_EXAMPLE_CODE[level]})",
                file=file, row=key,
            )
        if code in units:
            raise InputError(
                f"the code {code!r} occurs twice (codes are compared without spaces)",
                file=file, row=key,
            )
        if not isinstance(record, _Pairs):
            raise InputError(
                f"expected an object of classes per code, got a JSON {_json_type(record)}",
                file=file, row=code,
            )
        cells: dict[str, str | None] = {}
        for raw_key, value in record:
            column = raw_key.strip()  # as CSV headers are
            if column in cells:
                raise InputError(
                    "the key occurs twice in the code's object", file=file, column=raw_key,
                    row=code,
                )
            cells[column] = _json_cell(value, file, column, code)
        units[code] = cells
    return units


def parse_lbm2_json(
    text: str, file: str, level: str, columns: Sequence[ColumnMap] = ()
) -> Lbm2:
    """Read a Leefbarometer 2.0 class file in JSON (``wijk.json``, ``gemeente.json``).

    ``level`` is the level its codes must have (``"wijk"`` or ``"gemeente"``; any level of
    ``schema.UNIT_CODE_PATTERNS`` is accepted). A unit with no class in a year (``null`` or
    absent) has no row for that year; a unit with none at all has no rows. Scores are NaN: the
    release holds classes only. The gemeente of a wijk follows from its code
    (``schema.gemeente_of``: ``WK000300`` -> ``GM0003``)."""
    if level not in schema.UNIT_CODE_PATTERNS:
        raise ConfigError(
            f"The lbm2_json 'level' must be one of {', '.join(schema.UNIT_CODE_PATTERNS)}. "
            f"Got {level!r} instead."
        )
    units = _json_units(text, file, level)
    codes = pd.Series(list(units), dtype="str")
    cells = pd.DataFrame.from_records(list(units.values()), columns=_keys_of(units))
    cells = cells.astype(object)
    extra, used = mapped_years(cells, codes, list(codes), file, columns)
    classes, development = _class_tables(cells, codes, list(codes), file, used)
    dims = pd.DataFrame(columns=["unit_code", "year", *schema.LBM_SCORE_COLUMNS])
    release = _release(dims, classes, development, level)
    return replace(release, extra=extra, ignored=tuple(_class_ignored(cells, used, file)))


def _keys_of(units: dict[str, dict[str, str | None]]) -> list[str]:
    """Every key any unit has, in order of first appearance."""
    return list(dict.fromkeys(k for cells in units.values() for k in cells))

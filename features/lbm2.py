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
``Lbm2.ignored``. The record, the class grammar and the joined release are in
``features.lbm2_release``. Rows of PC4 areas without values are ragged (the code alone, or
fewer cells than the header): their missing cells are missing values. Errors name the file,
the column (header or JSON key) and the row (line number, header = 1; the unit code in JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from features import schema
from features.lbm2_release import (
    CLASS_MAX,
    CODE_COLUMNS,
    DEVELOPMENT_CLASS_MAX,
    DEVELOPMENT_COLUMNS,
    SCORE_COLUMNS,
    Lbm2,
    claim,
    class_ignored,
    class_tables,
    joined_release,
    mapped_years,
    merge_extra,
    two_digit_year,
)
from features.tables import check_unique, first_present, line_of, numeric_column, read_table
from wijkradar.errors import ConfigError, InputError
from wijkradar.records import IgnoredColumn
from wijkradar.sourceconfig import ColumnMap

# The release's record and class grammar live in ``features.lbm2_release``; callers import
# them from here too.
__all__ = [
    "CLASS_MAX",
    "DEVELOPMENT_CLASS_MAX",
    "DEVELOPMENT_COLUMNS",
    "SCORE_COLUMNS",
    "Lbm2",
    "parse_lbm2_json",
    "parse_lbm2_pc4",
]

_DIMENSION = re.compile(r"^RLB(RMTR|WON|BEV|VRZ|VEI|FYS)(\d{2})$", re.IGNORECASE)
_DIMENSION_COLUMN = {
    "RMTR": "lbm", "WON": "won", "BEV": "soc", "VRZ": "vrz", "VEI": "onv", "FYS": "fys"
}
_EXAMPLE_CODE = {"gemeente": "GM0363", "wijk": "WK036301", "buurt": "BU03630101", "pc4": "1011"}


def _table(text: str, file: str) -> tuple[pd.DataFrame, pd.Series]:
    """The file's cells (short rows padded) and its validated, unique PC4 codes."""
    raw = read_table(text, file, sep=",")
    code_col = first_present(raw, CODE_COLUMNS, file, "PC4 code")
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
            ignored += [] if header in used or header in CODE_COLUMNS else [header]
            continue
        column, year = _DIMENSION_COLUMN[m.group(1).upper()], two_digit_year(m.group(2))
        claim(claimed, (column, year), header, file)
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
        ignored += class_ignored(raw, used, classes_file)
        classes, development = class_tables(raw, codes, rows, classes_file, used)
    else:
        classes = pd.DataFrame(columns=["unit_code", "year", "lbm_class"])
        development = pd.DataFrame(columns=list(DEVELOPMENT_COLUMNS))
    release = joined_release(dims, classes, development, "pc4")
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
    classes, development = class_tables(cells, codes, list(codes), file, used)
    dims = pd.DataFrame(columns=["unit_code", "year", *schema.LBM_SCORE_COLUMNS])
    release = joined_release(dims, classes, development, level)
    return replace(release, extra=extra, ignored=tuple(class_ignored(cells, used, file)))


def _keys_of(units: dict[str, dict[str, str | None]]) -> list[str]:
    """Every key any unit has, in order of first appearance."""
    return list(dict.fromkeys(k for cells in units.values() for k in cells))

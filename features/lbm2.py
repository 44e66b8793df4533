"""Reader for the Leefbarometer 2.0 PC4 pair (source kind ``lbm2_pc4``).

The release comes as two comma-separated files keyed by 4-digit postcode (PC4):

* ``PC4DIMENSIE.csv``: ``GBD`` and, per two-digit year ``YY``, ``RLBRMTRYY`` (total score,
  relative to the national mean -> ``lbm``), ``RLBWONYY`` (woningen -> ``won``), ``RLBBEVYY``
  (bewoners -> ``soc``), ``RLBVRZYY`` (voorzieningen -> ``vrz``), ``RLBVEIYY`` (veiligheid ->
  ``onv``) and ``RLBFYSYY`` (fysieke omgeving -> ``fys``);
* ``PC4LBR.csv``: ``CODE``, ``KLYY`` (liveability class 1-9 -> ``lbm_class``) and
  ``VKLaabb`` (development class 1-7 from year ``aa`` to year ``bb``; 4 = no notable change,
  lower = decline).

Years are read from the headers (``YY`` < 50 is 20YY, else 19YY), so a release with other
years loads unchanged; columns of neither pattern are ignored. Rows of PC4 areas without
values are ragged (the code alone, or fewer cells than the header): their missing cells are
missing values. Errors name the file, the column and the row (line number, header = 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from features.readers import check_unique, first_present, numeric_column, read_table
from wijkradar.errors import InputError

_DIMENSION = re.compile(r"^RLB(RMTR|WON|BEV|VRZ|VEI|FYS)(\d{2})$", re.IGNORECASE)
_DIMENSION_COLUMN = {
    "RMTR": "lbm", "WON": "won", "BEV": "soc", "VRZ": "vrz", "VEI": "onv", "FYS": "fys"
}
_CLASS = re.compile(r"^KL(\d{2})$", re.IGNORECASE)
_DEVELOPMENT = re.compile(r"^VKL(\d{2})(\d{2})$", re.IGNORECASE)
_CODE_COLUMNS = ("GBD", "CODE", "PC4")

SCORE_COLUMNS = (
    "unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS, "lbm_class"
)
DEVELOPMENT_COLUMNS = ("unit_code", "from_year", "to_year", "development_class")


@dataclass(frozen=True)
class Lbm2:
    """Leefbarometer 2.0 at PC4 level.

    ``scores``: one row per (PC4, year) with a score or a class in either file, columns
    ``SCORE_COLUMNS`` (``unit_name`` = the code, ``level`` = 'pc4', ``afw`` NaN: 2.0 has no
    such column). ``development``: one row per (PC4, from_year, to_year) with a class,
    columns ``DEVELOPMENT_COLUMNS``."""

    scores: pd.DataFrame
    development: pd.DataFrame


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
            file=file, column=code_col, row=pos + 2,
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


def _classes(cells: pd.Series, file: str, column: str, top: int) -> pd.Series:
    values = numeric_column(cells, file=file, column=column, minimum=1.0, maximum=float(top))
    fractional = values.notna() & (values != values.round())
    if fractional.any():
        pos = int(np.flatnonzero(fractional.to_numpy())[0])
        raise InputError(
            f"a class is a whole number 1-{top}, got {values.iloc[pos]:g}",
            file=file, column=column, row=pos + 2,
        )
    return values


def _dimension_scores(text: str, file: str) -> pd.DataFrame:
    raw, codes = _table(text, file)
    claimed: dict[object, str] = {}
    parts: dict[int, pd.DataFrame] = {}
    for header in raw.columns:
        m = _DIMENSION.match(header)
        if m is None:
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
    return pd.concat(frames, ignore_index=True)


def _class_tables(text: str, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw, codes = _table(text, file)
    claimed: dict[object, str] = {}
    classes, development = [], []
    for header in raw.columns:
        if m := _CLASS.match(header):
            year = _year(m.group(1))
            _claim(claimed, year, header, file)
            values = _classes(raw[header], file, header, 9)
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
            values = _classes(raw[header], file, header, 7)
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


def parse_lbm2_pc4(
    dimensions_text: str | None,
    classes_text: str | None,
    dimensions_file: str = "PC4DIMENSIE.csv",
    classes_file: str = "PC4LBR.csv",
) -> Lbm2:
    """Read the Leefbarometer 2.0 PC4 pair (either file may be absent, not both).

    ``scores`` outer-joins the two files on (PC4, year): years with classes only (2002 and
    2008 in the real release) have NaN scores, and a PC4 with a score but no class has a NaN
    ``lbm_class``."""
    if dimensions_text is None and classes_text is None:
        raise InputError(
            "neither the dimension file nor the class file was given", file=dimensions_file
        )
    score_cols = ["unit_code", "year", *schema.LBM_SCORE_COLUMNS]
    if dimensions_text is not None:
        dims = _dimension_scores(dimensions_text, dimensions_file)
    else:
        dims = pd.DataFrame(columns=score_cols)
    if classes_text is not None:
        classes, development = _class_tables(classes_text, classes_file)
    else:
        classes = pd.DataFrame(columns=["unit_code", "year", "lbm_class"])
        development = pd.DataFrame(columns=list(DEVELOPMENT_COLUMNS))
    for column in schema.LBM_SCORE_COLUMNS:
        if column not in dims.columns:
            dims[column] = np.nan
    dims = dims.astype({"year": "int64"})
    classes = classes.astype({"year": "int64", "lbm_class": "float64"})
    scores = dims[score_cols].merge(classes, on=["unit_code", "year"], how="outer")
    scores["unit_name"] = scores["unit_code"]
    scores["level"] = "pc4"
    scores = scores.astype({c: "float64" for c in (*schema.LBM_SCORE_COLUMNS, "lbm_class")})
    scores = scores.sort_values(["unit_code", "year"], ignore_index=True)
    development = development.astype(
        {"unit_code": "str", "from_year": "int64", "to_year": "int64",
         "development_class": "int64"}
    ).sort_values(["unit_code", "from_year", "to_year"], ignore_index=True)
    return Lbm2(scores=scores[list(SCORE_COLUMNS)], development=development)

"""Readers: source files to validated long DataFrames.

This is the edge where files enter. ``parse_*`` functions are pure (text in, DataFrame out)
and take the file's name only to say where a problem is; ``features.sources.read_sources`` is
the one place that opens files. The building blocks every reader shares (``read_table``,
``numeric_column``, ``unit_codes``, ``first_present``, ``check_unique``, ...) are in
``features.tables`` and importable from here too. Every rejection is an ``InputError`` that
names the file, the column and the row (the line number in the file, header = line 1) or
the unit code.

Output forms:

* CBS: ``unit_code, unit_name, level, year`` + one column per stable variable name
  (``features.schema.CBS_VARIABLES``; NaN where the file lacks the variable).
* Leefbarometer: ``unit_code, unit_name, level, year, lbm, afw, fys, onv, soc, vrz, won``.
* CBS per postcode (``features.cbs_pc4``) and boundaries (``features.boundaries``) have their
  own modules; their files are Excel workbooks and GeoJSON/TopoJSON/GeoPackage.
* Investment: ``unit_code, year`` + ``features.schema.INVESTMENT_VARIABLES``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features import schema
from features.tables import (
    Parsed,
    check_unique,
    checked_column,
    decode,
    first_present,
    line_of,
    mapped_frame,
    mapped_names,
    numeric_column,
    read_table,
    shown_header,
    unit_codes,
    unknown_headers,
    year_column,
)
from wijkradar.errors import InputError
from wijkradar.sourceconfig import ColumnMap

# The table building blocks live in ``features.tables``; callers import them from here too.
__all__ = [
    "CROSSWALK_COLUMNS",
    "Parsed",
    "cbs_column",
    "check_unique",
    "checked_column",
    "decode",
    "first_present",
    "line_of",
    "mapped_frame",
    "mapped_names",
    "numeric_column",
    "parse_cbs_kwb_csv",
    "parse_crosswalk",
    "parse_investment_csv",
    "parse_lbm3_scores",
    "read_cbs_kwb_csv",
    "read_investment_csv",
    "read_lbm3_scores",
    "read_table",
    "shown_header",
    "unit_codes",
    "unknown_headers",
    "year_column",
]


def cbs_column(
    header: str, columns: Sequence[ColumnMap]
) -> tuple[str, schema.Check] | None:
    """The panel name and checks of a CBS header: mapped (``columns``, first), else built in
    (``schema.CBS_BY_HEADER``), else None. A mapping onto a built-in name keeps its bounds."""
    mapped = next((c for c in columns if c.source == header), None)
    if mapped is not None:
        builtin = schema.CBS_BY_NAME.get(mapped.name) or schema.CBS_PC4_BY_NAME.get(mapped.name)
        return mapped.name, schema.check_of(mapped.kind, builtin)
    var = schema.CBS_BY_HEADER.get(header)
    if var is None:
        return None
    return var.name, schema.Check(var.minimum, var.maximum)


def parse_cbs_kwb_csv(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> pd.DataFrame:
    """A StatLine CSV export of Kerncijfers wijken en buurten (one or more periods)."""
    return read_cbs_kwb_csv(text, file, columns).frame


def read_cbs_kwb_csv(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> Parsed:
    """``parse_cbs_kwb_csv`` with the headers it ignored. ``columns`` maps further headers
    (or renames built-in ones); every kept cell is checked by its variable's bounds."""
    raw = read_table(text, file, sep=";")
    code_col = first_present(raw, schema.CBS_CODE_HEADERS, file, "region code")
    period_col = first_present(raw, schema.CBS_PERIOD_HEADERS, file, "period")
    name_col = next((c for c in schema.CBS_NAME_HEADERS if c in raw.columns), None)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=file)
    out = unit_codes(raw[code_col], file, code_col, ("gemeente", "wijk", "buurt"))
    out["unit_name"] = raw[name_col].str.strip() if name_col else out["unit_code"]
    out["year"] = year_column(raw[period_col], file, period_col)
    ids = {code_col, period_col, name_col, *schema.CBS_DESCRIPTIVE_HEADERS}
    ignored, held_by = [], {}
    for header in raw.columns:
        found = cbs_column(header, columns) if header not in ids else None
        if found is None:
            ignored += [shown_header(raw, header)] if header not in ids else []
            continue
        name, check = found
        if name in held_by:
            raise InputError(
                f"two columns hold {name!r} ({held_by[name]!r} and {header!r})",
                file=file, column=header,
            )
        held_by[name] = header
        out[name] = checked_column(raw[header], check, file=file, column=header, cbs_symbols=True)
    for var in schema.CBS_VARIABLES:
        if var.name not in out.columns:
            out[var.name] = np.nan
    check_unique(out, ["unit_code", "year"], file, code_col)
    extra = [n for n in mapped_names(columns, schema.CBS_BY_NAME) if n in out.columns]
    order = ["unit_code", "unit_name", "level", "year", *(v.name for v in schema.CBS_VARIABLES)]
    return Parsed(out[[*order, *extra]].reset_index(drop=True), tuple(ignored))


def parse_lbm3_scores(text: str, file: str) -> pd.DataFrame:
    """A Leefbarometer 3.0 score file (``read_lbm3_scores``) without mapped columns."""
    return read_lbm3_scores(text, file).frame


def read_lbm3_scores(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> Parsed:
    """A Leefbarometer 3.0 score file at gemeente, wijk or buurt level (``gm_code``,
    ``wk_code`` or ``bu_code`` with its name column), or the national PC4 long form (``PC4``;
    the unit name is the code). ``NA`` is a missing value, as an empty cell is. Mapped
    columns (``columns``) are left in the frame after the scores."""
    raw = read_table(text, file, sep=",")
    code_col = first_present(raw, tuple(schema.LBM_CODE_COLUMNS), file, "unit code")
    missing = [c for c in ("jaar", "lbm") if c not in raw.columns]
    if missing:
        raise InputError(f"required column(s) {', '.join(missing)} missing", file=file)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=file)
    out = unit_codes(raw[code_col], file, code_col, (schema.LBM_CODE_COLUMNS[code_col],))
    name_col = next((c for c in schema.LBM_NAME_COLUMNS if c in raw.columns), None)
    out["unit_name"] = raw[name_col].str.strip() if name_col else out["unit_code"]
    out["year"] = year_column(raw["jaar"], file, "jaar")
    for col in schema.LBM_SCORE_COLUMNS:
        if col in raw.columns:
            cells = raw[col].where(~raw[col].str.strip().isin(schema.LBM_MISSING), "")
            out[col] = numeric_column(cells, file=file, column=col)
        else:
            out[col] = np.nan
    if out["lbm"].isna().any():
        pos = int(np.flatnonzero(out["lbm"].isna().to_numpy())[0])
        raise InputError(
            "the total score is missing", file=file, column="lbm", row=line_of(out, pos)
        )
    check_unique(out, ["unit_code", "year"], file, code_col)
    out = mapped_frame(raw, out, columns, file)
    order = ["unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS]
    # An empty first header is R's column of row names (write.csv): no value.
    known = [code_col, "jaar", name_col or "", *schema.LBM_SCORE_COLUMNS, "Unnamed: 0"]
    extra = [c.name for c in columns if c.name in out.columns]
    return Parsed(out[[*order, *extra]].reset_index(drop=True),
                  unknown_headers(raw, known, columns))


def parse_investment_csv(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> pd.DataFrame:
    """The investment schema (``read_investment_csv``)."""
    return read_investment_csv(text, file, columns).frame


def read_investment_csv(text: str, file: str, columns: Sequence[ColumnMap] = ()) -> Parsed:
    """The investment schema: ``unit_code, year`` and the columns in INVESTMENT_VARIABLES,
    then the mapped ``columns``."""
    raw = read_table(text, file, sep=",")
    required = ["unit_code", "year", *schema.INVESTMENT_BY_NAME]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(f"required column(s) {', '.join(missing)} missing", file=file)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=file)
    out = unit_codes(raw["unit_code"], file, "unit_code", None)[["unit_code"]]
    out["year"] = year_column(raw["year"], file, "year")
    for var in schema.INVESTMENT_VARIABLES:
        out[var.name] = numeric_column(
            raw[var.name], file=file, column=var.name, minimum=0.0, maximum=var.maximum
        )
    check_unique(out, ["unit_code", "year"], file, "unit_code")
    out = mapped_frame(raw, out, columns, file)
    return Parsed(out.reset_index(drop=True), unknown_headers(raw, required, columns))


CROSSWALK_COLUMNS = ("old_code", "new_code", "year", "weight")


def parse_crosswalk(text: str, file: str) -> pd.DataFrame:
    """Code changes: from ``year`` on, ``weight`` of ``old_code``'s area belongs to
    ``new_code`` (1 for a recode or a merger; the weights of a split add up to 1)."""
    raw = read_table(text, file, sep=",")
    missing = [c for c in CROSSWALK_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"required column(s) {', '.join(missing)} missing", file=file)
    if raw.empty:  # a header alone: no code changes
        return pd.DataFrame(
            {
                "old_code": pd.Series(dtype=object),
                "new_code": pd.Series(dtype=object),
                "year": pd.Series(dtype="int64"),
                "weight": pd.Series(dtype="float64"),
            }
        )
    out = pd.DataFrame(
        {
            "old_code": unit_codes(raw["old_code"], file, "old_code", None)["unit_code"],
            "new_code": unit_codes(raw["new_code"], file, "new_code", None)["unit_code"],
            "year": year_column(raw["year"], file, "year"),
            "weight": numeric_column(raw["weight"], file=file, column="weight", maximum=1.0),
        }
    )
    bad = ~(out["weight"] > 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("weight must be > 0", file=file, column="weight", row=line_of(out, pos))
    check_unique(out, ["old_code", "new_code", "year"], file, "old_code")
    return out.reset_index(drop=True)

"""Readers: source files to validated long DataFrames.

This is the edge where files enter. ``parse_*`` functions are pure (text in, DataFrame out)
and take the file's name only to say where a problem is; ``features.sources.read_sources`` is
the one place that opens files. ``read_table``, ``numeric_column``, ``unit_codes``,
``first_present`` and ``check_unique`` are the building blocks the other readers
(``features.odata``, ``features.lbm2``, ``features.namelist``) share. Every rejection is an
``InputError`` that names the file, the column and the row (the line number in the file,
header = line 1) or the unit code.

Output forms:

* CBS: ``unit_code, unit_name, level, year`` + one column per stable variable name
  (``features.schema.CBS_VARIABLES``; NaN where the file lacks the variable).
* Leefbarometer: ``unit_code, unit_name, level, year, lbm, afw, fys, onv, soc, vrz, won``.
* CBS per postcode (``features.cbs_pc4``) and boundaries (``features.boundaries``) have their
  own modules; their files are Excel workbooks and GeoJSON/TopoJSON/GeoPackage.
* Investment: ``unit_code, year`` + ``features.schema.INVESTMENT_VARIABLES``.
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


def _year_column(cells: pd.Series, file: str, column: str) -> pd.Series:
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


def mapped_names(columns: Sequence[ColumnMap], builtin: Iterable[str]) -> list[str]:
    """The names of ``columns`` that are no built-in variable, in config order."""
    known = set(builtin)
    return [c.name for c in columns if c.name not in known]


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
    out["year"] = _year_column(raw[period_col], file, period_col)
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
    out["year"] = _year_column(raw["jaar"], file, "jaar")
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
    out["year"] = _year_column(raw["year"], file, "year")
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
            "year": _year_column(raw["year"], file, "year"),
            "weight": numeric_column(raw["weight"], file=file, column="weight", maximum=1.0),
        }
    )
    bad = ~(out["weight"] > 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("weight must be > 0", file=file, column="weight", row=line_of(out, pos))
    check_unique(out, ["old_code", "new_code", "year"], file, "old_code")
    return out.reset_index(drop=True)

"""Tables for spreadsheets: the one CSV and Excel writer of the page's downloads and the
per-gemeente exports (``serving.exports``).

A frame comes in with its own column names (``unit_code``, ``risk``, a feature name, ...);
``export_headers`` names them in Dutch or English (``COLUMNS_NL`` / ``COLUMNS_EN``; a feature
by its label and unit), and each column's kind says how it is written:

* CSV (``csv_bytes``): in Dutch ';'-separated with a decimal comma, in English ','-separated;
  UTF-8 with a BOM, CRLF; a share (risk) in percent ('41,235' under 'Risico (%)'); yes/no as
  'ja'/'nee'. A Dutch spreadsheet opens it as numbers.
* Excel (``xlsx_bytes`` / ``write_xlsx``, xlsxwriter: in memory up to ``IN_MEMORY_ROWS`` rows,
  several times faster per file than through temporary files; in constant-memory mode above,
  row by row; each column converted once, ``column_cells``): numbers are
  numbers with a number format (a share '0.0%', a count '#,##0', a ratio '0.0"×"'), text is
  text (never a formula), missing values are empty; a bold frozen header with an auto filter,
  and notes on a second sheet "Toelichting".
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from features.describe import Extra, feature_label, term_of, unit_text
from features.vocabulary import parse
from models.explain import SHAP_PREFIX
from serving.formatting import Lang, check_lang

NOTES_SHEET = {"nl": "Toelichting", "en": "Notes"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 90
_WIDTH_SAMPLE = 2_000  # rows a column's width is fitted to
IN_MEMORY_ROWS = 20_000  # sheets up to this many rows are built in memory
FORMATS = {  # Excel number formats by kind (Dutch Excel shows '12,3%', '1.250')
    "percent": "0.0%",
    "count": "#,##0",
    "integer": "0",
    "number": "#,##0.00",
    "ratio": '0.0"×"',
}


@dataclass(frozen=True)
class Column:
    """A known export column: its Dutch and English header and its kind (text, integer,
    count, percent (a share 0..1), number, ratio, flag)."""

    nl: str
    en: str
    kind: str


COLUMNS: dict[str, Column] = {
    "unit_code": Column("Wijkcode", "Unit code", "text"),
    "unit_name": Column("Naam", "Name", "text"),
    "level": Column("Niveau", "Level", "text"),
    "gemeente_code": Column("Gemeentecode", "Gemeente code", "text"),
    "gemeente_name": Column("Gemeente", "Gemeente", "text"),
    "as_of_year": Column("Peiljaar", "As-of year", "integer"),
    "risk": Column("Risico (%)", "Risk (%)", "percent"),
    "band": Column("Risicoband", "Risk band", "text"),
    "relative_risk": Column(
        "Risico t.o.v. landelijk gemiddelde", "Risk relative to the national average", "ratio"
    ),
    "base_rate": Column("Landelijk gemiddelde risico (%)", "National average risk (%)",
                        "percent"),
    "margin": Column("Log-odds", "Log-odds", "number"),
    "rank": Column("Rang", "Rank", "count"),
    "rank_in_gemeente": Column("Rang in gemeente", "Rank in gemeente", "count"),
    "rank_change": Column("Verandering in rang", "Change in rank", "count"),
    "new_in_top": Column("Nieuw in landelijke top 10%", "New in the national top 10%", "flag"),
    "new_in_top10": Column("Nieuw in landelijke top 10%", "New in the national top 10%",
                           "flag"),
    "top_drivers": Column("Belangrijkste factoren", "Top drivers", "text"),
    "missing_share": Column("Ontbrekende kenmerken (%)", "Missing features (%)", "percent"),
    "flag_missing": Column("Veel ontbrekende kenmerken", "Many missing features", "flag"),
    "feature": Column("Kenmerk", "Feature", "text"),
    "value": Column("Waarde", "Value", "number"),
    "contribution": Column("Bijdrage (log-odds)", "Contribution (log-odds)", "number"),
    "contribution_rank": Column("Volgorde", "Order", "integer"),
    "domain": Column("Beleidsdomein", "Policy domain", "text"),
    "knowledge_date": Column("Gegevens bekend op", "Data known on", "text"),
}
COLUMNS_NL: dict[str, str] = {k: c.nl for k, c in COLUMNS.items()}
COLUMNS_EN: dict[str, str] = {k: c.en for k, c in COLUMNS.items()}
_FLAG = {"nl": ("ja", "nee"), "en": ("yes", "no")}


def context_header(feature: str, lang: Lang = "nl", extra: Extra | None = None) -> str:
    """A feature's header: its label and unit, 'gemiddelde WOZ-waarde (duizend euro)'."""
    return f"{feature_label(feature, lang, extra)} ({unit_text(feature, lang, extra)})"


def _is_feature(name: str, extra: Extra | None) -> bool:
    return term_of(parse(name).base, extra) is not None


def _header(column: str, lang: Lang, extra: Extra | None) -> str:
    if column in COLUMNS:
        known = COLUMNS[column]
        return known.nl if lang == "nl" else known.en
    if column.startswith(SHAP_PREFIX) and _is_feature(column[len(SHAP_PREFIX):], extra):
        word = "Bijdrage" if lang == "nl" else "Contribution"
        return f"{word}: {feature_label(column[len(SHAP_PREFIX):], lang, extra)}"
    return context_header(column, lang, extra) if _is_feature(column, extra) else column


def export_headers(
    columns: Sequence[str], lang: Lang = "nl", extra: Extra | None = None
) -> list[str]:
    """The headers of ``columns`` in ``lang``: known columns by ``COLUMNS``, features (declared,
    or the panel's mapped columns in ``extra``) by label and unit, others as they are. A
    header two columns share gets the column's name added."""
    lang = check_lang(lang)
    headers = [_header(str(c), lang, extra) for c in columns]
    return [
        f"{h} [{c}]" if headers.count(h) > 1 else h for h, c in zip(headers, columns, strict=True)
    ]


def kind_of(column: str, series: pd.Series) -> str:
    """How a column is written: its declared kind, else 'flag' for booleans, 'number' for
    numbers (features included), 'text' for anything else."""
    if column in COLUMNS:
        return COLUMNS[column].kind
    if pd.api.types.is_bool_dtype(series):
        return "flag"
    if pd.api.types.is_numeric_dtype(series):
        return "count" if pd.api.types.is_integer_dtype(series) else "number"
    return "text"


def _flag_word(value: object, lang: Lang) -> str | None:
    """A yes/no value in words ('ja'/'nee'); text stays as it is; missing is None."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return _FLAG[lang][0] if bool(value) else _FLAG[lang][1]


def _flags(series: pd.Series, lang: Lang) -> pd.Series:
    return series.map(lambda v: _flag_word(v, lang)).astype("string")


def csv_frame(
    frame: pd.DataFrame, lang: Lang = "nl", headers: Sequence[str] | None = None,
    extra: Extra | None = None,
) -> pd.DataFrame:
    """What the CSV holds: headers in ``lang`` (``export_headers`` with ``extra``; ``headers``
    instead when given), shares in percent, flags in words."""
    lang = check_lang(lang)
    out = {}
    for column, series in frame.items():
        kind = kind_of(str(column), series)
        if kind == "percent":
            series = 100.0 * pd.to_numeric(series, errors="coerce").astype("float64")
        elif kind == "flag":
            series = _flags(series, lang)
        out[column] = series
    table = pd.DataFrame(out, index=frame.index)
    names = [str(c) for c in frame.columns]
    table.columns = list(headers) if headers is not None else export_headers(names, lang, extra)
    return table.reset_index(drop=True)


def csv_bytes(
    frame: pd.DataFrame, lang: Lang = "nl", *, headers: Sequence[str] | None = None,
    extra: Extra | None = None,
) -> bytes:
    """The frame as a CSV file for a spreadsheet in ``lang``: Dutch ';' and a decimal comma,
    English ',' and a decimal point; UTF-8 with a BOM; CRLF; floats to 3 decimals. ``headers``
    replace the generated ones (``export_headers`` with ``extra``) when given."""
    lang = check_lang(lang)
    table = csv_frame(frame, lang, headers, extra)
    text = table.to_csv(
        sep=";" if lang == "nl" else ",",
        decimal="," if lang == "nl" else ".",
        index=False,
        lineterminator="\r\n",
        float_format="%.3f",
    )
    return text.encode("utf-8-sig")


# --- Excel ----------------------------------------------------------------------------------


def sheet_title(sheet: str) -> str:
    """A sheet name Excel accepts: forbidden characters become '_', cut to 31."""
    title = _SHEET_FORBIDDEN.sub("_", sheet)[:31]
    if not title:
        raise ValueError(f"A sheet needs a name of 1-31 characters. Got {sheet!r} instead.")
    return title


def _width(header: str, column: pd.Series) -> float:
    sample = column.iloc[:_WIDTH_SAMPLE]
    longest = max([len(header), *(len(str(v)) for v in sample[sample.notna()].tolist())])
    return min(longest + 2, _MAX_WIDTH)


def _number(value: object) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


NUMBER, TEXT, MIXED = "number", "text", "mixed"  # how a column's cells are written


@dataclass(frozen=True)
class Cells:
    """A column's cells as Python values (None: an empty cell) and how they are written:
    NUMBER (with ``fmt``), TEXT, or MIXED (text as text, numbers as numbers)."""

    values: list[object]
    how: str
    fmt: Any = None


def _is_numbers(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _numbers(series: pd.Series) -> list[object]:
    """Finite numbers as floats, anything else None; by column where its dtype allows."""
    if not _is_numbers(series):
        return [_number(v) for v in series.tolist()]
    floats = series.to_numpy(dtype="float64", na_value=np.nan)
    cells = floats.astype(object)
    cells[~np.isfinite(floats)] = None
    return cells.tolist()


def _texts(series: pd.Series, convert: Callable[[object], object]) -> tuple[list[object], str]:
    """A text column's cells: strings as they are (missing: None) for a string column, else
    each value through ``convert`` (MIXED)."""
    if isinstance(series.dtype, pd.StringDtype):
        cells = series.to_numpy(dtype=object, na_value=None)
        return cells.tolist(), TEXT
    return [convert(v) for v in series.tolist()], MIXED


def _flag_cells(series: pd.Series, lang: Lang) -> list[object]:
    if pd.api.types.is_bool_dtype(series):
        yes, no = _FLAG[lang]
        flags = series.to_numpy(dtype=object, na_value=None)
        return [None if v is None else (yes if v else no) for v in flags.tolist()]
    return [_flag_word(v, lang) for v in series.tolist()]


def column_cells(
    series: pd.Series, kind: str, lang: Lang, formats: Mapping[str, Any]
) -> Cells:
    """How a column of ``kind`` (``kind_of``) is written: numbers with their kind's number
    format (``formats``: kind -> workbook format), yes/no as words, text as text, never a
    formula; missing and non-finite values as empty cells."""
    if kind in FORMATS:
        return Cells(_numbers(series), NUMBER, formats[kind])
    if kind == "flag":
        return Cells(_flag_cells(series, lang), MIXED)
    values, how = _texts(series, _text_or_number)
    return Cells(values, how)


def _text_or_number(value: object) -> object:
    if isinstance(value, str) or _number(value) is not None:
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None  # NaN, inf
    return str(value)


def _write_cells(ws: Any, columns: Sequence[Cells], n_rows: int) -> None:
    """Row after row (constant-memory mode needs that order), cell after cell."""
    number, string = ws.write_number, ws.write_string
    for i in range(n_rows):
        row = i + 1
        for j, cells in enumerate(columns):
            value = cells.values[i]
            if value is None:
                continue
            if cells.how == NUMBER:
                number(row, j, value, cells.fmt)
            elif cells.how == TEXT or isinstance(value, str):
                string(row, j, value)  # '=SUM(...)' in a name is text, not a formula
            elif (shown := _number(value)) is not None:
                number(row, j, shown)


def write_xlsx(
    frame: pd.DataFrame,
    target: Path | BinaryIO,
    sheet: str,
    *,
    percent: Sequence[str] = (),
    notes: Sequence[str] = (),
    lang: Lang = "nl",
    headers: Sequence[str] | None = None,
) -> None:
    """Write ``frame`` as one Excel sheet named ``sheet`` to a path or a binary file. Columns
    are written by their kind (``kind_of``; the columns named in ``percent`` hold shares);
    ``headers`` default to the frame's column names. ``notes`` go one a row to a second
    sheet "Toelichting" ("Notes" in English)."""
    import xlsxwriter

    lang = check_lang(lang)
    title = sheet_title(sheet)
    names = [str(c) for c in frame.columns]
    unknown = [c for c in percent if c not in names]
    if unknown:
        raise ValueError(
            f"percent names columns of the frame ({', '.join(names)}). Got {unknown} instead."
        )
    shown = list(headers) if headers is not None else names
    output: Any = str(target) if isinstance(target, Path) else target
    book = xlsxwriter.Workbook(output, _book_options(len(frame)))
    try:
        ws = book.add_worksheet(title)
        series = [column for _, column in frame.items()]
        for j, header in enumerate(shown):
            ws.set_column(j, j, _width(header, series[j]))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(frame), max(len(shown), 1) - 1)
        bold = book.add_format({"bold": True})
        for j, header in enumerate(shown):
            ws.write_string(0, j, header, bold)
        formats = {kind: book.add_format({"num_format": f}) for kind, f in FORMATS.items()}
        columns = [
            column_cells(
                column, "percent" if name in percent else kind_of(name, column), lang, formats
            )
            for name, column in zip(names, series, strict=True)
        ]
        _write_cells(ws, columns, len(frame))
        if notes:
            _notes_sheet(book, notes, NOTES_SHEET[lang])
    finally:
        book.close()


def _book_options(rows: int) -> dict[str, bool]:
    """Small sheets are built in memory (no temporary files: several times faster per file);
    large ones row by row through a temporary file (constant memory)."""
    if rows <= IN_MEMORY_ROWS:
        return {"in_memory": True, "strings_to_formulas": False}
    return {"constant_memory": True, "strings_to_formulas": False}


def _notes_sheet(book: Any, notes: Sequence[str], name: str) -> None:
    sheet = book.add_worksheet(name)
    sheet.set_column(0, 0, min(max(len(n) for n in notes) + 2, 120))
    for i, line in enumerate(notes):
        sheet.write_string(i, 0, str(line))


def xlsx_bytes(
    frame: pd.DataFrame,
    notes: Sequence[str] = (),
    lang: Lang = "nl",
    *,
    sheet: str | None = None,
    extra: Extra | None = None,
) -> bytes:
    """The frame as an Excel file in ``lang``: headers by ``export_headers`` (with ``extra``),
    cells with number formats by kind, ``notes`` on a second sheet. ``sheet`` defaults to
    'Ranglijst' ('Ranking')."""
    lang = check_lang(lang)
    buffer = io.BytesIO()
    write_xlsx(
        frame,
        buffer,
        sheet or ("Ranglijst" if lang == "nl" else "Ranking"),
        notes=notes,
        lang=lang,
        headers=export_headers([str(c) for c in frame.columns], lang, extra),
    )
    return buffer.getvalue()

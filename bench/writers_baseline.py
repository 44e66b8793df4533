"""The run writers as they were before issue 14 (commit dd93a5c), kept callable as the
baseline of ``bench/writers.py``: the same files from the same inputs, the old way.

* ``write_run_files``: ranking.parquet and ranking.csv by pandas, the long explanations
  built whole (``explanations_long``) and written by pandas, the per-gemeente exports one
  after another with the drivers in words computed again, per cell through the old
  ``write_xlsx``;
* ``top_drivers``: the old per-row driver sentences of ``serving.ranking.build_ranking``.

Only this bench imports it; the helpers that did not change are imported from ``serving``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.explain import shap_column, shap_features, top_contributions
from serving.drivers import driver_sentence
from serving.exports import (
    TOP_FRAC,
    gemeente_headers,
    new_in_top,
    rank_change,
)
from serving.sheets import FORMATS, NOTES_SHEET, csv_bytes, kind_of, sheet_title
from wijkradar import catalog
from wijkradar.catalog import RunFolder
from wijkradar.errors import ConfigError

_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
_FLAG = ("ja", "nee")


def top_drivers(
    shap: np.ndarray, values: np.ndarray, features: Sequence[str], k: int = 3
) -> list[str]:
    return [
        "; ".join(driver_sentence(features[j], float(values[row, j]), "nl") for j in idx)
        for row, idx in enumerate(top_contributions(shap, k))
    ]


def _values_matrix(unit_codes: pd.Series, values: pd.DataFrame, features: Sequence[str]
                   ) -> np.ndarray:
    present = [f for f in features if f in values.columns]
    aligned = values.set_index("unit_code")[present].reindex(unit_codes.to_numpy())
    out = np.full((len(unit_codes), len(features)), np.nan)
    index = {f: j for j, f in enumerate(features)}
    cols = [index[f] for f in present]
    if cols:
        out[:, cols] = aligned.to_numpy(dtype="float64", na_value=np.nan)
    return out


def _context_columns(unit_codes: pd.Series, context: pd.DataFrame | None) -> pd.DataFrame:
    features = [c for c in context.columns if c != "unit_code"] if context is not None else []
    if context is None or not features:
        return pd.DataFrame(index=range(len(unit_codes)))
    matrix = _values_matrix(unit_codes, context, features)
    return pd.DataFrame(matrix, columns=features, dtype="float64")


def explanations_long(ranking: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    features = shap_features(list(ranking.columns))
    contrib = ranking[[shap_column(f) for f in features]].to_numpy(dtype="float64")
    n, p = len(ranking), len(features)
    codes = ranking["unit_code"]
    vals = _values_matrix(codes, values, features)
    order = np.asarray(
        top_contributions(contrib, p, positive_only=False), dtype=np.intp
    ).reshape(n, p)
    rank_dtype = np.int16 if p < 2**15 else np.int32
    return pd.DataFrame(
        {
            "unit_code": pd.Categorical.from_codes(
                np.repeat(np.arange(n, dtype=np.int32), p), categories=pd.Index(codes)
            ),
            "feature": pd.Categorical.from_codes(order.ravel(), categories=pd.Index(features)),
            "value": np.take_along_axis(vals, order, axis=1).ravel(),
            "contribution": np.take_along_axis(contrib, order, axis=1).ravel(),
            "rank": np.tile(np.arange(1, p + 1, dtype=rank_dtype), n),
        }
    )


def driver_phrases(ranking: pd.DataFrame, values: pd.DataFrame, k: int = 3) -> list[str]:
    features = shap_features(list(ranking.columns))
    contrib = ranking[[shap_column(f) for f in features]].to_numpy(dtype="float64")
    vals = _values_matrix(ranking["unit_code"], values, features)
    return [
        "; ".join(driver_sentence(features[j], float(vals[i, j]), "nl") for j in top)
        for i, top in enumerate(top_contributions(contrib, k, positive_only=True))
    ]


def gemeente_rows(ranking: pd.DataFrame, values: pd.DataFrame, previous: pd.DataFrame | None,
                  context: pd.DataFrame | None = None) -> pd.DataFrame:
    ranking = ranking.sort_values("rank", kind="stable")
    new = new_in_top(ranking, previous, TOP_FRAC).astype("boolean")
    if previous is None:
        new[:] = pd.NA
    table = pd.DataFrame(
        {
            "unit_code": ranking["unit_code"].astype("string"),
            "unit_name": ranking["unit_name"].astype("string"),
            "gemeente_code": ranking["gemeente_code"].astype("string"),
            "gemeente_name": ranking["gemeente_name"].astype("string"),
            "as_of_year": ranking["as_of_year"].astype("int64"),
            "risk": ranking["risk"].astype("float64"),
            "rank": ranking["rank"].astype("int64"),
            "rank_in_gemeente": ranking["rank_in_gemeente"].astype("int64"),
            "rank_change": rank_change(ranking, previous).round().astype("Int64"),
            "new_in_top": new,
            "top_drivers": driver_phrases(ranking, values),
        }
    ).reset_index(drop=True)
    return pd.concat([table, _context_columns(ranking["unit_code"], context)], axis=1)


# --- the old Excel writer: one generic call per cell ---------------------------------------

Writer = Callable[[Any, int, int, object], None]


def _flag_word(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return _FLAG[0] if bool(value) else _FLAG[1]


def _width(header: str, column: pd.Series) -> float:
    sample = column.iloc[:2_000].dropna()
    return min(max([len(header), *(len(str(v)) for v in sample)]) + 2, 90)


def _notes_sheet(book: Any, notes: Sequence[str], name: str) -> None:
    sheet = book.add_worksheet(name)
    sheet.set_column(0, 0, min(max(len(n) for n in notes) + 2, 120))
    for i, line in enumerate(notes):
        sheet.write_string(i, 0, str(line))


def _number(value: object) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text_or_number(value: object) -> object:
    if isinstance(value, str) or _number(value) is not None:
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None
    return str(value)


def _number_writer(fmt: Any) -> Writer:
    def write(ws: Any, row: int, col: int, value: object) -> None:
        number = _number(value)
        if number is not None:
            ws.write_number(row, col, number, fmt)

    return write


def _text_writer(convert: Callable[[object], object]) -> Writer:
    def write(ws: Any, row: int, col: int, value: object) -> None:
        shown = convert(value)
        if isinstance(shown, str):
            ws.write_string(row, col, shown)
        elif shown is not None and _number(shown) is not None:
            ws.write_number(row, col, _number(shown))

    return write


def _writers(frame: pd.DataFrame, book: Any) -> list[Writer]:
    writers: list[Writer] = []
    for column in frame.columns:
        kind = kind_of(str(column), frame[column])
        if kind in FORMATS:
            writers.append(_number_writer(book.add_format({"num_format": FORMATS[kind]})))
        elif kind == "flag":
            writers.append(_text_writer(_flag_word))
        else:
            writers.append(_text_writer(_text_or_number))
    return writers


def write_xlsx(frame: pd.DataFrame, target: Path, sheet: str, *, notes: Sequence[str] = (),
               headers: Sequence[str]) -> None:
    import xlsxwriter

    shown = list(headers)
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True,
                                             "strings_to_formulas": False})
    try:
        ws = book.add_worksheet(sheet_title(sheet))
        for j, header in enumerate(shown):
            ws.set_column(j, j, _width(header, frame.iloc[:, j]))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(frame), max(len(shown), 1) - 1)
        bold = book.add_format({"bold": True})
        for j, header in enumerate(shown):
            ws.write_string(0, j, header, bold)
        writers = _writers(frame, book)
        for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            for j, value in enumerate(row):
                writers[j](ws, i, j, value)
        if notes:
            _notes_sheet(book, notes, NOTES_SHEET["nl"])
    finally:
        book.close()


def write_gemeente_exports(ranking: pd.DataFrame, values: pd.DataFrame,
                           previous: pd.DataFrame | None, out: Path,
                           gemeenten: Sequence[str] | None = None,
                           context: pd.DataFrame | None = None,
                           notes: Sequence[str] = ()) -> list[Path]:
    rows = gemeente_rows(ranking, values, previous, context=context)
    present = set(rows["gemeente_code"].dropna())
    wanted = sorted(present) if gemeenten is None else list(dict.fromkeys(gemeenten))
    if [g for g in wanted if g not in present]:
        raise ConfigError("unknown gemeente")
    if [g for g in wanted if not _SAFE_CODE.match(g)]:
        raise ValueError("bad gemeente code")
    out.mkdir(parents=True, exist_ok=True)
    headers = gemeente_headers([str(c) for c in rows.columns])
    written: list[Path] = []
    groups = {
        code: part for code, part in rows.groupby("gemeente_code", sort=False) if code in wanted
    }
    for code in wanted:
        part = groups[code].reset_index(drop=True)
        csv_path, xlsx_path = out / f"{code}.csv", out / f"{code}.xlsx"
        csv_path.write_bytes(csv_bytes(part, "nl", headers=headers))
        write_xlsx(part, xlsx_path, code, notes=notes, headers=headers)
        written += [csv_path, xlsx_path]
    return written


def write_run_files(staged: RunFolder, ranking: pd.DataFrame, values: pd.DataFrame,
                    drift: pd.DataFrame, previous: pd.DataFrame | None,
                    context: pd.DataFrame | None, notes: Sequence[str]) -> None:
    """The old ``serving.writers.write_run_files`` (its ``RunContent`` spelled out)."""
    ranking.to_parquet(staged.ranking, index=False)
    ranking.to_csv(staged.ranking_csv, index=False)
    explanations_long(ranking, values).to_parquet(staged.explanations, index=False)
    catalog.write_json({"features": drift.to_dict("records")}, staged.drift)
    write_gemeente_exports(ranking, values, previous, staged.gemeenten, None,
                           context=context, notes=list(notes))

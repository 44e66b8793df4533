"""Exports of a scoring run for analysts: rank changes, a long table of explanations, and one
CSV and one Excel file per gemeente with Dutch headers and drivers in Dutch words.

The functions building tables are pure; the writers take the folder to write into (a staging
folder of the run, say) and return the paths they wrote.

Inputs: ``ranking`` is the published ranking (``serving.ranking``: ids, risk, rank,
rank_in_gemeente, ``shap__<feature>`` and ``shap__base``), in any row order; ``values`` holds
``unit_code`` and the feature values the model saw; ``previous`` is the ranking of the
previous run (only ``unit_code`` and ``rank`` are used), or None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from serving.dutch import COLUMNS_NL, driver_phrase_nl, format_nl
from wijkradar.errors import ConfigError

SHAP_PREFIX = "shap__"
BASE_COLUMN = "shap__base"
N_DRIVERS = 3
TOP_FRAC = 0.1
RISK_NL = COLUMNS_NL["risk"]
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_WIDTH = 90


def shap_features(ranking: pd.DataFrame) -> list[str]:
    """The features of the ranking's ``shap__<feature>`` columns, in column order."""
    return [
        c[len(SHAP_PREFIX) :]
        for c in ranking.columns
        if c.startswith(SHAP_PREFIX) and c != BASE_COLUMN
    ]


def _previous_rank(ranking: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    if previous is None:
        return pd.Series(np.nan, index=ranking.index, dtype="float64")
    if previous["unit_code"].duplicated().any():
        raise ValueError("The previous ranking holds a unit_code more than once.")
    before = previous.set_index("unit_code")["rank"].astype("float64")
    return ranking["unit_code"].map(before).astype("float64")


def rank_change(ranking: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Previous national rank minus current rank (positive: rose in risk); NaN for units
    that are new since the previous run, or everywhere without a previous run."""
    change = _previous_rank(ranking, previous) - ranking["rank"].astype("float64")
    return change.rename("rank_change")


def _top_count(n: int, frac: float) -> int:
    return math.ceil(frac * n) if n else 0


def new_in_top(
    ranking: pd.DataFrame, previous: pd.DataFrame | None, frac: float = TOP_FRAC
) -> pd.Series:
    """True where a unit is in the national top ``frac`` (the ceil(frac * n) highest risks)
    now but was not in the previous run's (including units new since then). All False
    without a previous run: nothing is new when there is nothing to compare with."""
    if previous is None:
        return pd.Series(False, index=ranking.index, name="new_in_top")
    now = ranking["rank"] <= _top_count(len(ranking), frac)
    before = _previous_rank(ranking, previous) <= _top_count(len(previous), frac)
    return (now & ~before).rename("new_in_top")


def _values_matrix(
    unit_codes: pd.Series, values: pd.DataFrame, features: Sequence[str]
) -> np.ndarray:
    """Feature values aligned to ``unit_codes`` (float64; NaN where unknown)."""
    if values["unit_code"].duplicated().any():
        raise ValueError("values holds a unit_code more than once.")
    present = [f for f in features if f in values.columns]
    aligned = values.set_index("unit_code")[present].reindex(unit_codes.to_numpy())
    out = np.full((len(unit_codes), len(features)), np.nan)
    index = {f: j for j, f in enumerate(features)}
    cols = [index[f] for f in present]
    if cols:
        out[:, cols] = aligned.to_numpy(dtype="float64", na_value=np.nan)
    return out


def explanations_long(ranking: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, feature): unit_code, feature, value, contribution, rank, where
    rank 1 is the largest (most risk-raising) contribution within the unit. Rows follow
    the ranking's order and, within a unit, the rank. unit_code and feature are
    categoricals, so 14,500 units x 100 features take about 30 MB."""
    features = shap_features(ranking)
    n, p = len(ranking), len(features)
    codes = ranking["unit_code"]
    if codes.duplicated().any():
        raise ValueError("The ranking holds a unit_code more than once.")
    contrib = ranking[[SHAP_PREFIX + f for f in features]].to_numpy(dtype="float64")
    vals = _values_matrix(codes, values, features)
    order = np.argsort(-contrib, axis=1, kind="stable")
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


def driver_phrases(ranking: pd.DataFrame, values: pd.DataFrame, k: int = N_DRIVERS) -> list[str]:
    """Per unit, its k largest positive contributions as Dutch phrases joined by '; '."""
    features = shap_features(ranking)
    contrib = ranking[[SHAP_PREFIX + f for f in features]].to_numpy(dtype="float64")
    vals = _values_matrix(ranking["unit_code"], values, features)
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    top_contrib = np.take_along_axis(contrib, top, axis=1)
    top_vals = np.take_along_axis(vals, top, axis=1)
    return [
        "; ".join(
            driver_phrase_nl(features[j], float(v))
            for j, c, v in zip(idx, cs, vs, strict=True)
            if c > 0
        )
        for idx, cs, vs in zip(top, top_contrib, top_vals, strict=True)
    ]


def new_in_top_header(frac: float = TOP_FRAC) -> str:
    return f"Nieuw in landelijke top {format_nl(100 * frac)}%"


def gemeente_table(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    top_frac: float = TOP_FRAC,
) -> pd.DataFrame:
    """The rows of the per-gemeente exports, Dutch headers, in national rank order: code,
    name, gemeente, year, risk in percent, national rank and rank in gemeente, change in
    rank (empty for new units), new in the national top, and the top 3 drivers in Dutch.
    Units without a gemeente (PC4) are included; the writer leaves them out."""
    ranking = ranking.sort_values("rank", kind="stable")
    new = new_in_top(ranking, previous, top_frac)
    flag = new.map({True: "ja", False: "nee"}).astype("string")
    if previous is None:
        flag[:] = pd.NA
    return pd.DataFrame(
        {
            COLUMNS_NL["unit_code"]: ranking["unit_code"].astype("string"),
            COLUMNS_NL["unit_name"]: ranking["unit_name"].astype("string"),
            COLUMNS_NL["gemeente_code"]: ranking["gemeente_code"].astype("string"),
            COLUMNS_NL["gemeente_name"]: ranking["gemeente_name"].astype("string"),
            COLUMNS_NL["as_of_year"]: ranking["as_of_year"].astype("int64"),
            RISK_NL: 100.0 * ranking["risk"].astype("float64"),
            COLUMNS_NL["rank"]: ranking["rank"].astype("int64"),
            COLUMNS_NL["rank_in_gemeente"]: ranking["rank_in_gemeente"].astype("int64"),
            COLUMNS_NL["rank_change"]: rank_change(ranking, previous).round().astype("Int64"),
            new_in_top_header(top_frac): flag,
            COLUMNS_NL["top_drivers"]: driver_phrases(ranking, values),
        }
    ).reset_index(drop=True)


# --- writers -------------------------------------------------------------------------------


def write_csv_nl(table: pd.DataFrame, path: Path) -> None:
    """What Dutch Excel opens: ';'-separated, UTF-8 with BOM, decimal comma, CRLF."""
    table.to_csv(
        path,
        sep=";",
        decimal=",",
        index=False,
        encoding="utf-8-sig",
        lineterminator="\r\n",
        float_format="%.3f",
    )


def _cell(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_xlsx_nl(table: pd.DataFrame, path: Path, title: str) -> None:
    """One sheet: bold frozen header, auto filter, fitted widths; the risk stays a number
    (a fraction shown with a percentage format)."""
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "Risico"
    headers = list(table.columns)
    ws.append(headers)
    risk_col = headers.index(RISK_NL) if RISK_NL in headers else -1
    for row in table.itertuples(index=False, name=None):
        cells = [_cell(v) for v in row]
        if risk_col >= 0 and cells[risk_col] is not None:
            cells[risk_col] = cells[risk_col] / 100.0
        ws.append(cells)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=False)
    if risk_col >= 0:
        for (cell,) in ws.iter_rows(min_row=2, min_col=risk_col + 1, max_col=risk_col + 1):
            cell.number_format = "0.0%"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for j, header in enumerate(headers, start=1):
        longest = max([len(str(header)), *(len(str(v)) for v in table[header].dropna())])
        ws.column_dimensions[get_column_letter(j)].width = min(longest + 2, _MAX_WIDTH)
    wb.save(path)


def write_gemeente_exports(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    folder: Path,
    gemeenten: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``folder/gemeenten/<code>.csv`` and ``.xlsx`` per gemeente (or only those in
    ``gemeenten``), each holding that gemeente's units in national rank order. Units without
    a gemeente go to no file. A listed gemeente the ranking does not hold is an error."""
    table = gemeente_table(ranking, values, previous)
    code_col = COLUMNS_NL["gemeente_code"]
    present = set(table[code_col].dropna())
    wanted = sorted(present) if gemeenten is None else list(dict.fromkeys(gemeenten))
    unknown = [g for g in wanted if g not in present]
    if unknown:
        known = ", ".join(sorted(present)[:5]) or "none"
        raise ConfigError(
            f"The ranking holds no units of gemeente {', '.join(map(repr, unknown))}. "
            f"Gemeente codes look like GM0363; this ranking has {len(present)} "
            f"(e.g. {known})."
        )
    bad = [g for g in wanted if not _SAFE_CODE.match(g)]
    if bad:
        raise ValueError(f"Gemeente codes unfit for a file name: {bad}")
    out = folder / "gemeenten"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    groups = {code: part for code, part in table.groupby(code_col, sort=False) if code in wanted}
    for code in wanted:
        part = groups[code].reset_index(drop=True)
        csv_path, xlsx_path = out / f"{code}.csv", out / f"{code}.xlsx"
        write_csv_nl(part, csv_path)
        write_xlsx_nl(part, xlsx_path, title=code)
        written += [csv_path, xlsx_path]
    return written

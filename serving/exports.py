"""Exports of a scoring run for analysts: rank changes, a long table of explanations, and one
CSV and one Excel file per gemeente with Dutch headers and drivers in Dutch words.

The functions building tables are pure; ``write_gemeente_exports`` takes the folder to write
into (a staging folder of the run, say) and returns the paths it wrote. ``write_xlsx`` is the
one Excel writer (the API's download uses it too). Contributions, their columns and each
unit's top drivers come from ``models.explain``; the drivers' Dutch words from
``serving.drivers``; "the top 10 %" is ``ml.metrics.top_count``.

Inputs: ``ranking`` is the published ranking (``serving.ranking``: ids, risk, rank,
rank_in_gemeente, ``shap__<feature>`` and ``shap__base``), in any row order; ``values`` holds
``unit_code`` and the feature values the model saw; ``previous`` is the ranking of the
previous run (only ``unit_code`` and ``rank`` are used), or None; ``context`` (optional) holds
``unit_code`` and the values of the panel's context features (``PanelMeta.context_features``:
sources that cover only recent years, which no model uses), appended after the other columns
under Dutch headers (``context_header``: label and unit).

What the scored rows knew (``Manifest.knowledge_date`` and ``Manifest.sources``) is told in
Dutch by ``knowledge_line_nl`` ("Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024,
CBS inkomen 2022"): on the Excel files' second sheet "Toelichting" (``knowledge_notes_nl``),
never in the CSV files, whose columns stay as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ml.metrics import top_count
from models.explain import shap_column, shap_features, top_contributions
from serving.drivers import driver_phrase_nl
from serving.dutch import COLUMNS_NL, feature_label_nl, format_nl, unit_nl
from wijkradar.calendar import MONTHS_NL
from wijkradar.errors import ConfigError
from wijkradar.records import SourceUse

N_DRIVERS = 3
TOP_FRAC = 0.1
RISK_NL = COLUMNS_NL["risk"]
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 90
NOTES_SHEET = "Toelichting"
SOURCES_NL = {  # the source labels of PanelMeta.knowledge in Dutch; others stay as they are
    "CBS income": "CBS inkomen",
    "CBS population": "CBS bevolking",
    "investment": "investeringen",
}


# --- what the scored rows knew, in Dutch ----------------------------------------------------


def date_nl(iso: str) -> str:
    """An ISO date in Dutch words: '2025-07-01' -> '1 juli 2025'."""
    year, month, day = (int(part) for part in iso[:10].split("-"))
    return f"{day} {MONTHS_NL[month - 1]} {year}"


def source_nl(source: str) -> str:
    return SOURCES_NL.get(source, source)


def knowledge_line_nl(knowledge_date: str | None, sources: Sequence[SourceUse]) -> str | None:
    """'Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2022'; None
    without a knowledge date (a panel built without a publication calendar)."""
    if knowledge_date is None:
        return None
    used = ", ".join(f"{source_nl(s.source)} {s.reference_year}" for s in sources)
    return f"Gegevens bekend op {date_nl(knowledge_date)}" + (f": {used}" if used else "")


def knowledge_notes_nl(knowledge_date: str | None, sources: Sequence[SourceUse]) -> list[str]:
    """The lines of the "Toelichting" sheet: the knowledge line, then per source its newest
    reference year and publication date. Empty without a knowledge date."""
    line = knowledge_line_nl(knowledge_date, sources)
    if line is None:
        return []
    return [line] + [
        f"{source_nl(s.source)}: peiljaar {s.reference_year}, "
        f"gepubliceerd op {date_nl(s.published)}"
        for s in sources
    ]


# --- context features in Dutch --------------------------------------------------------------


def context_header(feature: str) -> str:
    """The Dutch export header of a context feature: 'gemiddelde WOZ-waarde (duizend euro)'."""
    return f"{feature_label_nl(feature)} ({unit_nl(feature)})"


def context_values(rows: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """``unit_code`` and those of ``features`` that some row of ``rows`` (one as-of year of
    the panel) holds a value of, in the order given: the ``context`` of the exports."""
    present = [f for f in features if f in rows.columns and rows[f].notna().any()]
    return rows[["unit_code", *present]].reset_index(drop=True)


def _contributions(ranking: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The ranking's features (from its ``shap__<feature>`` columns) and their contributions."""
    features = shap_features(list(ranking.columns))
    return features, ranking[[shap_column(f) for f in features]].to_numpy(dtype="float64")


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


def new_in_top(
    ranking: pd.DataFrame, previous: pd.DataFrame | None, frac: float = TOP_FRAC
) -> pd.Series:
    """True where a unit is in the national top ``frac`` (``ml.metrics.top_count`` highest)
    now but was not in the previous run's (including units new since then). All False
    without a previous run: nothing is new when there is nothing to compare with."""
    if previous is None:
        return pd.Series(False, index=ranking.index, name="new_in_top")
    now = ranking["rank"] <= top_count(len(ranking), frac)
    before = _previous_rank(ranking, previous) <= top_count(len(previous), frac)
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
    features, contrib = _contributions(ranking)
    n, p = len(ranking), len(features)
    codes = ranking["unit_code"]
    if codes.duplicated().any():
        raise ValueError("The ranking holds a unit_code more than once.")
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


def driver_phrases(ranking: pd.DataFrame, values: pd.DataFrame, k: int = N_DRIVERS) -> list[str]:
    """Per unit, its k largest positive contributions as Dutch phrases joined by '; '."""
    features, contrib = _contributions(ranking)
    vals = _values_matrix(ranking["unit_code"], values, features)
    return [
        "; ".join(driver_phrase_nl(features[j], float(vals[i, j])) for j in top)
        for i, top in enumerate(top_contributions(contrib, k, positive_only=True))
    ]


def new_in_top_header(frac: float = TOP_FRAC) -> str:
    return f"Nieuw in landelijke top {format_nl(100 * frac)}%"


def _context_columns(unit_codes: pd.Series, context: pd.DataFrame | None) -> pd.DataFrame:
    """The context features' values aligned to ``unit_codes``, under their Dutch headers (a
    header two features share gets the feature's name added)."""
    features = [c for c in context.columns if c != "unit_code"] if context is not None else []
    if context is None or not features:
        return pd.DataFrame(index=range(len(unit_codes)))
    matrix = _values_matrix(unit_codes, context, features)
    headers = [context_header(f) for f in features]
    headers = [
        f"{h} [{f}]" if headers.count(h) > 1 else h for h, f in zip(headers, features, strict=True)
    ]
    return pd.DataFrame(matrix, columns=headers, dtype="float64")


def gemeente_table(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    top_frac: float = TOP_FRAC,
    context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows of the per-gemeente exports, Dutch headers, in national rank order: code,
    name, gemeente, year, risk in percent, national rank and rank in gemeente, change in
    rank (empty for new units), new in the national top, the top 3 drivers in Dutch, and
    then one column per context feature of ``context`` (its header: ``context_header``).
    Units without a gemeente (PC4) are included; the writer leaves them out."""
    ranking = ranking.sort_values("rank", kind="stable")
    new = new_in_top(ranking, previous, top_frac)
    flag = new.map({True: "ja", False: "nee"}).astype("string")
    if previous is None:
        flag[:] = pd.NA
    table = pd.DataFrame(
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
    extra = _context_columns(ranking["unit_code"], context)
    clash = [c for c in extra.columns if c in table.columns]
    if clash:
        extra = extra.rename(columns={c: f"{c} (context)" for c in clash})
    return pd.concat([table, extra], axis=1)


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
    """A value openpyxl writes: numpy scalars unwrapped; None, NA, NaN and inf left empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _width(header: str, column: pd.Series) -> float:
    longest = max([len(str(header)), *(len(str(v)) for v in column.dropna())])
    return min(longest + 2, _MAX_WIDTH)


def write_xlsx(
    frame: pd.DataFrame,
    target: Path | BinaryIO,
    sheet: str,
    *,
    percent: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> None:
    """Write ``frame`` as one Excel sheet named ``sheet`` (characters Excel forbids become
    '_', cut to 31) to a path or a binary file: bold frozen header, auto filter, widths fitted
    to the longest value. Numbers stay numbers; the columns named in ``percent`` hold
    fractions and are shown as percentages (``0.0%``, which Dutch Excel shows as ``12,3%``).
    Text is written as text, never run as a formula; missing values are empty cells.
    ``notes``, when given, go one a row to a second sheet "Toelichting"."""
    title = _SHEET_FORBIDDEN.sub("_", sheet)[:31]
    if not title:
        raise ValueError(f"A sheet needs a name of 1-31 characters. Got {sheet!r} instead.")
    headers = [str(c) for c in frame.columns]
    unknown = [c for c in percent if c not in headers]
    if unknown:
        raise ValueError(
            f"percent names columns of the frame ({', '.join(headers)}). Got {unknown} instead."
        )
    book = Workbook(write_only=True)
    ws = book.create_sheet(title)
    for j, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _width(header, frame.iloc[:, j - 1])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{len(frame) + 1}"
    bold = Font(bold=True)
    ws.append([_styled(ws, h, font=bold) for h in headers])
    shown = [h in percent for h in headers]
    for row in frame.itertuples(index=False, name=None):
        ws.append([_styled(ws, _cell(v), pct) for v, pct in zip(row, shown, strict=True)])
    if notes:
        sheet_notes = book.create_sheet(NOTES_SHEET)
        sheet_notes.column_dimensions["A"].width = min(max(len(n) for n in notes) + 2, 120)
        for line in notes:
            sheet_notes.append([_styled(sheet_notes, line)])
    book.save(target)


def _styled(ws: Any, value: object, percent: bool = False, font: Font | None = None) -> object:
    """Plain values go as they are; text, percentages and the header become styled cells."""
    if not (percent or font or isinstance(value, str)) or value is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # '=SUM(...)' in a name is text, not a formula
    if percent:
        cell.number_format = "0.0%"
    if font is not None:
        cell.font = font
    return cell


def write_gemeente_exports(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    out: Path,
    gemeenten: Sequence[str] | None = None,
    context: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
) -> list[Path]:
    """Write ``out/<code>.csv`` and ``.xlsx`` per gemeente (or only those in
    ``gemeenten``), each holding that gemeente's units in national rank order, with the
    context features of ``context`` as the last columns; ``notes`` (``knowledge_notes_nl``)
    go to the Excel files' "Toelichting" sheet. Units without a gemeente go to no file. A
    listed gemeente the ranking does not hold is an error."""
    table = gemeente_table(ranking, values, previous, context=context)
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
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    groups = {code: part for code, part in table.groupby(code_col, sort=False) if code in wanted}
    for code in wanted:
        part = groups[code].reset_index(drop=True)
        csv_path, xlsx_path = out / f"{code}.csv", out / f"{code}.xlsx"
        write_csv_nl(part, csv_path)
        fractions = part.assign(**{RISK_NL: part[RISK_NL] / 100.0})
        write_xlsx(fractions, xlsx_path, code, percent=(RISK_NL,), notes=notes)
        written += [csv_path, xlsx_path]
    return written

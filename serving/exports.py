"""Exports of a scoring run for analysts: rank changes, a long table of explanations, and one
CSV and one Excel file per gemeente with Dutch headers and drivers in Dutch words.

The functions building tables are pure; ``write_gemeente_exports`` takes the folder to write
into (a staging folder of the run, say) and returns the paths it wrote. The files are written
by ``serving.sheets`` (re-exported here: ``csv_bytes``, ``xlsx_bytes``, ``write_xlsx``,
``export_headers``), the one CSV and Excel writer, which the page's downloads use too.
Contributions, their columns and each unit's top drivers come from ``models.explain``; the
drivers' Dutch words from ``serving.drivers``; "the top 10 %" is ``ml.metrics.top_count``.

Inputs: ``ranking`` is the published ranking (``serving.ranking``: ids, risk, rank,
rank_in_gemeente, ``shap__<feature>`` and ``shap__base``), in any row order; ``values`` holds
``unit_code`` and the feature values the model saw; ``previous`` is the ranking of the
previous run (only its ``PREVIOUS_COLUMNS``, ``unit_code`` and ``rank``, are read), or None;
``context`` (optional) holds ``unit_code`` and the values of the panel's context features
(``PanelMeta.context_features``: sources that cover only recent years, which no model uses),
appended after the other columns under Dutch headers (``context_header``: label and unit).

What the scored rows knew (``Manifest.knowledge_date`` and ``Manifest.sources``) is told in
Dutch by ``knowledge_line_nl`` ("Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024,
CBS inkomen 2022"): on the Excel files' second sheet "Toelichting" (``knowledge_notes_nl``),
never in the CSV files, whose columns stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from features.describe import Extra
from ml.metrics import top_count
from serving.explanations import contributions, explanations_long, value_columns
from serving.formatting import Lang, check_lang, date_text, number
from serving.lookup import positions_of
from serving.ranking import driver_texts
from serving.sheetfiles import ExportJob, export_workers, write_parts
from serving.sheets import (
    COLUMNS,
    COLUMNS_EN,
    COLUMNS_NL,
    NOTES_SHEET,
    context_header,
    csv_bytes,
    csv_frame,
    export_headers,
    write_xlsx,
    xlsx_bytes,
)
from wijkradar.errors import ConfigError
from wijkradar.records import SourceUse

__all__ = [
    "COLUMNS",
    "COLUMNS_EN",
    "COLUMNS_NL",
    "NOTES_SHEET",
    "context_header",
    "csv_bytes",
    "explanations_long",
    "export_headers",
    "write_xlsx",
    "xlsx_bytes",
]

N_DRIVERS = 3
TOP_FRAC = 0.1
RISK_NL = COLUMNS_NL["risk"]
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
SOURCES_NL = {  # the source labels of PanelMeta.knowledge in Dutch; others stay as they are
    "CBS income": "CBS inkomen",
    "CBS population": "CBS bevolking",
    "investment": "investeringen",
}
GEMEENTE_COLUMNS = (
    "unit_code", "unit_name", "gemeente_code", "gemeente_name", "as_of_year", "risk", "rank",
    "rank_in_gemeente", "rank_change", "new_in_top", "top_drivers",
)


# --- what the scored rows knew ------------------------------------------------------------


def date_nl(iso: str) -> str:
    """An ISO date in Dutch words: '2025-07-01' -> '1 juli 2025' (``formatting.date_text``)."""
    return date_text(iso, "nl")


def source_nl(source: str) -> str:
    return SOURCES_NL.get(source, source)


def knowledge_line(
    knowledge_date: str | None, sources: Sequence[SourceUse], lang: Lang = "nl"
) -> str | None:
    """'Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2022' ('Data
    known on 1 July 2025: ...'); None without a knowledge date (no publication calendar)."""
    lang = check_lang(lang)
    if knowledge_date is None:
        return None
    name = source_nl if lang == "nl" else str
    used = ", ".join(f"{name(s.source)} {s.reference_year}" for s in sources)
    words = "Gegevens bekend op" if lang == "nl" else "Data known on"
    return f"{words} {date_text(knowledge_date, lang)}" + (f": {used}" if used else "")


def knowledge_notes(
    knowledge_date: str | None, sources: Sequence[SourceUse], lang: Lang = "nl"
) -> list[str]:
    """The lines of the "Toelichting" sheet: the knowledge line, then per source its newest
    reference year and publication date. Empty without a knowledge date."""
    line = knowledge_line(knowledge_date, sources, lang)
    if line is None:
        return []
    if lang == "nl":
        return [line] + [
            f"{source_nl(s.source)}: peiljaar {s.reference_year}, "
            f"gepubliceerd op {date_text(s.published, lang)}"
            for s in sources
        ]
    return [line] + [
        f"{s.source}: reference year {s.reference_year}, published on "
        f"{date_text(s.published, lang)}"
        for s in sources
    ]


def knowledge_line_nl(knowledge_date: str | None, sources: Sequence[SourceUse]) -> str | None:
    """``knowledge_line`` in Dutch."""
    return knowledge_line(knowledge_date, sources, "nl")


def knowledge_notes_nl(knowledge_date: str | None, sources: Sequence[SourceUse]) -> list[str]:
    """``knowledge_notes`` in Dutch."""
    return knowledge_notes(knowledge_date, sources, "nl")


# --- context features -----------------------------------------------------------------------


def context_values(rows: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """``unit_code`` and those of ``features`` that some row of ``rows`` (one as-of year of
    the panel) holds a value of, in the order given: the ``context`` of the exports."""
    present = [f for f in features if f in rows.columns and rows[f].notna().any()]
    return rows[["unit_code", *present]].reset_index(drop=True)


PREVIOUS_COLUMNS = ("unit_code", "rank")  # all that is read of the previous run's ranking


def _previous_rank(ranking: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    if previous is None:
        return pd.Series(np.nan, index=ranking.index, dtype="float64")
    if previous["unit_code"].duplicated().any():
        raise ValueError("The previous ranking holds a unit_code more than once.")
    at = positions_of(ranking["unit_code"], previous["unit_code"])
    before = np.full(len(ranking), np.nan)
    hit = at >= 0
    before[hit] = previous["rank"].to_numpy(dtype="float64")[at[hit]]
    return pd.Series(before, index=ranking.index, name="rank")


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


def driver_phrases(
    ranking: pd.DataFrame, values: pd.DataFrame, k: int = N_DRIVERS, lang: Lang = "nl",
    extra: Extra | None = None,
) -> list[str]:
    """Per unit, its k largest positive contributions as sentences joined by '; '
    (``serving.ranking.driver_texts``; ``extra``: the panel's mapped columns)."""
    lang = check_lang(lang)
    features, contrib = contributions(ranking)
    columns = value_columns(ranking["unit_code"], values, features)
    return driver_texts(contrib, columns, features, k, lang, extra)


def new_in_top_header(frac: float = TOP_FRAC, lang: Lang = "nl") -> str:
    share = f"{number(100 * frac, lang=lang)}%"
    if lang == "nl":
        return f"Nieuw in landelijke top {share}"
    return f"New in the national top {share}"


def _context_columns(unit_codes: pd.Series, context: pd.DataFrame | None) -> pd.DataFrame:
    """The context features' values aligned to ``unit_codes``, one column per feature."""
    features = [c for c in context.columns if c != "unit_code"] if context is not None else []
    if context is None or not features:
        return pd.DataFrame(index=range(len(unit_codes)))
    matrix = _values_matrix(unit_codes, context, features)
    return pd.DataFrame(matrix, columns=features, dtype="float64")


def gemeente_rows(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    top_frac: float = TOP_FRAC,
    context: pd.DataFrame | None = None,
    lang: Lang = "nl",
    drivers: Sequence[str] | None = None,
    extra: Extra | None = None,
) -> pd.DataFrame:
    """The rows of the per-gemeente exports under their own column names (``GEMEENTE_COLUMNS``,
    then one column per context feature), in national rank order: risk as a share, the change
    in rank (empty for new units), new in the national top (empty without a previous run) and
    the top 3 drivers in words. Units without a gemeente (PC4) are included. ``drivers`` are
    those words per row of ``ranking`` when already made (the ranking's own ``top_drivers``
    are ``driver_phrases`` in Dutch: ``serving.ranking``); made here otherwise, naming the
    panel's mapped columns (``extra``) by their labels."""
    if drivers is not None and len(drivers) != len(ranking):
        raise ValueError(f"drivers holds {len(drivers)} texts for {len(ranking)} ranking rows.")
    words = driver_phrases(ranking, values, lang=lang, extra=extra) if drivers is None else drivers
    order = np.argsort(ranking["rank"].to_numpy(), kind="stable")  # no copy of contributions
    ids = ranking[list(GEMEENTE_COLUMNS[:8])].take(order)
    new = new_in_top(ids, previous, top_frac).astype("boolean")
    if previous is None:
        new[:] = pd.NA
    table = pd.DataFrame(
        {
            "unit_code": ids["unit_code"].astype("string"),
            "unit_name": ids["unit_name"].astype("string"),
            "gemeente_code": ids["gemeente_code"].astype("string"),
            "gemeente_name": ids["gemeente_name"].astype("string"),
            "as_of_year": ids["as_of_year"].astype("int64"),
            "risk": ids["risk"].astype("float64"),
            "rank": ids["rank"].astype("int64"),
            "rank_in_gemeente": ids["rank_in_gemeente"].astype("int64"),
            "rank_change": rank_change(ids, previous).round().astype("Int64"),
            "new_in_top": new,
            "top_drivers": np.asarray(words, dtype=object)[order].tolist(),
        }
    ).reset_index(drop=True)
    return pd.concat([table, _context_columns(ids["unit_code"], context)], axis=1)


def gemeente_headers(
    columns: Sequence[str], top_frac: float = TOP_FRAC, lang: Lang = "nl",
    extra: Extra | None = None,
) -> list[str]:
    """The headers of ``gemeente_rows``' columns (``export_headers``; the top share named)."""
    headers = export_headers(columns, lang, extra)
    return [
        new_in_top_header(top_frac, lang) if c == "new_in_top" else h
        for c, h in zip(columns, headers, strict=True)
    ]


def gemeente_table(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    top_frac: float = TOP_FRAC,
    context: pd.DataFrame | None = None,
    lang: Lang = "nl",
    extra: Extra | None = None,
) -> pd.DataFrame:
    """What the per-gemeente CSV files hold, for all units: ``gemeente_rows`` under Dutch
    headers (``COLUMNS_NL``; a context feature: ``context_header``), risk in percent."""
    rows = gemeente_rows(ranking, values, previous, top_frac, context, lang, extra=extra)
    table = csv_frame(rows, lang)
    table.columns = gemeente_headers([str(c) for c in rows.columns], top_frac, lang, extra)
    return table


def write_gemeente_exports(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    out: Path,
    gemeenten: Sequence[str] | None = None,
    context: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    lang: Lang = "nl",
    *,
    drivers: Sequence[str] | None = None,
    workers: int | None = None,
    extra: Extra | None = None,
) -> list[Path]:
    """Write ``out/<code>.csv`` and ``.xlsx`` per gemeente (or only those in
    ``gemeenten``), each holding that gemeente's units in national rank order, with the
    context features of ``context`` as the last columns; ``notes`` (``knowledge_notes``)
    go to the Excel files' "Toelichting" sheet. Units without a gemeente go to no file. A
    listed gemeente the ranking does not hold is an error. The files are written by
    ``serving.sheets`` (``csv_bytes``, ``write_xlsx``), as the page's downloads are.

    ``drivers`` and ``extra``: see ``gemeente_rows``. ``workers`` processes write the files
    (default: 2 from ``PARALLEL_ROWS`` rows on, else 1: starting them costs about a second)."""
    lang = check_lang(lang)
    rows = gemeente_rows(ranking, values, previous, context=context, lang=lang, drivers=drivers,
                         extra=extra)
    present = set(rows["gemeente_code"].dropna())
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
    headers = gemeente_headers([str(c) for c in rows.columns], lang=lang, extra=extra)
    job = ExportJob(out, tuple(headers), tuple(notes), lang)
    groups = {
        code: part for code, part in rows.groupby("gemeente_code", sort=False) if code in wanted
    }
    parts = [(code, groups[code].reset_index(drop=True)) for code in wanted]
    del rows, groups
    count = export_workers(sum(len(p) for _, p in parts)) if workers is None else workers
    return write_parts(job, parts, count)

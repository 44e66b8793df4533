"""The API's responses that take more than a lookup: the ranking rows in context (base rate,
band, drivers in words), a unit's explanation, history, peers and fact sheet, the gemeente
summary, the model card and the charts (drawn by ``serving.charts``). Texts come in the
request's language from ``serving.context``, ``serving.drivers`` and ``features.describe``;
numbers from ``serving.formatting``. Pure apart from reading through the ``Store``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.explain import shap_column, shap_features, top_contributions
from serving import apimodels as m
from serving import context as ctx
from serving.apistore import NotFound, RankingView, Store
from serving.drivers import driver_sentence
from serving.exports import knowledge_line_nl, knowledge_notes_nl
from serving.formatting import Lang, date_text
from serving.sheets import csv_bytes, xlsx_bytes
from wijkradar.catalog import plain

N_PEERS = 10
N_DRIVERS = 3
LBM_DIMENSIONS = ("lbm_fys", "lbm_onv", "lbm_soc", "lbm_vrz", "lbm_won")


def filtered_view(store: Store, as_of: int | None, gemeente: str | None) -> RankingView:
    view = store.view(as_of)
    if gemeente and not (view.gemeente_codes == gemeente).any():
        raise NotFound(f"No gemeente {gemeente} in the ranking of {view.run.year}.")
    return view


def unit_view(store: Store, code: str, as_of: int | None) -> RankingView:
    view = store.view(as_of)
    if code not in view.position:
        raise NotFound(f"No unit {code} in the ranking of {view.run.year}.")
    return view


# --- risk in context --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What a run's risks mean: the base rate they compare with and what they predict."""

    base_rate: float
    measurement_year: int | None
    delta: float
    knowledge_date: str | None

    def line(self, year: int, lang: Lang) -> str:
        return ctx.context_line(year, self.knowledge_date, self.measurement_year, self.delta, lang)


def run_context(store: Store, view: RankingView) -> RunContext:
    def make() -> RunContext:
        meta = store.panel_meta()
        panel = store.panel()
        horizon = ctx.horizon_of(panel) if panel is not None else None
        year = ctx.measurement_year(view.run.year, horizon) if horizon else None
        return RunContext(
            base_rate=ctx.base_rate_of(view.frame["risk"]),
            measurement_year=year,
            delta=float(meta.delta) if meta is not None else float("nan"),
            knowledge_date=view.run.manifest.knowledge_date,
        )

    key = ("context", str(view.run.path), view.run.mtime_ns, store.file_key(store.ws.panel))
    return store.derived.get(key, make)


def top_sentences(store: Store, view: RankingView, position: int, lang: Lang) -> str:
    """The unit's (up to 3) largest positive contributions as driver sentences, '; '-joined
    (drawn once per unit and language)."""
    key = ("sentences", str(view.run.path), view.run.mtime_ns, lang)
    done: dict[int, str] = store.derived.get(key, dict)
    if position not in done:
        features = features_of(view)
        row = view.frame.iloc[position]
        shap = np.array([float(row[shap_column(f)]) for f in features])[None, :]
        [top] = top_contributions(shap, N_DRIVERS)
        year = store.panel_year(view.run.year, features)
        code = str(row["unit_code"])
        values = year.profile(code, None)[0] if year is not None else {}
        terms = store.terms()
        done[position] = "; ".join(
            driver_sentence(features[j], values.get(features[j], float("nan")), lang, terms)
            for j in top
        )
    return done[position]


def ranking_page(
    store: Store, view: RankingView, positions: np.ndarray, total: int, offset: int,
    limit: int, sort: m.SortKey, lang: Lang,
) -> m.RankingPage:
    context = run_context(store, view)
    rows = []
    for i in positions:
        record = view.records[int(i)]
        rows.append(m.RankingRow(**in_context(record, context.base_rate, lang),
                                 top_drivers=top_sentences(store, view, int(i), lang)))
    return m.RankingPage(
        as_of_year=view.run.year,
        run_id=view.run.run_id,
        previous_run_id=view.previous_run_id,
        n_units=len(view.records),
        total=total,
        top10_rank=view.top10_rank,
        offset=offset,
        limit=limit,
        sort=sort,
        base_rate=context.base_rate,
        base_rate_text=ctx.base_rate_text(context.base_rate, lang),
        context_line=context.line(view.run.year, lang),
        bands=bands(lang),
        rows=rows,
    )


def bands(lang: Lang) -> list[m.BandInfo]:
    return [
        m.BandInfo(key=b.key, label=ctx.band_label(b, lang), colour=b.colour,
                   min_ratio=b.min_ratio, description=ctx.band_description(b, lang))
        for b in ctx.BANDS
    ]


def in_context(record: dict[str, Any], base_rate: float, lang: Lang) -> dict[str, Any]:
    """The record's fields with its risk against the base rate: ratio, words and band."""
    out = {k: v for k, v in record.items() if k != "top_drivers"}
    risk = record["risk"]
    if risk is None:
        return {**out, "relative": None, "relative_text": None, "band": None, "band_label": None}
    band = ctx.band_of(risk, base_rate)
    return {
        **out,
        "relative": ctx.relative_risk(risk, base_rate),
        "relative_text": ctx.relative_text(risk, base_rate, lang),
        "band": band.key,
        "band_label": ctx.band_label(band, lang),
    }


def runs_response(store: Store, lang: Lang) -> m.RunsResponse:
    years = []
    for year in store.years():
        found = [_run_summary(r, lang) for r in store.runs(year)]
        latest = [r.run_id for r in found if r.latest]
        if latest:
            years.append(m.YearRuns(as_of_year=year, latest_run_id=latest[0], runs=found))
    return m.RunsResponse(years=years)


def _run_summary(run: Any, lang: Lang) -> m.RunSummary:
    man = run.manifest
    return m.RunSummary(
        run_id=run.run_id,
        as_of_year=run.year,
        created=run.created,
        model_name=man.model_name,
        model_version=man.model_version,
        model_run_id=man.model_run_id,
        panel_fingerprint=man.panel_fingerprint,
        row_count=man.row_count,
        additivity_max_error=plain(man.additivity_max_error),
        latest=run.latest,
        knowledge_date=man.knowledge_date,
        sources=[m.SourceUse(**asdict(use)) for use in man.sources],
        knowledge_line=knowledge_line_nl(man.knowledge_date, man.sources),
        created_text=date_text(run.created, lang) if run.created else None,
    )


# --- exports --------------------------------------------------------------------------------


def export_frame(
    store: Store, as_of: int | None, gemeente: str | None, q: str | None, sort: str,
    lang: Lang = "nl",
) -> tuple[pd.DataFrame, str, RankingView]:
    """The filtered ranking with its context columns (ratio to the base rate, band), formulas
    defused, and the file name."""
    view = filtered_view(store, as_of, gemeente)
    frame = view.export_frame(view.select(gemeente, q, sort))
    context = run_context(store, view)
    risk = pd.to_numeric(frame["risk"], errors="coerce")
    frame["relative_risk"] = risk / context.base_rate
    known = risk.notna()
    frame["band"] = None
    names = {b.key: ctx.band_label(b, lang) for b in ctx.BANDS}
    frame.loc[known, "band"] = [names[k] for k in ctx.bands_of(risk[known], context.base_rate)]
    frame["base_rate"] = context.base_rate
    for column in ("unit_name", "gemeente_name", "top_drivers"):
        frame[column] = frame[column].map(_no_formula)
    return frame, f"wijkradar-{view.run.year}" + (f"-{gemeente}" if gemeente else ""), view


def export_csv(
    store: Store, as_of: int | None, gemeente: str | None, q: str | None, sort: str, lang: Lang
) -> tuple[bytes, str]:
    frame, name, _ = export_frame(store, as_of, gemeente, q, sort, lang)
    return csv_bytes(frame, lang), name


def export_xlsx(
    store: Store, as_of: int | None, gemeente: str | None, q: str | None, sort: str, lang: Lang
) -> tuple[bytes, str]:
    frame, name, view = export_frame(store, as_of, gemeente, q, sort, lang)
    man = view.run.manifest
    context = run_context(store, view)
    notes = [context.line(view.run.year, lang), ctx.base_rate_text(context.base_rate, lang),
             *knowledge_notes_nl(man.knowledge_date, man.sources)]
    return xlsx_bytes(frame, notes, lang), name


def _no_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def features_of(view: RankingView) -> list[str]:
    """The model's features: the manifest's list, else the ranking's SHAP columns."""
    listed = view.run.manifest.features
    columns = set(view.frame.columns)
    if listed:
        return [str(f) for f in listed if shap_column(f) in columns]
    return shap_features(list(view.frame.columns))


def contributions(view: RankingView, code: str) -> pd.Series:
    row = view.frame.iloc[view.position[code]]
    features = features_of(view)
    return pd.Series([float(row[shap_column(f)]) for f in features], index=features, dtype=float)


def context_features(store: Store, view: RankingView) -> list[str]:
    """The panel's context features (which no model uses), in the panel meta's order; a
    feature the run's model does use (a model of an older panel) is a driver, not context."""
    model = set(features_of(view))
    return [f for f in store.context_features() if f not in model]


def top_driver_features(shap: pd.Series, k: int = 3) -> list[str]:
    """The features of the k largest positive contributions, largest first."""
    [top] = top_contributions(shap.to_numpy(dtype=float)[None, :], k)
    return [str(shap.index[j]) for j in top]


def gemeente_summary(view: RankingView) -> list[m.Gemeente]:
    frame = view.frame
    groups = frame.groupby("gemeente_code", dropna=True, sort=False)
    table = pd.DataFrame(
        {
            "gemeente_name": groups["gemeente_name"].first(),
            "n_units": groups.size(),
            "mean_risk": groups["risk"].mean(),
            "n_top10": groups["in_top10"].sum(),
        }
    ).reset_index()
    table["_key"] = table["gemeente_name"].astype(str).str.casefold()
    table = table.sort_values(["_key", "gemeente_code"], kind="mergesort")
    return [
        m.Gemeente(
            gemeente_code=str(r.gemeente_code),
            gemeente_name=_text(r.gemeente_name),
            n_units=int(r.n_units),
            mean_risk=plain(r.mean_risk),
            n_top10=int(r.n_top10),
        )
        for r in table.itertuples(index=False)
    ]


# --- the model ------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)

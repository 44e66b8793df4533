"""One unit for the API and its fact sheet: the explanation in words (drivers by policy
domain), the risk in context, the Leefbarometer score and dimensions over time, the unit
against its gemeente and its ten nearest peers in profile, and the data's freshness; and its
charts (the SHAP waterfall and the histories, drawn by ``serving.charts``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from features.describe import Extra, feature_label, unit_text, value_text
from models.explain import SHAP_BASE
from serving import apimodels as m
from serving import charts
from serving import context as ctx
from serving.apistore import PanelYear, RankingView, Store
from serving.apiviews import (
    context_features,
    contributions,
    features_of,
    in_context,
    run_context,
    top_driver_features,
    top_sentences,
)
from serving.drivers import drivers_of, grouped
from serving.exports import source_nl
from serving.formatting import Lang, count, date_text, number, percent
from wijkradar.catalog import plain

N_PEERS = 10
LBM_DIMENSIONS = ("lbm_fys", "lbm_onv", "lbm_soc", "lbm_vrz", "lbm_won")


def unit_detail(store: Store, view: RankingView, code: str, lang: Lang) -> m.UnitDetail:
    position = view.position[code]
    record = view.records[position]
    row = view.frame.iloc[position]
    shap = contributions(view, code)
    terms = store.terms()
    year = view.run.year
    context = context_features(store, view)
    panel_year = store.panel_year(year, features_of(view) + context)
    values, gemeente, national = ({}, {}, {})
    if panel_year is not None:
        values, gemeente, national = panel_year.profile(code, record["gemeente_code"])
    drivers = [
        m.Driver(
            feature=f,
            label=feature_label(f, lang, terms),
            value=plain(values.get(f)),
            value_text=value_text(f, plain(values.get(f)), lang, terms),
            contribution=float(shap[f]),
            gemeente_median=plain(gemeente.get(f)),
            gemeente_text=value_text(f, plain(gemeente.get(f)), lang, terms),
            national_median=plain(national.get(f)),
            national_text=value_text(f, plain(national.get(f)), lang, terms),
        )
        for f in sorted(shap.index, key=lambda f: (-abs(shap[f]), f))
    ]
    in_words = drivers_of(shap, pd.Series(values, dtype="float64"), k=8, lang=lang,
                          extra=terms)
    gemeente_code = record["gemeente_code"]
    in_gemeente = int((view.gemeente_codes == str(gemeente_code)).sum()) if gemeente_code else 0
    run = run_context(store, view)
    fields = in_context(record, run.base_rate, lang)
    return m.UnitDetail(
        **{k: fields[k] for k in ("unit_code", "unit_name", "gemeente_code", "gemeente_name")},
        **{k: fields[k] for k in ("relative", "relative_text", "band", "band_label")},
        title=unit_title(record),
        as_of_year=year,
        run_id=view.run.run_id,
        risk=record["risk"],
        risk_text=percent(record["risk"], 1, lang) if record["risk"] is not None else None,
        margin=plain(row.get("margin")),
        base_value=plain(row.get(SHAP_BASE)),
        base_rate=run.base_rate,
        base_rate_text=ctx.base_rate_text(run.base_rate, lang),
        context_line=run.line(year, lang),
        measurement_year=run.measurement_year,
        rank=record["rank"],
        rank_in_gemeente=record["rank_in_gemeente"] if in_gemeente else None,
        n_units=len(view.records),
        n_in_gemeente=in_gemeente,
        in_top10=record["in_top10"],
        new_in_top10=record["new_in_top10"],
        previous_rank=record["previous_rank"],
        rank_change=record["rank_change"],
        top_drivers=top_sentences(store, view, position, lang),
        top_driver_features=top_driver_features(shap),
        drivers=drivers,
        driver_groups=[_group(g) for g in grouped(in_words, lang)],
        context=_context_values(panel_year, context, code, gemeente_code, lang, terms),
        panel_matches_run=store.panel_fingerprint() == view.run.manifest.panel_fingerprint,
        lbm_history=[m.LbmPoint(**p) for p in lbm_history(store, code)],
        lbm_dimensions={d: feature_label(d, lang) for d in LBM_DIMENSIONS},
        risk_history=[m.RiskPoint(**p) for p in risk_history(store, code)],
        peers=peers(store, view, code, lang),
        comparison=comparison(store, view, code, lang),
        freshness=freshness(store, view, lang),
    )


def unit_title(record: dict[str, Any]) -> str:
    """'Wijk 3 (WK036203), Amstelveen'; a PC4 area whose name holds its code and gemeente
    ('6564 Heilig Landstichting') is not repeated ('6564 (6564),')."""
    code, name, gemeente = record["unit_code"], record["unit_name"], record["gemeente_name"]
    title = str(name) if name else str(code)
    if code not in title:
        title += f" ({code})"
    if gemeente and str(gemeente) not in title:
        title += f", {gemeente}"
    return title


def _group(group: Any) -> m.DriverGroup:
    return m.DriverGroup(
        domain=group.domain,
        label=group.label,
        total=group.total,
        drivers=[m.DriverWords(**asdict(d)) for d in group.drivers],
    )


def peers(store: Store, view: RankingView, code: str, lang: Lang) -> list[m.Peer]:
    """The ten units nearest in profile: the model's features as z-scores (a missing value
    counts as the median), Euclidean distance, the unit itself left out."""
    features = features_of(view)
    year = store.panel_year(view.run.year, features)
    if year is None or code not in year.values.index:
        return []
    table = year.values.reindex(index=[r["unit_code"] for r in view.records])
    spread = table.std(ddof=0).replace(0, np.nan)
    z = ((table - table.median()) / spread).fillna(0.0).to_numpy(dtype="float64")
    me = z[view.position[code]]
    distance = np.sqrt(((z - me) ** 2).sum(axis=1))
    distance[view.position[code]] = np.inf
    nearest = np.argsort(distance, kind="stable")[:N_PEERS]
    base = run_context(store, view).base_rate
    out = []
    for i in nearest:
        if not np.isfinite(distance[i]):
            continue
        record = view.records[int(i)]
        fields = in_context(record, base, lang)
        out.append(m.Peer(
            unit_code=record["unit_code"], title=unit_title(record),
            gemeente_name=record["gemeente_name"], risk=record["risk"],
            rank=record["rank"], band=fields["band"], band_label=fields["band_label"],
            relative_text=fields["relative_text"], distance=float(distance[i]),
        ))
    return out


def comparison(store: Store, view: RankingView, code: str, lang: Lang) -> list[m.Compared]:
    """Risk and the Leefbarometer score of the unit against its gemeente (median), its peers
    (median) and the country (median)."""
    record = view.records[view.position[code]]
    codes = [p.unit_code for p in peers(store, view, code, lang)]
    frame = view.frame.set_index("unit_code")
    gemeente = view.gemeente_codes == str(record["gemeente_code"])
    year = store.panel_year(view.run.year, ["lbm"])
    rows = []
    for key, series in (("risk", frame["risk"]), ("lbm", _lbm_of(year, frame.index))):
        label = "risico" if lang == "nl" else "risk"
        if key == "lbm":
            label = feature_label("lbm", lang)
        mine = plain(series.get(code))
        cells = [mine, plain(series[gemeente].median()), plain(series.reindex(codes).median()),
                 plain(series.median())]
        texts = [_shown(key, v, lang) for v in cells]
        rows.append(m.Compared(key=key, label=label, values=cells, texts=texts))
    return rows


def _lbm_of(year: PanelYear | None, index: pd.Index) -> pd.Series:
    if year is None or "lbm" not in year.values.columns:
        return pd.Series(np.nan, index=index, dtype="float64")
    return year.values["lbm"].reindex(index).astype("float64")


def _shown(key: str, value: float | None, lang: Lang) -> str:
    if value is None:
        return "onbekend" if lang == "nl" else "unknown"
    return percent(value, 1, lang) if key == "risk" else number(value, 3, lang)


def freshness(store: Store, view: RankingView, lang: Lang) -> list[str]:
    """Where the numbers come from and how fresh they are, one line each."""
    man = view.run.manifest
    nl = lang == "nl"
    out = []
    if man.knowledge_date:
        out.append(("Gegevens bekend op " if nl else "Data known on ")
                   + date_text(man.knowledge_date, lang))
    for use in man.sources:
        source = source_nl(use.source) if nl else use.source
        out.append(f"{source} {use.reference_year}, "
                   + ("gepubliceerd " if nl else "published ") + date_text(use.published, lang))
    if man.created:
        out.append(("Berekend op " if nl else "Scored on ") + date_text(man.created, lang)
                   + f" (run {view.run.run_id}, model v{man.model_version or '?'})")
    out.append(("Eenheden in de ranglijst: " if nl else "Units ranked: ")
               + count(len(view.records), lang))
    return out


def _context_values(
    year: PanelYear | None, features: list[str], code: str, gemeente_code: Any, lang: Lang,
    terms: Extra,
) -> list[m.ContextValue]:
    """The context features the year holds: the unit's value against its gemeente's and the
    national median (of the same panel rows as the drivers' medians); ``terms``: the panel's
    mapped columns."""
    if year is None:
        return []
    values, gemeente, national = year.profile(code, gemeente_code)
    return [
        m.ContextValue(
            feature=f,
            label=feature_label(f, lang, terms),
            unit=unit_text(f, lang, terms),
            value=plain(values.get(f)),
            value_text=value_text(f, plain(values.get(f)), lang, terms),
            gemeente_median=plain(gemeente.get(f)),
            gemeente_text=value_text(f, plain(gemeente.get(f)), lang, terms),
            national_median=plain(national.get(f)),
            national_text=value_text(f, plain(national.get(f)), lang, terms),
        )
        for f in features
        if year.present(f)
    ]


def lbm_history(store: Store, code: str) -> list[dict[str, Any]]:
    panel = store.panel()
    if panel is None or "lbm" not in panel.columns:
        return []
    rows = panel[panel["unit_code"] == code].sort_values("as_of_year")
    since = rows["lbm_years_since"] if "lbm_years_since" in rows.columns else None
    dims = [d for d in LBM_DIMENSIONS if d in rows.columns]
    out = []
    for i, (year, lbm) in enumerate(zip(rows["as_of_year"], rows["lbm"], strict=True)):
        gap = plain(since.iloc[i]) if since is not None else None
        out.append(
            {
                "as_of_year": int(year),
                "lbm": plain(lbm),
                "measurement_year": int(year) - int(gap) if gap is not None else None,
                "dimensions": {d: plain(rows[d].iloc[i]) for d in dims},
            }
        )
    return out


def risk_history(store: Store, code: str) -> list[dict[str, Any]]:
    """The unit's risk and rank in every published run, oldest year and run first."""
    out = []
    for year in store.years():
        for run in store.runs(year):
            index = store.derived.get(
                ("unit-index", str(run.path), run.mtime_ns),
                lambda r=run: store.ranking(r).drop_duplicates("unit_code").set_index("unit_code"),
            )
            if code not in index.index:
                continue
            found = index.loc[code]
            out.append(
                {
                    "as_of_year": year,
                    "run_id": run.run_id,
                    "created": run.created,
                    "model_version": run.manifest.model_version,
                    "risk": plain(found.get("risk")),
                    "rank": plain(found.get("rank")),
                    "latest": run.latest,
                }
            )
    return out


def waterfall_svg(store: Store, view: RankingView, code: str, lang: Lang) -> str:
    shap = contributions(view, code)
    year = store.panel_year(view.run.year, features_of(view))
    values = year.profile(code, None)[0] if year is not None else {}
    terms = store.terms()
    labels = {
        f: f"{feature_label(f, lang, terms)}: {value_text(f, plain(values.get(f)), lang, terms)}"
        for f in shap.index
    }
    row = view.frame.iloc[view.position[code]]
    base, risk = plain(row.get(SHAP_BASE)), plain(row.get("risk"))
    return charts.shap_waterfall_svg(shap, float(base or 0.0), labels, risk=risk)


def history_svg(store: Store, view: RankingView, code: str, kind: str, lang: Lang) -> str:
    name = unit_title(view.records[view.position[code]])
    nl = lang == "nl"
    if kind == "lbm":
        points = pd.DataFrame(lbm_history(store, code), columns=["as_of_year", "lbm"])
        frame = points.rename(columns={"as_of_year": "x", "lbm": "y"})
        return charts.history_svg(
            frame, ylabel="Leefbarometer-score" if nl else "Leefbarometer score",
            title=f"{name}: Leefbarometer", salt="lbm"
        )
    points = pd.DataFrame(risk_history(store, code), columns=["as_of_year", "risk", "latest"])
    frame = points.rename(columns={"as_of_year": "x", "risk": "y", "latest": "current"})
    return charts.history_svg(
        frame, ylabel="kans op een daling" if nl else "risk of a decline",
        title=f"{name}: " + ("risico" if nl else "risk"), percent=True, salt="risk"
    )

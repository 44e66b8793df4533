"""The API's responses that take more than a lookup: a unit's explanation and history, the
gemeente summary, the model card, the map and the charts (drawn by ``serving.charts``, as the
static report draws them). Pure apart from reading through the ``Store`` and the registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from features.describe import describe, format_value, unit
from features.vocabulary import parse
from ml import registry
from models.explain import SHAP_BASE, shap_column, shap_features, top_contributions
from serving import apimodels as m
from serving import charts
from serving.apistore import NotFound, PanelYear, RankingView, Store
from serving.dutch import feature_label_nl, unit_nl
from serving.report import validation_headers, validation_rows
from wijkradar.catalog import plain


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


def unit_detail(store: Store, view: RankingView, code: str) -> m.UnitDetail:
    record = view.records[view.position[code]]
    row = view.frame.iloc[view.position[code]]
    shap = contributions(view, code)
    year = view.run.year
    context = context_features(store, view)
    panel_year = store.panel_year(year, features_of(view) + context)
    values, gemeente, national = ({}, {}, {})
    if panel_year is not None:
        values, gemeente, national = panel_year.profile(code, record["gemeente_code"])
    drivers = [
        m.Driver(
            feature=f,
            label=describe(f),
            value=plain(values.get(f)),
            contribution=float(shap[f]),
            gemeente_median=plain(gemeente.get(f)),
            national_median=plain(national.get(f)),
        )
        for f in sorted(shap.index, key=lambda f: (-abs(shap[f]), f))
    ]
    in_gemeente = int((view.gemeente_codes == str(record["gemeente_code"])).sum())
    return m.UnitDetail(
        **{k: record[k] for k in ("unit_code", "unit_name", "gemeente_code", "gemeente_name")},
        as_of_year=year,
        run_id=view.run.run_id,
        risk=record["risk"],
        margin=plain(row.get("margin")),
        base_value=plain(row.get(SHAP_BASE)),
        rank=record["rank"],
        rank_in_gemeente=record["rank_in_gemeente"],
        n_units=len(view.records),
        n_in_gemeente=in_gemeente,
        in_top10=record["in_top10"],
        new_in_top10=record["new_in_top10"],
        previous_rank=record["previous_rank"],
        rank_change=record["rank_change"],
        top_drivers=record["top_drivers"],
        top_driver_features=top_driver_features(shap),
        drivers=drivers,
        context=_context_values(panel_year, context, code, record["gemeente_code"]),
        panel_matches_run=store.panel_fingerprint() == view.run.manifest.panel_fingerprint,
        lbm_history=[m.LbmPoint(**p) for p in lbm_history(store, code)],
        risk_history=[m.RiskPoint(**p) for p in risk_history(store, code)],
    )


def _context_values(
    year: PanelYear | None, features: list[str], code: str, gemeente_code: Any
) -> list[m.ContextValue]:
    """The context features the year holds: the unit's value against its gemeente's and the
    national median (of the same panel rows as the drivers' medians)."""
    if year is None:
        return []
    values, gemeente, national = year.profile(code, gemeente_code)
    return [
        m.ContextValue(
            feature=f,
            label=describe(f),
            label_nl=feature_label_nl(f),
            unit=unit(parse(f).base).value,
            unit_nl=unit_nl(f),
            value=plain(values.get(f)),
            gemeente_median=plain(gemeente.get(f)),
            national_median=plain(national.get(f)),
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
    out = []
    for i, (year, lbm) in enumerate(zip(rows["as_of_year"], rows["lbm"], strict=True)):
        gap = plain(since.iloc[i]) if since is not None else None
        out.append(
            {
                "as_of_year": int(year),
                "lbm": plain(lbm),
                "measurement_year": int(year) - int(gap) if gap is not None else None,
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


def _tracking(store: Store, config_path: Path) -> registry.Tracking:
    from wijkradar.config import load_config
    from wijkradar.errors import WijkradarError

    try:
        tracking = registry.tracking_for(store.ws, load_config(config_path))
    except WijkradarError as exc:
        raise NotFound(f"No tracking settings: {exc}") from exc
    if tracking.uri.startswith("sqlite:///"):
        db = Path(tracking.uri[len("sqlite:///") :])
        if not db.is_file():  # opening a missing SQLite store would create it
            raise NotFound(f"No MLflow store at {db}. Run `wijkradar train` first.")
    return tracking


def model_info(store: Store, config_path: Path, as_of: int | None) -> m.ModelInfo:
    """The champion, or with ``as_of`` the model behind that year's latest run."""
    from wijkradar.errors import NoModelError

    published = []
    for year in store.years():
        latest = [r for r in store.runs(year) if r.latest]
        if latest:
            version = latest[0].manifest.model_version
            published.append(
                m.PublishedWith(as_of_year=year, run_id=latest[0].run_id, model_version=version)
            )
    scored = store.view(as_of).run.manifest if as_of is not None else None
    try:
        tracking = _tracking(store, config_path)
    except NotFound as exc:
        return m.ModelInfo(available=False, message=str(exc), published_with=published)
    try:
        ref = registry.resolve(tracking, None)
        champion = _model_version(tracking, ref.name, ref.version, ref.run_id, ref)
    except NoModelError as exc:
        ref, champion, message = None, None, str(exc)
    if scored is not None:
        model = _model_version(
            tracking, scored.model_name, scored.model_version, scored.model_run_id, ref
        )
    elif champion is not None:
        model = champion
    else:
        return m.ModelInfo(available=False, message=message, published_with=published)
    message = None
    key = (tracking.uri, model.run_id)
    try:
        evaluation = store.derived.get(
            ("evaluation", *key), lambda: registry.run_table(tracking, model.run_id, "evaluation")
        )
    except Exception as exc:  # the run may lack the table; say so instead of failing
        evaluation, message = pd.DataFrame(), f"The training run has no evaluation table: {exc}"
    card = store.derived.get(("card", *key), lambda: _model_card(tracking, model.run_id))
    table = None
    if not evaluation.empty and {"test_year", "model"} <= set(evaluation.columns):
        rows = validation_rows(evaluation)
        table = m.ValidationTable(
            headers=validation_headers(),
            rows=[r["cells"] for r in rows],
            primary=[bool(r["primary"]) for r in rows],
        )
    return m.ModelInfo(
        available=True,
        message=message,
        model=model,
        champion=champion,
        evaluation=[{k: plain(v) for k, v in r.items()} for r in evaluation.to_dict("records")],
        validation=table,
        model_card=card or model.tags.get("mlflow.description") or None,
        published_with=published,
    )


def _model_version(
    tracking: registry.Tracking,
    name: str,
    version: str,
    run_id: str,
    champion: registry.ModelRef | None,
) -> m.ModelVersion:
    """A registered version with its registration time, tags and description (if readable)."""
    created, tags = None, {}
    try:
        mv = registry.client(tracking).get_model_version(name, version)
        stamp = mv.creation_timestamp
        created = pd.Timestamp(stamp, unit="ms", tz="UTC").isoformat() if stamp else None
        tags = {str(k): str(v) for k, v in (mv.tags or {}).items()}
        if mv.description:
            tags["mlflow.description"] = str(mv.description)
    except Exception:  # an unregistered or deleted version: what the manifest says is enough
        pass
    is_champion = champion is not None and (champion.name, champion.version) == (name, version)
    return m.ModelVersion(
        name=name,
        version=version,
        run_id=run_id,
        created=created,
        tags=tags,
        is_champion=is_champion,
    )


def _model_card(tracking: registry.Tracking, run_id: str) -> str | None:
    """The model card the training run logged (Markdown), if any."""
    return registry.run_text(tracking, run_id, "model_card.md")


# --- charts and the map -----------------------------------------------------------------------


def pr_svg(store: Store, config_path: Path, model_run_id: str) -> str:
    tracking = _tracking(store, config_path)
    try:
        curves = registry.run_table(tracking, model_run_id, "pr_curves")
    except Exception as exc:
        raise NotFound(f"The model run {model_run_id!r} has no precision-recall data.") from exc
    return charts.pr_curve_svg(curves)


def shap_summary_svg(store: Store, view: RankingView) -> str:
    features = features_of(view)
    shap = view.frame[["unit_code", *(shap_column(f) for f in features)]]
    year = store.panel_year(view.run.year, features)
    raw = year.values.reset_index() if year is not None else pd.DataFrame({"unit_code": []})
    return charts.shap_summary_svg(shap, raw)


def waterfall_svg(store: Store, view: RankingView, code: str) -> str:
    shap = contributions(view, code)
    year = store.panel_year(view.run.year, features_of(view))
    values = year.profile(code, None)[0] if year is not None else {}
    labels = {
        f: f"{describe(f)} = {format_value(float(v), signed='_chg' in f)}"
        if plain(v) is not None
        else f"{describe(f)} = missing"
        for f, v in ((f, values.get(f)) for f in shap.index)
    }
    row = view.frame.iloc[view.position[code]]
    base, risk = plain(row.get(SHAP_BASE)), plain(row.get("risk"))
    return charts.shap_waterfall_svg(shap, float(base or 0.0), labels, risk=risk)


def history_svg(store: Store, view: RankingView, code: str, kind: str) -> str:
    name = view.records[view.position[code]]["unit_name"] or code
    if kind == "lbm":
        points = pd.DataFrame(lbm_history(store, code), columns=["as_of_year", "lbm"])
        frame = points.rename(columns={"as_of_year": "x", "lbm": "y"})
        return charts.history_svg(
            frame, ylabel="Leefbarometer score", title=f"{name}: Leefbarometer", salt="lbm"
        )
    points = pd.DataFrame(risk_history(store, code), columns=["as_of_year", "risk", "latest"])
    frame = points.rename(columns={"as_of_year": "x", "risk": "y", "latest": "current"})
    return charts.history_svg(
        frame, ylabel="risk of a decline", title=f"{name}: risk", percent=True, salt="risk"
    )


def map_json(
    view: RankingView, geometries: dict[str, dict[str, Any]], gemeente: str | None
) -> bytes:
    features = []
    for record in view.records:
        if gemeente and record["gemeente_code"] != gemeente:
            continue
        geometry = geometries.get(record["unit_code"])
        if geometry is None:
            continue
        risk = record["risk"]
        props = {k: record[k] for k in ("unit_code", "unit_name", "gemeente_code", "gemeente_name")}
        props.update(rank=record["rank"], risk=round(risk, 6) if risk is not None else None)
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    body = {
        "type": "FeatureCollection",
        "as_of_year": view.run.year,
        "run_id": view.run.run_id,
        "n_units": len(view.records),
        "features": features,
    }
    return json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _text(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)

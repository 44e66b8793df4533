"""The model tab of the API: which model scored a run, how good it was in words and figures,
its card, and its charts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.describe import feature_label
from ml import modelcard, registry
from ml.store import sqlite_file
from models.explain import shap_column
from serving import apimodels as m
from serving import charts
from serving import context as ctx
from serving.apistore import NotFound, RankingView, Store
from serving.apiviews import features_of
from serving.formatting import Lang
from serving.report import validation_headers, validation_rows
from wijkradar.catalog import plain


def _tracking(store: Store, config_path: Path) -> registry.Tracking:
    from wijkradar.config import load_config
    from wijkradar.errors import WijkradarError

    try:
        tracking = registry.tracking_for(store.ws, load_config(config_path))
    except WijkradarError as exc:
        raise NotFound(f"No tracking settings: {exc}") from exc
    db = sqlite_file(tracking.uri)
    if db is not None and not db.is_file():  # opening a missing SQLite store creates it
        raise NotFound(f"No MLflow store at {db}. Run `wijkradar train` first.")
    return tracking


def model_info(store: Store, config_path: Path, as_of: int | None, lang: Lang) -> m.ModelInfo:
    """The champion, or with ``as_of`` the model behind that year's latest run; its model
    card in ``lang`` (``model_card``) rendered to HTML (no raw HTML passes) and its quality
    in plain words."""
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
    card = store.derived.get(("card", *key, lang),
                             lambda: model_card(tracking, model.run_id, lang))
    table = None
    if not evaluation.empty and {"test_year", "model"} <= set(evaluation.columns):
        rows = validation_rows(evaluation, lang)
        table = m.ValidationTable(
            headers=validation_headers(lang),
            rows=[r["cells"] for r in rows],
            primary=[bool(r["primary"]) for r in rows],
        )
    card = card or model.tags.get("mlflow.description") or None
    quality = ctx.latest_quality(evaluation)
    return m.ModelInfo(
        available=True,
        message=message,
        model=model,
        champion=champion,
        evaluation=[{k: plain(v) for k, v in r.items()} for r in evaluation.to_dict("records")],
        validation=table,
        model_card=card,
        model_card_html=card_html(card) if card else None,
        quality_text=ctx.quality_text(quality.top_frac, quality.top_hit_rate, quality.base_rate,
                                      lang) if quality is not None else None,
        quality_year=quality.test_year if quality is not None else None,
        published_with=published,
    )


def card_html(markdown: str) -> str:
    """Markdown as HTML (CommonMark with tables); raw HTML in it is shown as text, and links
    to javascript: and the like are not made."""
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown))


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


def model_card(tracking: registry.Tracking, run_id: str, lang: Lang = "nl") -> str | None:
    """The model card the training run logged (Markdown), in ``lang`` when it logged one in
    that language, else in the other (a run logged before the card had a Dutch and an English
    file: its English card); None without one (``ml.modelcard.logged_card``)."""
    card = modelcard.logged_card(lambda name: registry.run_text(tracking, run_id, name), lang)
    return card.markdown if card is not None else None


# --- charts and the map -----------------------------------------------------------------------


def pr_svg(store: Store, config_path: Path, model_run_id: str) -> str:
    tracking = _tracking(store, config_path)
    try:
        curves = registry.run_table(tracking, model_run_id, "pr_curves")
    except Exception as exc:
        raise NotFound(f"The model run {model_run_id!r} has no precision-recall data.") from exc
    return charts.pr_curve_svg(curves)


def shap_summary_svg(store: Store, view: RankingView, lang: Lang) -> str:
    """The SHAP summary with the features in words (the chart's rows are named by label)."""
    features = features_of(view)
    terms = store.terms()
    labels = {f: feature_label(f, lang, terms) for f in features}
    shap = view.frame[["unit_code", *(shap_column(f) for f in features)]]
    shap = shap.rename(columns={shap_column(f): labels[f] for f in features})
    year = store.panel_year(view.run.year, features)
    raw = year.values.reset_index() if year is not None else pd.DataFrame({"unit_code": []})
    return charts.shap_summary_svg(shap, raw.rename(columns=labels))

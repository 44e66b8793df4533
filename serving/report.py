"""The self-contained static HTML report: header, validation, drivers and the full ranking.

``render_report`` returns one HTML document that opens offline: CSS and JavaScript are
inlined from ``serving/templates``, charts are inline SVG, and the ranking of all units is
embedded as a JSON blob (``<script type="application/json" id="ranking-data">``) that a small
vanilla script filters, sorts and paginates. Everything is HTML-escaped by jinja2 autoescape;
the JSON blob escapes ``<``, ``>`` and ``&`` so no data can close its script element.

The analysts' page (``serving.api``, ``serving/web``) shares the ranking controls and table
head (``templates/ranking.html``, ``TABLE_HEADERS`` / ``table_headers(lang)``), the row
formatting (``templates/format.js``), the stylesheet and the charts, so the two never disagree.

The report speaks Dutch (``lang="nl"``, the default) or English. Its header names the as-of
year, the knowledge date, the measurement predicted (``serving.context``), the base rate, the
risk bands and the model's quality in plain words; drivers are sentences
(``serving.drivers``) and charts name features in words.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd
from markupsafe import Markup

from features.describe import Extra
from ml.words import value_word
from serving import charts
from serving import context as ctx
from serving.exports import driver_phrases
from serving.exports import knowledge_line as knowledge_words
from serving.formatting import Lang, check_lang, count, number, times
from serving.ranking import RANKING_ID_COLUMNS
from wijkradar.records import Manifest

HORIZON_PHRASE = "risk of a livability decline by the next Leefbarometer measurement"
RANKING_COLUMNS = RANKING_ID_COLUMNS  # the published contract (serving.ranking)
# The columns of each row in the embedded JSON blob, in this order.
TABLE_COLUMNS = (
    "rank",
    "unit_code",
    "unit_name",
    "gemeente_code",
    "gemeente_name",
    "risk",
    "rank_in_gemeente",
    "top_drivers",
)
# The ranking table's header cells, shared with the analysts' page (``serving/web``): key (a
# column of the data), label, type (how it sorts), the first sort direction, and CSS class.
TABLE_HEADERS: tuple[dict[str, str], ...] = (
    {"key": "rank", "label": "rank", "type": "number", "first": "", "cls": ""},
    {"key": "unit_code", "label": "code", "type": "text", "first": "", "cls": ""},
    {"key": "unit_name", "label": "name", "type": "text", "first": "", "cls": ""},
    {"key": "gemeente_name", "label": "gemeente", "type": "text", "first": "", "cls": ""},
    {"key": "risk", "label": "risk", "type": "number", "first": "desc", "cls": "num"},
    {
        "key": "rank_in_gemeente",
        "label": "rank in gemeente",
        "type": "number",
        "first": "",
        "cls": "num",
    },
    {"key": "top_drivers", "label": "top drivers", "type": "text", "first": "", "cls": ""},
)
HEADER_LABELS: dict[Lang, dict[str, str]] = {  # TABLE_HEADERS' labels by language
    "nl": {"rank": "rang", "unit_code": "code", "unit_name": "naam", "gemeente_name": "gemeente",
           "risk": "risico", "relative": "t.o.v. gemiddelde", "band": "risicoband",
           "rank_in_gemeente": "rang in gemeente", "top_drivers": "belangrijkste factoren"},
    "en": {"rank": "rank", "unit_code": "code", "unit_name": "name", "gemeente_name": "gemeente",
           "risk": "risk", "relative": "vs. average", "band": "risk band",
           "rank_in_gemeente": "rank in gemeente", "top_drivers": "top drivers"},
}
# The report's table adds the risk relative to the base rate and the band after the risk.
REPORT_COLUMNS = (*TABLE_COLUMNS, "relative", "band", "band_key")
_REPORT_EXTRA_HEADERS = (
    {"key": "relative", "type": "number", "first": "desc", "cls": "num"},
    {"key": "band", "type": "text", "first": "", "cls": "band"},
)
EVALUATION_COLUMNS = ("test_year", "model", "n", "base_rate", "roc_auc", "pr_auc")
EVALUATION_METRICS = ("base_rate", "roc_auc", "pr_auc", "precision_at_10", "recall_at_10")
MANIFEST_KEYS = (
    "model_name",
    "model_version",
    "run_id",
    "panel_fingerprint",
    "as_of_year",
    "created",
    "row_count",
)
MISSING = "–"
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TEMPLATE_PACKAGE = "serving"
_ASSET_FOLDERS = ("templates", "web")


@dataclass(frozen=True)
class ReportInputs:
    ranking: pd.DataFrame  # one row per unit: RANKING_COLUMNS + shap__<feature> + shap__base
    features: pd.DataFrame  # unit_code + the model's feature columns (raw values)
    evaluation: pd.DataFrame  # test_year, model, n, base_rate, roc_auc, pr_auc, precision_at_10..
    pr_curves: pd.DataFrame  # model, y_true (0/1), score: held-out predictions, last fold
    manifest: Manifest  # of the run the ranking is from
    delta: float | None = None  # the label's score drop (LabelConfig.delta); None: unnamed
    horizon: int | None = None  # years to the measurement predicted (context.horizon_of)
    label_kind: str = "score_drop"  # LabelConfig.kind
    max_class: int = 3  # LabelConfig.max_class (kind 'development_class')
    terms: Extra | None = None  # the panel's mapped columns (features.describe.mapped_terms)


def table_headers(lang: Lang = "nl") -> tuple[dict[str, str], ...]:
    """``TABLE_HEADERS`` with their labels in ``lang``."""
    words = HEADER_LABELS[check_lang(lang)]
    return tuple({**h, "label": words[h["key"]]} for h in TABLE_HEADERS)


def render_report(inputs: ReportInputs, lang: Lang = "nl") -> str:
    """The complete HTML document in ``lang``. Pure: reads only the packaged templates."""
    lang = check_lang(lang)
    _require(inputs.ranking, RANKING_COLUMNS, "ranking")
    _require(inputs.evaluation, EVALUATION_COLUMNS, "evaluation")
    _require(inputs.features, ("unit_code",), "features")
    ranking = sort_ranking(inputs.ranking)
    shap_columns = [c for c in ranking.columns if str(c).startswith(charts.SHAP_PREFIX)]
    shap = ranking[["unit_code", *shap_columns]]
    header = header_fields(inputs.manifest)
    gemeenten = gemeente_options(ranking)
    risk_context = risk_in_context(inputs, ranking, lang)
    headers = table_headers(lang)
    words = HEADER_LABELS[lang]
    extra = tuple({**h, "label": words[h["key"]]} for h in _REPORT_EXTRA_HEADERS)
    context = {
        "lang": lang,
        "horizon": HORIZON_PHRASE,
        "header": header,
        "knowledge": knowledge_words(
            inputs.manifest.knowledge_date, inputs.manifest.sources, lang
        ),
        "title": (
            f"wijkradar — leefbaarheidsrisico {header['as_of_year']}" if lang == "nl"
            else f"wijkradar — livability risk {header['as_of_year']}"
        ),
        "n_units": count(len(ranking), lang),
        "n_gemeenten": count(len(gemeenten), lang),
        "gemeenten": gemeenten,
        "validation_headers": validation_headers(lang),
        "validation_rows": validation_rows(inputs.evaluation, lang),
        "pr_svg": Markup(charts.pr_curve_svg(inputs.pr_curves)),
        "shap_summary_svg": Markup(charts.shap_summary_svg(
            shap, inputs.features, lang=lang, extra=inputs.terms)),
        "shap_importance_svg": Markup(charts.shap_importance_svg(
            shap, lang=lang, extra=inputs.terms)),
        "base_value": _base_value(ranking, lang),
        "ranking_json": Markup(ranking_json(report_rows(inputs, ranking, lang), REPORT_COLUMNS)),
        "table_headers": (*headers[:5], *extra, *headers[5:]),
        "css": Markup(_asset("report.css")),
        "js": Markup(_asset("format.js") + "\n" + _asset("report.js")),
        **risk_context,
    }
    return jinja_env().get_template("templates/report.html").render(**context)


def risk_in_context(inputs: ReportInputs, ranking: pd.DataFrame, lang: Lang) -> dict[str, Any]:
    """The report's context: what is predicted, the base rate, the bands (with their unit
    counts) and the quality sentence (None without an evaluation of the primary model)."""
    as_of = int(inputs.manifest.as_of_year)
    year = ctx.measurement_year(as_of, inputs.horizon) if inputs.horizon else None
    base_rate = ctx.base_rate_of(ranking["risk"]) if len(ranking) else None
    keys = ctx.bands_of(ranking["risk"], base_rate) if base_rate else []
    bands = [
        {"key": b.key, "label": ctx.band_label(b, lang), "colour": b.colour,
         "text": ctx.band_description(b, lang), "n": count(keys.count(b.key), lang)}
        for b in ctx.BANDS
    ]
    quality = ctx.latest_quality(inputs.evaluation, charts.PRIMARY_MODEL)
    named = inputs.delta is not None or inputs.label_kind == "development_class"
    delta = inputs.delta if inputs.delta is not None else float("nan")
    label = {"kind": inputs.label_kind, "max_class": inputs.max_class}
    return {
        "target": ctx.target_text(delta, year, lang, **label) if named else None,
        "context_line": ctx.context_line(
            as_of, inputs.manifest.knowledge_date, year, delta, lang, **label
        ) if named else None,
        "measurement_year": year,
        "base_rate": ctx.base_rate_text(base_rate, lang) if base_rate else None,
        "bands": bands,
        "quality": ctx.quality_text(
            quality.top_frac, quality.top_hit_rate, quality.base_rate, lang
        ) if quality else None,
        "quality_year": quality.test_year if quality else None,
    }


def report_rows(inputs: ReportInputs, ranking: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The rows of the report's table: the drivers as sentences in ``lang`` (from the
    contributions and the values the model saw), the risk relative to the base rate ('3,1×')
    and the band."""
    rows = ranking.copy()
    if any(str(c).startswith(charts.SHAP_PREFIX) for c in rows.columns) and len(rows):
        rows["top_drivers"] = driver_phrases(rows, inputs.features, lang=lang, extra=inputs.terms)
    if len(rows):
        base_rate = ctx.base_rate_of(rows["risk"])
        rows["relative"] = [
            times(ctx.relative_risk(r, base_rate), lang) if pd.notna(r) else None
            for r in rows["risk"]
        ]
        rows["band_key"] = ctx.bands_of(rows["risk"], base_rate)
        rows["band"] = [
            ctx.band_label(ctx.BAND_BY_KEY[k], lang) if k else None for k in rows["band_key"]
        ]
    else:
        rows["relative"], rows["band"], rows["band_key"] = [], [], []
    return rows


def sort_ranking(ranking: pd.DataFrame) -> pd.DataFrame:
    """The ranking in national rank order (ties by unit code), with a fresh index."""
    return ranking.sort_values(["rank", "unit_code"], kind="mergesort").reset_index(drop=True)


def ranking_json(ranking: pd.DataFrame, columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """The rows of the ranking table as JSON safe to place inside a ``<script>`` element.

    Shape: ``{"columns": [...columns], "rows": [[...], ...]}`` in the frame's row order;
    missing values are ``null``, ``risk`` is a probability 0..1. ``<``, ``>``, ``&`` and the
    JavaScript line separators are written as ``\\uXXXX`` escapes, which JSON parsers decode.
    """
    rows = [
        [_json_value(v) for v in record]
        for record in ranking[list(columns)].itertuples(index=False, name=None)
    ]
    text = json.dumps(
        {"columns": list(columns), "rows": rows},
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    )
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def header_fields(manifest: Manifest) -> dict[str, str]:
    """The manifest fields shown in the header, as display strings."""
    out = {key: _display(getattr(manifest, key)) for key in MANIFEST_KEYS}
    fingerprint = out["panel_fingerprint"]
    out["panel_fingerprint_short"] = fingerprint[:12] if fingerprint != MISSING else fingerprint
    if out["row_count"] != MISSING:
        with contextlib.suppress(ValueError):
            out["row_count"] = f"{int(float(out['row_count'])):,}".replace(",", "\u202f")
    return out


def knowledge_line(manifest: Manifest) -> str | None:
    """What the scored rows knew, in English: 'data known on 2025-07-01: Leefbarometer 2024,
    CBS 2024, CBS income 2022'; None for a run without a knowledge date (no calendar)."""
    if manifest.knowledge_date is None:
        return None
    used = ", ".join(f"{s.source} {s.reference_year}" for s in manifest.sources)
    return f"data known on {manifest.knowledge_date}" + (f": {used}" if used else "")


def gemeente_options(ranking: pd.DataFrame) -> list[tuple[str, str]]:
    """``(gemeente_code, gemeente_name)`` for the filter, sorted by name (then code)."""
    pairs = ranking[["gemeente_code", "gemeente_name"]].drop_duplicates()
    options = {
        (_display(code), _display(name)) for code, name in pairs.itertuples(index=False, name=None)
    }
    return sorted(options, key=lambda p: (p[1].casefold(), p[0]))


def validation_headers(lang: Lang = "nl") -> list[str]:
    first = ["testjaar", "model", "n"] if lang == "nl" else ["test year", "model", "n"]
    return [*first, *(value_word(k, lang) for k in EVALUATION_METRICS)]


def validation_rows(evaluation: pd.DataFrame, lang: Lang = "nl") -> list[dict[str, Any]]:
    """One display row per (test year, model): LightGBM first within a year, models named in
    words (``ml.words.value_word``), metrics to 3 decimals in ``lang``."""
    if evaluation.empty:
        return []
    models = charts.order_models(evaluation["model"])
    order = {m: i for i, m in enumerate(models)}
    frame = evaluation.assign(
        _order=evaluation["model"].astype(str).map(order),
        _year=pd.to_numeric(evaluation["test_year"], errors="coerce"),
    ).sort_values(["_year", "_order"], kind="mergesort")
    rows: list[dict[str, Any]] = []
    for record in frame.to_dict(orient="records"):
        cells = [
            _display(record.get("test_year")),
            value_word(_display(record.get("model")), lang),
            _count(record.get("n"), lang),
            *(_metric(record.get(key), lang) for key in EVALUATION_METRICS),
        ]
        rows.append({"primary": str(record["model"]) == charts.PRIMARY_MODEL, "cells": cells})
    return rows


# ---------------------------------------------------------------------------------------------


def jinja_env() -> Any:
    """The template environment of the report and the page: names are package paths such as
    ``templates/report.html`` or ``web/page.html``; autoescape on, undefined names are errors."""
    from jinja2 import Environment, FunctionLoader, StrictUndefined

    return Environment(
        loader=FunctionLoader(package_text),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def package_text(name: str) -> str:
    """A text file of the ``serving`` package, e.g. ``templates/report.css``."""
    folder, _, file = name.partition("/")
    if folder not in _ASSET_FOLDERS or not file or "/" in file or file.startswith("."):
        raise ValueError(f"No packaged asset {name!r}.")
    return resources.files(_TEMPLATE_PACKAGE).joinpath(folder, file).read_text("utf-8")


def _asset(name: str) -> str:
    text = package_text(f"templates/{name}")
    if name.endswith((".js", ".css")) and "</" in text:
        raise ValueError(f"templates/{name} must not contain '</': it is inlined into HTML.")
    return text


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}.")


def _base_value(ranking: pd.DataFrame, lang: Lang = "en") -> str:
    column = f"{charts.SHAP_PREFIX}base"
    if column not in ranking.columns or ranking.empty:
        return MISSING
    value = pd.to_numeric(ranking[column], errors="coerce").mean()
    return MISSING if pd.isna(value) else number(float(value), 3, lang)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _json_value(value: Any) -> Any:
    if _is_missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isinf(value) else round(value, 6)
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def _display(value: Any) -> str:
    if _is_missing(value):
        return MISSING
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _metric(value: Any, lang: Lang) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return MISSING
    return MISSING if math.isnan(x) else number(x, 3, lang)


def _count(value: Any, lang: Lang) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return MISSING
    return MISSING if math.isnan(x) else count(x, lang)

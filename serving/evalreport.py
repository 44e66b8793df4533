"""The evaluation report of a training run: metrics with intervals per fold and pooled, the
calibration choice and reliability, the bias audit, SHAP summary and importance, and the model
card. One self-contained HTML file built from what the run logged in MLflow (the charts are the
files ``serving.charts.training_charts`` drew for the run, which name features in words). The
model card's Markdown is rendered to HTML by markdown-it (raw HTML in it is escaped).

In Dutch by default (``lang="en"``: English): captions, column headers, the names of metrics
and models, yes/no, and numbers with a decimal comma (``serving.formatting``). Columns and
values it has no words for are shown as logged; the bias audit's notes and reasons are
said in words (``audit_note``, ``audit_reasons``). The model card is shown as training logged
it (in English).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import pandas as pd

from ml.fairness import REASON_SEPARATOR, flag_reasons, note_kind
from serving.formatting import Lang, check_lang, count, number

Words = Mapping[str, tuple[str, str]]  # key -> (Dutch, English)

CHARTS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("pr_curve.svg", ("Precisie en recall in de laatste toets",
                      "Precision-recall on the latest fold")),
    ("pr_auc_intervals.svg", ("PR-AUC met 95%-intervallen (laatste toets)",
                              "PR-AUC with 95 % intervals (latest fold)")),
    ("reliability.svg", ("Betrouwbaarheid van de kansen (laatste toets)",
                         "Reliability (latest fold)")),
    ("shap_summary.svg", ("SHAP-overzicht", "SHAP summary")),
    ("importance.svg", ("Belang van de kenmerken (gemiddelde |SHAP|)",
                        "Feature importance (mean |SHAP|)")),
)
TABLES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("metrics_per_fold", ("Maten per toets, 95%-bootstrapintervallen over de eenheden",
                          "Metrics per fold, 95 % bootstrap intervals over units")),
    ("metrics_pooled", ("Maten over alle toetsen samen", "Metrics over all folds pooled")),
    ("calibration", ("Kalibratiemethoden, getoetst buiten de trainingsperiode (Brier, log-loss)",
                     "Calibration methods scored out of time (Brier, log-loss)")),
    ("bias_audit", ("Toets op ongelijke behandeling (top 10% gemarkeerd; verhoudingen tot de "
                    "referentiegroep)",
                    "Bias audit (top 10 % flagged; ratios to the reference group)")),
    ("search", ("Zoeken naar modelinstellingen", "Model search")),
)
HEADERS: Words = {
    "test_year": ("toetsjaar", "test year"),
    "fold": ("toets", "fold"),
    "model": ("model", "model"),
    "metric": ("maat", "metric"),
    "value": ("waarde", "value"),
    "low": ("ondergrens (95%)", "low (95 %)"),
    "high": ("bovengrens (95%)", "high (95 %)"),
    "method": ("methode", "method"),
    "n_train": ("eenheden training", "training units"),
    "n_test": ("eenheden toets", "test units"),
    "brier": ("Brier-score", "Brier score"),
    "log_loss": ("log-loss", "log loss"),
    "attribute": ("kenmerk", "attribute"),
    "group": ("groep", "group"),
    "n": ("eenheden", "units"),
    "n_positive": ("gedaald", "declined"),
    "n_flagged": ("gemarkeerd", "flagged"),
    "prevalence": ("aandeel gedaald", "prevalence"),
    "predicted_positive_rate": ("aandeel gemarkeerd", "share flagged"),
    "share_of_flagged": ("aandeel van alle gemarkeerden", "share of all flagged"),
    "recall": ("recall", "recall"),
    "fpr": ("vals-positief", "false positive rate"),
    "fnr": ("vals-negatief", "false negative rate"),
    "precision": ("precisie", "precision"),
    "is_reference": ("referentiegroep", "reference group"),
    "flagged": ("opvallend", "flagged"),
    "flag_reasons": ("waarom opvallend", "why flagged"),
    "note": ("toelichting", "note"),
}
RATIO_SUFFIX = ("_ratio", (" t.o.v. referentie", " ratio"))
VALUES: Words = {
    "lightgbm": ("LightGBM", "LightGBM"),
    "logistic": ("logistische regressie", "logistic regression"),
    "last_change": ("laatste verandering", "last change"),
    "base_rate": ("basiskans", "base rate"),
    "roc_auc": ("ROC-AUC", "ROC-AUC"),
    "pr_auc": ("PR-AUC", "PR-AUC"),
    "brier": ("Brier-score", "Brier score"),
    "neighbours_level": ("niveau van de buren", "neighbours' level"),
    "gemeente_size": ("gemeentegrootte (inwoners)", "gemeente size (inhabitants)"),
    "urbanity": ("stedelijkheid", "urbanity"),
    "corporation_share": ("aandeel corporatiewoningen", "share of corporation dwellings"),
    "krachtwijk": ("krachtwijk", "krachtwijk"),
    "low": ("laag", "low"),
    "mid": ("midden", "mid"),
    "high": ("hoog", "high"),
    "unknown": ("onbekend", "unknown"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "none": ("geen", "none"),
    "platt": ("Platt", "Platt"),
    "isotonic": ("isotoon", "isotonic"),
}
# The bias audit's notes by kind (``ml.fairness.NOTES``) and its reasons, in words.
AUDIT_NOTES: Words = {
    "too_small": ("minder dan {n} eenheden: geen verhoudingen", "fewer than {n} units: no ratios"),
    "no_positives": ("geen gedaalde eenheden: geen verhoudingen",
                     "no declined units: no ratios"),
    "reference_unusable": ("referentiegroep {group} te klein of zonder gedaalde eenheden",
                           "reference group {group} too small or without declined units"),
    "reference": ("referentiegroep", "reference group"),
}
TOP_METRICS = (("precision_at_", ("precisie in top {k}%", "precision in the top {k} %")),
               ("recall_at_", ("recall in top {k}%", "recall in the top {k} %")))


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "nl" else pair[1]


def header(column: str, lang: Lang = "nl") -> str:
    """A logged table's column in words (as logged when there are none)."""
    if column in HEADERS:
        return _pick(HEADERS[column], lang)
    suffix, words = RATIO_SUFFIX
    base = column.removesuffix(suffix)
    if column.endswith(suffix) and base in HEADERS:
        return _pick(HEADERS[base], lang) + _pick(words, lang)
    return column


def value_word(value: str, lang: Lang = "nl") -> str:
    """A metric's, model's or method's name in words (as logged when there are none)."""
    if value in VALUES:
        return _pick(VALUES[value], lang)
    for prefix, words in TOP_METRICS:
        k = value.removeprefix(prefix)
        if value.startswith(prefix) and k.isdigit():
            return _pick(words, lang).format(k=k)
    return value


def _cell(value: object, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return value_word("yes" if value else "no", lang)
    if isinstance(value, int):
        return count(value, lang) if abs(value) >= 10_000 else str(value)  # years stay 2016
    if isinstance(value, float):
        return number(value, 3, lang)
    return value_word(str(value), lang)


def audit_note(text: str, lang: Lang = "nl") -> str:
    """A bias audit's ``note`` in words ("" stays ""; a note of no known kind as logged)."""
    kind = note_kind(text) if text else None
    if kind is None:
        return text
    name, filled = kind
    if "group" in filled:
        filled["group"] = value_word(filled["group"], lang)
    return _pick(AUDIT_NOTES[name], lang).format(**filled)


def audit_reasons(text: str, lang: Lang = "nl") -> str:
    """A bias audit's ``flag_reasons`` in words: 'vals-positief t.o.v. referentie 0,62 < 0,8'."""
    return REASON_SEPARATOR.join(
        f"{header(r.rate + RATIO_SUFFIX[0], lang)} {number(r.ratio, 2, lang)} "
        f"{'<' if r.below else '>'} {number(r.limit, 2, lang)}"
        for r in flag_reasons(text)
    )


COLUMN_TEXT: Mapping[str, Callable[[str, Lang], str]] = {
    "note": audit_note, "flag_reasons": audit_reasons,
}


def _table(df: pd.DataFrame, lang: Lang) -> str:
    heads = "".join(f"<th>{html.escape(header(str(c), lang))}</th>" for c in df.columns)
    texts = [COLUMN_TEXT.get(str(c)) for c in df.columns]

    def cell(value: object, text: Callable[[str, Lang], str] | None) -> str:
        if text is not None and isinstance(value, str):
            return text(value, lang)
        return _cell(value, lang)

    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(v, t))}</td>" for v, t in
                         zip(row, texts, strict=True)) + "</tr>"
        for row in df.astype(object).itertuples(index=False, name=None)
    )
    return f'<table class="data"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>'


def markdown_html(text: str) -> str:
    """Markdown as HTML (CommonMark with tables); raw HTML in the text is escaped."""
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def title_of(name: str | None, version: str | None, run_id: str, lang: Lang = "nl") -> str:
    """The report's title: of a registered version, else of a training run."""
    if name is not None and version is not None:
        return (f"Evaluatie van {name} versie {version}" if lang == "nl"
                else f"Evaluation of {name} version {version}")
    return f"Evaluatie van run {run_id}" if lang == "nl" else f"Evaluation of run {run_id}"


def render(
    run_id: str,
    title: str,
    table: Callable[[str], pd.DataFrame | None],
    text: Callable[[str], str | None],
    lang: Lang = "nl",
) -> str:
    """The report; ``table(name)`` and ``text(name)`` fetch the run's artifacts."""
    lang = check_lang(lang)
    sections = []
    for name, caption in CHARTS:
        svg = text(name)
        if svg:
            sections.append(f'<figure id="{name[:-4]}">{svg}<figcaption>'
                            f"{html.escape(_pick(caption, lang))}</figcaption></figure>")
    for name, caption in TABLES:
        df = table(name)
        if df is not None and not df.empty:
            sections.append(f'<h2 id="{name}">{html.escape(_pick(caption, lang))}</h2>'
                            f"{_table(df, lang)}")
    card = text("model_card.md")
    if card:
        heading = ("Modelkaart (zoals bij de training vastgelegd, in het Engels)" if lang == "nl"
                   else "Model card")
        sections.append(f'<section id="model-card"><h2>{html.escape(heading)}</h2>'
                        f"{markdown_html(card)}</section>")
    run_word = "MLflow-run" if lang == "nl" else "MLflow run"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table.data{{border-collapse:collapse;font-size:12px;margin-bottom:2em}}
table.data td,table.data th{{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}}
figure{{display:inline-block;vertical-align:top;margin:0 1em 1em 0}}
figure svg{{max-width:560px;height:auto}} pre{{white-space:pre-wrap;font-size:12px}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{run_word} <code>{html.escape(run_id)}</code></p>
{"".join(sections)}</body></html>
"""

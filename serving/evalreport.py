"""The evaluation report of a training run: metrics with intervals per fold and pooled, the
calibration choice and reliability, the bias audit, SHAP summary and importance, and the model
card. One self-contained HTML file built from what the run logged in MLflow (the charts are the
files ``serving.charts.training_charts`` drew for the run, which name features in words). The
model card's Markdown is rendered to HTML by markdown-it (raw HTML in it is escaped).

In Dutch by default (``lang="en"``: English): captions, column headers, the names of metrics
and models, yes/no, and numbers with a decimal comma (``serving.formatting``). Columns and
values it has no words for are shown as logged; the bias audit's notes and reasons are
said in words (``ml.words.audit_note``, ``audit_reasons``). That vocabulary is ``ml.words``,
which the model card says its tables with too. The model card is the one training logged in
the report's language (``ml.modelcard.logged_card``); a run logged before the card had a Dutch
and an English file has only its English card, which the Dutch report shows with a note.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

from ml.modelcard import logged_card
from ml.words import column_cell, header, pick
from serving.formatting import Lang, check_lang

__all__ = ["CARD_FALLBACK", "CHARTS", "TABLES", "markdown_html", "render", "title_of"]

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
# Said above a card shown in the other language: a run logged before the card had a file
# in each language has only its English card (and a run could lack one of the two files).
CARD_FALLBACK = (
    "Deze run is vastgelegd voordat de modelkaart ook in het Nederlands werd geschreven: "
    "hieronder staat de Engelse modelkaart, zoals bij de training vastgelegd.",
    "This run logged no English model card: below is the one it logged, in Dutch.",
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


def _table(df: pd.DataFrame, lang: Lang) -> str:
    columns = [str(c) for c in df.columns]
    heads = "".join(f"<th>{html.escape(header(c, lang))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(column_cell(c, v, lang))}</td>" for c, v in
                         zip(columns, row, strict=True)) + "</tr>"
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
                            f"{html.escape(pick(caption, lang))}</figcaption></figure>")
    for name, caption in TABLES:
        df = table(name)
        if df is not None and not df.empty:
            sections.append(f'<h2 id="{name}">{html.escape(pick(caption, lang))}</h2>'
                            f"{_table(df, lang)}")
    card = logged_card(text, lang)
    if card is not None:
        heading = "Modelkaart" if lang == "nl" else "Model card"
        note = (f'<p class="note">{html.escape(pick(CARD_FALLBACK, lang))}</p>'
                if card.lang != lang else "")
        sections.append(f'<section id="model-card"><h2>{html.escape(heading)}</h2>{note}'
                        f"{markdown_html(card.markdown)}</section>")
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

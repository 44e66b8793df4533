"""The evaluation report of a training run: metrics with intervals per fold and pooled, the
calibration choice and reliability, the bias audit, SHAP summary and importance, and the model
card. One self-contained HTML file built from what the run logged in MLflow (the charts are the
files ``serving.charts.training_charts`` drew for the run, which name features in words). The
model card's Markdown is rendered to HTML by markdown-it (raw HTML in it is escaped)."""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

CHARTS = (
    ("pr_curve.svg", "Precision-recall on the latest fold"),
    ("pr_auc_intervals.svg", "PR-AUC with 95 % intervals (latest fold)"),
    ("reliability.svg", "Reliability (latest fold)"),
    ("shap_summary.svg", "SHAP summary"),
    ("importance.svg", "Feature importance (mean |SHAP|)"),
)
TABLES = (
    ("metrics_per_fold", "Metrics per fold, 95 % bootstrap intervals over units"),
    ("metrics_pooled", "Metrics over all folds pooled"),
    ("calibration", "Calibration methods scored out of time (Brier, log-loss)"),
    ("bias_audit", "Bias audit (top 10 % flagged; ratios to the reference group)"),
    ("search", "Model search"),
)


def _table(df: pd.DataFrame) -> str:
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return shown.to_html(index=False, border=0, classes="data", escape=True)


def markdown_html(text: str) -> str:
    """Markdown as HTML (CommonMark with tables); raw HTML in the text is escaped."""
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def render(
    run_id: str,
    title: str,
    table: Callable[[str], pd.DataFrame | None],
    text: Callable[[str], str | None],
) -> str:
    """The report; ``table(name)`` and ``text(name)`` fetch the run's artifacts."""
    sections = []
    for name, caption in CHARTS:
        svg = text(name)
        if svg:
            sections.append(f'<figure id="{name[:-4]}">{svg}<figcaption>{html.escape(caption)}'
                            "</figcaption></figure>")
    for name, caption in TABLES:
        df = table(name)
        if df is not None and not df.empty:
            sections.append(f'<h2 id="{name}">{html.escape(caption)}</h2>{_table(df)}')
    card = text("model_card.md")
    if card:
        sections.append(f'<section id="model-card">{markdown_html(card)}</section>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table.data{{border-collapse:collapse;font-size:12px;margin-bottom:2em}}
table.data td,table.data th{{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}}
figure{{display:inline-block;vertical-align:top;margin:0 1em 1em 0}}
figure svg{{max-width:560px;height:auto}} pre{{white-space:pre-wrap;font-size:12px}}</style>
</head><body><h1>{html.escape(title)}</h1><p>MLflow run <code>{html.escape(run_id)}</code></p>
{"".join(sections)}</body></html>
"""

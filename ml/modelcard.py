"""The model card: what the model is for, what it was trained on, how good it is (with
intervals), whom it may miss (the bias audit), and its known limits. Rendered as Markdown and
as HTML from the same content. Features are named in words, in Dutch, grouped by policy domain
(``features.describe``, ``features.domains``), never by their codes."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from features.describe import declared, feature_label
from features.domains import Domain, domain_of

LIMITS = (
    "Predicts a decline of the Leefbarometer score by the next measurement; it says nothing "
    "about the size of the decline or about livability as residents experience it.",
    "Trained on past periods: a new policy or a shock that the data have not seen (a "
    "pandemic, a new allocation rule) can change what drives decline.",
    "SHAP contributions explain the model, not the world: a driver with a large contribution "
    "is associated with the risk in this model, which is not proof that changing it would "
    "change the outcome.",
    "Units whose codes changed are harmonised through the crosswalk; areas that were split "
    "carry weighted averages of their parent's history.",
    "Features with many missing values (small units, secret CBS cells) make a unit's risk "
    "less certain; such units are flagged in the outputs.",
)


@dataclass(frozen=True)
class ModelCard:
    name: str
    version: str
    run_id: str
    cutoff: int
    train_years: Sequence[int]
    n_train_rows: int
    n_features: int
    label: str
    calibration: str
    metrics: pd.DataFrame  # model, metric, value, low, high (the last fold)
    bias: pd.DataFrame  # attribute, group, n, ..., flagged
    params: Mapping[str, object] = field(default_factory=dict)
    limits: Sequence[str] = LIMITS
    features: Sequence[str] = ()  # the model's features (names); shown in words


def features_by_domain(features: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(domain label, the features' Dutch labels) per policy domain, in ``Domain`` order."""
    groups: dict[Domain, list[str]] = {}
    for feature in features:
        groups.setdefault(domain_of(feature), []).append(feature_label(feature, "nl"))
    return [(d.label("nl"), groups[d]) for d in Domain if d in groups]


def _in_words(value: object) -> str:
    """A bias-audit attribute or any cell: a declared feature by its Dutch label."""
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return feature_label(text, "nl") if isinstance(value, str) and declared(value) else text


def _table_md(df: pd.DataFrame, columns: Sequence[str]) -> str:
    cols = [c for c in columns if c in df.columns]
    if not cols or df.empty:
        return "_none_\n"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df[cols].itertuples(index=False):
        cells = [_in_words(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


METRIC_COLUMNS = ("model", "metric", "value", "low", "high")
BIAS_COLUMNS = (
    "attribute", "group", "n", "prevalence", "predicted_positive_rate", "recall", "fpr", "fnr",
    "predicted_positive_rate_ratio", "fpr_ratio", "fnr_ratio", "flagged",
)


def to_markdown(card: ModelCard) -> str:
    years = ", ".join(str(y) for y in card.train_years)
    flagged = card.bias[card.bias["flagged"]] if "flagged" in card.bias else card.bias.iloc[:0]
    parts = [
        f"# Model card: {card.name} version {card.version}",
        "",
        "## Intended use",
        "Rank Dutch wijken, buurten or postcode areas by the risk that their Leefbarometer "
        "score declines by the next measurement, so that municipalities and housing "
        "corporations can look first where decline is most likely, and see why (SHAP).",
        "",
        "## Data",
        f"- Training rows: {card.n_train_rows:,} (as-of years {years}; labels observed by "
        f"{card.cutoff})",
        f"- Features: {card.n_features}",
        f"- Label: {card.label}",
        f"- Calibration: {card.calibration}",
        f"- MLflow run: `{card.run_id}`",
        "",
        "## Quality on the latest out-of-time fold (95 % bootstrap intervals over units)",
        _table_md(card.metrics, METRIC_COLUMNS),
        "## Bias audit (top 10 % flagged as at risk; ratios to the largest group)",
        _table_md(card.bias, BIAS_COLUMNS),
        f"Flagged groups (a ratio outside [0.8, 1.25]): {len(flagged)}",
        "",
        *_features_md(card.features),
        "## Known limits",
        *(f"- {limit}" for limit in card.limits),
        "",
    ]
    return "\n".join(parts)


def _features_md(features: Sequence[str]) -> list[str]:
    if not features:
        return []
    lines = ["## Kenmerken per beleidsdomein (features by policy domain)"]
    for domain, labels in features_by_domain(features):
        lines.append(f"- **{domain}**: {'; '.join(labels)}")
    return [*lines, ""]


def _features_html(features: Sequence[str]) -> str:
    if not features:
        return ""
    items = "".join(
        f"<li><strong>{html.escape(domain)}</strong>: {html.escape('; '.join(labels))}</li>"
        for domain, labels in features_by_domain(features)
    )
    return f"<h2>Kenmerken per beleidsdomein (features by policy domain)</h2><ul>{items}</ul>"


def _table_html(df: pd.DataFrame, columns: Sequence[str]) -> str:
    cols = [c for c in columns if c in df.columns]
    if not cols or df.empty:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for row in df[cols].itertuples(index=False):
        cells = "".join(
            f"<td>{html.escape(_in_words(v))}</td>" for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(card: ModelCard) -> str:
    years = ", ".join(str(y) for y in card.train_years)
    limits = "".join(f"<li>{html.escape(limit)}</li>" for limit in card.limits)
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Model card: {e(card.name)} v{e(card.version)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}}
td,th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}}
th{{background:#f4f4f4}}</style></head><body>
<h1>Model card: {e(card.name)} version {e(card.version)}</h1>
<h2>Intended use</h2><p>Rank Dutch wijken, buurten or postcode areas by the risk that their
Leefbarometer score declines by the next measurement, and show why (SHAP).</p>
<h2>Data</h2><ul><li>Training rows: {card.n_train_rows:,} (as-of years {e(years)}; labels
observed by {card.cutoff})</li><li>Features: {card.n_features}</li>
<li>Label: {e(card.label)}</li><li>Calibration: {e(card.calibration)}</li>
<li>MLflow run: <code>{e(card.run_id)}</code></li></ul>
<h2>Quality on the latest out-of-time fold (95 % bootstrap intervals over units)</h2>
{_table_html(card.metrics, METRIC_COLUMNS)}
<h2>Bias audit (top 10 % flagged as at risk; ratios to the largest group)</h2>
{_table_html(card.bias, BIAS_COLUMNS)}
{_features_html(card.features)}
<h2>Known limits</h2><ul>{limits}</ul></body></html>
"""

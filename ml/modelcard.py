"""The model card: what the model is for, what it was trained on, how good it is (with
intervals), whom it may miss (the bias audit), and its known limits. In Dutch by default,
in English on request (``lang="en"``), rendered as Markdown and as HTML from the same content
(``_sections``): the card holds the facts, the words are chosen when it is written.

Tables say their columns and values with ``ml.words`` (the vocabulary of the evaluation
report), numbers with a decimal comma in Dutch (``features.numbers``). Features are named in
words, grouped by policy domain (``features.describe``, ``features.domains``), never by their
codes; a config's mapped columns by their configured labels (``ModelCard.extra``).

Training logs the Dutch card as ``model_card.md``/``.html`` and the English one as
``model_card.en.md``/``.html`` (``card_file``); ``logged_card`` picks a run's card in a language.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from features.describe import Extra, declared, feature_label
from features.domains import Domain, domain_of
from features.numbers import LANGS, Lang, check_lang, number
from ml.fairness import FOUR_FIFTHS
from ml.words import COLUMN_TEXT, column_cell, has_word, header, pick, value_word

__all__ = [
    "BIAS_COLUMNS", "LIMITS", "METRIC_COLUMNS", "TEXTS", "LabelRule", "LoggedCard", "ModelCard",
    "card_file", "card_texts", "features_by_domain", "label_text", "logged_card", "to_html",
    "to_markdown",
]

# The known limits, each as (Dutch, English).
LIMITS: tuple[tuple[str, str], ...] = (
    ("Voorspelt een daling van de Leefbarometer-score bij de volgende meting; zegt niets over "
     "de omvang van de daling of over de leefbaarheid zoals bewoners die ervaren.",
     "Predicts a decline of the Leefbarometer score by the next measurement; it says nothing "
     "about the size of the decline or about livability as residents experience it."),
    ("Getraind op eerdere perioden: nieuw beleid of een schok die de gegevens niet kennen (een "
     "pandemie, een nieuwe toewijzingsregel) kan veranderen wat tot achteruitgang leidt.",
     "Trained on past periods: a new policy or a shock that the data have not seen (a "
     "pandemic, a new allocation rule) can change what drives decline."),
    ("SHAP-bijdragen verklaren het model, niet de werkelijkheid: een factor met een grote "
     "bijdrage hangt in dit model samen met het risico, maar dat bewijst niet dat de uitkomst "
     "verandert als die factor verandert.",
     "SHAP contributions explain the model, not the world: a driver with a large contribution "
     "is associated with the risk in this model, which is not proof that changing it would "
     "change the outcome."),
    ("Eenheden waarvan de code veranderde, worden via de omzettingstabel op elkaar afgestemd; "
     "gesplitste gebieden krijgen gewogen gemiddelden van de geschiedenis van het gebied "
     "waaruit ze ontstonden.",
     "Units whose codes changed are harmonised through the crosswalk; areas that were split "
     "carry weighted averages of their parent's history."),
    ("Kenmerken met veel ontbrekende waarden (kleine eenheden, geheime CBS-cellen) maken het "
     "risico van een eenheid onzekerder; zulke eenheden zijn in de uitvoer gemarkeerd.",
     "Features with many missing values (small units, secret CBS cells) make a unit's risk "
     "less certain; such units are flagged in the outputs."),
)
# The card's own words, each as (Dutch, English); {…} is filled in by ``_sections``.
TEXTS: Mapping[str, tuple[str, str]] = {
    "title": ("Modelkaart: {name} versie {version}", "Model card: {name} version {version}"),
    "use": ("Bedoeld gebruik", "Intended use"),
    "use_text": (
        "Wijken, buurten of postcodegebieden in Nederland rangschikken naar de kans dat hun "
        "Leefbarometer-score bij de volgende meting daalt, zodat gemeenten en "
        "woningcorporaties eerst kijken waar achteruitgang het waarschijnlijkst is, en zien "
        "waarom (SHAP).",
        "Rank Dutch wijken, buurten or postcode areas by the risk that their Leefbarometer "
        "score declines by the next measurement, so that municipalities and housing "
        "corporations can look first where decline is most likely, and see why (SHAP)."),
    "data": ("Gegevens", "Data"),
    "rows": ("Trainingsrijen", "Training rows"),
    "rows_text": ("{rows} (peiljaren {years}; uitkomsten bekend tot en met {cutoff})",
                  "{rows} (as-of years {years}; labels observed by {cutoff})"),
    "features": ("Kenmerken", "Features"),
    "label": ("Uitkomst", "Label"),
    "calibration": ("Kalibratie", "Calibration"),
    "run": ("MLflow-run", "MLflow run"),
    "quality": ("Kwaliteit in de laatste toets buiten de trainingsperiode "
                "(95%-bootstrapintervallen over de eenheden)",
                "Quality on the latest out-of-time fold (95 % bootstrap intervals over units)"),
    "bias": ("Toets op ongelijke behandeling (top 10% gemarkeerd als risico; verhoudingen tot "
             "de referentiegroep)",
             "Bias audit (top 10 % flagged as at risk; ratios to the reference group)"),
    "flagged": ("Opvallende groepen (een verhouding buiten {low} tot {high}): {n}",
                "Flagged groups (a ratio outside {low} to {high}): {n}"),
    "by_domain": ("Kenmerken per beleidsdomein", "Features by policy domain"),
    "limits": ("Bekende beperkingen", "Known limits"),
    "score_drop": ("Leefbarometer-score bij de volgende meting min die bij de laatste "
                   "\u2264 {delta}",
                   "Leefbarometer score at the next measurement minus the last \u2264 {delta}"),
    "development_class": ("officiële ontwikkelingsklasse tussen de laatste en de volgende "
                          "meting \u2264 {max_class} (achteruitgang)",
                          "official development class between the last measurement and the "
                          "next \u2264 {max_class} (decline)"),
}
METRIC_COLUMNS = ("model", "metric", "value", "low", "high")
BIAS_COLUMNS = (
    "attribute", "group", "n", "prevalence", "predicted_positive_rate", "recall", "fpr", "fnr",
    "predicted_positive_rate_ratio", "fpr_ratio", "fnr_ratio", "flagged", "flag_reasons", "note",
)
# The files a training run logs its card in, per language: (Markdown, HTML).
CARD_FILES: Mapping[Lang, tuple[str, str]] = {
    "nl": ("model_card.md", "model_card.html"),
    "en": ("model_card.en.md", "model_card.en.html"),
}


@dataclass(frozen=True)
class LabelRule:
    """What counts as a decline: a score drop of at least ``delta`` (``kind="score_drop"``) or
    an official development class of at most ``max_class`` (``"development_class"``)."""

    kind: str
    delta: float = 0.0
    max_class: int = 3


@dataclass(frozen=True)
class ModelCard:
    """The card's facts, in no language: ``to_markdown`` and ``to_html`` write them in one."""

    name: str
    version: str
    run_id: str
    cutoff: int
    train_years: Sequence[int]
    n_train_rows: int
    n_features: int
    label: LabelRule
    calibration: str
    metrics: pd.DataFrame  # model, metric, value, low, high (the last fold)
    bias: pd.DataFrame  # attribute, group, n, ..., flagged
    params: Mapping[str, object] = field(default_factory=dict)
    limits: Sequence[tuple[str, str]] = LIMITS  # (Dutch, English)
    features: Sequence[str] = ()  # the model's features (names); shown in words
    extra: Extra = field(default_factory=dict)  # the mapped columns' terms (``mapped_terms``)


def label_text(rule: LabelRule, lang: Lang = "nl") -> str:
    """The label rule in words: 'Leefbarometer-score bij de volgende meting min die bij de
    laatste ≤ −0,05'."""
    if rule.kind == "development_class":
        return pick(TEXTS["development_class"], lang).format(max_class=rule.max_class)
    return pick(TEXTS["score_drop"], lang).format(delta=number(-rule.delta, lang=lang))


def features_by_domain(
    features: Sequence[str], lang: Lang = "nl", extra: Extra | None = None
) -> list[tuple[str, list[str]]]:
    """(domain label, the features' labels) per policy domain, in ``Domain`` order, in
    ``lang``."""
    groups: dict[Domain, list[str]] = {}
    for feature in features:
        groups.setdefault(domain_of(feature), []).append(feature_label(feature, lang, extra))
    return [(d.label(lang), groups[d]) for d in Domain if d in groups]


def card_file(lang: Lang = "nl", kind: str = "md") -> str:
    """The name of the file a training run logs its card in ``lang`` in (``kind`` "md" or
    "html"): 'model_card.md', 'model_card.en.html'."""
    markdown, page = CARD_FILES[check_lang(lang)]
    return markdown if kind == "md" else page


def card_texts(card: ModelCard) -> dict[str, str]:
    """The card's files as a training run logs them: Dutch in ``model_card.md``/``.html``,
    English in ``model_card.en.md``/``.en.html`` (``card_file``)."""
    texts = {}
    for lang in LANGS:
        texts[card_file(lang, "md")] = to_markdown(card, lang)
        texts[card_file(lang, "html")] = to_html(card, lang)
    return texts


@dataclass(frozen=True)
class LoggedCard:
    """A run's card as logged (Markdown) and the language it is in."""

    markdown: str
    lang: Lang


def logged_card(text: Callable[[str], str | None], lang: Lang = "nl") -> LoggedCard | None:
    """The card a run logged, in ``lang`` when it has one (``text(name)`` reads the run's
    file, None when absent), else in the other language; None without a card. A run logged
    before the card had a file per language has only ``model_card.md``, in English."""
    lang = check_lang(lang)
    english, dutch = text(card_file("en")), text(card_file("nl"))
    if not english:  # no English file: ``model_card.md`` is the English card of an older run
        return LoggedCard(dutch, "en") if dutch else None
    if lang == "en" or not dutch:
        return LoggedCard(english, "en")
    return LoggedCard(dutch, "nl")


# --- the content, once -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A list item: ``lead`` (bold with ``strong``) then ``text`` (as code with ``code``)."""

    text: str
    lead: str = ""
    strong: bool = False
    code: bool = False


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]


_Block = str | list[_Item] | _Table  # a paragraph, a list or a table


@dataclass(frozen=True)
class _Section:
    heading: str
    blocks: list[_Block]


def _cell(column: str, value: object, lang: Lang, extra: Extra | None) -> str:
    """A table cell in words (``ml.words``); a declared feature the words do not know by
    its label."""
    if (isinstance(value, str) and column not in COLUMN_TEXT and not has_word(value)
            and declared(value, extra)):
        return feature_label(value, lang, extra)
    return column_cell(column, value, lang)


def _table(df: pd.DataFrame, columns: Sequence[str], lang: Lang, extra: Extra | None) -> _Block:
    """The columns of ``df`` it has, in words; the word for 'none' without rows or columns."""
    cols = [c for c in columns if c in df.columns]
    if not cols or df.empty:
        return value_word("none", lang)
    rows = [
        [_cell(c, v, lang, extra) for c, v in zip(cols, row, strict=True)]
        for row in df[cols].astype(object).itertuples(index=False, name=None)
    ]
    return _Table([header(c, lang) for c in cols], rows)


def _sections(card: ModelCard, lang: Lang) -> tuple[str, list[_Section]]:
    """The card's title and sections in ``lang``: the one content both renderings write."""
    lang = check_lang(lang)

    def say(key: str, **filled: object) -> str:
        return pick(TEXTS[key], lang).format(**filled)

    years = ", ".join(str(y) for y in card.train_years)
    flagged = int(card.bias["flagged"].astype(bool).sum()) if "flagged" in card.bias else 0
    data = [
        _Item(say("rows_text", rows=number(card.n_train_rows, 0, lang), years=years,
                  cutoff=card.cutoff), say("rows")),
        _Item(str(card.n_features), say("features")),
        _Item(label_text(card.label, lang), say("label")),
        _Item(value_word(card.calibration, lang), say("calibration")),
        _Item(card.run_id, say("run"), code=True),
    ]
    low, high = (number(x, lang=lang) for x in FOUR_FIFTHS)
    sections = [
        _Section(say("use"), [say("use_text")]),
        _Section(say("data"), [data]),
        _Section(say("quality"), [_table(card.metrics, METRIC_COLUMNS, lang, card.extra)]),
        _Section(say("bias"), [_table(card.bias, BIAS_COLUMNS, lang, card.extra),
                               say("flagged", low=low, high=high, n=flagged)]),
    ]
    if card.features:
        domains = [_Item("; ".join(labels), domain, strong=True)
                   for domain, labels in features_by_domain(card.features, lang, card.extra)]
        sections.append(_Section(say("by_domain"), [domains]))
    sections.append(_Section(say("limits"), [[_Item(pick(x, lang)) for x in card.limits]]))
    return say("title", name=card.name, version=card.version), sections


# --- Markdown and HTML -----------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _md_block(block: _Block) -> list[str]:
    if isinstance(block, str):
        return [block, ""]
    if isinstance(block, _Table):
        lines = ["| " + " | ".join(map(_md_cell, block.headers)) + " |",
                 "|" + "---|" * len(block.headers)]
        lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block.rows]
        return [*lines, ""]
    out = []
    for item in block:
        lead = f"**{item.lead}**: " if item.strong else f"{item.lead}: " if item.lead else ""
        out.append(f"- {lead}" + (f"`{item.text}`" if item.code else item.text))
    return [*out, ""]


def to_markdown(card: ModelCard, lang: Lang = "nl") -> str:
    """The card as Markdown in ``lang`` (Dutch by default)."""
    title, sections = _sections(card, lang)
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.heading}"]
        for block in section.blocks:
            lines += _md_block(block)
    return "\n".join(lines)


def _html_block(block: _Block) -> str:
    e = html.escape
    if isinstance(block, str):
        return f"<p>{e(block)}</p>"
    if isinstance(block, _Table):
        head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    items = []
    for item in block:
        lead = (f"<strong>{e(item.lead)}</strong>: " if item.strong
                else f"{e(item.lead)}: " if item.lead else "")
        text = f"<code>{e(item.text)}</code>" if item.code else e(item.text)
        items.append(f"<li>{lead}{text}</li>")
    return f"<ul>{''.join(items)}</ul>"


def to_html(card: ModelCard, lang: Lang = "nl") -> str:
    """The card as one HTML page in ``lang`` (Dutch by default; the page's ``lang`` too),
    every text escaped."""
    lang = check_lang(lang)
    title, sections = _sections(card, lang)
    body = "\n".join(
        f"<h2>{html.escape(s.heading)}</h2>" + "".join(_html_block(b) for b in s.blocks)
        for s in sections
    )
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}}
td,th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}}
th{{background:#f4f4f4}}</style></head><body>
<h1>{html.escape(title)}</h1>
{body}
</body></html>
"""

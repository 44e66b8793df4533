"""The model card speaks Dutch by default and English on request, from one content: the same
facts (numbers, years, run id, every feature's label) in both, no English words left in the
Dutch card, decimal commas in Dutch, every text escaped in HTML; and a run's logged card is
picked in the asked language, falling back to the other for runs logged before."""

from __future__ import annotations

import html
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from features.describe import feature_label, mapped_terms
from features.domains import domain_of
from features.numbers import LANGS, Lang, number
from ml.fairness import bias_audit
from ml.modelcard import (
    LIMITS,
    LabelRule,
    ModelCard,
    card_file,
    label_text,
    logged_card,
    to_html,
    to_markdown,
)
from ml.words import audit_note, audit_reasons, header, value_word
from serving.evalreport import markdown_html
from wijkradar.records import MappedColumn

FEATURES = ("low_income_hh_pct_chg3", "gm_inhabitants", "lbm", "woz_value", "own_share")
MAPPED = mapped_terms([MappedColumn("own_share", "share", "own share", "eigen aandeel")])
METRICS = pd.DataFrame({
    "model": ["lightgbm", "logistic"], "metric": ["roc_auc", "precision_at_10"],
    "value": [0.8123, 0.25], "low": [0.7061, 0.1], "high": [0.9017, 0.4],
})
# Written in Dutch they would be English: the card's former English words and logged names.
ENGLISH_WORDS = (
    "Model card", "Intended use", "Training rows", "as-of years", "Features", "Label:",
    "Calibration", "MLflow run", "Quality", "Bias audit", "Flagged groups", "policy domain",
    "Known limits", "none", "True", "False", "yes", "no", "nan", "roc_auc", "pr_auc",
    "precision_at", "predicted_positive_rate", "fpr_ratio", "lightgbm", "logistic", "low",
    "high", "reference group", "fewer than", "ratio",
)
DUTCH_WORDS = (
    "Modelkaart", "Bedoeld gebruik", "Trainingsrijen", "peiljaren", "Kenmerken", "Uitkomst",
    "Kalibratie", "beleidsdomein", "Bekende beperkingen", "geen", "ja", "nee", "laag", "hoog",
    "referentiegroep", "verhouding",
)


def _audit() -> pd.DataFrame:
    """A small bias audit (``ml.fairness.bias_audit``) that flags a group and has a note."""
    rng = np.random.default_rng(3)
    groups = pd.DataFrame({"urbanity": ["low"] * 300 + ["high"] * 300 + ["mid"] * 10})
    y = rng.random(610) < 0.2
    score = rng.random(610) + np.r_[np.zeros(300), y[300:600] * 0.8, np.zeros(10)]
    return bias_audit(y.astype(int), score, groups)


def _card(**changes: object) -> ModelCard:
    fields: dict[str, object] = {
        "name": "wijkradar", "version": "3", "run_id": "abc123def", "cutoff": 2020,
        "train_years": (2014, 2016, 2018), "n_train_rows": 12_345, "n_features": len(FEATURES),
        "label": LabelRule("score_drop", delta=0.05), "calibration": "isotonic",
        "metrics": METRICS, "bias": _audit(), "features": FEATURES, "extra": MAPPED,
    }
    return ModelCard(**{**fields, **changes})  # type: ignore[arg-type]


def _words(text: str, words: tuple[str, ...]) -> list[str]:
    """The words of ``words`` that ``text`` has as whole words."""
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


def test_dutch_by_default_english_on_request():
    card = _card()
    assert to_markdown(card) == to_markdown(card, "nl") != to_markdown(card, "en")
    assert to_html(card) == to_html(card, "nl") != to_html(card, "en")
    assert to_markdown(card).startswith("# Modelkaart: wijkradar versie 3\n")
    assert to_markdown(card, "en").startswith("# Model card: wijkradar version 3\n")
    assert '<html lang="nl">' in to_html(card) and '<html lang="en">' in to_html(card, "en")
    with pytest.raises(ValueError, match="'nl' or 'en'"):
        to_markdown(card, "de")  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_facts_in_both_languages(lang: Lang):
    card = _card()
    audit = card.bias
    for text in (to_markdown(card, lang), html.unescape(to_html(card, lang))):
        assert card.run_id in text and str(card.cutoff) in text
        assert all(str(year) in text for year in card.train_years)
        assert number(card.n_train_rows, 0, lang) in text
        for column in ("value", "low", "high"):
            assert all(number(v, 3, lang) in text for v in METRICS[column])
        assert all(value_word(m, lang) in text for m in (*METRICS["model"], *METRICS["metric"]))
        for feature in FEATURES:
            assert feature_label(feature, lang, MAPPED) in text
            assert domain_of(feature).label(lang) in text
        assert ("eigen aandeel" if lang == "nl" else "own share") in text  # the config's label
        assert all(header(c, lang) in text for c in ("fpr_ratio", "prevalence", "flagged"))
        reasons = audit.loc[audit["flagged"], "flag_reasons"].iloc[0]
        notes = [n for n in audit["note"] if n]
        assert audit_reasons(reasons, lang) in text
        assert all(audit_note(n, lang) in text for n in notes)
        flagged = int(audit["flagged"].sum())
        assert re.search(rf"\): {flagged}\b", text)
        assert label_text(card.label, lang) in text
        assert all(limit[LANGS.index(lang)].split(":")[0] in text for limit in LIMITS)


def test_no_english_words_left_in_the_dutch_card():
    card = _card()
    dutch = to_markdown(card)
    english = to_markdown(card, "en")
    html_text = re.sub(r"<[^>]+>", " ", to_html(card))
    assert _words(dutch, ENGLISH_WORDS) == [] and _words(html_text, ENGLISH_WORDS) == []
    assert _words(english, DUTCH_WORDS) == []
    assert _words(english, ENGLISH_WORDS) and _words(dutch, DUTCH_WORDS)  # the lists can hit
    empty = _card(bias=card.bias.iloc[:0], calibration="none")
    assert _words(to_markdown(empty), ("geen",)) and not _words(to_markdown(empty), ("none",))
    assert _words(to_markdown(empty, "en"), ("none",))


def test_numbers_have_a_decimal_comma_in_dutch():
    card = _card()
    dutch, english = to_markdown(card), to_markdown(card, "en")
    assert "| 0,812 | 0,706 | 0,902 |" in dutch and "| 0.812 | 0.706 | 0.902 |" in english
    assert "12.345" in dutch and "12,345" in english
    assert not re.search(r"\d\.\d{3}\b(?! \()", dutch.replace("12.345", ""))
    assert "−0,05" in label_text(card.label) and "−0.05" in label_text(card.label, "en")
    assert "0,8 tot 1,25" in dutch and "0.8 to 1.25" in english


def test_the_label_rule_in_words():
    rule = LabelRule("development_class", max_class=2)
    dutch, english = label_text(rule), label_text(rule, "en")
    assert "ontwikkelingsklasse" in dutch and "development class" in english
    assert "≤ 2" in dutch and "≤ 2" in english


def test_every_text_is_escaped_in_html_and_markdown_tables_hold():
    bias = pd.DataFrame({"attribute": ["urbanity"], "group": ["<script>a|b</script>"],
                         "n": [40], "flagged": [False]})
    card = _card(name="<b>wijk</b>", run_id="r&1", bias=bias)
    page = to_html(card)
    assert "<script>" not in page and "&lt;script&gt;a|b&lt;/script&gt;" in page
    assert "<b>wijk</b>" not in page and "&lt;b&gt;wijk&lt;/b&gt;" in page
    assert "<code>r&amp;1</code>" in page
    rendered = markdown_html(to_markdown(card))
    assert "<td>&lt;script&gt;a|b&lt;/script&gt;</td>" in rendered  # the pipe stays in its cell
    assert "<script>" not in rendered


def test_a_runs_card_in_its_language_or_the_other():
    both = {card_file("nl"): "# Modelkaart", card_file("en"): "# Model card"}
    assert logged_card(both.get).markdown == "# Modelkaart"
    assert logged_card(both.get, "en").markdown == "# Model card"
    older = {"model_card.md": "# Model card"}  # logged before the card had a Dutch file
    for lang in LANGS:
        card = logged_card(older.get, lang)
        assert card is not None and (card.markdown, card.lang) == ("# Model card", "en")
    only_english = {card_file("en"): "# Model card"}
    shown = logged_card(only_english.get, "nl")
    assert shown is not None and shown.lang == "en"
    assert logged_card({}.get) is None and logged_card({}.get, "en") is None
    assert card_file("en", "html") == "model_card.en.html" and card_file() == "model_card.md"


def test_training_logs_the_card_in_both_languages():
    from ml.modelcard import card_texts

    card = _card()
    texts = card_texts(card)
    assert texts == {
        "model_card.md": to_markdown(card), "model_card.html": to_html(card),
        "model_card.en.md": to_markdown(card, "en"), "model_card.en.html": to_html(card, "en"),
    }
    for lang in LANGS:
        shown = logged_card(texts.get, lang)
        assert shown is not None and shown.lang == lang
        assert shown.markdown == to_markdown(card, lang)


def test_the_pipelines_card_has_the_last_fold_and_the_configs_labels():
    """``pipeline.model_card`` of a stand-in training: the last fold's metrics, the config's
    label rule, and the mapped columns (``extra``) by their configured labels."""
    from ml.registry import ModelRef
    from wijkradar.app.pipeline import model_card
    from wijkradar.config import Config

    folds = pd.concat([METRICS.assign(test_year=2018, value=0.5), METRICS.assign(test_year=2020)])
    result = SimpleNamespace(folds=[SimpleNamespace(test_year=y) for y in (2018, 2020)],
                             cutoff=2022, train_years=(2016, 2018), n_train_rows=900,
                             features=list(FEATURES))
    evaluation = SimpleNamespace(per_fold=folds, calibrator=SimpleNamespace(method="platt"),
                                 bias=_audit())
    cfg = Config(root=Path("."), sources=())
    ref = ModelRef("wijkradar", "2", "run9", "models:/wijkradar/2")
    card = model_card(cfg, ref, result, evaluation, MAPPED)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(card.metrics.reset_index(drop=True), METRICS)
    assert card.label == LabelRule(cfg.label.kind, cfg.label.delta, cfg.label.max_class)
    text = to_markdown(card)
    assert "eigen aandeel" in text and label_text(card.label) in text
    without = to_markdown(model_card(cfg, ref, result, evaluation))  # type: ignore[arg-type]
    assert "eigen aandeel" not in without and feature_label("own_share") in without

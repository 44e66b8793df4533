"""The evaluation report speaks Dutch by default: captions, headers, metric and model names,
yes/no and decimal commas; English on request; unknown columns and values as logged. The
model card is the run's card in the report's language (a note when only the other exists)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.fairness import bias_audit, flag_reasons
from ml.modelcard import card_file
from ml.words import audit_note, audit_reasons, header, value_word
from serving.evalreport import CARD_FALLBACK, render, title_of
from serving.formatting import number

PER_FOLD = pd.DataFrame({
    "test_year": [2016, 2018], "model": ["lightgbm", "logistic"],
    "metric": ["pr_auc", "precision_at_10"], "value": [0.3183, 0.25], "low": [0.2, 0.1],
    "high": [0.49, 0.4],
})
AUDIT = pd.DataFrame({
    "attribute": ["urbanity"], "group": ["<b>low</b>"], "n": [14_500], "fpr_ratio": [0.69],
    "flagged": [True], "own_column": ["as logged"],
})


def _tables(name: str) -> pd.DataFrame | None:
    return {"metrics_per_fold": PER_FOLD, "bias_audit": AUDIT}.get(name)


def _texts(name: str) -> str | None:
    return {"pr_curve.svg": "<svg></svg>", "model_card.md": "# Card\n\n<script>x</script>"}.get(
        name)


def test_the_report_is_dutch_by_default():
    page = render("abc123", title_of("wijkradar", "3", "abc123"), _tables, _texts)
    assert '<html lang="nl">' in page and "<h1>Evaluatie van wijkradar versie 3</h1>" in page
    assert "MLflow-run <code>abc123</code>" in page
    assert "Precisie en recall in de laatste toets" in page
    assert "Maten per toets" in page and "<th>toetsjaar</th><th>model</th><th>maat</th>" in page
    assert "<td>2016</td><td>LightGBM</td><td>PR-AUC</td><td>0,318</td>" in page
    assert "<td>logistische regressie</td><td>precisie in top 10%</td><td>0,250</td>" in page
    assert "<th>vals-positief t.o.v. referentie</th>" in page
    assert "<td>stedelijkheid</td><td>&lt;b&gt;low&lt;/b&gt;</td><td>14.500</td>" in page
    assert "<td>0,690</td><td>ja</td><td>as logged</td>" in page  # unknown: as logged
    assert "<th>own_column</th>" in page
    assert "<script>" not in page and "Modelkaart" in page


def test_english_on_request():
    page = render("abc123", title_of(None, None, "abc123", "en"), _tables, _texts, lang="en")
    assert '<html lang="en">' in page and "<h1>Evaluation of run abc123</h1>" in page
    assert "<td>logistic regression</td><td>precision in the top 10 %</td><td>0.250</td>" in page
    assert "<td>urbanity</td>" in page and "<td>yes</td>" in page and "14,500" in page


def test_words_for_headers_and_values():
    assert header("precision_ratio") == "precisie t.o.v. referentie"
    assert header("precision_ratio", "en") == "precision ratio"
    assert header("something_new") == "something_new"
    assert value_word("recall_at_5") == "recall in top 5%"
    assert value_word("precision_at_x") == "precision_at_x"
    per_gemeente = value_word("precision_top3_per_gemeente")
    assert per_gemeente != value_word("precision_top3_per_gemeente", "en")
    assert "3" in per_gemeente and "precision" not in per_gemeente
    assert value_word("precision_topx_per_gemeente") == "precision_topx_per_gemeente"


def test_the_model_card_in_the_reports_language_with_a_note_on_fallback():
    cards = {card_file("nl"): "# Modelkaart\n\nNederlands.", card_file("en"): "# Model card\n"}
    dutch = render("r1", "t", lambda _name: None, cards.get)
    english = render("r1", "t", lambda _name: None, cards.get, lang="en")
    assert "<h1>Modelkaart</h1>" in dutch and "<h1>Model card</h1>" not in dutch
    assert "<h1>Model card</h1>" in english and "Nederlands" not in english
    assert CARD_FALLBACK[0] not in dutch and CARD_FALLBACK[1] not in english
    older = {"model_card.md": "# Model card\n"}.get  # a run logged before the Dutch card
    fallback = render("r1", "t", lambda _name: None, older)
    assert "<h1>Model card</h1>" in fallback and CARD_FALLBACK[0] in fallback
    assert CARD_FALLBACK[1] not in render("r1", "t", lambda _name: None, older, lang="en")
    assert 'id="model-card"' not in render("r1", "t", lambda _name: None, lambda _name: None)


def test_the_bias_audit_says_its_notes_and_reasons_in_words():
    """The audit's own texts (``ml.fairness.bias_audit`` of a small case) reach the report in
    Dutch, numbers with a decimal comma; in English on request."""
    rng = np.random.default_rng(3)
    groups = pd.DataFrame({"urbanity": ["low"] * 300 + ["high"] * 300 + ["mid"] * 10})
    y = rng.random(610) < 0.2
    score = rng.random(610) + np.r_[np.zeros(300), y[300:600] * 0.8, np.zeros(10)]
    audit = bias_audit(y.astype(int), score, groups)
    flagged = audit[audit["flagged"]].iloc[0]
    assert flagged["flag_reasons"]  # the case flags a group, so there is a reason to say

    def tables(name: str) -> pd.DataFrame | None:
        return audit if name == "bias_audit" else None

    page = render("r1", "t", tables, lambda _name: None)
    first = flag_reasons(flagged["flag_reasons"])[0]
    said = f"{header(first.rate + '_ratio')} {number(first.ratio, 2)}"
    assert said in page and "ratio" not in page.split("<tbody>")[1]
    assert "minder dan 20 eenheden: geen verhoudingen" in page  # the 10 'mid' rows
    assert "<td>referentiegroep</td>" in page and "no ratios" not in page
    english = render("r1", "t", tables, lambda _name: None, lang="en")
    assert "fewer than 20 units: no ratios" in english and "<td>reference group</td>" in english


def test_audit_texts_of_no_known_kind_stay_as_logged():
    assert audit_note("") == "" and audit_note("a note of its own") == "a note of its own"
    assert audit_note("reference group 'high' too small or no positives") == (
        "referentiegroep hoog te klein of zonder gedaalde eenheden")
    assert audit_reasons("") == ""
    assert audit_reasons("fpr ratio inf > 1.25") == (
        "vals-positief t.o.v. referentie oneindig > 1,25")

"""The words for what training logs, in Dutch and English: the column headers of the logged
tables, the names of metrics, models, groups and calibration methods, yes/no, and the bias
audit's notes and reasons (``ml.fairness`` writes them in one fixed English form; ``note_kind``
and ``flag_reasons`` read them back). One place for this vocabulary: the model card
(``ml.modelcard``) and the evaluation report (``serving.evalreport``) both say their tables
with it. Numbers are written by ``features.numbers`` (decimal comma in Dutch).

Columns and values it has no words for are shown as logged.

>>> header("fpr_ratio"), value_word("precision_at_10", "en"), cell_text(0.3183)
('vals-positief t.o.v. referentie', 'precision in the top 10 %', '0,318')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from features.numbers import Lang, is_missing, number
from ml.fairness import REASON_SEPARATOR, flag_reasons, note_kind

__all__ = [
    "AUDIT_NOTES", "COLUMN_TEXT", "HEADERS", "PER_GEMEENTE_METRIC", "RATIO_SUFFIX", "TOP_METRICS",
    "VALUES", "Words",
    "audit_note", "audit_reasons", "cell_text", "column_cell", "has_word", "header", "pick",
    "value_word",
]

Words = Mapping[str, tuple[str, str]]  # key -> (Dutch, English)

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
# ``ml.evaluate``'s 'precision_top<k>_per_gemeente': (prefix, suffix, words).
PER_GEMEENTE_METRIC = ("precision_top", "_per_gemeente",
                       ("precisie van de top {k} per gemeente",
                        "precision of the top {k} per gemeente"))


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Dutch (``lang="nl"``) or the English word of a (Dutch, English) pair."""
    return pair[0] if lang == "nl" else pair[1]


def header(column: str, lang: Lang = "nl") -> str:
    """A logged table's column in words (as logged when there are none)."""
    if column in HEADERS:
        return pick(HEADERS[column], lang)
    suffix, words = RATIO_SUFFIX
    base = column.removesuffix(suffix)
    if column.endswith(suffix) and base in HEADERS:
        return pick(HEADERS[base], lang) + pick(words, lang)
    return column


def _top_metric(value: str) -> tuple[tuple[str, str], str] | None:
    for prefix, words in TOP_METRICS:
        k = value.removeprefix(prefix)
        if value.startswith(prefix) and k.isdigit():
            return words, k
    prefix, suffix, words = PER_GEMEENTE_METRIC
    k = value.removeprefix(prefix).removesuffix(suffix)
    if value.startswith(prefix) and value.endswith(suffix) and k.isdigit():
        return words, k
    return None


def has_word(value: str) -> bool:
    """Whether ``value_word`` has words for ``value`` (else it returns it as logged)."""
    return value in VALUES or _top_metric(value) is not None


def value_word(value: str, lang: Lang = "nl") -> str:
    """A metric's, model's or method's name in words (as logged when there are none)."""
    if value in VALUES:
        return pick(VALUES[value], lang)
    top = _top_metric(value)
    if top is not None:
        return pick(top[0], lang).format(k=top[1])
    return value


def audit_note(text: str, lang: Lang = "nl") -> str:
    """A bias audit's ``note`` in words ("" stays ""; a note of no known kind as logged)."""
    kind = note_kind(text) if text else None
    if kind is None:
        return text
    name, filled = kind
    if "group" in filled:
        filled["group"] = value_word(filled["group"], lang)
    return pick(AUDIT_NOTES[name], lang).format(**filled)


def audit_reasons(text: str, lang: Lang = "nl") -> str:
    """A bias audit's ``flag_reasons`` in words: 'vals-positief t.o.v. referentie 0,62 < 0,8'."""
    return REASON_SEPARATOR.join(
        f"{header(r.rate + RATIO_SUFFIX[0], lang)} {number(r.ratio, 2, lang)} "
        f"{'<' if r.below else '>'} {number(r.limit, 2, lang)}"
        for r in flag_reasons(text)
    )


# The columns whose texts are said by a function of their own (the others by ``cell_text``).
COLUMN_TEXT: Mapping[str, Callable[[str, Lang], str]] = {
    "note": audit_note, "flag_reasons": audit_reasons,
}


def cell_text(value: object, lang: Lang = "nl") -> str:
    """One cell of a logged table in words: missing -> "", a bool as 'ja'/'nee', a whole number
    as is (years stay '2016'; from 10,000 on grouped: '14.500'), a float to 3 decimals
    ('0,318'), a text through ``value_word``."""
    if value is None or (isinstance(value, float) and is_missing(value)):
        return ""
    if isinstance(value, bool):
        return value_word("yes" if value else "no", lang)
    if isinstance(value, int):
        return number(value, 0, lang) if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return number(value, 3, lang)
    return value_word(str(value), lang)


def column_cell(column: str, value: object, lang: Lang = "nl") -> str:
    """A cell of ``column`` in words: the audit's notes and reasons by ``COLUMN_TEXT``, any
    other cell by ``cell_text``."""
    text = COLUMN_TEXT.get(column)
    if text is not None and isinstance(value, str):
        return text(value, lang)
    return cell_text(value, lang)

"""Drivers in words, in Dutch or English: the one place a feature's contribution becomes a
sentence ("het aandeel huishoudens met laag inkomen steeg 5,4 procentpunt in 3 jaar"), and
drivers are grouped by policy domain (``features.domains``).

Labels, units, class names and the name grammar come from the feature vocabulary
(``features.describe``); numbers from ``serving.formatting``. ``driver_text`` is the short
English text of the published ranking's ``top_drivers`` column (``serving.ranking``).

Every function takes the panel's mapped columns as ``extra`` (``features.describe.mapped_terms``
of ``PanelMeta.mapped_columns``), so a column a config maps reads as its configured label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from features.describe import (
    DUTCH,
    TERMS,
    UNIT_WORDS,
    Extra,
    class_name,
    describe,
    feature_label,
    format_value,
    label,
    label_nl,
    scope,
    term_of,
    unit,
    value_text,
)
from features.domains import domain_by_key, domain_of
from features.vocabulary import Scope, Term, Unit, parse
from serving.formatting import Lang, check_lang, number

_HET = ("aandeel", "aantal", "gemiddeld", "programmageld")  # first words of 'het' nouns
_PLURAL = (  # first words of plural subjects
    "bijstandsontvangers", "wmo-cliënten", "geregistreerde", "gehuisveste", "personen",
    "nieuwe", "marktinvesteringen", "renovatie-investeringen",
)
_COUNTED = (Unit.COUNT, Unit.PER_1000)  # a plural of these reads 'het aantal ...'
_LBM_DIMENSION = "Leefbarometer: "
_EN_UNCOUNTED = ("average", "address", "degree")
_EN_UNIT_SUFFIXES = (" (%)", " (k EUR)")  # said by the value


def driver_text(
    feature: str, value: float, contribution: float, label: str | None = None,
    extra: Extra | None = None,
) -> str:
    """One driver in short English: what, its value, and how much it moves the log-odds. Pass
    ``label`` (``describe(feature, extra)``) when calling for many rows, to describe it once."""
    shown = format_value(value, signed=parse(feature).is_change)
    return f"{label or describe(feature, extra)} = {shown} ({contribution:+.2f})"


@dataclass(frozen=True)
class _Subject:
    """Who a sentence is about, and whether its verbs are plural."""

    text: str
    plural: bool


def _subject(base: str, lang: Lang, extra: Extra | None) -> _Subject:
    return _subject_of(base, term_of(base, extra), base in TERMS, lang)


@lru_cache(maxsize=4096)
def _subject_of(base: str, term: Term | None, declared: bool, lang: Lang) -> _Subject:
    """The subject of a base feature with its term (declared, or a config's mapped column;
    None: unknown). A mapped column's label is the config's own words, so it gets only the
    article its first word asks for ('het aandeel ...'), and plural verbs when the config
    says it names more than one (``plural``); anything else stays as written."""
    if lang == "en":
        return _subject_en(base, term, declared)
    text = term.label_nl if term else label_nl(base)
    if term is None:
        return _Subject(text, False)
    first = text.split(" ", 1)[0].casefold()
    if first in _HET:
        return _Subject(f"het {text}", False)
    if not declared:
        return _Subject(text, term.plural)
    if text.startswith(_LBM_DIMENSION):
        return _Subject(f"de Leefbarometerscore voor {text[len(_LBM_DIMENSION):]}", False)
    if first in _PLURAL:
        if term.unit in _COUNTED:
            return _Subject(f"het aantal {text}", False)
        return _Subject(f"de {text}", True)
    return _Subject(f"de {text}", False)


def _subject_en(base: str, term: Term | None, declared: bool) -> _Subject:
    text = term.label if term else label(base)
    if term is None:
        return _Subject(text, False)
    for suffix in _EN_UNIT_SUFFIXES:
        text = text.removesuffix(suffix)
    kind = term.unit
    if kind is Unit.PERCENT and not text.startswith("share"):
        return _Subject(f"the share of {text}", False)
    if not declared:
        return _Subject(text, term.plural)
    if text.startswith(_LBM_DIMENSION):
        return _Subject(f"the Leefbarometer score for {text[len(_LBM_DIMENSION):]}", False)
    if kind is Unit.COUNT and not text.startswith(_EN_UNCOUNTED):
        return _Subject(f"the number of {text}", False)
    return _Subject(f"the {text}", False)


_VERBS = {  # (singular, plural)
    "nl": {"is": ("is", "zijn"), "up": ("steeg", "stegen"), "down": ("daalde", "daalden"),
           "same": ("bleef", "bleven"), "start": ("begon", "begonnen"),
           "end": ("eindigde", "eindigden")},
    "en": {"is": ("is", "are"), "up": ("rose", "rose"), "down": ("fell", "fell"),
           "same": ("stayed", "stayed"), "start": ("started", "started"),
           "end": ("ended", "ended")},
}
_WORDS = {
    "nl": {"since": "sinds de vorige meting", "years": "in {k} jaar", "past": "in de afgelopen",
           "by": "met", "same": "gelijk", "unknown": "onbekend", "change": "de verandering van",
           "on": "van toepassing", "off": "niet van toepassing"},
    "en": {"since": "since the previous measurement", "years": "over {k} years",
           "past": "in the past", "by": "by", "same": "the same", "unknown": "unknown",
           "change": "the change in", "on": "in place", "off": "not in place"},
}
_SCOPES: dict[Lang, dict[Scope, str]] = {
    "nl": dict(DUTCH.scopes),
    "en": {
        Scope.GEMEENTE: "in the gemeente,",
        Scope.REST_OF_GEMEENTE: "in the rest of the gemeente,",
    },
}


def _period(feature: str, lang: Lang) -> str:
    name = parse(feature)
    if name.since_previous:
        return _WORDS[lang]["since"]
    years = name.years or 0
    text = _WORDS[lang]["years"].format(k=years)
    return text.replace("years", "year") if lang == "en" and years == 1 else text


def _parts(
    feature: str, value: float, lang: Lang, extra: Extra | None
) -> tuple[str, str, str]:
    """(subject, verb, the rest) of a driver sentence."""
    name = parse(feature)
    subject = _subject(name.base, lang, extra)
    verbs, words = _VERBS[lang], _WORDS[lang]

    def verb(key: str) -> str:
        return verbs[key][1 if subject.plural else 0]

    kind = unit(name.base, extra)
    if not name.is_change:
        if math.isnan(value):
            return subject.text, verb("is"), words["unknown"]
        if kind is Unit.FLAG:
            return subject.text, verb("is"), words["on" if value >= 0.5 else "off"]
        named = class_name(feature, value, lang)
        shown = f"{int(value)} ({named})" if named else value_text(feature, value, lang, extra)
        return subject.text, verb("is"), shown
    period = _period(feature, lang)
    if math.isnan(value):
        return f"{words['change']} {subject.text} {period}", verbs["is"][0], words["unknown"]
    if kind is Unit.FLAG:
        if value == 0:
            return subject.text, verb("same"), f"{words['same']} {period}"
        if not name.since_previous:  # 'in 3 jaar' -> 'in de afgelopen 3 jaar'
            period = f"{words['past']} {period.split(' ', 1)[1]}"
        return subject.text, verb("start" if value > 0 else "end"), period
    shown = number(abs(value), lang=lang)
    if abs(value) < 0.0005:  # shown as 0
        return subject.text, verb("same"), f"{words['same']} {period}"
    word = UNIT_WORDS[lang][kind].change
    amount = f"{shown} {word}" if word else f"{words['by']} {shown}"
    return subject.text, verb("up" if value > 0 else "down"), f"{amount} {period}"


def driver_sentence(
    feature: str, value: float, lang: Lang = "nl", extra: Extra | None = None
) -> str:
    """A driver in words: 'het aandeel huishoudens met laag inkomen steeg 5,4 procentpunt in
    3 jaar', 'de Leefbarometer-klasse is 9 (uitstekend)', 'in de rest van de gemeente daalde
    de Leefbarometerscore 0,05 punt sinds de vorige meting' (English with lang='en')."""
    lang = check_lang(lang)
    value = float("nan") if value is None or pd.isna(value) else float(value)
    subject, verb, rest = _parts(feature, value, lang, extra)
    if not parse(feature).gemeente:
        return f"{subject} {verb} {rest}"
    where = _SCOPES[lang][scope(feature)]
    if lang == "en":  # no inversion in English
        return f"{where} {subject} {verb} {rest}"
    return f"{where} {verb} {subject} {rest}"


def driver_phrase_nl(feature: str, value: float, extra: Extra | None = None) -> str:
    """``driver_sentence(feature, value, "nl", extra)``: the drivers of the per-gemeente
    exports."""
    return driver_sentence(feature, value, "nl", extra)


@dataclass(frozen=True)
class Driver:
    """One feature's part in a unit's risk, in words."""

    feature: str
    label: str  # the feature in words
    sentence: str  # the value in a sentence (driver_sentence)
    value_text: str  # the value with its unit or class name
    contribution: float  # SHAP, log-odds
    domain: str  # a Domain key (features.domains)
    raises_risk: bool


@dataclass(frozen=True)
class DriverGroup:
    """The drivers of one policy domain and their summed contribution."""

    domain: str  # a Domain key
    label: str  # the domain in words
    drivers: tuple[Driver, ...]
    total: float


def drivers_of(
    contributions: pd.Series, values: pd.Series, k: int = 5, lang: Lang = "nl",
    extra: Extra | None = None,
) -> list[Driver]:
    """The ``k`` largest contributions by size (either sign), largest first, in words.
    ``contributions`` is indexed by feature name (no 'shap__' prefix; a 'base' entry is
    ignored); ``values`` by feature name too (a feature it lacks reads as unknown)."""
    lang = check_lang(lang)
    shap = pd.to_numeric(contributions.drop(labels=["base"], errors="ignore"), errors="coerce")
    shap = shap.dropna()
    order = shap.abs().sort_values(ascending=False, kind="stable").index[: max(int(k), 0)]
    out = []
    for feature in order:
        raw = values.get(feature, float("nan"))
        value = float("nan") if raw is None or pd.isna(raw) else float(raw)
        c = float(shap[feature])
        out.append(
            Driver(
                feature=str(feature),
                label=feature_label(str(feature), lang, extra),
                sentence=driver_sentence(str(feature), value, lang, extra),
                value_text=value_text(str(feature), value, lang, extra),
                contribution=c,
                domain=domain_of(str(feature)).key,
                raises_risk=c > 0,
            )
        )
    return out


def grouped(drivers: Sequence[Driver], lang: Lang = "nl") -> list[DriverGroup]:
    """The drivers by policy domain, the domain with the largest |summed contribution|
    first; within a domain the drivers keep their order."""
    lang = check_lang(lang)
    by_domain: dict[str, list[Driver]] = {}
    for driver in drivers:
        by_domain.setdefault(driver.domain, []).append(driver)
    groups = [
        DriverGroup(
            domain=key,
            label=domain_by_key(key).label(lang),
            drivers=tuple(members),
            total=float(sum(d.contribution for d in members)),
        )
        for key, members in by_domain.items()
    ]
    return sorted(groups, key=lambda g: -abs(g.total))

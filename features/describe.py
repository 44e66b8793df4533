"""The lookup over the feature vocabulary: a feature's English and Dutch labels, its unit, and
its value written for people (``feature_label`` and ``value_text``, in Dutch or English;
numbers by ``features.numbers``, the core of ``serving.formatting``).

Nothing is declared here. Base features are declared where their family is produced (CBS
and investment variables in ``features.schema``, Leefbarometer features in
``features.panel``, the gemeente context in ``features.derived``, the neighbours' features in
``features.neighbours``, the year-relative amounts in ``features.relative``), and a name is
taken apart by the grammar of ``features.vocabulary``. The columns a source maps through its
``columns`` table are declared by the config: their terms (``mapped_terms`` of
``PanelMeta.mapped_columns``) go into every lookup as ``extra``. Only the names of class
values are kept here: the official Leefbarometer classes (1 zeer onvoldoende .. 9
uitstekend), the development classes of the Leefbarometer 2.0 release and the CBS degree of
urbanity. Driver sentences are rendered in ``serving.drivers``; a feature's policy domain is
``features.domains``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from features import derived, neighbours, panel, relative, schema
from features.numbers import UNKNOWN, Lang, check_lang, is_missing, number, signed
from features.vocabulary import Scope, Term, Unit, parse
from wijkradar.records import MappedColumn

TERMS: dict[str, Term] = {
    t.name: t
    for t in (
        *schema.CBS_VARIABLES,
        *schema.CBS_PC4_VARIABLES,
        *schema.INVESTMENT_VARIABLES,
        *panel.LBM_TERMS,
        *neighbours.NEIGHBOUR_TERMS,
        *relative.RELATIVE_TERMS,
    )
}
CONTEXT_SCOPES: dict[str, Scope] = {c.name: c.scope for c in derived.CONTEXT_FEATURES}
# Further terms beside the declared ones, by name: the columns a source maps through its
# ``columns`` table (``mapped_terms`` of ``PanelMeta.mapped_columns``). Every lookup below
# takes them as ``extra``; a declared term always wins.
Extra = Mapping[str, Term]
# How a mapped column's values were checked -> the unit its numbers are written in.
MAPPED_UNITS: dict[str, Unit] = {
    "count": Unit.COUNT, "share": Unit.PERCENT, "rate": Unit.COUNT, "amount": Unit.COUNT,
}


def term_of(base: str, extra: Extra | None = None) -> Term | None:
    """The declared term of a base feature, else its term in ``extra``, else None."""
    term = TERMS.get(base)
    if term is None and extra:
        term = extra.get(base)
    return term


def mapped_terms(columns: Iterable[MappedColumn]) -> dict[str, Term]:
    """The terms of a panel's mapped columns (``PanelMeta.mapped_columns``), to pass as
    ``extra``: the config's labels; a column with one label has it in both languages, one
    with none reads as its name (``label``, ``label_nl``). A rate named '..._per_1000' is
    per 1,000 inhabitants. A name the vocabulary declares keeps its declared term."""
    out: dict[str, Term] = {}
    for c in columns:
        if c.name in TERMS:
            continue
        kind = MAPPED_UNITS.get(c.kind, Unit.COUNT)
        if c.kind == "rate" and c.name.endswith("_per_1000"):
            kind = Unit.PER_1000
        english = c.label or c.label_nl or label(c.name)
        dutch = c.label_nl or c.label or label_nl(c.name)
        out[c.name] = Term(c.name, english, dutch, kind, plural=c.plural)
    return out


def declared(feature: str, extra: Extra | None = None) -> bool:
    """Whether the vocabulary (or ``extra``) knows ``feature``: its base is declared and,
    for a ``gm_`` feature, so is the context feature itself."""
    name = parse(feature)
    known = term_of(name.base, extra) is not None
    return known and (not name.gemeente or feature in CONTEXT_SCOPES)


def label(base: str, extra: Extra | None = None) -> str:
    """The English label of a base feature; an undeclared one reads as its name."""
    term = term_of(base, extra)
    return term.label if term else base.replace("_", " ")


def label_nl(base: str, extra: Extra | None = None) -> str:
    """The Dutch label of a base feature (neither a change nor ``gm_``); an undeclared one
    reads as its name ('_pct' dropped, '_per_1000' as 'per 1.000')."""
    term = term_of(base, extra)
    if term:
        return term.label_nl
    return base.removesuffix("_pct").replace("_per_1000", " per 1.000").replace("_", " ")


def unit(base: str, extra: Extra | None = None) -> Unit:
    """The unit of a base feature; an undeclared one's is guessed from its name ('_pct' is a
    percentage, 'lbm...' a score, anything else a count)."""
    term = term_of(base, extra)
    if term:
        return term.unit
    if base.endswith("_pct"):
        return Unit.PERCENT
    if base == "lbm" or base.startswith("lbm_"):
        return Unit.SCORE
    return Unit.COUNT


def scope(feature: str) -> Scope:
    """What a ``gm_`` feature summarises: the gemeente, or the rest of it."""
    return CONTEXT_SCOPES.get(feature, Scope.GEMEENTE)


@dataclass(frozen=True)
class Words:
    """How one language names a feature: the base label, the words for a change since the
    previous measurement and over k years, and the prefix of each gemeente scope."""

    label: Callable[[str, Extra | None], str]
    since_previous: str
    over_years: Callable[[int], str]
    scopes: Mapping[Scope, str]


ENGLISH = Words(
    label=label,
    since_previous="change since previous measurement",
    over_years=lambda k: f"change over {k} year{'s' if k > 1 else ''}",
    scopes={Scope.GEMEENTE: "gemeente", Scope.REST_OF_GEMEENTE: "gemeente"},
)


def in_words(feature: str, words: Words = ENGLISH, extra: Extra | None = None) -> str:
    """A feature named by the grammar in ``words``' language: its base label, then the kind
    of change, behind the gemeente scope for a ``gm_`` feature."""
    name = parse(feature)
    text = words.label(name.base, extra)
    if name.since_previous:
        text = f"{text}, {words.since_previous}"
    elif name.years is not None:
        text = f"{text}, {words.over_years(name.years)}"
    return f"{words.scopes[scope(feature)]}: {text}" if name.gemeente else text


def describe(feature: str, extra: Extra | None = None) -> str:
    """'low_income_hh_pct_chg3' -> 'low-income households (%), change over 3 years'."""
    return in_words(feature, ENGLISH, extra)


def format_value(value: float, signed: bool = False) -> str:
    """A feature value in the ranking's English driver text: 3 significant digits, thousands
    written out (``value_text`` is the value for people, in words and units)."""
    if value != value:
        return "missing"
    sign = "+" if signed else ""
    if abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"


# --- in Dutch or English ---------------------------------------------------------------------

DUTCH = Words(
    label=label_nl,
    since_previous="verandering sinds de vorige meting",
    over_years=lambda k: f"verandering in {k} jaar",
    scopes={Scope.GEMEENTE: "in de gemeente", Scope.REST_OF_GEMEENTE: "in de rest van de gemeente"},
)
WORDS: dict[Lang, Words] = {"nl": DUTCH, "en": ENGLISH}


@dataclass(frozen=True)
class UnitWords:
    """A unit in words: in a header ('duizend euro'), after a level ('is 12,3%'), and for a
    change ('steeg 4,1 procentpunt'; empty: 'steeg met 12')."""

    header: str
    after_level: str
    change: str


UNIT_WORDS: dict[Lang, dict[Unit, UnitWords]] = {
    "nl": {
        Unit.COUNT: UnitWords("aantal", "", ""),
        Unit.PER_1000: UnitWords("per 1.000 inwoners", "", ""),
        Unit.PERCENT: UnitWords("%", "%", "procentpunt"),
        Unit.THOUSAND_EUR: UnitWords("duizend euro", " duizend euro", "duizend euro"),
        Unit.EUR: UnitWords("euro", " euro", "euro"),
        Unit.SCORE: UnitWords("score", "", "punt"),
        Unit.CLASS: UnitWords("klasse", "", "punt"),
        Unit.YEARS: UnitWords("jaar", " jaar", "jaar"),
        Unit.FLAG: UnitWords("ja/nee", "", ""),
    },
    "en": {
        Unit.COUNT: UnitWords("count", "", ""),
        Unit.PER_1000: UnitWords("per 1,000 inhabitants", "", ""),
        Unit.PERCENT: UnitWords("%", "%", "percentage points"),
        Unit.THOUSAND_EUR: UnitWords("thousand euro", " thousand euro", "thousand euro"),
        Unit.EUR: UnitWords("euro", " euro", "euro"),
        Unit.SCORE: UnitWords("score", "", "points"),
        Unit.CLASS: UnitWords("class", "", "points"),
        Unit.YEARS: UnitWords("years", " years", "years"),
        Unit.FLAG: UnitWords("yes/no", "", ""),
    },
}

# The official Leefbarometer classes of a score (Leefbarometer 2.0 and 3.0).
LBM_CLASS_NAMES_NL: dict[int, str] = {
    1: "zeer onvoldoende", 2: "ruim onvoldoende", 3: "onvoldoende", 4: "zwak", 5: "voldoende",
    6: "ruim voldoende", 7: "goed", 8: "zeer goed", 9: "uitstekend",
}
LBM_CLASS_NAMES_EN: dict[int, str] = {
    1: "very insufficient", 2: "amply insufficient", 3: "insufficient", 4: "weak",
    5: "sufficient", 6: "amply sufficient", 7: "good", 8: "very good", 9: "excellent",
}
# The development classes of the Leefbarometer 2.0 release (``VKLaabb``, 1-7): 4 is no notable
# change, lower is decline, higher improvement (the scale as read from the data, see
# docs/risk_bands.md and the data's PROVENANCE.md).
DEVELOPMENT_CLASS_NAMES_NL: dict[int, str] = {
    1: "sterke achteruitgang", 2: "achteruitgang", 3: "lichte achteruitgang",
    4: "geen opmerkelijke verandering", 5: "lichte vooruitgang", 6: "vooruitgang",
    7: "sterke vooruitgang",
}
DEVELOPMENT_CLASS_NAMES_EN: dict[int, str] = {
    1: "strong decline", 2: "decline", 3: "slight decline", 4: "no notable change",
    5: "slight improvement", 6: "improvement", 7: "strong improvement",
}
# CBS's degree of urbanity (mate van stedelijkheid, by address density).
URBANITY_NAMES_NL: dict[int, str] = {
    1: "zeer sterk stedelijk", 2: "sterk stedelijk", 3: "matig stedelijk",
    4: "weinig stedelijk", 5: "niet stedelijk",
}
URBANITY_NAMES_EN: dict[int, str] = {
    1: "very strongly urban", 2: "strongly urban", 3: "moderately urban",
    4: "hardly urban", 5: "not urban",
}
# A class feature's value names and the word before the number ("" when the label says it).
CLASS_NAMES: dict[str, dict[Lang, tuple[str, dict[int, str]]]] = {
    "lbm_class": {
        "nl": ("Leefbarometer-klasse", LBM_CLASS_NAMES_NL),
        "en": ("Leefbarometer class", LBM_CLASS_NAMES_EN),
    },
    "lbm_development_class_prev": {
        "nl": ("ontwikkelingsklasse", DEVELOPMENT_CLASS_NAMES_NL),
        "en": ("development class", DEVELOPMENT_CLASS_NAMES_EN),
    },
    "urbanity": {"nl": ("klasse", URBANITY_NAMES_NL), "en": ("class", URBANITY_NAMES_EN)},
}
_FLAG_WORDS: dict[Lang, tuple[str, str]] = {"nl": ("ja", "nee"), "en": ("yes", "no")}
_FLAG_CHANGE: dict[Lang, tuple[str, str, str]] = {
    "nl": ("begonnen", "beëindigd", "ongewijzigd"),
    "en": ("started", "ended", "unchanged"),
}


def feature_label(feature: str, lang: Lang = "nl", extra: Extra | None = None) -> str:
    """Any feature of the grammar in words: 'aandeel huishoudens met laag inkomen, verandering
    in 3 jaar', 'in de gemeente: aantal inwoners' ('gemeente: inhabitants'). A mapped column
    reads as its label in ``extra`` (``mapped_terms``), its changes as those of its label."""
    return in_words(feature, WORDS[check_lang(lang)], extra)


def unit_text(feature: str, lang: Lang = "nl", extra: Extra | None = None) -> str:
    """The unit of a feature's number in words, as in a header; a change of a percentage is
    in 'procentpunt' ('percentage points')."""
    name = parse(feature)
    kind = unit(name.base, extra)
    words = UNIT_WORDS[check_lang(lang)][kind]
    return words.change if name.is_change and kind is Unit.PERCENT else words.header


def class_name(feature: str, value: float, lang: Lang = "nl") -> str | None:
    """The name of a class value of a class feature (its level, not a change): 'uitstekend'
    for ``lbm_class`` 9; None for another feature or a value outside its classes."""
    name = parse(feature)
    names = CLASS_NAMES.get(name.base)
    if names is None or name.is_change or is_missing(value) or float(value) != int(value):
        return None
    return names[check_lang(lang)][1].get(int(value))


def value_text(
    feature: str, value: float, lang: Lang = "nl", extra: Extra | None = None
) -> str:
    """A feature's value for people, with its unit or class name: '12,3%', '245 duizend euro',
    'Leefbarometer-klasse 9 (uitstekend)', '+5,4 procentpunt', 'ja'; missing -> 'onbekend'."""
    lang = check_lang(lang)
    if is_missing(value):
        return UNKNOWN[lang]
    value = float(value)
    name = parse(feature)
    kind = unit(name.base, extra)
    words = UNIT_WORDS[lang][kind]
    if name.is_change:
        return _change_text(value, kind, words, lang)
    if kind is Unit.FLAG:
        return _FLAG_WORDS[lang][0 if value >= 0.5 else 1]
    named = class_name(feature, value, lang)
    if named is not None:
        return f"{CLASS_NAMES[name.base][lang][0]} {int(value)} ({named})"
    return f"{number(value, lang=lang)}{words.after_level}"


def _change_text(value: float, kind: Unit, words: UnitWords, lang: Lang) -> str:
    if kind is Unit.FLAG:
        started, ended, same = _FLAG_CHANGE[lang]
        return same if value == 0 else (started if value > 0 else ended)
    shown = signed(value, lang=lang)
    return f"{shown} {words.change}" if words.change else shown


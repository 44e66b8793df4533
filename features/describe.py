"""The lookup over the feature vocabulary: a feature's English and Dutch labels, its unit, and
its value written for people.

Nothing is declared here. Base features are declared where their family is produced (CBS
and investment variables in ``features.schema``, Leefbarometer features in
``features.panel``, the gemeente context in ``features.derived``, the neighbours' features in
``features.neighbours``), and a name is taken apart
by the grammar of ``features.vocabulary``. Driver sentences are rendered in
``serving.drivers``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from features import derived, neighbours, panel, schema
from features.vocabulary import Scope, Term, Unit, parse

TERMS: dict[str, Term] = {
    t.name: t
    for t in (
        *schema.CBS_VARIABLES,
        *schema.CBS_PC4_VARIABLES,
        *schema.INVESTMENT_VARIABLES,
        *panel.LBM_TERMS,
        *neighbours.NEIGHBOUR_TERMS,
    )
}
CONTEXT_SCOPES: dict[str, Scope] = {c.name: c.scope for c in derived.CONTEXT_FEATURES}


def declared(feature: str) -> bool:
    """Whether the vocabulary knows ``feature``: its base is declared and, for a ``gm_``
    feature, so is the context feature itself."""
    name = parse(feature)
    return name.base in TERMS and (not name.gemeente or feature in CONTEXT_SCOPES)


def label(base: str) -> str:
    """The English label of a base feature; an undeclared one reads as its name."""
    term = TERMS.get(base)
    return term.label if term else base.replace("_", " ")


def label_nl(base: str) -> str:
    """The Dutch label of a base feature (neither a change nor ``gm_``); an undeclared one
    reads as its name ('_pct' dropped, '_per_1000' as 'per 1.000')."""
    term = TERMS.get(base)
    if term:
        return term.label_nl
    return base.removesuffix("_pct").replace("_per_1000", " per 1.000").replace("_", " ")


def unit(base: str) -> Unit:
    """The unit of a base feature; an undeclared one's is guessed from its name ('_pct' is a
    percentage, 'lbm...' a score, anything else a count)."""
    term = TERMS.get(base)
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

    label: Callable[[str], str]
    since_previous: str
    over_years: Callable[[int], str]
    scopes: Mapping[Scope, str]


ENGLISH = Words(
    label=label,
    since_previous="change since previous measurement",
    over_years=lambda k: f"change over {k} year{'s' if k > 1 else ''}",
    scopes={Scope.GEMEENTE: "gemeente", Scope.REST_OF_GEMEENTE: "gemeente"},
)


def in_words(feature: str, words: Words = ENGLISH) -> str:
    """A feature named by the grammar in ``words``' language: its base label, then the kind
    of change, behind the gemeente scope for a ``gm_`` feature."""
    name = parse(feature)
    text = words.label(name.base)
    if name.since_previous:
        text = f"{text}, {words.since_previous}"
    elif name.years is not None:
        text = f"{text}, {words.over_years(name.years)}"
    return f"{words.scopes[scope(feature)]}: {text}" if name.gemeente else text


def describe(feature: str) -> str:
    """'low_income_hh_pct_chg3' -> 'low-income households (%), change over 3 years'."""
    return in_words(feature, ENGLISH)


def format_value(value: float, signed: bool = False) -> str:
    """A feature value for people: 3 significant digits, thousands written out."""
    if value != value:
        return "missing"
    sign = "+" if signed else ""
    if abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"

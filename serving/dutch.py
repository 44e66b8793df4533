"""Dutch words for analysts: column headers, and numbers written the Dutch way (decimal
comma, thousands dot: ``1.250``, ``4,1``).

Dutch feature labels are declared with the features (``features.describe.label_nl`` looks
them up); here they become names of levels, changes and gemeente context, with the Dutch
words of each unit (one table for headers, levels and changes). Drivers become Dutch phrases
in ``serving.drivers``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from features.describe import Words, in_words, label_nl, unit
from features.vocabulary import Scope, Unit, parse

COLUMNS_NL: dict[str, str] = {
    "unit_code": "Wijkcode",
    "unit_name": "Naam",
    "gemeente_code": "Gemeentecode",
    "gemeente_name": "Gemeente",
    "as_of_year": "Peiljaar",
    "risk": "Risico (%)",
    "margin": "Log-odds",
    "rank": "Rang",
    "rank_in_gemeente": "Rang in gemeente",
    "rank_change": "Verandering in rang",
    "new_in_top": "Nieuw in landelijke top 10%",
    "top_drivers": "Belangrijkste factoren",
    "feature": "Kenmerk",
    "value": "Waarde",
    "contribution": "Bijdrage (log-odds)",
    "contribution_rank": "Volgorde",
}


def format_nl(value: float, digits: int = 3, max_decimals: int = 3) -> str:
    """A number the Dutch way with about ``digits`` significant digits: 3.62 -> '3,62',
    4.1 -> '4,1', 1250.4 -> '1.250', -0.0123 -> '-0,012' (at most ``max_decimals``)."""
    if math.isnan(value):
        return "onbekend"
    if math.isinf(value):
        return "oneindig" if value > 0 else "min oneindig"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(max(digits - 1 - magnitude, 0), max_decimals)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "0"):
        return "0"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


@dataclass(frozen=True)
class UnitWords:
    """A unit in Dutch: in a header ('duizend euro'), after a level ('is 12,3%'), and for a
    change ('steeg 4,1 procentpunt'; empty: 'steeg met 12')."""

    header: str
    after_level: str
    change: str


UNIT_WORDS_NL: dict[Unit, UnitWords] = {
    Unit.COUNT: UnitWords("aantal", "", ""),
    Unit.PER_1000: UnitWords("per 1.000 inwoners", "", ""),
    Unit.PERCENT: UnitWords("%", "%", "procentpunt"),
    Unit.THOUSAND_EUR: UnitWords("duizend euro", " duizend euro", "duizend euro"),
    Unit.EUR: UnitWords("euro", " euro", "euro"),
    Unit.SCORE: UnitWords("score", "", "punt"),
    Unit.CLASS: UnitWords("klasse", "", "punt"),
    Unit.YEARS: UnitWords("jaar", " jaar", "jaar"),
    Unit.FLAG: UnitWords("ja/nee", "", ""),
}
DUTCH = Words(
    label=label_nl,
    since_previous="verandering sinds de vorige meting",
    over_years=lambda k: f"verandering in {k} jaar",
    scopes={Scope.GEMEENTE: "in de gemeente", Scope.REST_OF_GEMEENTE: "in de rest van de gemeente"},
)


def feature_label_nl(feature: str) -> str:
    """A feature in Dutch words, changes and ``gm_`` included: 'gemiddelde WOZ-waarde',
    'gemiddelde WOZ-waarde, verandering in 3 jaar', 'in de gemeente: Leefbarometerscore'."""
    return in_words(feature, DUTCH)


def unit_nl(feature: str) -> str:
    """The unit of a feature's number in Dutch; a change of a percentage is in
    'procentpunt'."""
    name = parse(feature)
    words = UNIT_WORDS_NL[unit(name.base)]
    return words.change if name.is_change and unit(name.base) is Unit.PERCENT else words.header

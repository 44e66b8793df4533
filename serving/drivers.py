"""Drivers in words, in English and in Dutch: the one place a feature's contribution becomes
a sentence.

Labels, units and the name grammar come from the feature vocabulary (``features.describe``);
this module only renders them. Dutch numbers are written the Dutch way (``serving.dutch``).
"""

from __future__ import annotations

import math

from features.describe import describe, format_value, label_nl, scope, unit
from features.vocabulary import Unit, parse
from serving.dutch import DUTCH, UNIT_WORDS_NL, format_nl


def driver_text(
    feature: str, value: float, contribution: float, label: str | None = None
) -> str:
    """One driver in words: what, its value, and how much it moves the log-odds. Pass
    ``label`` (``describe(feature)``) when calling for many rows, to describe it once."""
    shown = format_value(value, signed=parse(feature).is_change)
    return f"{label or describe(feature)} = {shown} ({contribution:+.2f})"


def _level_nl(base: str, value: float) -> str:
    label = label_nl(base)
    if math.isnan(value):
        return f"{label} onbekend"
    if unit(base) is Unit.FLAG:
        return f"{label}: {'ja' if value >= 0.5 else 'nee'}"
    return f"{label} is {format_nl(value)}{UNIT_WORDS_NL[unit(base)].after_level}"


def _change_nl(base: str, value: float, period: str) -> str:
    label = label_nl(base)
    if math.isnan(value):
        return f"{label}: verandering {period} onbekend"
    if unit(base) is Unit.FLAG:
        if value == 0:
            return f"{label} ongewijzigd {period}"
        period = (
            period.replace("in ", "in de afgelopen ", 1) if period.startswith("in ") else period
        )
        return f"{label} {'begonnen' if value > 0 else 'beëindigd'} {period}"
    shown = format_nl(abs(value))
    if shown == "0":
        return f"{label} bleef gelijk {period}"
    verb = "steeg" if value > 0 else "daalde"
    word = UNIT_WORDS_NL[unit(base)].change
    amount = f"{shown} {word}" if word else f"met {shown}"
    return f"{label} {verb} {amount} {period}"


def driver_phrase_nl(feature: str, value: float) -> str:
    """A driver in Dutch words: 'aandeel huishoudens met laag inkomen steeg 4,1 procentpunt in
    3 jaar', 'Leefbarometerscore is 3,62', 'in de rest van de gemeente: Leefbarometerscore
    daalde 0,12 punt sinds de vorige meting'."""
    value = float(value)
    name = parse(feature)
    if name.since_previous:
        phrase = _change_nl(name.base, value, "sinds de vorige meting")
    elif name.years is not None:
        phrase = _change_nl(name.base, value, f"in {name.years} jaar")
    else:
        phrase = _level_nl(name.base, value)
    return f"{DUTCH.scopes[scope(feature)]}: {phrase}" if name.gemeente else phrase

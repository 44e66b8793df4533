"""Numbers written for people, in Dutch (decimal comma, thousands dot: ``1.250``, ``4,1``) or
English (``1,250``, ``4.1``): the core of ``serving.formatting``, kept in the feature layer
because a feature's value is written here too (``features.describe.value_text``), and the
feature layer may not import ``serving``.

Users read these functions through ``serving.formatting`` (percentages, ratios and dates are
added there); nothing else formats a number for people.
"""

from __future__ import annotations

import math
from typing import Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
MINUS = "\u2212"  # the minus sign, not the hyphen
UNKNOWN: dict[Lang, str] = {"nl": "onbekend", "en": "unknown"}
_INFINITE: dict[Lang, tuple[str, str]] = {
    "nl": ("oneindig", "min oneindig"),
    "en": ("infinite", "minus infinite"),
}


def check_lang(lang: str) -> Lang:
    """``lang`` when it is a language we write ("nl" or "en"); an error otherwise."""
    if lang not in LANGS:
        raise ValueError(f"The language must be 'nl' or 'en'. Got {lang!r} instead.")
    return lang  # type: ignore[return-value]


def is_missing(value: object) -> bool:
    """None, NaN and pandas' NA are missing; anything else is not."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN (and pd.NA, whose comparison is NA: TypeError)
    except TypeError:
        return True


def _decimals(value: float, digits: int, max_decimals: int) -> int:
    if value == 0:
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return min(max(digits - 1 - magnitude, 0), max_decimals)


def _localise(text: str, lang: Lang) -> str:
    """'1,234.5' (Python's grouping) in ``lang``: '1.234,5' in Dutch."""
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def number(value: float, decimals: int | None = None, lang: Lang = "nl") -> str:
    """A number for people: ``decimals`` fixed decimals, or (None) about 3 significant digits
    with at most 3 decimals and no trailing zeros. Thousands are grouped; a negative number
    has a minus sign. 1250.4 -> '1.250', 4.1 -> '4,1', -0.0123 -> '−0,012'; NaN -> 'onbekend'
    ('unknown')."""
    lang = check_lang(lang)
    if is_missing(value):
        return UNKNOWN[lang]
    value = float(value)
    if math.isinf(value):
        return _INFINITE[lang][0 if value > 0 else 1]
    fixed = decimals is not None
    places = int(decimals) if fixed else _decimals(value, 3, 3)
    text = f"{abs(value):,.{max(places, 0)}f}"
    if not fixed and "." in text:
        text = text.rstrip("0").rstrip(".")
    if float(text.replace(",", "")) == 0:
        return _localise(text, lang)  # no '−0'
    return (MINUS if value < 0 else "") + _localise(text, lang)


def signed(value: float, decimals: int | None = None, lang: Lang = "nl") -> str:
    """A number with its sign always written: '+5,4', '−1,1', '0'; NaN -> 'onbekend'."""
    text = number(value, decimals, lang)
    if is_missing(value) or text.startswith(MINUS) or float(value) == 0:
        return text
    if text.strip("0,.") == "":  # rounds to zero
        return text
    return text if math.isinf(float(value)) else f"+{text}"

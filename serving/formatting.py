"""The one formatting module: numbers, percentages, signed numbers, ratios and dates for people,
in Dutch (nl-NL: decimal comma, thousands dot, '14 mei 2025') or English. The page, the
report, the CLI tables and every export write their numbers through these functions.

The number core lives in ``features.numbers`` (the feature layer writes feature values too and
may not import ``serving``); this module re-exports it and adds the rest. Dutch month names
are ``wijkradar.calendar.MONTHS_NL``.

>>> number(1250.4), number(4.1), percent(0.412), percent(0.412, 1), signed(5.4), times(3.14)
('1.250', '4,1', '41%', '41,2%', '+5,4', '3,1×')
>>> date_text("2025-05-14"), date_text("2025-05-14", "en")
('14 mei 2025', '14 May 2025')
"""

from __future__ import annotations

import datetime as dt
import math

from features.numbers import LANGS, MINUS, UNKNOWN, Lang, check_lang, is_missing, number, signed
from wijkradar.calendar import MONTHS_NL

__all__ = [
    "LANGS",
    "MINUS",
    "MONTHS_EN",
    "UNKNOWN",
    "Lang",
    "check_lang",
    "count",
    "date_text",
    "is_missing",
    "number",
    "percent",
    "signed",
    "signed_percent",
    "times",
]

MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def percent(share: float, decimals: int = 0, lang: Lang = "nl") -> str:
    """A share (0..1) as a percentage: 0.412 -> '41%'; decimals=1 -> '41,2%' ('41.2%');
    NaN -> 'onbekend'. A share that rounds to 0 but is not 0 reads '<1%' (or '<0,1%')."""
    lang = check_lang(lang)
    if is_missing(share):
        return UNKNOWN[lang]
    value = 100.0 * float(share)
    text = number(value, decimals, lang)
    floor = 10.0 ** -decimals
    if 0 < value < floor / 2:
        return f"<{number(floor, decimals, lang)}%"
    return f"{text}%"


def signed_percent(points: float, decimals: int = 1, lang: Lang = "nl") -> str:
    """A change in percentage points (given as points): '+5,4 procentpunt' ('+5.4 points')."""
    word = "procentpunt" if check_lang(lang) == "nl" else "percentage points"
    return f"{signed(points, decimals, lang)} {word}"


def times(ratio: float, lang: Lang = "nl") -> str:
    """A ratio: 3.14 -> '3,1×'; from 10 on without decimals ('12×'); NaN -> 'onbekend'."""
    lang = check_lang(lang)
    if is_missing(ratio) or math.isinf(float(ratio)):
        return UNKNOWN[lang]
    decimals = 0 if abs(float(ratio)) >= 9.95 else 1
    return f"{number(float(ratio), decimals, lang)}×"


def count(value: float, lang: Lang = "nl") -> str:
    """A whole number with thousands grouped: 14500 -> '14.500' ('14,500')."""
    return number(value, 0, lang)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValueError(
            f"A date is a datetime.date or an ISO date such as '2025-07-01'. Got {value!r}."
        ) from exc


def date_text(value: dt.date | str, lang: Lang = "nl") -> str:
    """A date in words: '14 mei 2025' ('14 May 2025'); an ISO string or a date."""
    lang = check_lang(lang)
    day = _as_date(value)
    months = MONTHS_NL if lang == "nl" else MONTHS_EN
    return f"{day.day} {months[day.month - 1]} {day.year}"

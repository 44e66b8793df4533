"""Dutch words for analysts, kept under their old names: the export headers
(``serving.exports.COLUMNS_NL``), feature labels and units in Dutch (``features.describe``)
and numbers written the Dutch way (``serving.formatting``). New code calls those modules
with a ``lang``; this module only names their Dutch forms.
"""

from __future__ import annotations

from features.describe import DUTCH, UNIT_WORDS, UnitWords, feature_label, unit_text
from features.vocabulary import Unit
from serving.formatting import number
from serving.sheets import COLUMNS_NL

__all__ = [
    "COLUMNS_NL",
    "DUTCH",
    "UNIT_WORDS_NL",
    "UnitWords",
    "feature_label_nl",
    "format_nl",
    "unit_nl",
]

UNIT_WORDS_NL: dict[Unit, UnitWords] = UNIT_WORDS["nl"]


def format_nl(value: float, digits: int = 3, max_decimals: int = 3) -> str:
    """``serving.formatting.number`` in Dutch: 3.62 -> '3,62', 1250.4 -> '1.250'. (``digits``
    and ``max_decimals`` are kept for old callers; only the defaults are supported.)"""
    if (digits, max_decimals) != (3, 3):
        raise ValueError("format_nl writes about 3 significant digits; use formatting.number.")
    return number(value, lang="nl")


def feature_label_nl(feature: str) -> str:
    """``features.describe.feature_label(feature, "nl")``."""
    return feature_label(feature, "nl")


def unit_nl(feature: str) -> str:
    """``features.describe.unit_text(feature, "nl")``."""
    return unit_text(feature, "nl")

"""Dutch words for analysts: column headers, and numbers written the Dutch way (decimal
comma, thousands dot: ``1.250``, ``4,1``).

Dutch feature labels are declared with the features (``features.describe.label_nl`` looks
them up); drivers become Dutch phrases in ``serving.drivers``.
"""

from __future__ import annotations

import math

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

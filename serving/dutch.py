"""Dutch words for analysts: feature labels, drivers as phrases, column headers.

Numbers are written the Dutch way: decimal comma, thousands dot (``1.250``, ``4,1``).
A feature name reads as in ``features.describe``: ``<base>`` is a level, ``<base>_chg<k>`` the
change over k years, ``<base>_chg_prev`` the change since the previous Leefbarometer
measurement, and ``gm_<feature>`` the same for the gemeente around the unit.
"""

from __future__ import annotations

import math
import re

LABELS_NL: dict[str, str] = {
    "inhabitants": "aantal inwoners",
    "age_0_14_pct": "aandeel inwoners van 0 tot 15 jaar",
    "age_15_24_pct": "aandeel inwoners van 15 tot 25 jaar",
    "age_25_44_pct": "aandeel inwoners van 25 tot 45 jaar",
    "age_45_64_pct": "aandeel inwoners van 45 tot 65 jaar",
    "age_65plus_pct": "aandeel inwoners van 65 jaar of ouder",
    "households": "aantal huishoudens",
    "single_person_hh_pct": "aandeel eenpersoonshuishoudens",
    "nonwestern_pct": "aandeel inwoners met een niet-westerse migratieachtergrond",
    "income_per_inhabitant": "gemiddeld inkomen per inwoner",
    "low_income_hh_pct": "aandeel huishoudens met laag inkomen",
    "bijstand_per_1000": "bijstandsontvangers per 1.000 inwoners",
    "woz_value": "gemiddelde WOZ-waarde",
    "dwellings": "aantal woningen",
    "owner_occupied_pct": "aandeel koopwoningen",
    "corporation_rent_pct": "aandeel corporatiehuurwoningen",
    "private_rent_pct": "aandeel particuliere huurwoningen",
    "built_pre1970_pct": "aandeel woningen gebouwd vóór 1970",
    "dwellings_added": "aantal nieuwgebouwde woningen",
    "dwellings_demolished": "aantal gesloopte woningen",
    "wmo_clients_per_1000": "Wmo-cliënten per 1.000 inwoners",
    "crimes_per_1000": "geregistreerde misdrijven per 1.000 inwoners",
    "shelter_inflow_per_1000": "instroom uit de maatschappelijke opvang per 1.000 inwoners",
    "status_holders_per_1000": "gehuisveste statushouders per 1.000 inwoners",
    "corp_renovation_per_dwelling": "renovatie-investeringen van corporaties per woning",
    "middle_income_new_dwellings": "nieuwe woningen voor middeninkomens",
    "market_investment_per_dwelling": "marktinvesteringen per woning",
    "krachtwijk": "krachtwijkaanpak",
    "programme_budget_per_dwelling": "programmageld per woning",
    "lbm": "Leefbarometerscore",
    "lbm_fys": "Leefbarometer: fysieke omgeving",
    "lbm_onv": "Leefbarometer: overlast en onveiligheid",
    "lbm_soc": "Leefbarometer: sociale samenhang",
    "lbm_vrz": "Leefbarometer: voorzieningen",
    "lbm_won": "Leefbarometer: woningvoorraad",
    "lbm_years_since": "tijd sinds de laatste meting",
    "lbm_years_between": "tijd tussen de laatste twee metingen",
    "lbm_class": "Leefbarometer-klasse",
}

# (suffix after a level, unit word after a change); unlisted: by name, else no unit.
_UNITS: dict[str, tuple[str, str]] = {
    "income_per_inhabitant": (" duizend euro", "duizend euro"),
    "woz_value": (" duizend euro", "duizend euro"),
    "corp_renovation_per_dwelling": (" euro", "euro"),
    "market_investment_per_dwelling": (" euro", "euro"),
    "programme_budget_per_dwelling": (" euro", "euro"),
    "lbm_years_since": (" jaar", "jaar"),
    "lbm_years_between": (" jaar", "jaar"),
}
_PERCENT = ("%", "procentpunt")
_SCORE = ("", "punt")
_BINARY = frozenset({"krachtwijk"})
# gm_ features that leave the unit itself out (features.derived, leave_out_self=True).
_GM_REST = frozenset({"gm_lbm_chg_prev"})

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

_CHANGE = re.compile(r"^(?P<base>.+)_chg(?P<k>\d+)$")


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


def label_nl(base: str) -> str:
    """The Dutch label of a base feature (neither a change nor ``gm_``)."""
    if base in LABELS_NL:
        return LABELS_NL[base]
    return base.removesuffix("_pct").replace("_per_1000", " per 1.000").replace("_", " ")


def _units(base: str) -> tuple[str, str]:
    if base in _UNITS:
        return _UNITS[base]
    if base.endswith("_pct"):
        return _PERCENT
    if base == "lbm" or base.startswith("lbm_"):
        return _SCORE
    return "", ""


def _level(base: str, value: float) -> str:
    label = label_nl(base)
    if math.isnan(value):
        return f"{label} onbekend"
    if base in _BINARY:
        return f"{label}: {'ja' if value >= 0.5 else 'nee'}"
    suffix = _units(base)[0]
    return f"{label} is {format_nl(value)}{suffix}"


def _change(base: str, value: float, period: str) -> str:
    label = label_nl(base)
    if math.isnan(value):
        return f"{label}: verandering {period} onbekend"
    if base in _BINARY:
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
    unit = _units(base)[1]
    amount = f"{shown} {unit}" if unit else f"met {shown}"
    return f"{label} {verb} {amount} {period}"


def driver_phrase_nl(feature: str, value: float) -> str:
    """A driver in words: 'aandeel huishoudens met laag inkomen steeg 4,1 procentpunt in
    3 jaar', 'Leefbarometerscore is 3,62', 'in de rest van de gemeente: Leefbarometerscore
    daalde 0,12 punt sinds de vorige meting'."""
    value = float(value)
    if feature.startswith("gm_"):
        where = "in de rest van de gemeente" if feature in _GM_REST else "in de gemeente"
        return f"{where}: {driver_phrase_nl(feature[3:], value)}"
    if feature.endswith("_chg_prev"):
        return _change(feature[: -len("_chg_prev")], value, "sinds de vorige meting")
    match = _CHANGE.match(feature)
    if match:
        return _change(match["base"], value, f"in {int(match['k'])} jaar")
    return _level(feature, value)

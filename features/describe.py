"""Readable names for panel features, derived from the column name itself."""

from __future__ import annotations

import re

LABELS: dict[str, str] = {
    "inhabitants": "inhabitants",
    "age_0_14_pct": "share aged 0-14 (%)",
    "age_15_24_pct": "share aged 15-24 (%)",
    "age_25_44_pct": "share aged 25-44 (%)",
    "age_45_64_pct": "share aged 45-64 (%)",
    "age_65plus_pct": "share aged 65+ (%)",
    "households": "households",
    "single_person_hh_pct": "single-person households (%)",
    "nonwestern_pct": "non-western migration background (%)",
    "income_per_inhabitant": "income per inhabitant (k EUR)",
    "low_income_hh_pct": "low-income households (%)",
    "bijstand_per_1000": "social assistance per 1,000",
    "woz_value": "average WOZ value (k EUR)",
    "dwellings": "dwellings",
    "owner_occupied_pct": "owner-occupied dwellings (%)",
    "corporation_rent_pct": "corporation rental dwellings (%)",
    "private_rent_pct": "private rental dwellings (%)",
    "built_pre1970_pct": "dwellings built before 1970 (%)",
    "dwellings_added": "dwellings added",
    "dwellings_demolished": "dwellings demolished",
    "wmo_clients_per_1000": "Wmo care clients per 1,000",
    "crimes_per_1000": "registered crimes per 1,000",
    "shelter_inflow_per_1000": "inflow from shelters per 1,000",
    "status_holders_per_1000": "status holders housed per 1,000",
    "corp_renovation_per_dwelling": "corporation renovation (EUR/dwelling)",
    "middle_income_new_dwellings": "new dwellings for middle incomes",
    "market_investment_per_dwelling": "market investment (EUR/dwelling)",
    "krachtwijk": "krachtwijk programme",
    "programme_budget_per_dwelling": "programme money (EUR/dwelling)",
    "lbm": "Leefbarometer score",
    "lbm_fys": "Leefbarometer: physical environment",
    "lbm_onv": "Leefbarometer: nuisance and unsafety",
    "lbm_soc": "Leefbarometer: social cohesion",
    "lbm_vrz": "Leefbarometer: amenities",
    "lbm_won": "Leefbarometer: housing",
    "lbm_years_since": "years since the last measurement",
    "lbm_years_between": "years between the last two measurements",
}

_CHANGE = re.compile(r"^(?P<base>.+)_chg(?P<k>\d+)$")


def describe(feature: str) -> str:
    """'low_income_hh_pct_chg3' -> 'low-income households (%), change over 3 years'."""
    if feature.startswith("gm_"):
        return f"gemeente: {describe(feature[3:])}"
    if feature.endswith("_chg_prev"):
        return f"{describe(feature[: -len('_chg_prev')])}, change since previous measurement"
    match = _CHANGE.match(feature)
    if match:
        k = int(match["k"])
        return f"{describe(match['base'])}, change over {k} year{'s' if k > 1 else ''}"
    return LABELS.get(feature, feature.replace("_", " "))


def format_value(value: float, signed: bool = False) -> str:
    """A feature value for people: 3 significant digits, thousands written out."""
    if value != value:
        return "missing"
    sign = "+" if signed else ""
    if abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"


def driver_text(
    feature: str, value: float, contribution: float, label: str | None = None
) -> str:
    """One driver in words: what, its value, and how much it moves the log-odds. Pass
    ``label`` (``describe(feature)``) when calling for many rows, to describe it once."""
    shown = format_value(value, signed="_chg" in feature)
    return f"{label or describe(feature)} = {shown} ({contribution:+.2f})"

"""What the sources hold: stable variable names, the Dutch headers they go by, and bounds.

One table maps every header a variable has had across CBS releases to one stable name, so
that a renamed header (``Allochtonen`` became ``Personen met migratieachtergrond`` in 2017)
never breaks a year. ``kind`` says how a variable aggregates when codes merge: counts are
summed, everything else is a weighted mean with ``weight`` as the weight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "share", "rate", "mean"]


@dataclass(frozen=True)
class Variable:
    name: str
    headers: tuple[str, ...]  # every StatLine CSV header this variable has had; first = current
    kind: Kind
    weight: str | None  # stable name of the weight for non-count variables
    minimum: float = 0.0
    maximum: float | None = None
    decimals: int = 1  # how the generator writes it

    @property
    def header(self) -> str:
        return self.headers[0]


def _pct(name: str, weight: str, *headers: str) -> Variable:
    return Variable(name, headers, "share", weight, 0.0, 100.0)


def _rate(name: str, *headers: str) -> Variable:
    return Variable(name, headers, "rate", "inhabitants", 0.0, 1000.0)


CBS_VARIABLES: tuple[Variable, ...] = (
    Variable("inhabitants", ("Bevolking/Aantal inwoners (aantal)",), "count", None, decimals=0),
    _pct("age_0_14_pct", "inhabitants", "Bevolking/Leeftijdsgroepen/0 tot 15 jaar (%)"),
    _pct("age_15_24_pct", "inhabitants", "Bevolking/Leeftijdsgroepen/15 tot 25 jaar (%)"),
    _pct("age_25_44_pct", "inhabitants", "Bevolking/Leeftijdsgroepen/25 tot 45 jaar (%)"),
    _pct("age_45_64_pct", "inhabitants", "Bevolking/Leeftijdsgroepen/45 tot 65 jaar (%)"),
    _pct("age_65plus_pct", "inhabitants", "Bevolking/Leeftijdsgroepen/65 jaar of ouder (%)"),
    Variable(
        "households",
        ("Bevolking/Particuliere huishoudens/Huishoudens totaal (aantal)",),
        "count",
        None,
        decimals=0,
    ),
    _pct(
        "single_person_hh_pct",
        "households",
        "Bevolking/Particuliere huishoudens/Eenpersoonshuishoudens (%)",
    ),
    _pct(
        "nonwestern_pct",
        "inhabitants",
        "Bevolking/Personen met migratieachtergrond/Niet-westers (%)",
        "Bevolking/Allochtonen/Niet-westers totaal (%)",
    ),
    Variable(
        "income_per_inhabitant",
        (
            "Inkomen/Inkomen van personen/Gemiddeld inkomen per inwoner (x 1 000 euro)",
            "Inkomen/Gemiddeld inkomen per inwoner (x 1 000 euro)",
        ),
        "mean",
        "inhabitants",
    ),
    _pct(
        "low_income_hh_pct",
        "households",
        "Inkomen/Inkomen van huishoudens/Huishoudens met een laag inkomen (%)",
        "Inkomen/Huishoudens met laag inkomen (%)",
    ),
    _rate(
        "bijstand_per_1000",
        "Sociale zekerheid/Personen met bijstand relatief (per 1 000 inwoners)",
        "Sociale zekerheid/Bijstandsuitkeringen relatief (per 1 000 inwoners)",
    ),
    Variable(
        "woz_value",
        ("Wonen/Gemiddelde WOZ-waarde van woningen (x 1 000 euro)",),
        "mean",
        "dwellings",
        decimals=0,
    ),
    Variable("dwellings", ("Wonen/Woningvoorraad (aantal)",), "count", None, decimals=0),
    _pct("owner_occupied_pct", "dwellings", "Wonen/Eigendom/Koopwoningen (%)"),
    _pct(
        "corporation_rent_pct",
        "dwellings",
        "Wonen/Eigendom/Huurwoningen/In bezit woningcorporatie (%)",
    ),
    _pct(
        "private_rent_pct",
        "dwellings",
        "Wonen/Eigendom/Huurwoningen/In bezit overige verhuurders (%)",
    ),
    _pct("built_pre1970_pct", "dwellings", "Wonen/Bouwjaarklasse/Bouwjaar voor 1970 (%)"),
    Variable(
        "dwellings_added",
        ("Wonen/Voorraadmutaties/Nieuwbouw (aantal)",),
        "count",
        None,
        decimals=0,
    ),
    Variable(
        "dwellings_demolished",
        ("Wonen/Voorraadmutaties/Sloop (aantal)",),
        "count",
        None,
        decimals=0,
    ),
    _rate("wmo_clients_per_1000", "Zorg/Wmo-cliënten relatief (per 1 000 inwoners)"),
    _rate(
        "crimes_per_1000", "Criminaliteit/Geregistreerde misdrijven relatief (per 1 000 inwoners)"
    ),
    _rate(
        "shelter_inflow_per_1000",
        "Zorg/Instroom uit maatschappelijke opvang relatief (per 1 000 inwoners)",
    ),
    _rate(
        "status_holders_per_1000",
        "Bevolking/Gehuisveste statushouders relatief (per 1 000 inwoners)",
    ),
)

CBS_BY_NAME = {v.name: v for v in CBS_VARIABLES}
CBS_BY_HEADER = {h: v for v in CBS_VARIABLES for h in v.headers}

# StatLine identifies the region and period with these columns (all variants seen).
CBS_PERIOD_HEADERS = ("Perioden",)
CBS_CODE_HEADERS = ("Regiocode (gemeente, wijk, buurt) (code)", "Codering (code)", "Codering")
CBS_NAME_HEADERS = ("Wijken en buurten", "Regioaanduiding/Wijken en buurten (naam)")
CBS_GEMEENTE_HEADERS = ("Gemeentenaam (naam)", "Regioaanduiding/Gemeentenaam (naam)")

# CBS statistical symbols (StatLine "CSV met statistische symbolen").
CBS_MISSING_SYMBOLS = frozenset({"", ".", "x", "?"})  # not available / secret / unreliable
CBS_NIL_SYMBOLS = frozenset({"-"})  # "nihil": the value is zero

LBM_DIMENSIONS = ("fys", "onv", "soc", "vrz", "won")
LBM_SCORE_COLUMNS = ("lbm", "afw", *LBM_DIMENSIONS)
LBM_CODE_COLUMNS = {"gm_code": "gemeente", "wk_code": "wijk", "bu_code": "buurt"}
LBM_NAME_COLUMNS = ("gm_naam", "wk_naam", "bu_naam")


@dataclass(frozen=True)
class InvestmentVariable:
    name: str
    description: str
    maximum: float | None = None


INVESTMENT_VARIABLES: tuple[InvestmentVariable, ...] = (
    InvestmentVariable(
        "corp_renovation_per_dwelling", "Corporation renovation investment (EUR per dwelling)"
    ),
    InvestmentVariable(
        "middle_income_new_dwellings", "New dwellings for middle incomes built this year"
    ),
    InvestmentVariable(
        "market_investment_per_dwelling", "Private (market) investment (EUR per dwelling)"
    ),
    InvestmentVariable("krachtwijk", "1 if the unit is in a krachtwijk programme this year", 1.0),
    InvestmentVariable(
        "programme_budget_per_dwelling", "Public programme money (EUR per dwelling)"
    ),
)
INVESTMENT_BY_NAME = {v.name: v for v in INVESTMENT_VARIABLES}

_LEVEL_PATTERNS = (
    ("gemeente", re.compile(r"^GM\d{4}$")),
    # Gemeente number, then the wijk (2) and buurt (2) numbers; Amsterdam uses letters there
    # (WK0363AA, BU0363AA01).
    ("wijk", re.compile(r"^WK\d{4}[0-9A-Z]{2}$")),
    ("buurt", re.compile(r"^BU\d{4}[0-9A-Z]{4}$")),
    ("pc4", re.compile(r"^\d{4}$")),
)


def unit_level(code: str) -> str | None:
    """The level of a unit code ('GM0363' -> 'gemeente'), or None if it has no known form."""
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.match(code):
            return level
    return None


def gemeente_of(code: str) -> str | None:
    """The gemeente code a GM/WK/BU code lies in ('WK036301' -> 'GM0363'); None for PC4."""
    if code[:2] in ("GM", "WK", "BU") and len(code) >= 6:
        return "GM" + code[2:6]
    return None

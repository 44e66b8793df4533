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

from features.vocabulary import Term, Unit

Kind = Literal["count", "share", "rate", "mean"]


@dataclass(frozen=True)
class Variable(Term):
    """A CBS variable: a ``Term`` (name, labels, unit) and how the sources hold it."""

    # Every StatLine CSV header this variable has had, first = current; empty for a variable
    # no KWB table holds (``CBS_PC4_VARIABLES``).
    headers: tuple[str, ...]
    kind: Kind
    weight: str | None  # stable name of the weight for non-count variables
    minimum: float = 0.0
    maximum: float | None = None
    decimals: int = 1  # how the generator writes it

    @property
    def header(self) -> str:
        return self.headers[0]


def _count(name: str, label: str, label_nl: str, *headers: str) -> Variable:
    return Variable(name, label, label_nl, Unit.COUNT, headers, "count", None, decimals=0)


def _pct(name: str, weight: str, label: str, label_nl: str, *headers: str) -> Variable:
    return Variable(name, label, label_nl, Unit.PERCENT, headers, "share", weight, 0.0, 100.0)


def _rate(name: str, label: str, label_nl: str, *headers: str) -> Variable:
    unit = Unit.PER_1000
    return Variable(name, label, label_nl, unit, headers, "rate", "inhabitants", 0.0, 1000.0)


def _age(name: str, en: str, nl: str, header: str) -> Variable:
    return _pct(
        name, "inhabitants", f"share aged {en} (%)", f"aandeel inwoners van {nl}",
        f"Bevolking/Leeftijdsgroepen/{header} (%)",
    )


CBS_VARIABLES: tuple[Variable, ...] = (
    _count("inhabitants", "inhabitants", "aantal inwoners", "Bevolking/Aantal inwoners (aantal)"),
    _age("age_0_14_pct", "0-14", "0 tot 15 jaar", "0 tot 15 jaar"),
    _age("age_15_24_pct", "15-24", "15 tot 25 jaar", "15 tot 25 jaar"),
    _age("age_25_44_pct", "25-44", "25 tot 45 jaar", "25 tot 45 jaar"),
    _age("age_45_64_pct", "45-64", "45 tot 65 jaar", "45 tot 65 jaar"),
    _pct(
        "age_65plus_pct", "inhabitants", "share aged 65+ (%)",
        "aandeel inwoners van 65 jaar of ouder", "Bevolking/Leeftijdsgroepen/65 jaar of ouder (%)",
    ),
    _count(
        "households", "households", "aantal huishoudens",
        "Bevolking/Particuliere huishoudens/Huishoudens totaal (aantal)",
    ),
    _pct(
        "single_person_hh_pct", "households", "single-person households (%)",
        "aandeel eenpersoonshuishoudens",
        "Bevolking/Particuliere huishoudens/Eenpersoonshuishoudens (%)",
    ),
    _pct(
        "nonwestern_pct", "inhabitants", "non-western migration background (%)",
        "aandeel inwoners met een niet-westerse migratieachtergrond",
        "Bevolking/Personen met migratieachtergrond/Niet-westers (%)",
        "Bevolking/Allochtonen/Niet-westers totaal (%)",
    ),
    Variable(
        "income_per_inhabitant", "income per inhabitant (k EUR)",
        "gemiddeld inkomen per inwoner", Unit.THOUSAND_EUR,
        (
            "Inkomen/Inkomen van personen/Gemiddeld inkomen per inwoner (x 1 000 euro)",
            "Inkomen/Gemiddeld inkomen per inwoner (x 1 000 euro)",
        ),
        "mean",
        "inhabitants",
    ),
    _pct(
        "low_income_hh_pct", "households", "low-income households (%)",
        "aandeel huishoudens met laag inkomen",
        "Inkomen/Inkomen van huishoudens/Huishoudens met een laag inkomen (%)",
        "Inkomen/Huishoudens met laag inkomen (%)",
    ),
    _rate(
        "bijstand_per_1000", "social assistance per 1,000",
        "bijstandsontvangers per 1.000 inwoners",
        "Sociale zekerheid/Personen met bijstand relatief (per 1 000 inwoners)",
        "Sociale zekerheid/Bijstandsuitkeringen relatief (per 1 000 inwoners)",
    ),
    Variable(
        "woz_value", "average WOZ value (k EUR)", "gemiddelde WOZ-waarde", Unit.THOUSAND_EUR,
        ("Wonen/Gemiddelde WOZ-waarde van woningen (x 1 000 euro)",),
        "mean",
        "dwellings",
        decimals=0,
    ),
    _count("dwellings", "dwellings", "aantal woningen", "Wonen/Woningvoorraad (aantal)"),
    _pct(
        "owner_occupied_pct", "dwellings", "owner-occupied dwellings (%)",
        "aandeel koopwoningen", "Wonen/Eigendom/Koopwoningen (%)",
    ),
    _pct(
        "corporation_rent_pct", "dwellings", "corporation rental dwellings (%)",
        "aandeel corporatiehuurwoningen",
        "Wonen/Eigendom/Huurwoningen/In bezit woningcorporatie (%)",
    ),
    _pct(
        "private_rent_pct", "dwellings", "private rental dwellings (%)",
        "aandeel particuliere huurwoningen",
        "Wonen/Eigendom/Huurwoningen/In bezit overige verhuurders (%)",
    ),
    _pct(
        "built_pre1970_pct", "dwellings", "dwellings built before 1970 (%)",
        "aandeel woningen gebouwd vóór 1970", "Wonen/Bouwjaarklasse/Bouwjaar voor 1970 (%)",
    ),
    _count(
        "dwellings_added", "dwellings added", "aantal nieuwgebouwde woningen",
        "Wonen/Voorraadmutaties/Nieuwbouw (aantal)",
    ),
    _count(
        "dwellings_demolished", "dwellings demolished", "aantal gesloopte woningen",
        "Wonen/Voorraadmutaties/Sloop (aantal)",
    ),
    _rate(
        "wmo_clients_per_1000", "Wmo care clients per 1,000", "Wmo-cliënten per 1.000 inwoners",
        "Zorg/Wmo-cliënten relatief (per 1 000 inwoners)",
    ),
    _rate(
        "crimes_per_1000", "registered crimes per 1,000",
        "geregistreerde misdrijven per 1.000 inwoners",
        "Criminaliteit/Geregistreerde misdrijven relatief (per 1 000 inwoners)",
    ),
    _rate(
        "shelter_inflow_per_1000", "inflow from shelters per 1,000",
        "instroom uit de maatschappelijke opvang per 1.000 inwoners",
        "Zorg/Instroom uit maatschappelijke opvang relatief (per 1 000 inwoners)",
    ),
    _rate(
        "status_holders_per_1000", "status holders housed per 1,000",
        "gehuisveste statushouders per 1.000 inwoners",
        "Bevolking/Gehuisveste statushouders relatief (per 1 000 inwoners)",
    ),
)

# Variables that only CBS "Statistiek per postcode" (PC4) holds, not the KWB tables: their
# reader is ``features.cbs_pc4`` (its mapping table says which PC4 column each comes from).
# They are not in ``CBS_VARIABLES``, which the generator publishes and the KWB readers fill.
CBS_PC4_VARIABLES: tuple[Variable, ...] = (
    _pct(
        "single_parent_hh_pct", "households", "single-parent households (%)",
        "aandeel eenouderhuishoudens",
    ),
    Variable(
        "household_size", "average household size (persons)", "gemiddelde huishoudensgrootte",
        Unit.COUNT, (), "mean", "households",
    ),
    _pct(
        "multifamily_pct", "dwellings", "multi-family dwellings (%)",
        "aandeel meergezinswoningen",
    ),
    _pct("rental_pct", "dwellings", "rental dwellings (%)", "aandeel huurwoningen"),
    _pct(
        "uninhabited_dwellings_pct", "dwellings", "uninhabited dwellings (%)",
        "aandeel niet-bewoonde woningen",
    ),
    _pct(
        "built_pre1945_pct", "dwellings", "dwellings built before 1945 (%)",
        "aandeel woningen gebouwd vóór 1945",
    ),
    _pct(
        "built_2015plus_pct", "dwellings", "dwellings built 2015 or later (%)",
        "aandeel woningen gebouwd in 2015 of later",
    ),
    _rate(
        "benefits_per_1000", "WW, social assistance or disability benefit per 1,000",
        "personen met een WW-, bijstands- of AO-uitkering per 1.000 inwoners",
    ),
    _pct(
        "born_nl_origin_outside_europe_pct", "inhabitants",
        "born in the Netherlands, origin outside Europe (%)",
        "aandeel geboren in Nederland met herkomst buiten Europa",
    ),
    _pct(
        "born_abroad_origin_outside_europe_pct", "inhabitants",
        "born abroad, origin outside Europe (%)",
        "aandeel geboren buiten Nederland met herkomst buiten Europa",
    ),
    Variable(
        "address_density", "address density (addresses per km²)", "omgevingsadressendichtheid",
        Unit.COUNT, (), "mean", "inhabitants", decimals=0,
    ),
    Variable(
        "urbanity", "degree of urbanity (1 very strongly urban, 5 not urban)",
        "mate van stedelijkheid", Unit.CLASS, (), "mean", "inhabitants", 1.0, 5.0, decimals=0,
    ),
)

CBS_BY_NAME = {v.name: v for v in CBS_VARIABLES}
CBS_PC4_BY_NAME = {v.name: v for v in CBS_PC4_VARIABLES}
CBS_BY_HEADER = {h: v for v in CBS_VARIABLES for h in v.headers}

# StatLine identifies the region and period with these columns (all variants seen).
CBS_PERIOD_HEADERS = ("Perioden",)
CBS_CODE_HEADERS = ("Regiocode (gemeente, wijk, buurt) (code)", "Codering (code)", "Codering")
CBS_NAME_HEADERS = ("Wijken en buurten", "Regioaanduiding/Wijken en buurten (naam)")

# CBS statistical symbols (StatLine "CSV met statistische symbolen").
CBS_MISSING_SYMBOLS = frozenset({"", ".", "x", "?"})  # not available / secret / unreliable
CBS_NIL_SYMBOLS = frozenset({"-"})  # "nihil": the value is zero
# CBS's codes in number cells: -99997 secret ("0 - 4 / geheim"), -99995 not yet available.
CBS_SECRET, CBS_UNAVAILABLE = -99997.0, -99995.0
CBS_CODE_VALUES = frozenset({CBS_SECRET, CBS_UNAVAILABLE})
# StatLine columns that describe a region and hold no value: known, read by none, not listed
# as ignored.
CBS_DESCRIPTIVE_HEADERS = frozenset({
    "Gemeentenaam (naam)", "Soort regio (omschrijving)", "Indelingswijziging (code)",
    "Meest voorkomende postcode (code)", "Dekkingspercentage (%)",
    "Regioaanduiding/Gemeentenaam (naam)", "Regioaanduiding/Soort regio (omschrijving)",
    "Regioaanduiding/Codering (code)",
    "Regioaanduiding/Indelingswijziging wijken en buurten (code)",
})

LBM_DIMENSIONS = ("fys", "onv", "soc", "vrz", "won")
LBM_SCORE_COLUMNS = ("lbm", "afw", *LBM_DIMENSIONS)
LBM_CODE_COLUMNS = {
    "gm_code": "gemeente", "wk_code": "wijk", "bu_code": "buurt", "PC4": "pc4"
}
LBM_MISSING = frozenset({"", "NA"})  # an empty cell, or R's NA (the 3.0 PC4 file)
LBM_NAME_COLUMNS = ("gm_naam", "wk_naam", "bu_naam")


@dataclass(frozen=True)
class InvestmentVariable(Term):
    """A column of the investment schema: a ``Term`` and its upper bound, if any."""

    maximum: float | None = None


INVESTMENT_VARIABLES: tuple[InvestmentVariable, ...] = (
    InvestmentVariable(
        "corp_renovation_per_dwelling", "corporation renovation (EUR/dwelling)",
        "renovatie-investeringen van corporaties per woning", Unit.EUR,
    ),
    InvestmentVariable(
        "middle_income_new_dwellings", "new dwellings for middle incomes",
        "nieuwe woningen voor middeninkomens", Unit.COUNT,
    ),
    InvestmentVariable(
        "market_investment_per_dwelling", "market investment (EUR/dwelling)",
        "marktinvesteringen per woning", Unit.EUR,
    ),
    InvestmentVariable(
        "krachtwijk", "krachtwijk programme", "krachtwijkaanpak", Unit.FLAG, maximum=1.0
    ),
    InvestmentVariable(
        "programme_budget_per_dwelling", "programme money (EUR/dwelling)",
        "programmageld per woning", Unit.EUR,
    ),
)
INVESTMENT_BY_NAME = {v.name: v for v in INVESTMENT_VARIABLES}

# The one definition of the unit code forms, by level. Gemeente number, then the wijk (2) and
# buurt (2) numbers; Amsterdam uses letters there since KWB 2022 (WK0363AA, BU0363AA01). A
# PC4 is a 4-digit postcode, 1000-9999.
UNIT_CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    "gemeente": re.compile(r"^GM\d{4}$"),
    "wijk": re.compile(r"^WK\d{4}[0-9A-Z]{2}$"),
    "buurt": re.compile(r"^BU\d{4}[0-9A-Z]{4}$"),
    "pc4": re.compile(r"^[1-9]\d{3}$"),
}


def unit_level(code: str) -> str | None:
    """The level of a unit code ('GM0363' -> 'gemeente'), or None if it has no known form."""
    for level, pattern in UNIT_CODE_PATTERNS.items():
        if pattern.match(code):
            return level
    return None


def gemeente_of(code: str) -> str | None:
    """The gemeente code a GM/WK/BU code lies in ('WK036301' -> 'GM0363'); None for PC4."""
    if code[:2] in ("GM", "WK", "BU") and len(code) >= 6:
        return "GM" + code[2:6]
    return None


@dataclass(frozen=True)
class Check:
    """What every value of a column must be: within [minimum, maximum] (None: open) and,
    for a count, a whole number."""

    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False


# The checks of a column mapped through a source's ``columns`` table, by its kind
# (``wijkradar.sourceconfig.ColumnMap.kind``).
KIND_CHECKS: dict[str, Check] = {
    "count": Check(0.0, None, whole=True),
    "share": Check(0.0, 100.0),
    "rate": Check(0.0, None),
    "amount": Check(),
}


def check_of(kind: str, builtin: Variable | InvestmentVariable | None = None) -> Check:
    """The checks of a mapped column of ``kind``; mapped onto a built-in variable, that
    variable's bounds apply as well (the narrower of the two)."""
    check = KIND_CHECKS[kind]
    if builtin is None:
        return check
    low = getattr(builtin, "minimum", 0.0)
    high = builtin.maximum
    lows = [b for b in (check.minimum, low) if b is not None]
    highs = [b for b in (check.maximum, high) if b is not None]
    return Check(max(lows) if lows else None, min(highs) if highs else None, check.whole)

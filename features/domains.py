"""Policy domains: which part of a gemeente's policy each feature belongs to (wonen, inkomen en
werk, zorg, veiligheid, leefbaarheid, investeringen, bevolking), so that drivers can be
grouped by the domain an analyst would look at (``serving.drivers.grouped``).

Every declared base feature (``features.describe.TERMS``: the CBS and investment variables
of ``features.schema``, the Leefbarometer terms of ``features.panel``, the neighbours' terms
of ``features.neighbours``) has its domain in ``DOMAINS``; a test keeps it so. A change or a
gemeente context feature (``gm_``, ``features.derived``) is in the domain of its base
(``features.vocabulary.parse``). A name that is not declared falls in ``Domain.OVERIG``.
"""

from __future__ import annotations

from enum import Enum

from features.numbers import Lang, check_lang
from features.vocabulary import parse


class Domain(Enum):
    """A policy domain: its key, Dutch and English label."""

    WONEN = ("wonen", "wonen", "housing")
    INKOMEN_WERK = ("inkomen_werk", "inkomen en werk", "income and work")
    ZORG = ("zorg", "zorg", "care")
    VEILIGHEID = ("veiligheid", "veiligheid", "safety")
    LEEFBAARHEID = ("leefbaarheid", "leefbaarheid", "livability")
    INVESTERINGEN = ("investeringen", "investeringen", "investments")
    BEVOLKING = ("bevolking", "bevolking", "population")
    OVERIG = ("overig", "overig", "other")  # only for names nothing declares

    @property
    def key(self) -> str:
        return self.value[0]

    def label(self, lang: Lang = "nl") -> str:
        return self.value[1] if check_lang(lang) == "nl" else self.value[2]


_D = Domain
DOMAINS: dict[str, Domain] = {
    # bevolking
    "inhabitants": _D.BEVOLKING,
    "age_0_14_pct": _D.BEVOLKING,
    "age_15_24_pct": _D.BEVOLKING,
    "age_25_44_pct": _D.BEVOLKING,
    "age_45_64_pct": _D.BEVOLKING,
    "age_65plus_pct": _D.BEVOLKING,
    "households": _D.BEVOLKING,
    "single_person_hh_pct": _D.BEVOLKING,
    "single_parent_hh_pct": _D.BEVOLKING,
    "household_size": _D.BEVOLKING,
    "nonwestern_pct": _D.BEVOLKING,
    "born_nl_origin_outside_europe_pct": _D.BEVOLKING,
    "born_abroad_origin_outside_europe_pct": _D.BEVOLKING,
    "address_density": _D.BEVOLKING,
    "urbanity": _D.BEVOLKING,
    # inkomen en werk
    "income_per_inhabitant": _D.INKOMEN_WERK,
    "income_per_inhabitant_rel": _D.INKOMEN_WERK,
    "low_income_hh_pct": _D.INKOMEN_WERK,
    "bijstand_per_1000": _D.INKOMEN_WERK,
    "benefits_per_1000": _D.INKOMEN_WERK,
    # wonen
    "woz_value": _D.WONEN,
    "woz_value_rel": _D.WONEN,
    "dwellings": _D.WONEN,
    "owner_occupied_pct": _D.WONEN,
    "corporation_rent_pct": _D.WONEN,
    "private_rent_pct": _D.WONEN,
    "rental_pct": _D.WONEN,
    "multifamily_pct": _D.WONEN,
    "uninhabited_dwellings_pct": _D.WONEN,
    "built_pre1945_pct": _D.WONEN,
    "built_pre1970_pct": _D.WONEN,
    "built_2015plus_pct": _D.WONEN,
    "dwellings_added": _D.WONEN,
    "dwellings_demolished": _D.WONEN,
    "status_holders_per_1000": _D.WONEN,  # housing allocation of status holders
    "lbm_won": _D.WONEN,  # Leefbarometer: woningvoorraad
    # zorg
    "wmo_clients_per_1000": _D.ZORG,
    "shelter_inflow_per_1000": _D.ZORG,
    # veiligheid
    "crimes_per_1000": _D.VEILIGHEID,
    "lbm_onv": _D.VEILIGHEID,  # Leefbarometer: overlast en onveiligheid
    # leefbaarheid
    "lbm": _D.LEEFBAARHEID,
    "lbm_fys": _D.LEEFBAARHEID,
    "lbm_soc": _D.LEEFBAARHEID,
    "lbm_vrz": _D.LEEFBAARHEID,
    "lbm_years_since": _D.LEEFBAARHEID,
    "lbm_years_between": _D.LEEFBAARHEID,
    "lbm_class": _D.LEEFBAARHEID,
    "lbm_development_class_prev": _D.LEEFBAARHEID,
    "nb_lbm": _D.LEEFBAARHEID,
    "lbm_minus_nb": _D.LEEFBAARHEID,
    # investeringen
    "corp_renovation_per_dwelling": _D.INVESTERINGEN,
    "middle_income_new_dwellings": _D.INVESTERINGEN,
    "market_investment_per_dwelling": _D.INVESTERINGEN,
    "krachtwijk": _D.INVESTERINGEN,
    "programme_budget_per_dwelling": _D.INVESTERINGEN,
}


def domain_of(feature: str) -> Domain:
    """The policy domain of any feature of the grammar: a change (``_chg3``, ``_chg_prev``)
    and a gemeente context feature (``gm_``) share their base's domain. 'gm_lbm_chg_prev' ->
    LEEFBAARHEID; an undeclared name -> OVERIG."""
    return DOMAINS.get(parse(feature).base, Domain.OVERIG)


def domain_by_key(key: str) -> Domain:
    """The domain of a key ('inkomen_werk'); an error that lists the keys otherwise."""
    for domain in Domain:
        if domain.key == key:
            return domain
    keys = ", ".join(d.key for d in Domain)
    raise ValueError(f"A domain key is one of {keys}. Got {key!r} instead.")

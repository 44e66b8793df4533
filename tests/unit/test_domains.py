"""Policy domains (features.domains) and features for people (features.describe): every
declared base feature has a domain and words, and no raw code reaches a user."""

from __future__ import annotations

import pytest

from features import derived, describe, neighbours, panel, relative, schema
from features.describe import (
    DEVELOPMENT_CLASS_NAMES_NL,
    LBM_CLASS_NAMES_EN,
    LBM_CLASS_NAMES_NL,
    feature_label,
    value_text,
)
from features.domains import DOMAINS, Domain, domain_by_key, domain_of
from features.vocabulary import change, change_since_previous, in_gemeente

DECLARED = [
    *(v.name for v in schema.CBS_VARIABLES),
    *(v.name for v in schema.CBS_PC4_VARIABLES),
    *(v.name for v in schema.INVESTMENT_VARIABLES),
    *(t.name for t in panel.LBM_TERMS),
    *(t.name for t in neighbours.NEIGHBOUR_TERMS),
    *(t.name for t in relative.RELATIVE_TERMS),
]


def test_every_declared_base_feature_has_a_domain():
    missing = [f for f in DECLARED if f not in DOMAINS]
    assert not missing, f"give these features a domain in features.domains: {missing}"
    assert all(DOMAINS[f] is not Domain.OVERIG for f in DECLARED)
    assert set(DOMAINS) <= set(describe.TERMS)  # no domain for a feature nothing declares
    used = {DOMAINS[f] for f in DECLARED}
    policy = {Domain.WONEN, Domain.INKOMEN_WERK, Domain.ZORG, Domain.VEILIGHEID,
              Domain.LEEFBAARHEID, Domain.INVESTERINGEN}
    assert policy <= used


def test_every_name_of_the_grammar_has_its_base_domain():
    for base in DECLARED:
        for name in (base, change(base, 3), change_since_previous(base), in_gemeente(base)):
            assert domain_of(name) is DOMAINS[base], name
    for context_feature in derived.CONTEXT_FEATURES:
        assert domain_of(context_feature.name) is not Domain.OVERIG, context_feature.name
    assert domain_of("gm_low_income_hh_pct_chg3") is Domain.INKOMEN_WERK
    assert domain_of("crimes_per_1000_chg1") is Domain.VEILIGHEID
    assert domain_of("nb_lbm_chg_prev") is Domain.LEEFBAARHEID
    assert domain_of("made_up") is Domain.OVERIG


def test_domains_have_keys_and_labels_in_both_languages():
    assert Domain.INKOMEN_WERK.key == "inkomen_werk"
    assert Domain.INKOMEN_WERK.label() == "inkomen en werk"
    assert Domain.INKOMEN_WERK.label("en") == "income and work"
    assert domain_by_key("zorg") is Domain.ZORG
    assert len({d.key for d in Domain}) == len(Domain)
    with pytest.raises(ValueError, match="wonen"):
        domain_by_key("housing")


def test_no_declared_feature_is_named_by_its_code():
    for base in DECLARED:
        for name in (base, change(base, 3), change_since_previous(base), in_gemeente(base)):
            for lang in ("nl", "en"):
                label = feature_label(name, lang)
                assert "_" not in label and label.strip(), (name, lang, label)


def test_leefbarometer_classes_carry_their_official_names():
    assert list(LBM_CLASS_NAMES_NL) == list(range(1, 10))
    assert LBM_CLASS_NAMES_NL[1] == "zeer onvoldoende" and LBM_CLASS_NAMES_NL[9] == "uitstekend"
    assert LBM_CLASS_NAMES_NL[3] == "onvoldoende" and LBM_CLASS_NAMES_NL[5] == "voldoende"
    assert LBM_CLASS_NAMES_EN[9] == "excellent"
    assert value_text("lbm_class", 9) == "Leefbarometer-klasse 9 (uitstekend)"
    assert value_text("lbm_class", 9, "en") == "Leefbarometer class 9 (excellent)"
    assert list(DEVELOPMENT_CLASS_NAMES_NL) == list(range(1, 8))
    assert DEVELOPMENT_CLASS_NAMES_NL[4] == "geen opmerkelijke verandering"
    assert value_text("lbm_development_class_prev", 2) == "ontwikkelingsklasse 2 (achteruitgang)"
    assert value_text("lbm_development_class_prev", float("nan")) == "onbekend"
    assert value_text("urbanity", 1) == "klasse 1 (zeer sterk stedelijk)"
    assert value_text("lbm_class", 4.5) == "4,5"  # not a class: a number


@pytest.mark.parametrize(
    ("feature", "value", "nl", "en"),
    [
        ("low_income_hh_pct", 12.34, "12,3%", "12.3%"),
        ("low_income_hh_pct_chg3", 5.4, "+5,4 procentpunt", "+5.4 percentage points"),
        ("woz_value", 245.3, "245 duizend euro", "245 thousand euro"),
        ("lbm_chg_prev", -0.12, "\u22120,12 punt", "\u22120.12 points"),
        ("gm_inhabitants", 152345.0, "152.345", "152,345"),
        ("krachtwijk", 1.0, "ja", "yes"),
        ("krachtwijk_chg3", -1.0, "beëindigd", "ended"),
        ("lbm_years_since", 2.0, "2 jaar", "2 years"),
        ("lbm", float("nan"), "onbekend", "unknown"),
    ],
)
def test_value_text(feature, value, nl, en):
    assert value_text(feature, value) == nl
    assert value_text(feature, value, "en") == en

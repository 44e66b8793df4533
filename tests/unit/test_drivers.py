"""Drivers in words (serving.drivers): the English driver text of the ranking, the driver
sentences in Dutch and English with Dutch numbers, and drivers grouped by policy domain."""

from __future__ import annotations

import pandas as pd
import pytest

from features.describe import describe, label_nl
from features.domains import Domain
from serving.drivers import driver_phrase_nl, driver_sentence, driver_text, drivers_of, grouped
from serving.dutch import format_nl

LOW_INCOME = label_nl("low_income_hh_pct")  # 'aandeel huishoudens met (een) laag inkomen'


@pytest.mark.parametrize(
    ("feature", "value", "contribution", "text"),
    [
        (
            "low_income_hh_pct_chg3",
            4.1,
            0.234,
            "low-income households (%), change over 3 years = +4.1 (+0.23)",
        ),
        ("lbm", 3.6212, -0.5, "Leefbarometer score = 3.62 (-0.50)"),
        ("woz_value", 1250.4, 0.01, "average WOZ value (k EUR) = 1,250 (+0.01)"),
        (
            "gm_lbm_chg_prev",
            -0.05,
            0.1,
            "gemeente: Leefbarometer score, change since previous measurement = -0.05 (+0.10)",
        ),
        ("crimes_per_1000_chg1", float("nan"), 0.2, "registered crimes per 1,000, change over "
         "1 year = missing (+0.20)"),
        ("made_up_feature", 2.0, 0.0, "made up feature = 2 (+0.00)"),
    ],
)
def test_driver_text_in_english(feature, value, contribution, text):
    assert driver_text(feature, value, contribution) == text
    label = describe(feature)
    assert driver_text(feature, value, contribution, label) == text


def test_driver_text_takes_a_given_label():
    assert driver_text("lbm", 4.0, 0.5, label="score") == "score = 4 (+0.50)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.6212, "3,62"),
        (4.1, "4,1"),
        (1250.4, "1.250"),
        (1234567.0, "1.234.567"),
        (-0.0123, "\u22120,012"),
        (0.0, "0"),
        (float("nan"), "onbekend"),
    ],
)
def test_dutch_number_format(value, text):
    assert format_nl(value) == text


@pytest.mark.parametrize(
    ("feature", "value", "phrase"),
    [
        (
            "low_income_hh_pct_chg3",
            4.1,
            f"het {LOW_INCOME} steeg 4,1 procentpunt in 3 jaar",
        ),
        (
            "low_income_hh_pct_chg1",
            -0.53,
            f"het {LOW_INCOME} daalde 0,53 procentpunt in 1 jaar",
        ),
        ("lbm", 3.6212, "de Leefbarometerscore is 3,62"),
        (
            "lbm_chg_prev",
            -0.12,
            "de Leefbarometerscore daalde 0,12 punt sinds de vorige meting",
        ),
        (
            "gm_lbm_chg_prev",
            -0.05,
            "in de rest van de gemeente daalde de Leefbarometerscore 0,05 punt sinds de vorige "
            "meting",
        ),
        ("gm_inhabitants", 152345.0, "in de gemeente is het aantal inwoners 152.345"),
        (
            "bijstand_per_1000_chg3",
            12.0,
            "het aantal bijstandsontvangers per 1.000 inwoners steeg met 12 in 3 jaar",
        ),
        ("low_income_hh_pct", 12.34, f"het {LOW_INCOME} is 12,3%"),
        ("woz_value", 245.3, "de gemiddelde WOZ-waarde is 245 duizend euro"),
        (
            "corp_renovation_per_dwelling",
            1250.4,
            "de renovatie-investeringen van corporaties per woning zijn 1.250 euro",
        ),
        (
            "market_investment_per_dwelling_chg3",
            -300.0,
            "de marktinvesteringen per woning daalden 300 euro in 3 jaar",
        ),
        ("krachtwijk", 1.0, "de krachtwijkaanpak is van toepassing"),
        ("krachtwijk_chg3", 1.0, "de krachtwijkaanpak begon in de afgelopen 3 jaar"),
        ("krachtwijk_chg3", 0.0, "de krachtwijkaanpak bleef gelijk in 3 jaar"),
        ("lbm_years_since", 2.0, "de tijd sinds de laatste meting is 2 jaar"),
        ("lbm", float("nan"), "de Leefbarometerscore is onbekend"),
        (
            "low_income_hh_pct_chg3",
            float("nan"),
            f"de verandering van het {LOW_INCOME} in 3 jaar is onbekend",
        ),
        ("nonwestern_pct_chg3", 0.0, f"het {label_nl('nonwestern_pct')} bleef gelijk in 3 jaar"),
        ("lbm_class", 9.0, "de Leefbarometer-klasse is 9 (uitstekend)"),
        (
            "lbm_development_class_prev",
            3.0,
            f"de {label_nl('lbm_development_class_prev')} is 3 (lichte achteruitgang)",
        ),
        ("lbm_fys_chg_prev", 0.02, "de Leefbarometerscore voor fysieke omgeving steeg 0,02 punt "
         "sinds de vorige meting"),
        ("made_up_feature", 2.0, "made up feature is 2"),
    ],
)
def test_driver_sentences_in_dutch(feature, value, phrase):
    assert driver_sentence(feature, value) == phrase
    assert driver_phrase_nl(feature, value) == phrase  # the exports' name for it


@pytest.mark.parametrize(
    ("feature", "value", "phrase"),
    [
        (
            "low_income_hh_pct_chg3",
            5.4,
            "the share of low-income households rose 5.4 percentage points over 3 years",
        ),
        ("lbm_chg_prev", -0.12, "the Leefbarometer score fell 0.12 points since the previous "
         "measurement"),
        ("gm_inhabitants", 152345.0, "in the gemeente, the number of inhabitants is 152,345"),
        ("lbm_class", 9.0, "the Leefbarometer class is 9 (excellent)"),
        ("crimes_per_1000_chg1", 1.0, "the registered crimes per 1,000 rose by 1 over 1 year"),
    ],
)
def test_driver_sentences_in_english(feature, value, phrase):
    assert driver_sentence(feature, value, "en") == phrase


def test_drivers_of_takes_the_largest_contributions_and_groups_them_by_domain():
    contributions = pd.Series(
        {
            "low_income_hh_pct_chg3": 0.8,
            "bijstand_per_1000": 0.3,
            "lbm_chg_prev": -0.5,
            "crimes_per_1000": 0.05,
            "woz_value": -0.02,
            "base": -2.0,
        }
    )
    values = pd.Series({"low_income_hh_pct_chg3": 5.4, "bijstand_per_1000": 40.0,
                        "lbm_chg_prev": -0.1, "woz_value": 250.0})
    drivers = drivers_of(contributions, values, k=4)
    assert [d.feature for d in drivers] == [
        "low_income_hh_pct_chg3", "lbm_chg_prev", "bijstand_per_1000", "crimes_per_1000"
    ]
    first = drivers[0]
    assert first.sentence == driver_sentence("low_income_hh_pct_chg3", 5.4)
    assert first.value_text == "+5,4 procentpunt"
    assert first.domain == Domain.INKOMEN_WERK.key and first.raises_risk
    assert not drivers[1].raises_risk
    assert drivers[3].value_text == "onbekend"  # not in values
    groups = grouped(drivers)
    assert [g.domain for g in groups] == ["inkomen_werk", "leefbaarheid", "veiligheid"]
    assert groups[0].label == "inkomen en werk"
    assert groups[0].total == pytest.approx(1.1)
    assert [d.feature for d in groups[0].drivers] == ["low_income_hh_pct_chg3", "bijstand_per_1000"]
    assert grouped(drivers, "en")[0].label == "income and work"
    assert all(not d.label.count("_") for d in drivers)  # words, not codes

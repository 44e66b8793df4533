"""Drivers in words (serving.drivers): the English driver text of the ranking and the API, and
the Dutch phrases of the per-gemeente exports, with Dutch numbers (serving.dutch)."""

from __future__ import annotations

import pytest

from features.describe import describe, label_nl
from serving.drivers import driver_phrase_nl, driver_text
from serving.dutch import format_nl


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
        (-0.0123, "-0,012"),
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
            "aandeel huishoudens met laag inkomen steeg 4,1 procentpunt in 3 jaar",
        ),
        (
            "low_income_hh_pct_chg1",
            -0.53,
            "aandeel huishoudens met laag inkomen daalde 0,53 procentpunt in 1 jaar",
        ),
        ("lbm", 3.6212, "Leefbarometerscore is 3,62"),
        (
            "lbm_chg_prev",
            -0.12,
            "Leefbarometerscore daalde 0,12 punt sinds de vorige meting",
        ),
        (
            "gm_lbm_chg_prev",
            -0.05,
            "in de rest van de gemeente: Leefbarometerscore daalde 0,05 punt sinds de vorige "
            "meting",
        ),
        ("gm_inhabitants", 152345.0, "in de gemeente: aantal inwoners is 152.345"),
        (
            "bijstand_per_1000_chg3",
            12.0,
            "bijstandsontvangers per 1.000 inwoners steeg met 12 in 3 jaar",
        ),
        ("low_income_hh_pct", 12.34, "aandeel huishoudens met laag inkomen is 12,3%"),
        ("woz_value", 245.3, "gemiddelde WOZ-waarde is 245 duizend euro"),
        (
            "corp_renovation_per_dwelling",
            1250.4,
            "renovatie-investeringen van corporaties per woning is 1.250 euro",
        ),
        ("krachtwijk", 1.0, "krachtwijkaanpak: ja"),
        ("krachtwijk_chg3", 1.0, "krachtwijkaanpak begonnen in de afgelopen 3 jaar"),
        ("krachtwijk_chg3", 0.0, "krachtwijkaanpak ongewijzigd in 3 jaar"),
        ("lbm_years_since", 2.0, "tijd sinds de laatste meting is 2 jaar"),
        ("lbm", float("nan"), "Leefbarometerscore onbekend"),
        (
            "low_income_hh_pct_chg3",
            float("nan"),
            "aandeel huishoudens met laag inkomen: verandering in 3 jaar onbekend",
        ),
        ("nonwestern_pct_chg3", 0.0, label_nl("nonwestern_pct") + " bleef gelijk in 3 jaar"),
    ],
)
def test_driver_phrases_in_dutch(feature, value, phrase):
    assert driver_phrase_nl(feature, value) == phrase

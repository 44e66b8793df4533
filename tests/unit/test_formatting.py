"""The one formatting module (serving.formatting) and risk in context (serving.context): Dutch
and English numbers, percentages, ratios and dates; bands relative to the base rate; what is
predicted and how good the model is, in words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from serving import context, formatting
from serving.context import BANDS, band_label, band_of, bands_of

M = formatting.MINUS


@pytest.mark.parametrize(
    ("value", "decimals", "nl", "en"),
    [
        (1250.4, None, "1.250", "1,250"),
        (4.1, None, "4,1", "4.1"),
        (3.6212, None, "3,62", "3.62"),
        (1234567.0, None, "1.234.567", "1,234,567"),
        (-0.0123, None, f"{M}0,012", f"{M}0.012"),
        (0.0, None, "0", "0"),
        (-0.0001, None, "0", "0"),  # no '−0'
        (4.1, 2, "4,10", "4.10"),
        (14500, 0, "14.500", "14,500"),
        (float("nan"), None, "onbekend", "unknown"),
        (None, None, "onbekend", "unknown"),
    ],
)
def test_number_in_dutch_and_english(value, decimals, nl, en):
    assert formatting.number(value, decimals) == nl
    assert formatting.number(value, decimals, "en") == en


def test_percent_signed_times_and_dates():
    assert formatting.percent(0.412) == "41%"
    assert formatting.percent(0.412, 1) == "41,2%"
    assert formatting.percent(0.412, 1, "en") == "41.2%"
    assert formatting.percent(0.001) == "<1%"  # not '0%' for a real, small share
    assert formatting.percent(0.0) == "0%"
    assert formatting.percent(float("nan")) == "onbekend"
    assert formatting.signed(5.4) == "+5,4"
    assert formatting.signed(-1.1) == f"{M}1,1"
    assert formatting.signed(0.0) == "0"
    assert formatting.signed(5.4, lang="en") == "+5.4"
    assert formatting.times(3.14) == "3,1×"
    assert formatting.times(3.14, "en") == "3.1×"
    assert formatting.times(12.3) == "12×"
    assert formatting.date_text("2025-05-14") == "14 mei 2025"
    assert formatting.date_text(dt.date(2025, 7, 1), "en") == "1 July 2025"
    assert formatting.date_text("2025-07-01T10:00:00") == "1 juli 2025"
    with pytest.raises(ValueError, match="ISO date"):
        formatting.date_text("1 juli")
    with pytest.raises(ValueError, match="'nl' or 'en'"):
        formatting.number(1.0, lang="de")  # type: ignore[arg-type]


def test_bands_are_relative_to_the_base_rate_highest_first():
    assert [b.key for b in BANDS] == ["hoog", "verhoogd", "gemiddeld", "laag"]
    ratios = [b.min_ratio for b in BANDS]
    assert ratios == sorted(ratios, reverse=True) and ratios[-1] == 0
    base = 0.06
    for ratio, key in [(5, "hoog"), (3, "hoog"), (2.99, "verhoogd"), (1.5, "verhoogd"),
                       (1.49, "gemiddeld"), (1, "gemiddeld"), (2 / 3, "gemiddeld"),
                       (0.66, "laag"), (0, "laag")]:
        assert band_of(ratio * base, base).key == key, ratio
    risks = np.random.default_rng(0).uniform(0, 0.5, size=500)
    assert bands_of(risks, base) == [band_of(r, base).key for r in risks]  # one definition
    assert band_label(BANDS[0]) == "hoog" and band_label(BANDS[0], "en") == "high"
    assert len({b.colour for b in BANDS}) == len(BANDS)
    with pytest.raises(ValueError, match="base rate"):
        band_of(0.1, 0.0)
    with pytest.raises(ValueError, match="probability"):
        band_of(float("nan"), 0.1)


def test_risk_relative_to_the_base_rate_and_the_target_in_words():
    assert context.relative_text(0.186, 0.06) == "3,1× het landelijk gemiddelde"
    assert context.relative_text(0.186, 0.06, "en") == "3.1× the national average"
    assert context.base_rate_of(pd.Series([0.1, 0.3, np.nan])) == pytest.approx(0.2)
    assert context.measurement_year(2024, 2) == 2026
    with pytest.raises(ValueError, match="horizon"):
        context.measurement_year(2024, 0)
    assert context.target_text(0.05, 2026) == (
        "kans op een daling van ten minste 0,05 vóór de Leefbarometer-meting 2026"
    )
    assert context.target_text(0.05, 2026, "en") == (
        "probability of a decline of at least 0.05 by the Leefbarometer measurement of 2026"
    )
    assert "volgende Leefbarometer-meting" in context.target_text(0.05, None)
    assert "ontwikkelingsklasse 3 of lager" in context.target_text(
        0.05, 2016, kind="development_class", max_class=3
    )
    line = context.context_line(2024, "2025-07-01", 2026, 0.05)
    assert line == (
        "Peiljaar 2024, gegevens bekend op 1 juli 2025: kans op een daling van ten minste 0,05 "
        "vóór de Leefbarometer-meting 2026."
    )
    assert context.context_line(2024, None, 2026, 0.05, "en").startswith("As of 2024: ")


def test_the_horizon_is_read_from_the_panel_labels():
    panel = pd.DataFrame(
        {
            "as_of_year": [2018, 2018, 2020, 2020, 2022],
            "label_outcome_year": [2020, 2020, 2022, np.nan, np.nan],
        }
    )
    assert context.horizon_of(panel) == 2
    assert context.horizon_of(panel.assign(label_outcome_year=np.nan)) is None
    assert context.horizon_of(panel.drop(columns="label_outcome_year")) is None


def test_quality_in_plain_words_from_the_evaluation_table():
    assert context.quality_text(0.1, 0.412, 0.06) == (
        "van de 10% hoogste risico's daalde in de laatste toets 41%, tegen 6% gemiddeld"
    )
    assert context.quality_text(0.1, 0.412, 0.019, "en") == (
        "of the 10% highest risks, 41% declined in the latest test, against 1.9% on average"
    )
    evaluation = pd.DataFrame(
        {
            "test_year": [2020, 2022, 2022],
            "model": ["lightgbm", "lightgbm", "logistic"],
            "base_rate": [0.05, 0.06, 0.06],
            "precision_at_10": [0.3, 0.41, 0.2],
        }
    )
    quality = context.latest_quality(evaluation)
    assert quality == context.Quality(2022, 0.1, 0.41, 0.06)
    assert context.latest_quality(evaluation.drop(columns="precision_at_10")) is None

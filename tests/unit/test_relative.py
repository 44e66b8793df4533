"""Year-relative amounts (features.relative) and their use in the panel: values worked out by
hand, the knowledge-date rule, and the nominal level kept for people only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import relative
from features.panel import build_panel, feature_columns, shown_columns
from features.vocabulary import Unit, parse
from tests.conftest import SourceFrames
from wijkradar.config import parse_config

YEARS = range(2008, 2015)
LBM_YEARS = (2008, 2010, 2012, 2014)
UNITS = {"WK000101": 100.0, "WK000102": 200.0, "WK000201": 400.0}  # WOZ of 2008, k EUR


def price_index(year: int) -> float:
    return 1.0 + 0.25 * (year - 2008)  # every value rises with the country


def _sources(frames: SourceFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    cbs = frames.cbs(
        (code, code, year, {
            "inhabitants": 1000, "households": 500, "woz_value": woz * price_index(year),
            "income_per_inhabitant": (20 + woz / 100) * price_index(year),
            "low_income_hh_pct": 10.0,
        })
        for code, woz in UNITS.items() for year in YEARS
    )
    lbm = frames.lbm((code, year, 4.0, {}) for code in UNITS for year in LBM_YEARS)
    return cbs, lbm


def _published(cbs: pd.DataFrame, lbm: pd.DataFrame) -> pd.DataFrame:
    from features.calendar import DEFAULT_CALENDARS, publication_table
    from features.sources import SourceFrame

    def frame(part: str, kind: str, data: pd.DataFrame) -> SourceFrame:
        variables = tuple(c for c in data.columns
                          if c not in ("unit_code", "unit_name", "level", "year"))
        years = tuple(("wijk", int(y)) for y in sorted(data["year"].unique()))
        return SourceFrame(part=part, kind=kind, file=kind, calendar=DEFAULT_CALENDARS[kind],
                           variables=variables, years=years)

    return publication_table([frame("cbs", "cbs_kwb_csv", cbs), frame("lbm", "lbm3_scores", lbm)])


def _panel(frames: SourceFrames, rel: bool, **kwargs: object) -> pd.DataFrame:
    cbs, lbm = _sources(frames)
    return build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=0.1,
                       relative_to_year=rel, **kwargs)


def _row(panel: pd.DataFrame, code: str, year: int) -> pd.Series:
    return panel[(panel["unit_code"] == code) & (panel["as_of_year"] == year)].iloc[0]


def test_relative_to_year_is_the_percentage_of_the_median_of_the_same_year() -> None:
    values = pd.Series([100.0, 200.0, 400.0, 150.0, 300.0, 600.0, np.nan, 0.0, 0.0])
    year = pd.Series([2020, 2020, 2020, 2021, 2021, 2021, 2022, 2023, 2023])
    out = relative.relative_to_year(values, year)
    assert out[:6].tolist() == [50.0, 100.0, 200.0, 50.0, 100.0, 200.0]  # a price rise: gone
    assert out[6:].isna().all()  # no value; a median of 0 says nothing


def test_every_relative_term_is_declared_once_in_percent_and_follows_the_grammar() -> None:
    names = [t.name for t in relative.RELATIVE_TERMS]
    assert len(set(names)) == len(names)
    for term in relative.RELATIVE_TERMS:
        assert term.name == relative.relative_name(term.nominal)
        assert term.unit is Unit.PERCENT and term.label.strip() and term.label_nl.strip()
        assert parse(f"{term.name}_chg3").base == term.name
    assert {t.nominal for t in relative.RELATIVE_TERMS} == {"woz_value", "income_per_inhabitant"}


def test_relative_levels_replace_the_nominal_ones_as_features(
    source_frames: SourceFrames,
) -> None:
    panel = _panel(source_frames, rel=True)
    features = feature_columns(panel)
    for term in relative.RELATIVE_TERMS:
        assert {term.name, f"{term.name}_chg1", f"{term.name}_chg3"} <= set(features)
        assert not {term.nominal, f"{term.nominal}_chg1", f"{term.nominal}_chg3"} & set(features)
    assert set(shown_columns(panel)) == {"woz_value", "income_per_inhabitant"}  # for people
    r = _row(panel, "WK000102", 2014)
    assert r["woz_value"] == pytest.approx(200.0 * price_index(2014))
    assert r["woz_value_rel"] == pytest.approx(100.0)  # the median unit
    a = _row(panel, "WK000101", 2014)
    assert a["woz_value_rel"] == pytest.approx(50.0)
    # every unit kept pace with the country: no relative change, whatever the prices did
    assert a["woz_value_rel_chg3"] == pytest.approx(0.0, abs=1e-9)
    nominal = _panel(source_frames, rel=False)
    assert _row(nominal, "WK000101", 2014)["woz_value_chg3"] == pytest.approx(75.0)
    assert {"woz_value", "woz_value_chg3"} <= set(feature_columns(nominal))
    assert shown_columns(nominal) == []


def test_year_relative_amounts_are_the_default(source_frames: SourceFrames) -> None:
    cbs, lbm = _sources(source_frames)
    default = build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=0.1)
    pd.testing.assert_frame_equal(default, _panel(source_frames, rel=True))
    assert "woz_value_rel" in feature_columns(default)
    assert "woz_value" not in feature_columns(_panel(source_frames, rel=True))
    assert "woz_value" in feature_columns(_panel(source_frames, rel=False))


def test_a_row_knows_the_median_of_the_reference_year_it_knows(
    source_frames: SourceFrames,
) -> None:
    cbs, lbm = _sources(source_frames)
    # Income is published two years after its reference year: the row of 2014 (knowledge
    # date 2015-07-01) knows the incomes of 2013 and the median of 2013, nothing later.
    panel = _panel(source_frames, rel=True, published=_published(cbs, lbm))
    r = _row(panel, "WK000201", 2014)
    incomes_2013 = cbs[cbs["year"] == 2013].set_index("unit_code")["income_per_inhabitant"]
    assert r["income_per_inhabitant_rel"] == pytest.approx(
        100 * incomes_2013["WK000201"] / incomes_2013.median()
    )
    assert r["income_per_inhabitant"] == pytest.approx(incomes_2013["WK000201"])
    # Changing every value of 2014 (not yet published for income) moves no income feature
    # of the rows of 2014: the median of a later year never enters.
    later = cbs.copy()
    later.loc[later["year"] == 2014, "income_per_inhabitant"] *= 3.0
    moved = _panel_of(later, lbm, published=_published(later, lbm))
    cols = [c for c in feature_columns(panel) if c.startswith("income_per_inhabitant")]
    pd.testing.assert_frame_equal(
        moved.loc[moved["as_of_year"] == 2014, cols], panel.loc[panel["as_of_year"] == 2014, cols]
    )


def _panel_of(cbs: pd.DataFrame, lbm: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return build_panel(cbs, lbm, None, level="wijk", change_lags=(1, 3), delta=0.1,
                       relative_to_year=True, **kwargs)


def test_relative_variables_are_published_with_their_nominal_ones() -> None:
    published = pd.DataFrame({
        "part": ["cbs", "cbs"], "variable": ["woz_value", "inhabitants"], "year": [2020, 2020],
        "published": pd.to_datetime(["2021-07-01", "2021-07-01"]), "source": "CBS",
        "level": "wijk",
    })
    out = relative.published_like_nominal(published)
    rel = out[out["variable"] == "woz_value_rel"]
    assert len(out) == 3 and rel["published"].tolist() == [pd.Timestamp("2021-07-01")]
    assert relative.model_variables(["inhabitants", "woz_value"]) == [
        "inhabitants", "woz_value_rel"
    ]


def test_the_switch_is_part_of_the_panel_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A panel kept from before the switch (nominal amounts) is rebuilt, never reused."""
    from features import panel
    from features.build import panel_fingerprint

    cfg = parse_config(
        {"source": [{"kind": "lbm3_scores", "path": "lbm.csv"}], "panel": {"level": "wijk"}},
        tmp_path,
    )
    relative_print = panel_fingerprint(cfg, "sources")
    monkeypatch.setattr(panel, "RELATIVE_TO_YEAR", False)
    assert panel_fingerprint(cfg, "sources") != relative_print

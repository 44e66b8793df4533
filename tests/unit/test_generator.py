"""The generator: deterministic, in the real formats, and its truth consistent with the panel."""

from __future__ import annotations

import io
import json
import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from features import readers
from features.geo import adjacency
from features.harmonize import harmonize
from features.panel import build_panel
from features.synth import generate, mechanism
from features.synth.generate import CALENDARS, INCOME_VARIABLES, knowledge_inputs, wijk_adjacency
from wijkradar.config import parse_config

SMALL = {"n_gemeenten": 25, "wijken_per_gemeente": 6.0, "n_mergers": 3}


@pytest.fixture(scope="module")
def small():
    return generate(seed=5, **SMALL)


def _sources(data):
    cbs = pd.concat(
        [readers.parse_cbs_kwb_csv(t, n) for n, t in data.files.items() if "/cbs/" in n],
        ignore_index=True,
    )
    lbm = readers.parse_lbm3_scores(data.files["sources/leefbarometer/lbm3_scores_wijk.csv"], "lbm")
    inv = readers.parse_investment_csv(data.files["sources/investment/investment.csv"], "inv")
    crosswalk = readers.parse_crosswalk(data.files["sources/crosswalk/crosswalk.csv"], "cw")
    return harmonize(cbs, lbm, inv, crosswalk)


def _adjacency_from_file(data) -> pd.DataFrame:
    """The adjacency as the panel stage finds it: the boundaries file read by geopandas."""
    text = data.files["boundaries/units.geojson"]
    frame = gpd.read_file(io.BytesIO(text.encode("utf-8")))
    return adjacency(frame[["unit_code", "geometry"]])


def _panel(data) -> pd.DataFrame:
    cbs, lbm, inv = _sources(data)
    return build_panel(
        cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=0.05,
        adjacency=_adjacency_from_file(data), **knowledge_inputs(cbs, lbm, inv),
    )


def test_same_seed_same_output_and_other_seed_differs(small):
    again = generate(seed=5, **SMALL)
    assert again.files == small.files
    pd.testing.assert_frame_equal(again.truth, small.truth)
    other = generate(seed=6, **SMALL)
    assert (
        other.files["sources/leefbarometer/lbm3_scores_wijk.csv"]
        != (small.files["sources/leefbarometer/lbm3_scores_wijk.csv"])
    )


def test_cbs_files_follow_statline_export_style(small):
    text = small.files["sources/cbs/kwb-2005.csv"]
    assert text.startswith("\ufeff")
    header, first = text[1:].splitlines()[:2]
    assert header.split(";")[0] == '"Wijken en buurten"'
    # Old header for the migration background before 2017, decimal comma before 2010.
    assert "Bevolking/Allochtonen/Niet-westers totaal (%)" in header
    cells = first.split(";")
    assert all(c.startswith('"') and c.endswith('"') for c in cells)
    codes = [line.split(";")[3] for line in text[1:].splitlines()[1:]]
    assert all(len(c) == 12 for c in codes)  # 10 characters, quoted
    assert any(c.startswith('"WK') and c.endswith('  "') for c in codes)
    assert any("," in c for c in cells[5:])
    later = small.files["sources/cbs/kwb-2020.csv"]
    assert "Personen met migratieachtergrond/Niet-westers (%)" in later
    assert "Wmo-cliënten" in later and "Wmo-cliënten" not in text
    assert '"       ."' in "".join(
        small.files[f"sources/cbs/kwb-{y}.csv"] for y in range(2002, 2025)
    )


def test_truth_is_additive_and_p_is_the_sigmoid_of_the_logit(small):
    t = small.truth
    shap_cols = [c for c in t.columns if c.startswith("true_shap__")]
    assert [c[len("true_shap__") :] for c in shap_cols] == list(mechanism.FEATURES)
    total = t["true_base"] + t[shap_cols].sum(axis=1)
    np.testing.assert_allclose(total, t["true_logit"], atol=1e-9)
    np.testing.assert_allclose(t["p_decline"], 1 / (1 + np.exp(-t["true_logit"])), atol=1e-12)


def test_truth_is_a_function_of_the_panel_built_from_the_files(small):
    """The truth uses exactly the features a model sees at each row's knowledge date (one
    intercept per as-of year), its Shapley values have that year's rows as background, and
    declined is the panel's label."""
    panel = _panel(small)
    assert panel["knowledge_date"].notna().all()
    joined = panel.merge(small.truth, on=["unit_code", "as_of_year"], validate="1:1")
    assert len(joined) == len(small.truth) == len(panel)
    intercept = joined["true_logit"] - mechanism.terms(joined)
    assert (intercept.groupby(joined["as_of_year"]).agg(np.ptp) < 1e-9).all()
    np.testing.assert_allclose(intercept[joined["as_of_year"] <= 2012], mechanism.INTERCEPT)
    year = joined[joined["as_of_year"] == 2020]
    shap, base = mechanism.shapley(year, year, float(intercept[year.index[0]]))
    np.testing.assert_allclose(shap.to_numpy(), year[shap.columns].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(year["true_base"], base, atol=1e-9)
    known = joined["declined"].notna()
    assert known.sum() > 0
    assert (
        joined.loc[known, "declined"].astype(int) == joined.loc[known, "label"].astype(int)
    ).all()
    assert joined.loc[~known, "label"].isna().all()


def test_mergers_recode_wijken_and_the_crosswalk_makes_their_history_continuous(small):
    crosswalk = readers.parse_crosswalk(small.files["sources/crosswalk/crosswalk.csv"], "cw")
    assert len(crosswalk) > 0 and (crosswalk["weight"] == 1.0).all()
    old, new, year = crosswalk.iloc[0][["old_code", "new_code", "year"]]
    before = small.files[f"sources/cbs/kwb-{year - 1}.csv"]
    after = small.files[f"sources/cbs/kwb-{year}.csv"]
    assert old in before and new not in before
    assert new in after and old not in after
    cbs, lbm, inv = _sources(small)
    panel = build_panel(cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=0.05)
    history = panel[panel["unit_code"] == new].sort_values("as_of_year")
    assert history["as_of_year"].tolist() == [2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024]
    assert history["lbm"].notna().all() and history["inhabitants"].notna().all()
    assert not (panel["unit_code"] == old).any()
    # the change across the merger year is a real change, not a jump from a missing value
    at = history[history["as_of_year"] >= year].iloc[0]
    assert np.isfinite(at["inhabitants_chg1"]) and np.isfinite(at["lbm_chg_prev"])


def test_the_generator_uses_the_adjacency_of_its_own_boundaries_file(small):
    from_file = _adjacency_from_file(small)
    generated = wijk_adjacency(json.loads(small.files["boundaries/units.geojson"]))
    pd.testing.assert_frame_equal(generated, from_file)
    # Symmetric, no unit its own neighbour, and every wijk borders another (the cells tile
    # the box); a Voronoi cell has about six neighbours.
    pairs = set(zip(from_file["unit_code"], from_file["neighbour_code"], strict=True))
    assert all((b, a) in pairs for a, b in pairs)
    assert not any(a == b for a, b in pairs)
    codes = {f["properties"]["unit_code"] for f in json.loads(
        small.files["boundaries/units.geojson"])["features"]}
    assert set(from_file["unit_code"]) == codes
    assert 4.0 <= from_file.groupby("unit_code").size().mean() <= 7.0


def test_the_config_reads_the_boundaries_for_neighbours(small):
    cfg = tomllib.loads(small.config)
    entries = [s for s in cfg["source"] if s["kind"] == "boundaries"]
    assert entries == [{
        "kind": "boundaries", "path": "boundaries/units.geojson", "level": "wijk",
        "code_field": "unit_code",
    }]
    features = json.loads(small.files[entries[0]["path"]])["features"]
    assert all(entries[0]["code_field"] in f["properties"] for f in features)


def test_decline_spills_over_from_adjacent_wijken(small):
    """Where the neighbours fell in the last period, decline is more likely, other things as
    they are: the spill-over term of the true logit is what separates the two groups."""
    panel = _panel(small).merge(small.truth, on=["unit_code", "as_of_year"], validate="1:1")
    assert panel["nb_lbm_chg_prev"].notna().mean() > 0.8
    # In a world this rare (5 % per period) few neighbourhoods fall by a whole 0.04.
    fell = panel["nb_lbm_chg_prev"] <= -0.02
    rose = panel["nb_lbm_chg_prev"] >= 0.0
    assert fell.sum() >= 20 and rose.sum() >= 20
    term = panel["true_shap__nb_lbm_chg_prev"]
    assert term[fell].min() > term[rose].max()
    assert panel.loc[fell, "p_decline"].mean() > panel.loc[rose, "p_decline"].mean()


def test_the_config_publishes_the_sources_on_the_generators_calendar(small, tmp_path):
    cfg = parse_config(tomllib.loads(small.config), tmp_path)
    calendars = {s.kind: s.calendar for s in cfg.sources if s.calendar is not None}
    assert calendars == CALENDARS
    cbs = calendars["cbs_kwb_csv"]
    assert (cbs.years_after, cbs.on) == (1, "07-01")
    assert [(g.name, g.years_after, g.variables) for g in cbs.groups] == [
        ("income", 2, INCOME_VARIABLES)
    ]
    assert (calendars["lbm3_scores"].years_after, calendars["lbm3_scores"].on) == (1, "07-01")
    assert calendars["investment_csv"].on == "03-01"


def test_income_published_after_the_knowledge_date_does_not_reach_the_truth(small):
    """An as-of-2020 row knows income of 2019 (published 2021-07-01, its knowledge date) but
    not of 2020: its 3-year change is 2019 against 2016."""
    cbs = _sources(small)[0]
    panel = _panel(small)
    row = panel[panel["as_of_year"] == 2020].iloc[0]
    assert row["knowledge_date"] == pd.Timestamp("2021-07-01")
    unit = cbs[cbs["unit_code"] == row["unit_code"]].set_index("year")["low_income_hh_pct"]
    expected = unit[2019] - unit[2016]
    assert np.isclose(row["low_income_hh_pct_chg3"], expected) or np.isnan(expected)


def test_one_value_sets_how_rare_the_world_is():
    rare = generate(seed=5, base_rate=0.03, **SMALL).truth
    common = generate(seed=5, base_rate=0.12, **SMALL).truth
    for truth, rate in ((rare, 0.03), (common, 0.12)):
        later = truth[truth["as_of_year"] >= 2014]
        means = later.groupby("as_of_year")["p_decline"].mean()
        np.testing.assert_allclose(means, rate, atol=1e-9)
    with pytest.raises(ValueError, match="base_rate"):
        generate(seed=5, base_rate=0.0, **SMALL)

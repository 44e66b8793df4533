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
from features.synth.generate import wijk_adjacency

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
        adjacency=_adjacency_from_file(data),
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
    assert {c[len("true_shap__") :] for c in shap_cols} == {d.feature for d in mechanism.DRIVERS}
    total = t["true_base"] + t[shap_cols].sum(axis=1)
    np.testing.assert_allclose(total, t["true_logit"], atol=1e-9)
    np.testing.assert_allclose(t["p_decline"], 1 / (1 + np.exp(-t["true_logit"])), atol=1e-12)


def test_truth_is_a_function_of_the_panel_built_from_the_files(small):
    """The truth uses exactly the features a model sees, and declined is the panel's label."""
    panel = _panel(small)
    joined = panel.merge(small.truth, on=["unit_code", "as_of_year"], validate="1:1")
    assert len(joined) == len(small.truth) == len(panel)
    np.testing.assert_allclose(mechanism.logit(joined), joined["true_logit"], atol=1e-9)
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
    fell = panel["nb_lbm_chg_prev"] <= -0.04
    rose = panel["nb_lbm_chg_prev"] >= 0.0
    assert fell.sum() >= 20 and rose.sum() >= 20
    term = panel["true_shap__nb_lbm_chg_prev"]
    assert term[fell].min() > term[rose].max()
    assert panel.loc[fell, "p_decline"].mean() > panel.loc[rose, "p_decline"].mean()

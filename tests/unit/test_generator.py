"""The generator: deterministic, in the real formats, and its truth consistent with the panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import readers
from features.harmonize import harmonize
from features.panel import build_panel
from features.synth import generate, mechanism

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
    cbs, lbm, inv = _sources(small)
    panel = build_panel(cbs, lbm, inv, level="wijk", change_lags=(1, 3), delta=0.05)
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

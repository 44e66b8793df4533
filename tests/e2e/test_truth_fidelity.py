"""Issue 2's acceptance bar, on the NL-sized default with a seed never used for tuning.

Generated, trained with --as-of 2022 and scored with --as-of 2022: the ranking reaches at
least 0.9 of the oracle's AUC above 0.5 against the truth's ``declined``, and for the top decile
by ``p_decline`` at least 0.7 of the true top-3 drivers are among the ranking's top-3.
Also the calibration the generator promises: livability rises 2002-2012, and 2012-2014 about
a third of the 130 lowest wijken of 2012 decline while most others do not.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli import run

from features.readers import parse_lbm3_scores
from ml.truthcheck import compare

SEED = 7  # the generator was tuned on seed 0 and checked on 11-13


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nl") / "ws"
    run("generate", "--workspace", str(root), "--seed", str(SEED))
    run("train", "--workspace", str(root), "--as-of", "2022")
    run("score", "--workspace", str(root), "--as-of", "2022")
    return root


def test_skill_and_driver_fidelity_against_the_truth(ws):
    latest = (ws / "scores" / "2022" / "latest").read_text().strip()
    ranking = pd.read_parquet(ws / "scores" / "2022" / "runs" / latest / "ranking.parquet")
    truth = pd.read_parquet(ws / "truth" / "truth.parquet")
    result = compare(ranking, truth)
    assert 3000 <= result["n"] <= 3700
    assert result["normalized_auc"] >= 0.9, result
    assert result["driver_top3_recall"] >= 0.7, result


def test_generated_world_is_calibrated_to_the_dutch_evidence(ws):
    path = ws / "sources" / "leefbarometer" / "lbm3_scores_wijk.csv"
    lbm = parse_lbm3_scores(path.read_text(encoding="utf-8"), str(path))
    national = lbm.groupby("year")["lbm"].mean()
    assert national[2012] > national[2002]
    truth = pd.read_parquet(ws / "truth" / "truth.parquet")
    t12 = truth[truth["as_of_year"] == 2012].set_index("unit_code")
    # Only the wijken with a truth row in 2012: a fresh-clone run drew 3 codes with a 2012
    # Leefbarometer score but no 2012 outcome (why the draw varies is not yet known).
    scored = lbm[(lbm["year"] == 2012) & lbm["unit_code"].isin(t12.index)]
    lowest = scored.nsmallest(130, "lbm")["unit_code"]
    share_lowest = t12.loc[lowest, "declined"].astype(float).mean()
    share_others = t12.drop(index=lowest)["declined"].astype(float).mean()
    assert 0.2 <= share_lowest <= 0.45, share_lowest
    assert share_others <= 0.1, share_others


def test_the_generated_world_is_as_rare_as_the_real_one(ws):
    """Issue 11: from 2014 on every as-of year's decline rate lies between 2 % and 10 % (the
    real Leefbarometer 3.0 PC4 panel: 3.6-6.7 % per period with a fall of 0.05 or more)."""
    truth = pd.read_parquet(ws / "truth" / "truth.parquet")
    known = truth[(truth["as_of_year"] >= 2014) & truth["declined"].notna()]
    rates = known.groupby("as_of_year")["declined"].apply(lambda d: d.astype(float).mean())
    assert len(rates) >= 4, rates
    assert ((rates >= 0.02) & (rates <= 0.10)).all(), rates

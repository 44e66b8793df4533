"""The real national panel: Leefbarometer 2.0 per PC4 through backtest, train and score.

Reads ../shared/data/real/lbm2_pc4 through examples/pc4.toml (fails under CI when missing).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli import run

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "pc4.toml"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, shared_real_dir: Path) -> Path:
    assert (shared_real_dir / "lbm2_pc4" / "PC4LBR.csv").exists()
    return tmp_path_factory.mktemp("pc4") / "ws"


def test_backtest_every_period_lightgbm_against_the_baselines(ws):
    proc = run("backtest", "--config", str(CONFIG), "--workspace", str(ws))
    for period in ("2008->2012", "2012->2014", "2014->2016"):
        assert period in proc.stdout
    table = pd.read_csv(next((ws / "mlflow" / "artifacts").rglob("evaluation/backtest.csv")))
    assert set(table["model"]) == {"lightgbm", "logistic", "last_change", "current_level"}
    last = table[table["period"] == "2014->2016"].set_index("model")
    base_rate = last.loc["lightgbm", "base_rate"]
    assert 0.01 < base_rate < 0.03  # about 1.5 % of PC4 areas decline per period
    # LightGBM is well above the base rate on the period the issue names.
    assert last.loc["lightgbm", "pr_auc"] > 2 * base_rate, last
    assert (last["n"] > 3000).all()


def test_train_and_score_keep_the_output_contract(ws):
    run("train", "--config", str(CONFIG), "--workspace", str(ws), "--as-of", "2016")
    run("score", "--config", str(CONFIG), "--workspace", str(ws), "--as-of", "2016")
    scores = ws / "scores" / "2016"
    run_dir = scores / "runs" / (scores / "latest").read_text().strip()
    ranking = pd.read_parquet(run_dir / "ranking.parquet")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert ranking["unit_code"].str.fullmatch(r"\d{4}").all()
    assert len(ranking) > 3500
    shap_cols = [f"shap__{f}" for f in manifest["features"]]
    total = ranking[shap_cols].sum(axis=1) + ranking["shap__base"]
    assert np.max(np.abs(total - ranking["margin"])) <= 1e-6
    # Features are relative to the as-of year, never named after calendar years.
    assert not any(ch.isdigit() for f in manifest["features"] for ch in f.replace("chg", ""))
    assert ranking["rank_in_gemeente"].notna().all()

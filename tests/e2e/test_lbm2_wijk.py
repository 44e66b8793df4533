"""The national wijk-level real panel, examples/lbm2_wijk.toml: Leefbarometer 2.0 classes and
development classes for every CBS wijk (2016 codes), backtested through the CLI.

Reads ../shared/data/real/lbm2_wijk (fails under CI when missing).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli import run

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lbm2_wijk.toml"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, shared_real_dir: Path) -> Path:
    assert (shared_real_dir / "lbm2_wijk" / "wijk.json").exists()
    return tmp_path_factory.mktemp("lbm2wijk") / "ws"


def test_wijk_backtest_on_the_official_decline_classes(ws):
    proc = run("backtest", "--config", str(CONFIG), "--workspace", str(ws))
    for period in ("2002->2008", "2008->2012", "2012->2014", "2014->2016"):
        assert period in proc.stdout
    table = pd.read_csv(next((ws / "mlflow" / "artifacts").rglob("evaluation/backtest.csv")))
    trained = table[table["period"] != "2002->2008"]
    assert set(trained["model"]) == {"lightgbm", "logistic", "last_change", "current_level"}
    assert (trained["n"] > 2700).all()  # about 2,800 of the 2,981 wijken per period
    rates = trained.groupby("period")["base_rate"].first()
    assert ((rates > 0.005) & (rates < 0.03)).all(), rates  # official decline classes 1-3
    lgbm = trained[trained["model"] == "lightgbm"].set_index("period")
    assert (lgbm["roc_auc"] > 0.55).all(), lgbm["roc_auc"]

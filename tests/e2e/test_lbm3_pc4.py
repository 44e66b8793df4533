"""The national real configuration, examples/lbm3_pc4.toml, through the CLI: Leefbarometer 3.0
per PC4 (2002-2020), the CBS per-postcode tables and the real boundaries.

Reads ../shared/data/real (fails under CI when missing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli import run

from wijkradar import catalog
from wijkradar.catalog import Workspace

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lbm3_pc4.toml"
PERIODS = ("2002->2008", "2008->2012", "2012->2014", "2014->2016", "2016->2018", "2018->2020")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, shared_real_dir: Path) -> Path:
    assert (shared_real_dir / "lbm3_pc4" / "scores_pc4.csv").exists()
    return tmp_path_factory.mktemp("lbm3") / "ws"


def test_backtest_reports_every_period_against_every_baseline(ws):
    proc = run("backtest", "--config", str(CONFIG), "--workspace", str(ws))
    for period in PERIODS:
        assert period in proc.stdout
    table = pd.read_csv(next((ws / "mlflow" / "artifacts").rglob("evaluation/backtest.csv")))
    later = table[table["period"] != PERIODS[0]]
    assert set(later["model"]) == {
        "lightgbm", "logistic", "last_change", "current_level", "neighbours_level"
    }
    # The first period has no earlier one to learn from: the rules alone.
    assert set(table.loc[table["period"] == PERIODS[0], "model"]) == {
        "last_change", "current_level", "neighbours_level"
    }
    rates = later.groupby("period")["base_rate"].first()
    assert ((rates > 0.02) & (rates < 0.09)).all(), rates  # 2.8-8.2 % per period
    last = later[later["period"] == PERIODS[-1]].set_index("model")
    assert last.loc["lightgbm", "pr_auc_low"] > 2 * last.loc["lightgbm", "base_rate"], last
    assert last.loc["lightgbm", "pr_auc"] > last.loc["last_change", "pr_auc_high"], last


def test_panel_meta_names_context_and_the_publications(ws):
    meta = catalog.read_panel_meta(Workspace(ws))
    # CBS per postcode starts in 2020, after every labelled row: context only.
    assert {"inhabitants", "woz_value", "households"} <= set(meta.context_features)
    assert not set(meta.context_features) & set(meta.model_features)
    published = {Path(n.file).name: n.published for n in meta.source_files}
    assert published == {
        "pc4_2020_v1.xlsx": "2021-02-17",
        "pc4_2023_v2.xlsx": "2025-05-14",
        "pc4_2024_v1.xlsx": "2025-05-14",
    }
    assert all(n.secret > 0 for n in meta.source_files)
    assert meta.places is not None and meta.places.level == "pc4"
    # The 2024 CBS table has a handful of postcodes newer than the boundaries file.
    assert meta.places.units_with_polygon == meta.places.polygons == 4068
    assert meta.places.units_without_polygon <= 10
    assert meta.places.neighbour_pairs > 10_000


def test_train_score_and_map_place_every_area(ws):
    run("train", "--config", str(CONFIG), "--workspace", str(ws), "--as-of", "2018")
    run("score", "--config", str(CONFIG), "--workspace", str(ws), "--as-of", "2018")
    folder = catalog.latest_run(Workspace(ws), 2018)
    assert folder is not None
    ranking = pd.read_parquet(folder.ranking)
    assert len(ranking) > 4000
    placed = ranking["gemeente_code"].str.fullmatch(r"GM\d{4}") & ranking["gemeente_name"].notna()
    assert placed.mean() >= 0.98, placed.mean()
    assert (ranking["unit_name"].str.fullmatch(r"\d{4} .+")).mean() >= 0.98
    shap_cols = [c for c in ranking.columns if c.startswith("shap__")]
    assert np.max(np.abs(ranking[shap_cols].sum(axis=1) - ranking["margin"])) <= 1e-6
    assert len(list(folder.gemeenten.glob("GM*.csv"))) > 300

    from fastapi.testclient import TestClient

    from serving.api import create_app

    with TestClient(create_app(ws, CONFIG), base_url="http://127.0.0.1") as client:
        response = client.get("/api/map", params={"as_of": 2018})
        assert response.status_code == 200
        body = response.json()
    with_polygon = set(body["units"]["unit_code"])
    assert len(with_polygon & set(ranking["unit_code"])) >= 0.98 * len(ranking)
    geometries = body["topology"]["objects"]["units"]["geometries"]
    assert {g["type"] for g in geometries} <= {"Polygon", "MultiPolygon"}
    assert len(response.content) < 1_500_000

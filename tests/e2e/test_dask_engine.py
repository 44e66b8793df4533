"""Scoring on Dask (``serving.distributed``) publishes what the single-process job publishes:
the same units, risks within 1e-12 and the same ranks, on a generated workspace scored on a
LocalCluster of 2 workers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli import run

from features.build import ensure_panel
from ml import registry
from models.explain import SHAP_BASE, shap_column
from serving.distributed import (
    DaskOptions,
    assemble_ranking,
    dask_client,
    dask_scorer,
    score_partitioned,
)
from serving.job import score_rows, scoring_predict
from serving.partitioned import read_files, read_placed, write_partitioned
from serving.ranking import contribution_matrix
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import load_config
from wijkradar.errors import ExplanationError

YEAR = 2022


Predict = Callable[[pd.DataFrame], pd.DataFrame]


def _inputs(root: Path) -> tuple[Predict, pd.DataFrame, list[str]]:
    """The champion's predict with the configured explanation method, the rows of the as-of
    year and the features, as the job loads them."""
    ws = Workspace(root)
    cfg = load_config(ws.config)
    panel, _ = ensure_panel(ws, cfg)
    tracking = registry.tracking_for(ws, cfg)
    model, features = registry.load(tracking, registry.resolve(tracking, None))
    rows = panel[panel["as_of_year"] == YEAR].reset_index(drop=True)
    return scoring_predict(model, cfg.explain.method), rows, features


def _published(root: Path) -> pd.DataFrame:
    latest = catalog.latest_run(Workspace(root), YEAR)
    assert latest is not None, f"nothing published for {YEAR} in {root}"
    return catalog.read_parquet(latest.ranking)


def _assert_same_result(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    assert actual["unit_code"].tolist() == expected["unit_code"].tolist()
    assert np.max(np.abs(actual["risk"].to_numpy() - expected["risk"].to_numpy())) <= 1e-12
    assert actual["rank"].tolist() == expected["rank"].tolist()
    assert actual["rank_in_gemeente"].tolist() == expected["rank_in_gemeente"].tolist()


def test_dask_engine_on_two_workers_equals_the_single_process_job(fresh, single, tmp_path):
    predict, rows, features = _inputs(fresh)
    scorer = dask_scorer(DaskOptions(n_workers=2), tmp_path / "scratch")
    ranking, error = scorer(predict, rows, features)
    assert scorer.timings_.workers == 2 and scorer.timings_.tasks >= 2
    assert error <= 1e-6
    # The published single-process run: same units, risks, ranks (and the rest of the table).
    published = _published(single)
    _assert_same_result(published, ranking)
    shap_cols = [*(shap_column(f) for f in features), SHAP_BASE]
    np.testing.assert_allclose(
        ranking[shap_cols].to_numpy(), published[shap_cols].to_numpy(), rtol=0, atol=1e-12
    )
    assert ranking["top_drivers"].tolist() == published["top_drivers"].tolist()
    # And the job's own scoring step in this process, column for column.
    expected, expected_error = score_rows(predict, rows, features)
    pd.testing.assert_frame_equal(ranking, expected)
    assert error == pytest.approx(expected_error, abs=1e-12)
    assert not any((tmp_path / "scratch").iterdir()), "the scratch folder was left behind"


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with dask_client(DaskOptions(n_workers=2)) as dask:
        yield dask


def _stand_in(n_units: int, n_gemeenten: int) -> tuple[pd.DataFrame, list[str]]:
    """Rows of whole gemeenten whose margins tie in pairs (a stand-in model below)."""
    rng = np.random.default_rng(4)
    gm = np.sort(rng.integers(0, n_gemeenten, n_units))
    rows = pd.DataFrame(
        {
            "unit_code": [f"WK{g:04d}{i:04d}" for i, g in enumerate(gm)],
            "unit_name": [f"Wijk {i}" for i in range(n_units)],
            "gemeente_code": [f"GM{g:04d}" for g in gm],
            "gemeente_name": [f"Gemeente {g}" for g in gm],
            "as_of_year": np.full(n_units, YEAR, dtype="int64"),
            "a": np.round(rng.normal(size=n_units), 1),  # ties
            "b": np.where(rng.random(n_units) < 0.1, np.nan, 1.0),
        }
    )
    rows = rows.sample(frac=1.0, random_state=1).reset_index(drop=True)  # gemeenten mixed
    rows.loc[3, "gemeente_code"] = np.nan  # a unit without a gemeente
    return rows, ["a", "b"]


def _tied_model(broken: bool = False):  # -> Predict
    def predict(X: pd.DataFrame) -> pd.DataFrame:
        a = X["a"].to_numpy(dtype="float64")
        out = pd.DataFrame({"risk": 1.0 / (1.0 + np.exp(-a)), "margin": a}, index=X.index)
        out["shap__a"], out["shap__b"], out[SHAP_BASE] = a, 0.0, 0.0
        if broken:
            out[SHAP_BASE] = 0.5
        return out

    return predict


def test_ties_and_a_missing_gemeente_rank_as_in_one_process(client, tmp_path):
    rows, features = _stand_in(3_000, 40)
    scores = score_partitioned(client, _tied_model(), rows, features, tmp_path,
                               explanations=True)
    ranking = assemble_ranking(scores)
    expected, _ = score_rows(_tied_model(), rows, features)
    pd.testing.assert_frame_equal(ranking, expected)
    gemeenten = {Path(f.partition).name for f in scores.ranking_files}
    assert "gemeente_code=GM0001" in gemeenten and len(gemeenten) == 41  # 40 and the missing
    assert sum(f.rows for f in scores.explanation_files) == len(rows) * len(features)


def test_explanations_that_do_not_add_up_are_refused_on_the_workers(client, tmp_path):
    rows, features = _stand_in(500, 5)
    with pytest.raises(ExplanationError, match="additivity"):
        score_partitioned(client, _tied_model(broken=True), rows, features, tmp_path)


def test_partitioned_parquet_round_trips_types_and_a_missing_gemeente(tmp_path):
    rows, _ = _stand_in(400, 7)
    files = write_partitioned(rows, tmp_path, "x", chunk_rows=150)
    back = read_files([f.path for f in files], tmp_path, list(rows.columns))
    back = back.sort_values("unit_code").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, rows.sort_values("unit_code").reset_index(drop=True))
    assert {Path(f.path).parts[-3] for f in files} == {f"as_of_year={YEAR}"}


def test_cli_engine_dask_publishes_the_single_process_run(fresh, single, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(fresh, root)
    run("score", "--workspace", str(root), "--as-of", str(YEAR), "--engine", "dask",
        "--workers", "2")
    expected, actual = _published(single), _published(root)
    _assert_same_result(expected, actual)
    pd.testing.assert_frame_equal(actual, expected)
    run_single = catalog.latest_run(Workspace(single), YEAR)
    run_dask = catalog.latest_run(Workspace(root), YEAR)
    assert run_single is not None and run_dask is not None
    assert run_dask.run_id == run_single.run_id
    assert sorted(p.name for p in run_dask.gemeenten.iterdir()) == sorted(
        p.name for p in run_single.gemeenten.iterdir()
    )


def test_read_placed_is_the_frame_read_whole_and_sorted(tmp_path):
    rows, _ = _stand_in(600, 9)
    rows = rows.assign(
        note=pd.array([None if i % 7 == 0 else f"n{i}" for i in range(600)], dtype="str"),
        odd=np.where(np.arange(600) % 5 == 0, np.nan, 1.5),
        k=np.random.default_rng(3).permutation(600),
    )
    files = [f.path for f in write_partitioned(rows, tmp_path, "x", chunk_rows=250)]
    columns = [c for c in rows.columns if c != "k"]
    whole = read_files(files, tmp_path, list(rows.columns))

    def places(table):  # rank by "a", largest first (ties by "k")
        k = table.column("k").to_numpy()
        order = np.lexsort((k, -table.column("a").to_numpy()))
        out = np.empty(len(k), dtype=np.intp)
        out[k[order]] = np.arange(len(k))
        return out

    got = read_placed(files, tmp_path, columns, "k", places, keys=["a"])
    expected = whole.assign(_k=whole["k"]).sort_values(["a", "_k"], ascending=[False, True],
                                                        kind="stable")[columns]
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    pair = columns[columns.index("a") : columns.index("a") + 2]
    assert pair == ["a", "b"]  # adjacent float columns read as one matrix, not copied
    assert np.shares_memory(contribution_matrix(got, pair), got["a"].to_numpy())


def test_read_placed_refuses_places_left_empty(tmp_path):
    rows, _ = _stand_in(50, 3)
    rows = rows.assign(k=np.arange(50) * 2 % 51)  # 0, 2, ..., 48, 50 (no 1, 3, ...)
    files = [f.path for f in write_partitioned(rows, tmp_path, "x")]
    with pytest.raises(ValueError, match="50 rows for 51 places"):
        read_placed(files, tmp_path, ["a"], "k", lambda t: np.arange(51), keys=[])

"""The catalog's writes are atomic: a failure leaves what was there whole."""

from __future__ import annotations

import pandas as pd
import pytest

from wijkradar import catalog
from wijkradar.catalog import Workspace


def test_staged_dir_publishes_whole_or_not_at_all(tmp_path):
    final = tmp_path / "runs" / "r1"
    with catalog.staged_dir(final) as tmp:
        (tmp / "a.txt").write_text("one")
    assert (final / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), catalog.staged_dir(final) as tmp:
        (tmp / "a.txt").write_text("two")
        raise RuntimeError("crash while writing")
    assert (final / "a.txt").read_text() == "one"
    assert [p.name for p in final.parent.iterdir()] == ["r1"]  # no staging folder left


def test_failed_parquet_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.parquet"
    catalog.write_parquet(pd.DataFrame({"x": [1]}), path)
    with pytest.raises(Exception):  # noqa: B017 - any failure of the writer
        catalog.write_parquet(pd.DataFrame({"x": [object()]}), path)
    assert pd.read_parquet(path)["x"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_latest_pointer_names_the_newest_complete_run(tmp_path):
    ws = Workspace(tmp_path)
    assert catalog.latest_run(ws, 2024) is None
    ws.run_dir(2024, "abc").mkdir(parents=True)
    catalog.point_latest(ws, 2024, "abc")
    assert catalog.latest_run(ws, 2024) == ws.run_dir(2024, "abc")
    assert catalog.scored_years(ws) == [2024]


def test_embedded_tracking_uri_is_sqlite_in_the_workspace(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.tracking_uri() == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert ws.tracking_uri("http://mlflow:5000") == "http://mlflow:5000"


def test_schema_differences_list_missing_and_mistyped_features():
    from serving.job import schema_differences

    panel = pd.DataFrame({
        "unit_code": ["WK000101"], "as_of_year": [2024], "lbm": [4.0], "woz_value": ["high"],
    })
    problems = schema_differences(["lbm", "woz_value", "crimes_per_1000"], panel)
    assert problems == [
        "the panel lacks feature 'crimes_per_1000'",
        "feature 'woz_value' is str, the model expects double",
    ]
    assert schema_differences(["lbm"], panel) == []

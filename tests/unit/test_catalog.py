"""The catalog: atomic writes (a failure leaves what was there whole), the run folder's named
paths, and the typed manifest written and read in one place."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from wijkradar import catalog, records
from wijkradar.catalog import Workspace
from wijkradar.errors import WijkradarError


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
    ws.run_dir(2024, "abc").path.mkdir(parents=True)
    catalog.point_latest(ws, 2024, "abc")
    assert catalog.latest_run(ws, 2024) == ws.run_dir(2024, "abc")
    assert catalog.scored_years(ws) == [2024]


def test_run_folder_names_the_published_files(tmp_path):
    run = Workspace(tmp_path).run_dir(2024, "abc")
    assert run.path == tmp_path / "scores" / "2024" / "runs" / "abc"
    assert run.run_id == "abc"
    names = (run.ranking, run.ranking_csv, run.explanations, run.drift, run.gemeenten)
    assert [p.relative_to(run.path).as_posix() for p in (*names, run.manifest)] == [
        "ranking.parquet",
        "ranking.csv",
        "explanations.parquet",
        "drift.json",
        "gemeenten",
        "manifest.json",
    ]


def test_run_folders_leave_out_staging_folders(tmp_path):
    ws = Workspace(tmp_path)
    for name in ("b", "a", ".b.staging-x1"):
        (ws.runs_dir(2024) / name).mkdir(parents=True)
    assert [r.run_id for r in catalog.run_folders(ws, 2024)] == ["a", "b"]
    assert catalog.run_folders(ws, 2022) == []


def manifest(**changes: object) -> records.Manifest:
    fields = dict(
        run_id="abc",
        as_of_year=2024,
        model_name="wijkradar",
        model_version="3",
        model_run_id="r" * 32,
        panel_fingerprint="f" * 64,
        row_count=2,
        features=("lbm", "crimes_per_1000"),
        additivity_max_error=1e-12,
        previous_run=None,
        drift_flagged=("lbm",),
        units_flagged_missing=0,
        gemeenten=records.ALL_GEMEENTEN,
        created="2025-01-01T10:00:00+0100",
    )
    return records.Manifest(**{**fields, **changes})


def test_manifest_is_written_last_with_the_digests_and_read_back(tmp_path):
    run = catalog.RunFolder(tmp_path / "run")
    run.gemeenten.mkdir(parents=True)
    run.ranking_csv.write_text("unit_code\nWK000101\n")
    (run.gemeenten / "GM0001.csv").write_text("x")
    written = catalog.write_manifest(run, manifest(gemeenten=("GM0001",)))
    assert set(written.files) == {"ranking.csv", "gemeenten/GM0001.csv"}
    on_disk_digests = catalog.file_digests(run.path)
    assert written.files == {k: v for k, v in on_disk_digests.items() if k != "manifest.json"}
    assert catalog.read_manifest(run) == written
    on_disk = json.loads(run.manifest.read_text())
    assert set(on_disk) == {  # the output contract: exactly these keys
        "run_id", "as_of_year", "model_name", "model_version", "model_run_id",
        "panel_fingerprint", "row_count", "features", "additivity_max_error", "previous_run",
        "drift_flagged", "units_flagged_missing", "gemeenten", "created", "knowledge_date",
        "sources", "files", "panel_hash", "drift_profile", "explain_method", "exports",
    }
    assert on_disk["features"] == ["lbm", "crimes_per_1000"]
    assert on_disk["gemeenten"] == ["GM0001"] and on_disk["previous_run"] is None


def test_a_run_of_every_gemeente_says_all(tmp_path):
    run = catalog.RunFolder(tmp_path)
    catalog.write_manifest(run, manifest())
    assert json.loads(run.manifest.read_text())["gemeenten"] == "all"
    assert catalog.read_manifest(run).gemeenten == records.ALL_GEMEENTEN


def test_a_manifest_lacking_keys_says_which(tmp_path):
    run = catalog.RunFolder(tmp_path)
    data = manifest().to_dict()
    del data["previous_run"], data["drift_flagged"]
    catalog.write_json(data, run.manifest)
    with pytest.raises(WijkradarError, match="lacks drift_flagged, previous_run"):
        catalog.read_manifest(run)


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

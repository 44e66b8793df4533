"""The embedded store is checked and re-rooted under the workspace it is opened from."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml import store
from wijkradar.errors import StoreError


def _store(db: Path, root: Path) -> None:
    art = (root / "mlflow" / "artifacts").as_uri()
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE experiments (artifact_location TEXT)")
        con.execute("CREATE TABLE runs (artifact_uri TEXT)")
        con.execute("CREATE TABLE model_versions (source TEXT, storage_location TEXT)")
        con.execute("INSERT INTO experiments VALUES (?), (?)", (art, "/elsewhere/mlruns/0"))
        con.execute("INSERT INTO runs VALUES (?)", (f"{art}/abc/artifacts",))
        con.execute("INSERT INTO model_versions VALUES (?, ?)",
                    (f"{art}/abc/artifacts/model", f"{art}/abc/artifacts/model"))


def _all(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute(
            "SELECT artifact_location FROM experiments UNION ALL SELECT artifact_uri FROM runs "
            "UNION ALL SELECT source FROM model_versions UNION ALL "
            "SELECT storage_location FROM model_versions")]


def test_a_moved_store_is_rerooted_and_other_locations_are_left(tmp_path):
    old, new = tmp_path / "old ws", tmp_path / "new" / "ws"
    new.mkdir(parents=True)
    db = new / "mlflow.db"
    _store(db, old)
    assert store.open_embedded(db, new) == 4
    locations = _all(db)
    assert "/elsewhere/mlruns/0" in locations
    moved = [loc for loc in locations if loc != "/elsewhere/mlruns/0"]
    assert all(loc.startswith((new / "mlflow" / "artifacts").as_uri()) for loc in moved)
    assert moved[1].endswith("/abc/artifacts")
    assert store.open_embedded(db, new) == 0  # in place: nothing to do


def test_a_damaged_store_is_a_store_error_naming_the_file(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"SQLite format 3\0" + os.urandom(8192))
    with pytest.raises(StoreError, match=r"mlflow\.db"):
        store.open_embedded(db, tmp_path)


def test_no_store_yet_is_left_to_mlflow(tmp_path):
    assert store.open_embedded(tmp_path / "mlflow.db", tmp_path) == 0
    assert not (tmp_path / "mlflow.db").exists()


segment = st.text(alphabet="abcdefghij-_ 0123456789", min_size=1, max_size=8)


@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, min_size=1, max_size=4),
       st.lists(segment, max_size=4), st.booleans())
def test_rerooting_keeps_the_rest_of_the_location_and_its_form(old, new, rest, uri):
    old_root = "/" + "/".join(old) + "/mlflow/artifacts"
    new_root = "/" + "/".join(new) + "/mlflow/artifacts"
    path = "/".join([old_root, *rest])
    location = Path(path).as_uri() if uri else path
    moved = store.rerooted(location, old_root, new_root)
    assert store.local_path(moved) == "/".join([new_root, *rest])
    assert moved.startswith("file:") == uri


def test_an_orphan_is_a_running_run_of_this_host_whose_process_died():
    dead = 2**22 + 12345  # above pid_max on Linux: no such process
    tags = {store.HOST_TAG: "h", store.PID_TAG: str(dead)}
    assert store.is_orphan("RUNNING", tags, "h")
    assert not store.is_orphan("FINISHED", tags, "h")
    assert not store.is_orphan("RUNNING", tags, "other host")
    alive = {store.HOST_TAG: "h", store.PID_TAG: str(os.getppid())}
    assert not store.is_orphan("RUNNING", alive, "h")

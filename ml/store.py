"""The embedded MLflow store of a workspace: checked, re-rooted where the workspace now lives,
and cleared of runs that died.

MLflow's SQLite store records absolute artifact locations. A workspace copied with ``cp -r``
would keep writing model artifacts into the original, so ``open_embedded`` re-roots every
recorded location under the workspace it is opened from, before any client touches it:

>>> rerooted("file:///old/ws/mlflow/artifacts/1/abc/artifacts/model", "/old/ws/mlflow/artifacts",
...          "/new/ws/mlflow/artifacts")
'file:///new/ws/mlflow/artifacts/1/abc/artifacts/model'

A shared tracking server (``[tracking] uri``) is left alone: it owns its own locations.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from wijkradar.errors import StoreError

ARTIFACTS_DIR = "mlflow/artifacts"  # the workspace's artifact root, relative to its root
# Every column where MLflow keeps an artifact location (MLflow 2.16 - 3.x).
LOCATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "source"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)
HOST_TAG, PID_TAG = "wijkradar.host", "wijkradar.pid"
FAILURE_TAG = "wijkradar.failure"


def local_path(location: str) -> str:
    """The path of a ``file://`` URI or a plain path ('' for other schemes)."""
    if location.startswith("file:"):
        return unquote(urlparse(location).path)
    return "" if "://" in location else location


def rerooted(location: str, old_root: str, new_root: str) -> str:
    """``location`` with the artifact root ``old_root`` replaced by ``new_root`` (same form:
    a URI stays a URI)."""
    path = local_path(location)
    rest = path[len(old_root):]
    new = new_root + rest
    return Path(new).as_uri() if location.startswith("file:") else new


def _old_roots(db: sqlite3.Connection, new_root: str) -> set[str]:
    """The artifact roots recorded for experiments that are not this workspace's."""
    roots = set()
    for (location,) in db.execute("SELECT artifact_location FROM experiments"):
        path = local_path(location or "")
        marker = path.find("/" + ARTIFACTS_DIR)
        if marker < 0:
            continue
        root = path[: marker + len(ARTIFACTS_DIR) + 1]
        if root != new_root:
            roots.add(root)
    return roots


def _tables(db: sqlite3.Connection) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _reroot(db: sqlite3.Connection, old_root: str, new_root: str) -> int:
    changed = 0
    present = _tables(db)
    for table, column in LOCATION_COLUMNS:
        if table not in present:
            continue
        rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL")
        for rowid, location in rows.fetchall():
            path = local_path(location)
            if path == old_root or path.startswith(old_root + "/"):
                db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    (rerooted(location, old_root, new_root), rowid),
                )
                changed += 1
    return changed


def open_embedded(db_path: Path, workspace_root: Path) -> int:
    """Check the SQLite store at ``db_path`` and re-root its artifact locations under
    ``workspace_root``; returns how many locations changed. A damaged or unreadable file is a
    ``StoreError`` naming it. A store that does not exist yet is left to MLflow to create."""
    if not db_path.exists():
        return 0
    new_root = str((workspace_root / ARTIFACTS_DIR).resolve())
    try:
        with closing(sqlite3.connect(db_path, timeout=30)) as db:
            state = db.execute("PRAGMA quick_check").fetchone()
            if state is None or state[0] != "ok":
                raise StoreError(
                    f"The model store {db_path} is damaged (SQLite quick_check: {state}). "
                    "Restore it from a backup, or move it away to start a new registry."
                )
            if "experiments" not in _tables(db):
                return 0
            changed = 0
            with db:  # one transaction: every location moves, or none
                for old_root in _old_roots(db, new_root):
                    changed += _reroot(db, old_root, new_root)
            return changed
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"The model store {db_path} cannot be read: {exc}. Restore it from a backup, or "
            "move it away to start a new registry."
        ) from exc
    except OSError as exc:
        raise StoreError(f"The model store {db_path} cannot be opened: {exc}.") from exc


def sqlite_file(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` tracking URI (None for a server): what the functions
    below read directly where that is enough."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


def _read_one(db_path: Path, query: str, args: tuple[str, ...]) -> tuple[object, ...] | None:
    """The first row ``query`` selects from the SQLite store, opened read-only (a few
    milliseconds, against 1-2 s for starting MLflow's own client); None when there is none
    or the store cannot tell (another schema, a locked or damaged file)."""
    try:
        with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=5)) as db:
            row = db.execute(query, args).fetchone()
    except sqlite3.Error:
        return None
    return tuple(row) if row else None


def alias_target(db_path: Path, name: str, alias: str) -> tuple[str, str] | None:
    """``(version, run_id)`` that ``models:/name@alias`` points at, read from the SQLite store
    directly; None when the store cannot tell (no such alias, another schema), so that the
    caller asks MLflow."""
    row = _read_one(
        db_path,
        "SELECT v.version, v.run_id FROM registered_model_aliases a "
        "JOIN model_versions v ON v.name = a.name AND v.version = a.version "
        "WHERE a.name = ? AND a.alias = ? AND v.status = 'READY'",
        (name, alias),
    )
    return (str(row[0]), str(row[1])) if row and row[1] else None


def _local_folder(db_path: Path, query: str, args: tuple[str, ...]) -> Path | None:
    """The existing local folder of the location ``query`` selects; None when the store cannot
    tell (another schema, a remote location, a folder that is gone)."""
    row = _read_one(db_path, query, args)
    path = local_path(str(row[0])) if row and row[0] else ""
    return Path(path) if path and Path(path).is_dir() else None


def version_folder(db_path: Path, name: str, version: str) -> Path | None:
    """The local folder of a registered model version's files (its ``storage_location``),
    read from the SQLite store directly, as ``alias_target``; None when the store cannot
    tell, so that the caller asks MLflow."""
    return _local_folder(
        db_path,
        "SELECT storage_location FROM model_versions WHERE name = ? AND version = ? "
        "AND status = 'READY'",
        (name, str(version)),
    )


def run_artifacts(db_path: Path, run_id: str) -> Path | None:
    """The local folder of a run's artifacts, read from the SQLite store directly; None when
    the store cannot tell."""
    return _local_folder(db_path, "SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,))


def run_owner() -> dict[str, str]:
    """The tags that say which process a run belongs to, so that a later start can tell a
    run that died from one that is still going."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def is_orphan(status: str, tags: dict[str, str], host: str) -> bool:
    """A RUNNING run of this host whose process is gone (a killed ``train``)."""
    if status != "RUNNING" or tags.get(HOST_TAG) != host:
        return False
    pid = tags.get(PID_TAG, "")
    return pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid))


@contextmanager
def store_errors(where: str) -> Iterator[None]:
    """Turn the store's own failures (SQLAlchemy or SQLite errors) into a ``StoreError``
    naming ``where`` (the store's file or URI)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The model store {where} failed: {exc}.") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("sqlalchemy"):
            raise StoreError(f"The model store {where} failed: {exc}.") from exc
        raise

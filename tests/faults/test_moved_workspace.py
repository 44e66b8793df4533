"""A workspace copied with ``cp -r`` works in its new place and leaves the old one alone."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
from faultkit import EXE, YEAR, published_problems, wijkradar

from wijkradar import catalog


def _tree_digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): catalog.sha256(p)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _locations(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT artifact_uri FROM runs UNION ALL "
                           "SELECT source FROM model_versions").fetchall()
    return [r[0] for r in rows]


def _serves(root: Path) -> int:
    """Start ``wijkradar serve`` on a free port, and return the status of /api/runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen([EXE, "serve", "--workspace", str(root), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        for _ in range(150):
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/runs", timeout=5).status_code
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("the server did not start")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_copied_workspace_trains_scores_and_serves_in_its_new_place(base_ws, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(base_ws, old, symlinks=True)
    before = _tree_digests(old)
    new = tmp_path / "elsewhere" / "moved"
    new.parent.mkdir()
    subprocess.run(["cp", "-r", str(old), str(new)], check=True)

    wijkradar("train", "--workspace", str(new), "--as-of", str(YEAR), check=True)
    wijkradar("models", "promote", "2", "--workspace", str(new), check=True)
    wijkradar("score", "--workspace", str(new), "--as-of", str(YEAR), check=True)
    listed = wijkradar("models", "list", "--workspace", str(new), check=True)
    assert "champion" in listed.stdout
    assert _serves(new) == 200

    assert _tree_digests(old) == before  # not one byte of the old place changed
    locations = _locations(new / "mlflow" / "mlflow.db")
    assert locations and all(str(new.resolve()) in loc for loc in locations), locations
    assert published_problems(new) == []

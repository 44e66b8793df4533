"""The batch job is safe from cron: two runs at once do not both proceed, and a lock left by a
killed run is taken over. (SIGKILLs at random moments of train and score:
``tests/faults/test_kills.py``.)"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from cli import EXE, run

from wijkradar import catalog
from wijkradar.catalog import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("job") / "ws"
    run("generate", "--workspace", str(root), "--seed", "3", "--gemeenten", "30")
    run("train", "--workspace", str(root), "--as-of", "2022")
    run("train", "--workspace", str(root), "--as-of", "2024")  # a second registered version
    return root


def _score(ws: Path, version: int) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.Popen(
        [EXE, "score", "--workspace", str(ws), "--model", f"models:/wijkradar/{version}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _published(ws: Path) -> tuple[str | None, list[str]]:
    """The latest run id and the problems with every visible run folder (staging folders are
    hidden and never published)."""
    workspace = Workspace(ws)
    latest = catalog.latest_run(workspace, 2024)
    problems = [p for run in catalog.run_folders(workspace, 2024)
                for p in catalog.run_problems(run)]
    return (latest.run_id if latest else None), problems


def _model_of(ws: Path, run_id: str) -> str:
    return catalog.read_manifest(Workspace(ws).run_dir(2024, run_id)).model_version


def _other_version(ws: Path) -> int:
    latest, _ = _published(ws)
    return 1 if latest and _model_of(ws, latest) == "2" else 2


HOLDER = """
import sys, time
from serving.lock import RunLock
with RunLock(sys.argv[1], "wijkradar score (another run)"):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_concurrent_run_is_refused_and_a_killed_holder_is_taken_over(ws):
    import sys

    lock = Workspace(ws).lock
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = _score(ws, _other_version(ws))
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 7, err
        assert "lock" in err.lower() and str(holder.pid) in err
        assert _published(ws)[1] == []
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert lock.exists()  # a killed holder cannot clean up: the lock is stale now
    latest_before, _ = _published(ws)
    proc = _score(ws, _other_version(ws))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "stale lock" in err and str(holder.pid) in err
    latest, problems = _published(ws)
    assert problems == [] and latest != latest_before
    assert not lock.exists()

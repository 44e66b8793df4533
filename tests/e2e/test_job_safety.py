"""The batch job is safe from cron: killing it at any moment leaves the previous complete run
or the new complete run published, never a mix; two runs at once do not both proceed; a lock
left by a killed run is taken over."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli import EXE, run

from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace


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


def run_problems(run: RunFolder) -> list[str]:
    """Problems with a published run folder (empty when it is whole): its manifest lists every
    other file with the file's digest."""
    if not run.manifest.exists():
        return [f"{run.path}: no {run.manifest.name}"]
    listed = catalog.read_manifest(run).files
    actual = catalog.file_digests(run.path)
    actual.pop(run.manifest.name, None)
    problems = [f"{name}: missing" for name in listed if name not in actual]
    problems += [f"{name}: not in the manifest" for name in actual if name not in listed]
    problems += [
        f"{name}: checksum differs" for name, digest in listed.items()
        if name in actual and actual[name] != digest
    ]
    return problems


def _published(ws: Path) -> tuple[str | None, list[str]]:
    """The latest run id and the problems with every visible run folder (staging folders are
    hidden and never published)."""
    workspace = Workspace(ws)
    latest = catalog.latest_run(workspace, 2024)
    problems = [p for run in catalog.run_folders(workspace, 2024) for p in run_problems(run)]
    return (latest.run_id if latest else None), problems


def test_sigkill_at_random_moments_never_publishes_a_mix(ws):
    start = time.perf_counter()
    first = _score(ws, 1)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    duration = time.perf_counter() - start
    latest, problems = _published(ws)
    assert latest is not None and problems == []
    rng = random.Random(20261128)
    seen = {latest}
    for i in range(8):
        before = latest
        proc = _score(ws, 2 if i % 2 == 0 else 1)
        time.sleep(rng.uniform(0.2, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        latest, problems = _published(ws)
        assert problems == [], problems
        assert latest is not None
        if latest != before:  # the run completed before the kill: then it is whole
            assert run_problems(Workspace(ws).run_dir(2024, latest)) == []
        seen.add(latest)
    after = _score(ws, 2)  # the next run succeeds, taking over any stale lock
    _, err = after.communicate(timeout=300)
    assert after.returncode == 0, err
    latest, problems = _published(ws)
    assert problems == [] and latest is not None
    assert not Workspace(ws).lock.exists()


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

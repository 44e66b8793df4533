"""The run lock: a flock held for the run. A second holder is refused with the first named; the
lock of a process killed while holding it is free at once; of processes racing to take and
release it, never two hold it at the same time."""

from __future__ import annotations

import fcntl
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from serving.lock import RunLock
from wijkradar.errors import LockHeldError

HOLDER = """
import sys, time
from serving.lock import RunLock
with RunLock(sys.argv[1], "the other run"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    """Another process holding the lock at ``path`` (it has once it returns)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_acquire_creates_the_folder_writes_the_holder_and_release_removes(tmp_path):
    path = tmp_path / "ws" / ".run" / "score.lock"
    with RunLock(path, description="score --as-of 2022") as lock:
        text = path.read_text(encoding="utf-8")
        found = re.fullmatch(r"pid (\d+) since (\S+) \((.*)\)\n", text)
        assert found is not None, text
        assert int(found[1]) == os.getpid()
        assert datetime.fromisoformat(found[2]).tzinfo is not None
        assert found[3] == "score --as-of 2022"
        assert lock.stale_holder_ is None
    assert not path.exists()


def test_a_holder_in_another_process_is_named_and_its_lock_left_alone(tmp_path):
    path = tmp_path / "run.lock"
    holder = _holder(path)
    try:
        with pytest.raises(LockHeldError) as err:
            RunLock(path).acquire()
        assert f"held by pid {holder.pid} since " in str(err.value)
        assert "the other run" in str(err.value)
        assert err.value.exit_code == 7
        assert path.read_text(encoding="utf-8").startswith(f"pid {holder.pid} ")
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_process_killed_while_holding_is_taken_at_once(tmp_path):
    path = tmp_path / "run.lock"
    holder = _holder(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert path.read_text(encoding="utf-8").startswith(f"pid {holder.pid} ")  # left behind
    start = time.perf_counter()
    with RunLock(path, description="after the crash") as lock:
        assert time.perf_counter() - start < 1.0
        assert lock.stale_holder_ is not None
        assert lock.stale_holder_.startswith(f"pid {holder.pid} since ")
        assert path.read_text(encoding="utf-8").startswith(f"pid {os.getpid()} ")
    assert not path.exists()


def test_a_second_lock_in_the_same_process_is_refused(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path, description="first run") as first:
        with pytest.raises(LockHeldError, match=f"held by pid {os.getpid()} .*first run"):
            RunLock(path).acquire()
        with pytest.raises(LockHeldError):
            first.acquire()  # nor does the holder take it twice
        assert path.exists()
    assert not path.exists()


def test_release_then_acquire_again(tmp_path):
    path = tmp_path / "run.lock"
    lock = RunLock(path)
    for _ in range(3):
        lock.acquire()
        assert path.exists()
        lock.release()
        lock.release()  # releasing twice is harmless
        assert not path.exists()
    with pytest.raises(RuntimeError), RunLock(path):
        raise RuntimeError("scoring failed")
    with RunLock(path) as again:
        assert again.stale_holder_ is None  # released cleanly: nothing stale


def test_a_holder_that_has_not_written_yet_is_reported_as_such(tmp_path):
    path = tmp_path / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked, content not yet written
        with pytest.raises(LockHeldError, match="empty or unreadable"):
            RunLock(path).acquire()
    finally:
        os.close(fd)


def _contender(path: str, rounds: int, inside: mp.Value, overlaps: mp.Value) -> None:
    lock = RunLock(path, description=f"contender {os.getpid()}")
    for _ in range(rounds):
        try:
            lock.acquire()
        except LockHeldError:
            continue
        with inside.get_lock():
            inside.value += 1
            if inside.value > 1:
                overlaps.value += 1
        time.sleep(0.0005)
        with inside.get_lock():
            inside.value -= 1
        lock.release()


def test_processes_taking_and_releasing_it_never_hold_it_together(tmp_path):
    """Release removes the file: a contender that opened it just before must not hold the
    removed file while another holds the new one."""
    ctx = mp.get_context("fork")
    inside, overlaps = ctx.Value("i", 0), ctx.Value("i", 0)
    path = str(tmp_path / "run.lock")
    procs = [
        ctx.Process(target=_contender, args=(path, 400, inside, overlaps)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert overlaps.value == 0
    assert not Path(path).exists()

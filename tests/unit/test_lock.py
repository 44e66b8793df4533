"""The run lock: held by a live process it refuses, left by a dead one it is taken over, and
of several racing processes exactly one wins."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serving.lock import RunLock, holder_alive
from wijkradar.errors import LockHeldError


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not holder_alive({"pid": proc.pid})
    return proc.pid


def _write_lock(path: Path, **info: object) -> dict:
    data = {
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "started": "2024-01-01T03:00:00+0100",
        "description": "wijkradar score (cron)",
        "token": "theirs",
        **info,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def test_acquire_writes_holder_and_release_removes(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path, description="score --as-of 2022") as lock:
        info = json.loads(path.read_text(encoding="utf-8"))
        assert info["pid"] == os.getpid()
        assert info["hostname"] == socket.gethostname()
        assert info["description"] == "score --as-of 2022"
        assert info["started"][:4].isdigit()
        assert lock.took_over_from_ is None
        assert lock.held
    assert not path.exists()
    assert not lock.held


def test_second_acquire_in_the_same_process_fails_with_the_holder_named(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path, description="first run"):
        with pytest.raises(LockHeldError) as err:
            RunLock(path, description="second run").acquire()
        message = str(err.value)
        assert f"pid {os.getpid()}" in message
        assert "first run" in message
        assert "started" in message
        assert err.value.exit_code == 7
        assert path.exists()  # the failed attempt leaves the holder's lock alone
    assert not path.exists()


def test_lock_of_another_live_process_is_not_taken(tmp_path):
    path = tmp_path / "run.lock"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _write_lock(path, pid=sleeper.pid, token="sleeper")
        with pytest.raises(LockHeldError, match=f"pid {sleeper.pid}"):
            RunLock(path).acquire()
        assert json.loads(path.read_text())["token"] == "sleeper"
    finally:
        sleeper.kill()
        sleeper.wait()
    # now that it is dead the same lock is stale and taken over
    with RunLock(path) as lock:
        assert lock.took_over_from_ is not None
        assert lock.took_over_from_["pid"] == sleeper.pid


def test_stale_lock_of_a_dead_pid_is_taken_over_and_recorded(tmp_path):
    path = tmp_path / "run.lock"
    dead = _dead_pid()
    stale = _write_lock(path, pid=dead)
    with RunLock(path, description="after the crash") as lock:
        assert lock.took_over_from_ == stale
        info = json.loads(path.read_text(encoding="utf-8"))
        assert info["pid"] == os.getpid()
        assert info["description"] == "after the crash"
    assert not path.exists()


def test_reused_pid_is_not_mistaken_for_the_holder(tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    path = tmp_path / "run.lock"
    # our own (live) pid, but a process start time that is not ours: a reused pid
    _write_lock(path, proc_start=1)
    with RunLock(path) as lock:
        assert lock.took_over_from_ is not None


def test_lock_of_another_host_is_held(tmp_path):
    path = tmp_path / "run.lock"
    _write_lock(path, pid=_dead_pid(), hostname="some-other-host.invalid")
    with pytest.raises(LockHeldError, match="another host"):
        RunLock(path).acquire()


def test_unreadable_lock_is_held_while_fresh_and_stale_when_old(tmp_path):
    path = tmp_path / "run.lock"
    path.write_text("", encoding="utf-8")  # a process killed between create and write
    with pytest.raises(LockHeldError, match="being written"):
        RunLock(path).acquire()
    old = time.time() - 60
    os.utime(path, (old, old))
    with RunLock(path) as lock:
        assert lock.took_over_from_ == {"unreadable": True}


def test_no_content_files_are_left_and_old_ones_are_cleaned(tmp_path):
    path = tmp_path / "run.lock"
    leftover = tmp_path / ".run.lock.deadbeef.tmp"  # a writer killed before linking
    leftover.write_text("{}")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    with RunLock(path):
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock"]
    stale = _write_lock(path, pid=_dead_pid())
    with RunLock(path) as lock:
        assert lock.took_over_from_ == stale
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock.takeover"]


def test_without_hard_links_o_excl_is_used(tmp_path, monkeypatch):
    def no_links(src: object, dst: object) -> None:
        raise PermissionError("links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "run.lock"
    with RunLock(path, description="on a FAT disk"):
        assert json.loads(path.read_text())["description"] == "on a FAT disk"
        with pytest.raises(LockHeldError):
            RunLock(path).acquire()
    assert not path.exists()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    path = tmp_path / "run.lock"
    lock = RunLock(path).acquire()
    _write_lock(path, token="someone else")  # e.g. an operator replaced it
    lock.release()
    assert json.loads(path.read_text())["token"] == "someone else"


def test_lock_is_released_when_the_body_raises(tmp_path):
    path = tmp_path / "run.lock"
    with pytest.raises(RuntimeError), RunLock(path):
        raise RuntimeError("scoring failed")
    assert not path.exists()
    with RunLock(path):
        pass


def _racer(path: str, start: mp.Barrier, done: mp.Barrier, results: mp.Queue) -> None:
    lock = RunLock(path, description=f"racer {os.getpid()}")
    start.wait()
    try:
        lock.acquire()
    except LockHeldError:
        results.put(("lost", os.getpid(), None))
        done.wait()
        return
    stale = lock.took_over_from_["pid"] if lock.took_over_from_ else None
    results.put(("won", os.getpid(), stale))
    done.wait()  # hold the lock until every racer has tried
    lock.release()


def _race(path: Path, n: int) -> list[tuple[str, int, int | None]]:
    ctx = mp.get_context("fork")
    start, done, results = ctx.Barrier(n), ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(path), start, done, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in range(n)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return outcomes


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "stale"])
def test_race_of_processes_has_exactly_one_winner(tmp_path, stale):
    path = tmp_path / "run.lock"
    dead = _dead_pid()
    for _ in range(8):  # a lost race is rare per round: run several
        if stale:
            _write_lock(path, pid=dead)
        outcomes = _race(path, 6)
        winners = [o for o in outcomes if o[0] == "won"]
        assert len(winners) == 1, outcomes
        assert winners[0][2] == (dead if stale else None)
        assert not path.exists()

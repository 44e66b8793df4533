"""The run lock: one ``flock`` on the lock file, held for the whole run.

The kernel drops a ``flock`` when its process dies, so a killed run's lock is free at once.
The holder writes its pid, start time and command line into the file; a second run fails with
``LockHeldError`` naming them. Release removes the file, then unlocks; a newcomer that opened
it just before sees, once locked, that the path names another file, and opens it again. So
content found on taking the lock was left by a run that died: ``stale_holder_`` names it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from datetime import datetime
from pathlib import Path

from wijkradar.errors import LockHeldError


def _content(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()


def _names(fd: int, path: Path) -> bool:
    try:  # does ``path`` still name the open file ``fd``?
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False


class RunLock:
    """Holds ``path`` for one run; ``stale_holder_``: 'pid N since T (command)' or None."""

    def __init__(self, path: Path | str, description: str | None = None) -> None:
        self.path = Path(path)
        self.description = " ".join(sys.argv) if description is None else description
        self.stale_holder_: str | None = None
        self.fd_: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            while not _names(fd, self.path):  # removed by its last holder after we opened it
                os.close(fd)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.stale_holder_ = _content(fd) or None
            started = datetime.now().astimezone().isoformat(timespec="seconds")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} since {started} ({self.description})\n".encode(), 0)
        except BlockingIOError:
            holder = _content(fd) or "a run whose lock file is still empty or unreadable"
            os.close(fd)
            raise LockHeldError(
                f"Another run holds the lock {self.path}: held by {holder}. Wait for it to "
                f"finish; the lock of a run that dies is free at once."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self.fd_ = fd
        return self

    def release(self) -> None:
        if self.fd_ is not None:
            fd, self.fd_ = self.fd_, None
            try:
                self.path.unlink(missing_ok=True)  # while locked: see the module docstring
            finally:
                os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

"""A run lock that is safe from cron: one file, created atomically, naming its holder.

The lock file holds JSON: pid, hostname, start time, a description (the command line by
default) and a random token. It is created atomically and only if absent: the content is
written to a hidden file that is then hard-linked to the lock's name (``link`` fails when the
name exists, like ``O_CREAT | O_EXCL``, which is the fallback where links are unsupported), so
of several processes exactly one creates it and nobody ever reads it half-written, even when
its writer is killed mid-way. When the file exists:

* its holder is alive on this host -> ``LockHeldError`` naming pid, start time and description;
* its holder is dead (killed with SIGKILL, say, or the machine rebooted) -> the lock is stale
  and is taken over. Take-overs are serialised with ``flock`` on a guard file beside the lock
  (the kernel drops a ``flock`` when its process dies, so the guard itself never goes stale):
  under the guard the file is read again and, only if it is still the same stale file,
  replaced by ours with one ``rename``. The lock file never disappears during a take-over, so
  of several racers that all saw the same stale lock exactly one wins; the others find a live
  holder and fail. The guard file stays beside the lock (removing it would itself race).
* its holder is on another host (a shared disk) -> held: its pid cannot be checked from here.

A reused pid is not mistaken for the holder: on Linux the lock records the process's start
time (``/proc/<pid>/stat``) and the boot id, and a pid whose start time or boot differs is a
different process. Release removes the file only if it still holds our token.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from wijkradar.errors import LockHeldError

# A lock file that cannot be parsed is one being written (a window of microseconds) or one
# left by a process killed in that window. After this many seconds it counts as stale.
UNREADABLE_GRACE_S = 10.0
_ATTEMPTS = 5


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of ``pid`` from /proc, if available."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name in (...) may hold spaces
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def holder_alive(info: dict[str, Any]) -> bool:
    """Whether the process described by a lock file's ``info`` still runs on this host."""
    pid = int(info.get("pid", -1))
    if not _pid_exists(pid):
        return False
    boot = _boot_id()
    if info.get("boot_id") and boot and info["boot_id"] != boot:
        return False  # the pid is from before a reboot
    stat = _proc_stat(pid)
    if stat is not None:
        state, start = stat
        if state in ("Z", "X"):  # exited, not yet reaped
            return False
        if info.get("proc_start") is not None and int(info["proc_start"]) != start:
            return False  # the pid was reused by another process
    return True


def describe_holder(info: dict[str, Any]) -> str:
    """'pid 123 on host h, started 2024-...T03:00:00+0100 (wijkradar score)'."""
    what = info.get("description") or "no description"
    return (
        f"pid {info.get('pid')} on host {info.get('hostname')}, "
        f"started {info.get('started', 'at an unknown time')} ({what})"
    )


class RunLock:
    """Context manager holding ``path`` as the lock of one run.

    ``took_over_from_`` is the content of the stale lock that was replaced (else None);
    ``info_`` what this lock wrote.
    """

    def __init__(
        self,
        path: Path | str,
        description: str | None = None,
        unreadable_grace_s: float = UNREADABLE_GRACE_S,
    ) -> None:
        self.path = Path(path)
        self.description = " ".join(sys.argv) if description is None else description
        self.unreadable_grace_s = unreadable_grace_s
        self.info_: dict[str, Any] | None = None
        self.took_over_from_: dict[str, Any] | None = None

    @property
    def guard_path(self) -> Path:
        return self.path.with_name(self.path.name + ".takeover")

    @property
    def held(self) -> bool:
        return self.info_ is not None

    def _new_info(self) -> dict[str, Any]:
        stat = _proc_stat(os.getpid())
        now = time.time()
        return {
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
            "started_epoch": now,
            "description": self.description,
            "token": uuid.uuid4().hex,
            "boot_id": _boot_id(),
            "proc_start": stat[1] if stat else None,
        }

    def _write_tmp(self, info: dict[str, Any]) -> Path:
        """The complete lock content in a hidden file beside the lock."""
        tmp = self.path.with_name(f".{self.path.name}.{info['token']}.tmp")
        with open(tmp, "x", encoding="utf-8") as f:
            json.dump(info, f)
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def _create(self, info: dict[str, Any]) -> bool:
        """Create the lock file holding ``info``; False if it exists.

        The content is written first and linked into place (``link`` fails if the name
        exists, like ``O_EXCL``), so the lock is never seen half-written, even when the
        process is killed mid-way. Where hard links are not supported, ``O_EXCL``."""
        tmp = self._write_tmp(info)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        except OSError:
            return self._create_excl(info)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def _create_excl(self, info: dict[str, Any]) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(info, f)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            self.path.unlink(missing_ok=True)
            raise
        return True

    def _clean_tmp(self) -> None:
        """Remove content files left by processes killed between writing and linking."""
        cutoff = time.time() - max(self.unreadable_grace_s, 60.0)
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()

    def _read(self) -> tuple[dict[str, Any] | None, float] | None:
        """(content or None when unparseable, mtime); None when the file is gone."""
        try:
            with open(self.path, encoding="utf-8") as f:
                mtime = os.fstat(f.fileno()).st_mtime
                text = f.read()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None, mtime
        return (data if isinstance(data, dict) else None), mtime

    def _is_stale(self, content: dict[str, Any] | None, mtime: float) -> bool:
        if content is None:
            return time.time() - mtime > self.unreadable_grace_s
        if content.get("hostname") != socket.gethostname():
            return False
        return not holder_alive(content)

    def _held_error(self, content: dict[str, Any] | None) -> LockHeldError:
        if content is None:
            return LockHeldError(
                f"The lock {self.path} is being written by another process (it is not yet "
                f"readable). Try again in a moment."
            )
        other_host = content.get("hostname") != socket.gethostname()
        hint = (
            "It is on another host, so whether it still runs cannot be checked from here; "
            "if that run is gone, remove the lock file."
            if other_host
            else "Wait for it to finish; a lock left by a process that died is taken over "
            "automatically."
        )
        return LockHeldError(
            f"Another run holds the lock {self.path}: {describe_holder(content)}. {hint}"
        )

    def _take_over(self, seen: dict[str, Any] | None, seen_mtime: float) -> bool:
        """Under the guard, replace the lock by ours if it is still the stale one we saw."""
        fd = os.open(self.guard_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._read()
            if now is None:
                return False  # released meanwhile: try a plain create
            content, mtime = now
            if content != seen or mtime != seen_mtime:
                return False  # someone else took over (or wrote it) first
            # Replace in one rename: the lock file never disappears, so no plain create can
            # slip in, and a racer that read the stale content finds ours under the guard.
            info = self._new_info()
            tmp = self._write_tmp(info)
            try:
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
            self.info_ = info
            self.took_over_from_ = seen if seen is not None else {"unreadable": True}
            return True
        finally:
            os.close(fd)  # releases the flock

    def acquire(self) -> RunLock:
        if self.held:
            raise LockHeldError(f"This RunLock already holds {self.path}.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clean_tmp()
        for _ in range(_ATTEMPTS):
            info = self._new_info()
            if self._create(info):
                self.info_ = info
                return self
            seen = self._read()
            if seen is None:
                continue  # released between our create and read
            content, mtime = seen
            if not self._is_stale(content, mtime):
                raise self._held_error(content)
            if self._take_over(content, mtime):
                return self
        seen = self._read()
        raise self._held_error(seen[0] if seen else None)

    def release(self) -> None:
        """Remove the lock file if it is still ours (it is not, if someone removed it)."""
        if self.info_ is None:
            return
        token = self.info_["token"]
        self.info_ = None
        seen = self._read()
        if seen is not None and seen[0] is not None and seen[0].get("token") == token:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

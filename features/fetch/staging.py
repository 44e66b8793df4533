"""Staging: files are written into a hidden folder inside the output folder, then renamed.

A rename within one file system is atomic, so a reader of the output folder sees either the
old file or the new one, never a half-written file. The staging folder's name starts with a
dot: ``features.sources`` skips hidden entries of a source folder, so a staging folder left by
a killed process is never read as a source (it is removed by the next run into that folder).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from wijkradar.errors import ConfigError

STAGING_PREFIX = ".wijkradar-fetch-"


@dataclass
class Staging:
    """A staging folder; ``path(name)`` is where to write, ``commit()`` renames into place."""

    out: Path
    folder: Path
    staged: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        if name not in self.staged:
            self.staged.append(name)
        return self.folder / name

    def write_bytes(self, name: str, data: bytes) -> Path:
        target = self.path(name)
        with open(target, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return target

    def commit(self, names: list[str] | None = None) -> list[Path]:
        """Rename the staged files (all, or ``names``) into the output folder."""
        done = []
        for name in list(self.staged if names is None else names):
            os.replace(self.folder / name, self.out / name)
            self.staged.remove(name)
            done.append(self.out / name)
        return done


def _remove_stale(out: Path) -> None:
    """Staging folders of earlier runs that were killed (their process is gone)."""
    for entry in out.glob(f"{STAGING_PREFIX}*"):
        pid = entry.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def staging(out: Path) -> Iterator[Staging]:
    """A staging folder in ``out`` (created if missing); whatever was not committed when the
    block ends, normally or by an error, is removed with the folder."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"The output folder {out} cannot be created: {exc}.") from exc
    if not out.is_dir():
        raise ConfigError(f"The output {out} is not a folder.")
    _remove_stale(out)
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    try:
        yield Staging(out=out, folder=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def visible_files(out: Path) -> list[Path]:
    """The files a source folder shows to ``features.sources`` (no hidden entries)."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_file() and not p.name.startswith("."))

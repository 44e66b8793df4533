"""A full disk and a read-only workspace, made real with small tmpfs mounts (root only;
otherwise skipped with the reason): exit 10, a message naming the place, nothing partial."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from faultkit import YEAR, assert_classified, published_problems, wijkradar


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


pytestmark = pytest.mark.skipif(_can_mount() is not None, reason=str(_can_mount()))


@contextmanager
def tmpfs(where: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _visible(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_full_disk_while_publishing_is_a_storage_error_with_nothing_left(ws):
    shutil.rmtree(ws / "scores")
    with tmpfs(ws / "scores", "48k") as scores:
        proc = wijkradar("score", "--workspace", str(ws), "--as-of", str(YEAR))
        assert_classified(proc, 10, "StorageError", "No space left")
        assert [p for p in _visible(scores) if "staging" in p or "runs/" in p] == []
        assert published_problems(ws) == []


def test_a_full_disk_while_building_the_panel_is_a_storage_error(ws):
    shutil.rmtree(ws / "panel")
    with tmpfs(ws / "panel", "16k") as panel:
        proc = wijkradar("panel", "--workspace", str(ws))
        assert_classified(proc, 10, "StorageError", "No space left")
        assert not (panel / "panel.parquet").exists()


def test_a_read_only_workspace_is_a_storage_error(ws):
    shutil.rmtree(ws / "scores")
    with tmpfs(ws / "scores", "1m", read_only=True):
        proc = wijkradar("score", "--workspace", str(ws), "--as-of", str(YEAR))
        assert_classified(proc, 10, "StorageError", "No permission")

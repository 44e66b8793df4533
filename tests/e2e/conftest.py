"""Shared by the end-to-end modules: the CLI runner (``cli.run``) and one small generated
workspace with a trained champion, fresh and scored once by the single-process job."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cli import run  # the folder is put on the path just above

YEAR = 2022


@pytest.fixture(scope="session")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated workspace with a trained champion and nothing scored (copy it to change
    it)."""
    root = tmp_path_factory.mktemp("fresh") / "ws"
    run("generate", "--workspace", str(root), "--seed", "8", "--gemeenten", "30")
    run("train", "--workspace", str(root), "--as-of", str(YEAR))
    return root


@pytest.fixture(scope="session")
def single(fresh: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``fresh`` scored by the single-process job (the CLI as a scheduler runs it)."""
    root = tmp_path_factory.mktemp("single") / "ws"
    shutil.copytree(fresh, root)
    run("score", "--workspace", str(root), "--as-of", str(YEAR))
    return root

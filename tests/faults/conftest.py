"""Fault injection: a small generated workspace, trained and scored once per session with the
real CLI; every test corrupts its own copy and runs the real CLI against the fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from faultkit import YEAR, wijkradar


@pytest.fixture(scope="session")
def base_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "ws"
    wijkradar("generate", "--workspace", str(root), "--seed", "5", "--gemeenten", "20",
              check=True)
    wijkradar("train", "--workspace", str(root), "--as-of", str(YEAR), check=True)
    wijkradar("score", "--workspace", str(root), "--as-of", str(YEAR), check=True)
    return root


@pytest.fixture
def ws(base_ws: Path, tmp_path: Path) -> Path:
    """A copy of the base workspace, in a new place (``cp -r``)."""
    root = tmp_path / "ws"
    shutil.copytree(base_ws, root, symlinks=True)
    return root

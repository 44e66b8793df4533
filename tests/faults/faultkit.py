"""What the fault tests share: the real CLI and what they read back from a workspace.

In a module of its own, not in ``conftest.py``: a test module that imported ``conftest``
would get whichever ``conftest`` of the suite pytest loaded last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from wijkradar import catalog
from wijkradar.catalog import Workspace

EXE = str(Path(sys.executable).with_name("wijkradar"))
YEAR = 2022


def wijkradar(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "COLUMNS": "200"}
    env.pop("WIJKRADAR_DEBUG", None)
    proc = subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"wijkradar {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def published_problems(root: Path) -> list[str]:
    """Problems of every visible run folder, and any staging folder left behind."""
    ws = Workspace(root)
    problems = []
    for year in catalog.scored_years(ws):
        problems += [p for run in catalog.run_folders(ws, year) for p in catalog.run_problems(run)]
    problems += [f"left behind: {p}" for p in root.rglob("*.staging-*")]
    return problems


def assert_classified(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """The exit code, the words of the message (wherever the console wrapped its lines), and
    no traceback."""
    text = proc.stdout + proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode}, wanted {code}:\n{text}"
    assert "Traceback" not in text, text
    flat = " ".join(text.split())
    for word in words:
        assert " ".join(word.split()) in flat, f"{word!r} not in:\n{text}"


def json_records(stderr: str) -> list[dict[str, object]]:
    """Every stderr line as JSON (fails on a line that is not one object)."""
    records = []
    for line in stderr.splitlines():
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict), line
            records.append(record)
    return records


def latest_id(root: Path) -> str | None:
    run = catalog.latest_run(Workspace(root), YEAR)
    return run.run_id if run else None


def model_artifacts(root: Path) -> list[Path]:
    """The artifact folders of the training runs (``<run>/artifacts``)."""
    return sorted(p for p in (root / "mlflow" / "artifacts").glob("*/artifacts") if p.is_dir())

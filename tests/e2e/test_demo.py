"""`make demo`'s command: the whole main job on the NL-sized default, as a new user runs it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from cli import run


def test_demo_runs_the_whole_job_and_says_how_to_open_the_page(tmp_path: Path) -> None:
    ws = tmp_path / "workspace"
    proc = run("demo", "--workspace", str(ws))
    assert "Temporal validation" in proc.stdout
    assert "Hoogste kans op een daling" in proc.stdout
    assert "driver fidelity" in proc.stdout
    assert "wijkradar serve" in proc.stdout
    latest = (ws / "scores" / "2024" / "latest").read_text().strip()
    ranking = pd.read_parquet(ws / "scores" / "2024" / "runs" / latest / "ranking.parquet")
    assert 3000 <= len(ranking) <= 3700
    assert (ws / "report" / "index.html").stat().st_size > 100_000
    assert (ws / "boundaries" / "units.geojson").exists()

"""``wijkradar fetch`` on the command line, and ``wijkradar panel`` reading what it fetched.

The fetch commands run through ``fetch_app`` with typer's CliRunner; ``wijkradar panel`` runs
as a real subprocess (the installed executable). The subprocess test of ``wijkradar fetch cbs``
itself runs once ``cli.py`` registers the sub-app (``wijkradar fetch --help`` succeeds), and is
skipped before that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fetchserver import AMSTELVEEN, KWB_2024, FetchServer
from typer.testing import CliRunner

from features.fetch.http import FetchError
from wijkradar.app.fetch import fetch_app
from wijkradar.errors import ConfigError

EXE = str(Path(sys.executable).with_name("wijkradar"))
FAST = ["--timeout", "5", "--retries", "0"]


def _wijkradar(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "COLUMNS": "200"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300)


def _registered() -> bool:
    return _wijkradar("fetch", "--help").returncode == 0


def test_cli_fetch_cbs_then_unchanged(fetch_server: FetchServer, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["cbs", "--table", "85984NED", "--base-url", fetch_server.base, "--out",
            str(tmp_path), *FAST]
    first = runner.invoke(fetch_app, args)
    assert first.exit_code == 0, first.output
    assert "fetched, 3,736 records" in first.output and 'kind = "cbs_kwb_json"' in first.output
    again = runner.invoke(fetch_app, args)
    assert again.exit_code == 0 and "unchanged" in again.output


def test_cli_failure_exit_code_and_json_log(fetch_server: FetchServer, tmp_path: Path) -> None:
    fetch_server.state.fail[("85984NED", "TypedDataSet", 3)] = 500
    res = CliRunner().invoke(fetch_app, [
        "cbs", "--table", "85984NED", "--base-url", fetch_server.base, "--out", str(tmp_path),
        *FAST, "--log-format", "json",
    ])
    assert res.exit_code == FetchError.exit_code
    error = json.loads([line for line in res.output.splitlines() if '"error"' in line][-1])
    assert error["exit_code"] == FetchError.exit_code and error["error"] == FetchError.__name__
    assert "TypedDataSet page 3: HTTP 500" in error["message"]
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_year_lists_the_known_years(tmp_path: Path) -> None:
    res = CliRunner().invoke(fetch_app, ["kwb", "--years", "2010-2012", "--out", str(tmp_path)])
    assert res.exit_code == ConfigError.exit_code
    assert "Known years: 2014" in res.output


def test_panel_reads_what_fetch_kwb_and_fetch_leefbaarometer_wrote(
    fetch_server: FetchServer, tmp_path: Path, shared_real_dir: Path
) -> None:
    """From nothing to a panel: fetch kwb, fetch leefbaarometer, the two fragments as the
    config, and `wijkradar panel` (a real subprocess) reads it."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "lbm.zip", "w") as archive:
        archive.write(shared_real_dir / AMSTELVEEN, AMSTELVEEN.name)
    fetch_server.state.files["lbm.zip"] = ((tmp_path / "lbm.zip").read_bytes(), "application/zip")
    runner = CliRunner()
    kwb = runner.invoke(fetch_app, ["kwb", "--years", "2024", "--level", "wijk", "--base-url",
                                    fetch_server.base, "--out", str(tmp_path / "kwb"), *FAST])
    assert kwb.exit_code == 0, kwb.output
    lbm = runner.invoke(fetch_app, ["leefbaarometer", "--url", fetch_server.url("lbm.zip"),
                                    "--out", str(tmp_path / "lbm"), *FAST])
    assert lbm.exit_code == 0, lbm.output
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "wijkradar.toml").write_text(
        (tmp_path / "kwb" / "sources_kwb.toml").read_text(encoding="utf-8")
        + (tmp_path / "lbm" / "sources_leefbaarometer.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    proc = _wijkradar("panel", "--workspace", str(ws))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    panel = pd.read_parquet(ws / "panel" / "panel.parquet")
    shared = json.loads((shared_real_dir / KWB_2024).read_text(encoding="utf-8"))
    latest = panel[panel["as_of_year"] == 2024].set_index("unit_code")
    wijken = {c for c in shared if c.startswith("WK")}
    assert set(latest.index) == wijken  # every wijk of the national table: 3,393
    assert latest.loc["WK036201", "unit_name"] == "Randwijck"
    assert latest.loc["WK036201", "inhabitants"] == shared["WK036201"]["AantalInwoners_5"]
    assert set(panel.loc[panel["as_of_year"] < 2024, "unit_code"]) <= wijken
    assert panel.loc[panel["as_of_year"] == 2022, "unit_code"].str.startswith("WK0362").all()


def test_subprocess_fetch_cbs_writes_all_regions_and_panel_reads_it(
    fetch_server: FetchServer, tmp_path: Path, shared_real_dir: Path
) -> None:
    if not _registered():
        pytest.skip("cli.py does not register fetch_app yet (`wijkradar fetch --help` fails)")
    out = tmp_path / "cbs"
    proc = _wijkradar("fetch", "cbs", "--table", "85984NED", "--base-url", fetch_server.base,
                      "--out", str(out), *FAST)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("cbs_85984NED_2024.json")
    records = json.loads(path.read_text(encoding="utf-8"))["value"]
    codes = {r["Codering_3"].strip() for r in records} - {"NL01"}
    shared = json.loads((shared_real_dir / KWB_2024).read_text(encoding="utf-8"))
    assert codes == set(shared) and len(codes) == 3735
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "wijkradar.toml").write_text(
        f'[[source]]\nkind = "cbs_kwb_json"\npath = "{path}"\n\n'
        f'[[source]]\nkind = "lbm3_scores"\npath = "{shared_real_dir / AMSTELVEEN}"\n',
        encoding="utf-8",
    )
    proc = _wijkradar("panel", "--workspace", str(ws))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3,393 units" in proc.stdout

"""Each fault an operator meets, run through the real CLI: the exit code, the message, no
traceback, and what stays published (the previous run, whole)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from faultkit import (
    YEAR,
    assert_classified,
    json_records,
    latest_id,
    model_artifacts,
    published_problems,
    wijkradar,
)

from wijkradar import catalog
from wijkradar.catalog import Workspace


def _score(ws: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return wijkradar("score", "--workspace", str(ws), "--as-of", str(YEAR), *extra)


def _new_model(ws: Path) -> None:
    """A second model version, so that scoring has something new to publish."""
    wijkradar("train", "--workspace", str(ws), "--as-of", str(YEAR), check=True)
    wijkradar("models", "promote", "2", "--workspace", str(ws), check=True)


def test_a_damaged_model_store_is_a_store_error_naming_the_file(ws):
    before = latest_id(ws)
    db = ws / "mlflow" / "mlflow.db"
    data = bytearray(db.read_bytes())
    data[0:16] = b"not a database!!"
    db.write_bytes(bytes(data))
    proc = _score(ws, "--model", "models:/wijkradar/1")
    assert_classified(proc, 9, "mlflow.db", "StoreError")
    assert latest_id(ws) == before and published_problems(ws) == []


def test_a_malformed_page_inside_the_store_is_a_store_error(ws):
    db = ws / "mlflow" / "mlflow.db"
    size = db.stat().st_size
    with db.open("r+b") as f:  # a page in the middle: "database disk image is malformed"
        f.seek(size // 2)
        f.write(os.urandom(4096))
    proc = wijkradar("models", "list", "--workspace", str(ws))
    assert_classified(proc, 9, "mlflow.db")


def test_missing_model_artifacts_are_a_store_error_and_the_previous_run_stays(ws):
    before = latest_id(ws)
    _new_model(ws)
    newest = max(model_artifacts(ws), key=lambda p: p.stat().st_mtime)
    for child in (newest / "model").rglob("*"):
        if child.is_file():
            child.unlink()
    proc = _score(ws)
    assert_classified(proc, 9, "StoreError", "cannot be read")
    assert latest_id(ws) == before and published_problems(ws) == []


def _remove_profiles(ws: Path) -> None:
    for profile in (ws / "mlflow" / "artifacts").rglob("training_profile.json"):
        profile.unlink()


def _damage_newest_profile(ws: Path) -> None:
    newest = max((ws / "mlflow" / "artifacts").rglob("training_profile.json"),
                 key=lambda p: p.stat().st_mtime)
    newest.write_text('{"features": {"lbm": {"edges": [1.0], "shares": [1.0, 0.0]}}}')


@pytest.mark.parametrize(("damage", "refusal", "warning", "state"), [
    (_remove_profiles, ["cannot be read from"], "no drift profile", "missing"),
    (_damage_newest_profile, ["is damaged", "feature 'lbm'", '"missing" must be a number'],
     "a damaged drift profile (feature 'lbm'", "damaged"),
])
def test_a_missing_or_damaged_drift_profile_fails_unless_allowed_and_the_manifest_says_so(
    ws, damage, refusal, warning, state
):
    before = latest_id(ws)
    _new_model(ws)
    damage(ws)
    refused = _score(ws)
    assert_classified(refused, 9, "drift profile", *refusal, "--allow-missing-profile")
    assert latest_id(ws) == before
    allowed = _score(ws, "--allow-missing-profile")
    assert_classified(allowed, 0, warning)
    run = catalog.latest_run(Workspace(ws), YEAR)
    assert run is not None and run.run_id != before
    assert catalog.read_manifest(run).drift_profile == f"{state} (allowed)"
    assert published_problems(ws) == []


@pytest.mark.parametrize("fraction", [0.1, 0.35, 0.6, 0.85])
def test_panel_bytes_overwritten_are_detected_and_the_panel_rebuilt(ws, fraction):
    clean = catalog.read_parquet(catalog.latest_run(Workspace(ws), YEAR).ranking)
    panel = ws / "panel" / "panel.parquet"
    size = panel.stat().st_size
    with panel.open("r+b") as f:
        f.seek(int(size * fraction))
        f.write(b"\xde\xad\xbe\xef\xde\xad\xbe\xef")
    # Nothing new to score: the answer comes from the panel's meta; the panel is not needed.
    idle = _score(ws, "--model", "models:/wijkradar/1")
    assert_classified(idle, 0, "nothing new")
    assert "damaged" not in idle.stdout + idle.stderr
    # A replay is a new run: it needs the panel, finds the damage and rebuilds it.
    proc = _score(ws, "--model", "models:/wijkradar/1", "--known-at", "2099-01-01")
    assert_classified(proc, 0, "damaged", "rebuilt")
    run = catalog.latest_run(Workspace(ws), YEAR)
    replay = catalog.read_parquet(run.ranking)
    pd.testing.assert_frame_equal(replay[["unit_code", "risk", "rank"]],
                                  clean[["unit_code", "risk", "rank"]])
    assert catalog.read_manifest(run).panel_hash == catalog.sha256(panel)


def test_a_truncated_panel_is_detected_and_rebuilt(ws):
    panel = ws / "panel" / "panel.parquet"
    panel.write_bytes(panel.read_bytes()[: panel.stat().st_size // 3])
    proc = wijkradar("train", "--workspace", str(ws), "--as-of", str(YEAR))
    assert_classified(proc, 0, "damaged", "rebuilt")


def test_a_level_the_sources_lack_is_a_config_error_naming_the_levels(ws):
    config = ws / "wijkradar.toml"
    text = config.read_text()
    assert '[panel]\nlevel = "wijk"' in text
    config.write_text(text.replace('[panel]\nlevel = "wijk"', '[panel]\nlevel = "buurt"'))
    proc = wijkradar("panel", "--workspace", str(ws), "--force")
    assert_classified(proc, 2, "buurt", "wijk")


def test_json_logs_are_one_object_per_line_even_on_failure(ws):
    (ws / "mlflow" / "mlflow.db").write_bytes(b"\0" * 4096)
    proc = wijkradar("--log-format", "json", "score", "--workspace", str(ws))
    assert proc.returncode == 9
    records = json_records(proc.stderr)
    assert records[-1]["level"] == "error" and records[-1]["exit_code"] == 9


def test_an_unexpected_error_is_one_line_with_the_traceback_only_under_debug(ws):
    run = catalog.latest_run(Workspace(ws), YEAR)
    run.ranking.write_bytes(b"PAR1 garbage")  # the previous ranking: not ours to classify
    _new_model(ws)
    plain = _score(ws)
    assert plain.returncode == 1 and "internal error" in plain.stderr
    assert "please report" in plain.stderr and "Traceback" not in plain.stderr
    debug = wijkradar("--debug", "score", "--workspace", str(ws), "--as-of", str(YEAR))
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    logged = wijkradar("--log-format", "json", "score", "--workspace", str(ws), "--as-of",
                       str(YEAR))
    record = json_records(logged.stderr)[-1]
    assert record["exit_code"] == 1 and "Traceback" in str(record["exc_info"])


def test_a_usage_error_is_one_json_object_too(ws):
    proc = wijkradar("--log-format", "json", "score", "--workspace", str(ws), "--no-such-flag")
    records = json_records(proc.stderr)
    assert proc.returncode == 2 and len(records) == 1
    assert "--no-such-flag" in str(records[0]["message"])


def test_a_staging_folder_of_a_killed_publish_is_removed_by_the_next_run(ws):
    final = Workspace(ws).run_dir(YEAR, "0123456789abcdef").path
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from wijkradar import catalog\n"
        "with catalog.staged_dir(Path(sys.argv[1])) as tmp:\n"
        "    (tmp / 'ranking.parquet').write_bytes(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(final)], capture_output=True)
    assert killed.returncode == -9
    assert [p for p in published_problems(ws) if p.startswith("left behind")], "no leftover"
    proc = _score(ws)  # nothing new to score: it still clears what a killed run left
    assert_classified(proc, 0, "nothing new", "left by a run that was killed")
    assert published_problems(ws) == []
    assert not final.exists()

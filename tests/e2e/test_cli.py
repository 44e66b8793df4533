"""End to end on a small generated panel: generate -> panel -> train -> score -> report."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli import EXE, run

from ml.truthcheck import compare
from serving.ranking import RANKING_ID_COLUMNS
from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "ws"
    run("generate", "--workspace", str(root), "--seed", "21", "--gemeenten", "120")
    run("panel", "--workspace", str(root))
    run("train", "--workspace", str(root), "--as-of", "2022")
    run("score", "--workspace", str(root), "--as-of", "2022")
    run("report", "--workspace", str(root), "--as-of", "2022")
    return root


def _published(ws: Path, year: int) -> RunFolder:
    run = catalog.latest_run(Workspace(ws), year)
    assert run is not None, f"no published run of {year}"
    return run


def test_generate_writes_sources_truth_and_config(ws):
    assert len(list((ws / "sources" / "cbs").glob("kwb-*.csv"))) == 23
    assert (ws / "sources" / "leefbarometer" / "lbm3_scores_wijk.csv").exists()
    assert (ws / "sources" / "investment" / "investment.csv").exists()
    assert (ws / "truth" / "truth.parquet").exists()
    assert (ws / "wijkradar.toml").exists()
    assert (ws / "mlflow" / "mlflow.db").exists()


def test_ranking_contract_and_additivity(ws):
    run_dir = _published(ws, 2022)
    ranking = pd.read_parquet(run_dir.ranking)
    manifest = json.loads(run_dir.manifest.read_text())
    assert list(ranking.columns[: len(RANKING_ID_COLUMNS)]) == list(RANKING_ID_COLUMNS)
    shap_cols = [c for c in ranking.columns if c.startswith("shap__") and c != "shap__base"]
    assert [c[len("shap__") :] for c in shap_cols] == manifest["features"]
    total = ranking["shap__base"] + ranking[shap_cols].sum(axis=1)
    assert np.max(np.abs(total - ranking["margin"])) <= 1e-6
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))
    assert ranking["risk"].is_monotonic_decreasing
    assert (ranking.groupby("gemeente_code")["rank_in_gemeente"].min() == 1).all()
    assert ranking["top_drivers"].str.len().gt(0).mean() > 0.95
    assert manifest["row_count"] == len(ranking) == ranking["unit_code"].nunique()
    assert {"model_name", "model_version", "model_run_id", "panel_fingerprint", "created"} <= set(
        manifest
    )
    csv = pd.read_csv(run_dir.ranking_csv)
    assert csv["unit_code"].tolist() == ranking["unit_code"].tolist()


def test_lightgbm_beats_the_baselines_and_comes_near_the_truth(ws):
    evaluation = next((ws / "mlflow" / "artifacts").rglob("evaluation/evaluation.csv"))
    ev = pd.read_csv(evaluation)
    last = ev[ev["test_year"] == ev["test_year"].max()].set_index("model")
    assert last.loc["lightgbm", "pr_auc"] > last.loc["last_change", "pr_auc"]
    assert last.loc["lightgbm", "roc_auc"] > last.loc["last_change", "roc_auc"]
    ranking = pd.read_parquet(_published(ws, 2022).ranking)
    result = compare(ranking, pd.read_parquet(ws / "truth" / "truth.parquet"))
    # A small panel (about 1,200 wijken): a looser bar than the NL-sized test.
    assert result["normalized_auc"] >= 0.8, result


def test_rescoring_the_same_inputs_publishes_nothing_new(ws):
    before = _published(ws, 2022)
    proc = run("score", "--workspace", str(ws), "--as-of", "2022")
    assert "nothing new" in proc.stdout
    assert _published(ws, 2022) == before
    assert len(list(Workspace(ws).runs_dir(2022).iterdir())) == 1


def test_report_is_one_self_contained_file(ws):
    html = (ws / "report" / "index.html").read_text()
    assert "<script src=" not in html and "<link " not in html
    assert 'id="ranking-table"' in html and 'id="pr-plot"' in html and 'id="shap-summary"' in html


def test_exit_codes_name_the_failure(ws, tmp_path):
    no_rows = run("score", "--workspace", str(ws), "--as-of", "1999", check=False)
    assert no_rows.returncode == 6 and "no rows for as-of year 1999" in no_rows.stderr
    missing = run("score", "--workspace", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 2 and "No config file" in missing.stderr
    no_model = tmp_path / "fresh"
    run("generate", "--workspace", str(no_model), "--gemeenten", "8")
    proc = run("score", "--workspace", str(no_model), check=False)
    assert proc.returncode == 4 and "No approved model" in proc.stderr
    assert not (no_model / "scores").exists()


def test_bad_input_fails_with_file_column_row_and_publishes_nothing(ws, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(ws, broken, ignore=shutil.ignore_patterns("scores", "panel"))
    cbs = broken / "sources" / "cbs" / "kwb-2022.csv"
    lines = cbs.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[3].split(";")
    cells[6] = '"   abc"'
    lines[3] = ";".join(cells)
    cbs.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    proc = run("score", "--workspace", str(broken), "--as-of", "2022", check=False)
    assert proc.returncode == 3
    assert "kwb-2022.csv" in proc.stderr and "row 4" in proc.stderr and "'abc'" in proc.stderr
    assert not (broken / "scores").exists() and not (broken / "panel").exists()


def test_outputs_per_gemeente_match_the_national_ranking(ws):
    import openpyxl

    run_dir = _published(ws, 2022)
    ranking = pd.read_parquet(run_dir.ranking)
    manifest = json.loads(run_dir.manifest.read_text())
    gm = ranking["gemeente_code"].value_counts().index[0]  # the gemeente with most units
    book = openpyxl.load_workbook(run_dir.gemeenten / f"{gm}.xlsx", read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    codes = [r[header.index("Wijkcode")] for r in body]
    national = ranking[ranking["gemeente_code"] == gm]
    assert codes == national["unit_code"].tolist()
    risk_col = next(i for i, h in enumerate(header) if str(h).startswith("Risico"))
    np.testing.assert_allclose([r[risk_col] for r in body], national["risk"], rtol=1e-9)
    assert set(manifest["files"]) >= {
        "ranking.parquet", "ranking.csv", "explanations.parquet", "drift.json",
        f"gemeenten/{gm}.csv", f"gemeenten/{gm}.xlsx",
    }
    explanations = pd.read_parquet(run_dir.explanations)
    first = ranking.iloc[0]
    mine = explanations[explanations["unit_code"] == first["unit_code"]].set_index("feature")
    assert mine["contribution"].sum() + first["shap__base"] == pytest.approx(first["margin"])
    drift = json.loads(run_dir.drift.read_text())["features"]
    assert {d["feature"] for d in drift} == set(manifest["features"])
    assert {"rank_change", "new_in_top10", "missing_share", "flag_missing"} <= set(ranking)


def test_json_logs_and_one_gemeente(ws):
    ranking = pd.read_parquet(_published(ws, 2022).ranking)
    gm = ranking["gemeente_code"].iloc[0]
    proc = run("score", "--workspace", str(ws), "--as-of", "2022", "--gemeente", gm,
               "--log-format", "json")
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "step", "message"} <= set(r) for r in records)
    assert records[-1]["published"] is True
    files = sorted(p.name for p in _published(ws, 2022).gemeenten.iterdir())
    assert files == [f"{gm}.csv", f"{gm}.xlsx"]


def test_a_model_that_does_not_fit_the_panel_is_refused_with_exit_code_5(ws, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(ws, other, ignore=shutil.ignore_patterns("scores", "panel"))
    config = other / "wijkradar.toml"
    config.write_text(config.read_text().replace("change_lags = [1, 3]", "change_lags = [1]"))
    proc = run("score", "--workspace", str(other), "--as-of", "2022", check=False)
    assert proc.returncode == 5, proc.stderr
    assert "the panel lacks feature" in proc.stderr and "_chg3" in proc.stderr
    assert not (other / "scores").exists()


def test_known_at_replays_the_past_and_the_manifest_says_what_was_known(ws):
    """``score --known-at 2021-03-01`` scores the newest as-of year whose knowledge date is on
    or before that day (the newest year when the panel has no calendar) and its manifest
    records that knowledge date and the sources' reference years and dates. Last in this
    module: it publishes a run of its own."""
    meta = catalog.read_panel_meta(Workspace(ws))
    day = "2021-03-01"
    known = [n for n in meta.knowledge if n.knowledge_date <= day]
    proc = run("score", "--workspace", str(ws), "--known-at", day, check=False)
    if meta.knowledge and not known:
        assert proc.returncode == 6 and "No as-of year" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    note = max(known, key=lambda n: n.as_of_year) if known else None
    year = note.as_of_year if note else max(meta.as_of_years)
    manifest = catalog.read_manifest(_published(ws, year))
    assert manifest.as_of_year == year
    assert manifest.knowledge_date == (note.knowledge_date if note else None)
    assert manifest.sources == (note.sources if note else ())
    again = run("score", "--workspace", str(ws), "--known-at", day)
    assert "nothing new" in again.stdout
    bad = run("score", "--workspace", str(ws), "--known-at", "1 maart 2021", check=False)
    assert bad.returncode == 2 and "--known-at" in bad.stderr


def test_model_commands_fail_with_classified_errors_and_change_nothing(ws, tmp_path):
    fresh = tmp_path / "fresh"
    run("generate", "--workspace", str(fresh), "--gemeenten", "8")
    for args in (("models", "list"), ("models", "promote", "1"), ("models", "rollback")):
        proc = run(*args, "--workspace", str(fresh), check=False)
        assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
    unknown = run("models", "promote", "99", "--workspace", str(ws), check=False)
    assert unknown.returncode == 4 and "no version '99'" in unknown.stderr
    report = ws / "report" / "evaluation.html"
    run("evaluate", "--workspace", str(ws))
    before = report.read_bytes()
    missing = run("evaluate", "--workspace", str(ws), "--run", "deadbeef", check=False)
    assert missing.returncode == 4 and "No run 'deadbeef'" in missing.stderr
    assert report.read_bytes() == before
    versions = run("models", "list", "--workspace", str(ws)).stdout
    beyond = run("train", "--workspace", str(ws), "--as-of", "2030", check=False)
    assert beyond.returncode == 6 and "2030" in beyond.stderr
    assert run("models", "list", "--workspace", str(ws)).stdout == versions


def test_messages_keep_brackets_and_tables_fit_80_columns(ws, tmp_path):
    text = (ws / "wijkradar.toml").read_text()
    section = next(s for s in ("model", "scoring", "validation") if f"[{s}]" not in text)
    config = ws / "typo.toml"
    config.write_text(text + f"\n[{section}]\nnum_leavs = 8\n")
    proc = run("panel", "--workspace", str(ws), "--config", str(config), check=False)
    config.unlink()
    assert proc.returncode == 2 and f"in [{section}] of" in proc.stderr
    env = {**os.environ, "COLUMNS": "80", "OMP_WAIT_POLICY": "PASSIVE"}
    listed = subprocess.run([EXE, "models", "list", "--workspace", str(ws)],
                            capture_output=True, text=True, env=env, check=True)
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    assert "version" in listed.stdout and "decision" in listed.stdout

"""``[exports] when = "on_demand"``: a run writes only what the page, the API and the report
read; ``wijkradar export`` then writes the analysts' files, the same as a run with
``when = "run"`` (the default) holds them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from cli import run

from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace

YEAR = 2022


def _latest(root: Path) -> RunFolder:
    run_folder = catalog.latest_run(Workspace(root), YEAR)
    assert run_folder is not None, f"nothing published for {YEAR} in {root}"
    return run_folder


def _on_demand(fresh: Path, root: Path) -> Path:
    shutil.copytree(fresh, root)
    config = root / "wijkradar.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[exports]\nwhen = "on_demand"\n',
                      encoding="utf-8")
    return root


def test_a_run_on_demand_writes_its_exports_only_when_asked(fresh, single, tmp_path):
    root = _on_demand(fresh, tmp_path / "ws")
    run("score", "--workspace", str(root), "--as-of", str(YEAR))
    lean, full = _latest(root), _latest(single)
    assert lean.run_id == full.run_id  # the same inputs, model and method: the same run
    assert catalog.run_problems(lean) == []
    assert sorted(p.name for p in lean.path.iterdir()) == [
        "drift.json", "manifest.json", "ranking.parquet"
    ]
    assert catalog.read_manifest(lean).exports == "on_demand"
    assert catalog.read_manifest(full).exports == "run"
    pd.testing.assert_frame_equal(catalog.read_parquet(lean.ranking),
                                  catalog.read_parquet(full.ranking))

    said = run("export", "--workspace", str(root), "--log-format", "json")
    done = json.loads(said.stderr.strip().splitlines()[-1])
    made = Workspace(root).export_dir(YEAR, lean.run_id)
    assert done["written"] is True and done["export_dir"] == str(made.path)
    # The same files as the run that wrote them itself: CSV bytes, Parquet frames, Excel cells.
    assert made.ranking_csv.read_bytes() == full.ranking_csv.read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(made.explanations),
                                  pd.read_parquet(full.explanations))
    names = sorted(p.name for p in full.gemeenten.iterdir())
    assert sorted(p.name for p in made.gemeenten.iterdir()) == names and names
    for name in names:
        ours, theirs = made.gemeenten / name, full.gemeenten / name
        if name.endswith(".csv"):
            assert ours.read_bytes() == theirs.read_bytes(), name
        else:
            a, b = pd.read_excel(ours, sheet_name=None), pd.read_excel(theirs, sheet_name=None)
            assert list(a) == list(b) and len(a) == 2, name  # the table and "Toelichting"
            for sheet in a:
                pd.testing.assert_frame_equal(a[sheet], b[sheet])
    record = json.loads((made.path / "exports.json").read_text(encoding="utf-8"))
    assert record["run_id"] == lean.run_id
    assert record["files"] == {k: v for k, v in catalog.file_digests(made.path).items()
                               if k != "exports.json"}

    again = run("export", "--workspace", str(root))
    assert "already exported" in again.stdout + again.stderr
    assert not list(made.path.parent.glob("*.staging-*"))


def test_export_without_a_run_or_after_the_panel_changed_is_refused(fresh, tmp_path):
    root = _on_demand(fresh, tmp_path / "ws")
    nothing = run("export", "--workspace", str(root), check=False)
    assert nothing.returncode == 6 and "wijkradar score" in nothing.stdout + nothing.stderr
    run("score", "--workspace", str(root), "--as-of", str(YEAR))
    manifest = catalog.read_manifest(_latest(root))
    meta = root / "panel" / "panel.json"
    changed = json.loads(meta.read_text(encoding="utf-8"))
    assert changed["content_hash"] == manifest.panel_hash
    # A panel rebuilt since the run (here: another panel under the same fingerprint).
    panel = pd.read_parquet(root / "panel" / "panel.parquet")
    panel.loc[panel.index[0], "lbm"] = panel["lbm"].iloc[0] + 1.0
    panel.to_parquet(root / "panel" / "panel.parquet", index=False)
    changed["content_hash"] = catalog.sha256(root / "panel" / "panel.parquet")
    meta.write_text(json.dumps(changed), encoding="utf-8")
    refused = run("export", "--workspace", str(root), check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode == 3, text
    assert "panel changed since run" in text and "Traceback" not in text
    assert not (root / "exports").exists() or not any((root / "exports").rglob("*.csv"))

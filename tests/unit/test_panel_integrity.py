"""Issue 13, item 2: integrity before use. ``ensure_panel`` records the SHA-256 of the panel
file it writes and checks a kept panel against it; a mismatch (bytes overwritten at any
offset), a truncated panel or an unreadable meta is an ``InputError`` saying the panel is
damaged and will be rebuilt, and the rebuild gives the panel the sources make. A failing
rebuild names the damage and its own error, chained."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from features.build import ensure_panel, panel_fingerprint, rebuild
from features.panelfile import damaged
from features.sources import fingerprint_files, source_files
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import load_config
from wijkradar.errors import InputError

UNITS = ("WK036300", "WK036301", "WK036302")


def write_workspace(root: Path) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    header = '"Perioden";"Regiocode (gemeente, wijk, buurt) (code)";' \
             '"Bevolking/Aantal inwoners (aantal)"'
    rows = [f'"{y}";"{c}";"{1000 + 7 * i + y % 5}"'
            for y in range(2014, 2019) for i, c in enumerate(UNITS)]
    (root / "kwb.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    lbm = ["wk_code,jaar,lbm,onv"] + [
        f"{c},{y},{4 + 0.03 * i - 0.01 * (y - 2014):.3f},{0.01 * i:.2f}"
        for y in (2014, 2016, 2018) for i, c in enumerate(UNITS)
    ]
    (root / "lbm.csv").write_text("\n".join(lbm) + "\n", encoding="utf-8")
    (root / "wijkradar.toml").write_text(
        '[[source]]\nkind = "cbs_kwb_csv"\npath = "kwb.csv"\n\n'
        '[[source]]\nkind = "lbm3_scores"\npath = "lbm.csv"\n\n[panel]\nlevel = "wijk"\n',
        encoding="utf-8",
    )
    return Workspace(root)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, pd.DataFrame, bytes]:
    ws = write_workspace(tmp_path_factory.mktemp("clean"))
    panel, meta = ensure_panel(ws, load_config(ws.config))
    data = ws.panel.read_bytes()
    assert meta.content_hash == hashlib.sha256(data).hexdigest()
    assert catalog.read_panel_meta(ws).content_hash == meta.content_hash
    return ws, panel, data


def copy_of(clean: tuple[Workspace, pd.DataFrame, bytes], root: Path) -> Workspace:
    shutil.copytree(clean[0].root, root)
    return Workspace(root)


def test_an_intact_panel_is_used_with_the_hash_it_was_checked_against(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    said: list[str] = []
    panel, meta = ensure_panel(ws, load_config(ws.config), progress=said.append)
    assert said == []  # no rebuild, nothing to say
    pd.testing.assert_frame_equal(panel, clean[1])
    assert meta.content_hash == hashlib.sha256(ws.panel.read_bytes()).hexdigest()


@pytest.mark.parametrize("where", [0.1, 0.35, 0.6, 0.9, -9])
def test_overwritten_bytes_are_damage_and_the_panel_is_rebuilt(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path, where: float
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    data = bytearray(clean[2])
    offset = int(len(data) * where) if where > 0 else len(data) + int(where)
    data[offset:offset + 8] = bytes(b ^ 0x5A for b in data[offset:offset + 8])
    ws.panel.write_bytes(bytes(data))
    said: list[str] = []
    panel, meta = ensure_panel(ws, load_config(ws.config), progress=said.append)
    damage = [s for s in said if "damaged" in s]
    assert len(damage) == 1, said
    assert str(ws.panel) in damage[0] and "rebuilt from the sources" in damage[0]
    assert hashlib.sha256(bytes(data)).hexdigest() in damage[0]
    pd.testing.assert_frame_equal(panel, clean[1])
    assert meta.content_hash == hashlib.sha256(ws.panel.read_bytes()).hexdigest()


def test_a_truncated_panel_is_damage_and_the_panel_is_rebuilt(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    ws.panel.write_bytes(clean[2][: len(clean[2]) // 2])
    said: list[str] = []
    panel, _ = ensure_panel(ws, load_config(ws.config), progress=said.append)
    assert any("the panel is damaged" in s for s in said), said
    pd.testing.assert_frame_equal(panel, clean[1])


def test_an_unreadable_meta_is_damage_and_the_panel_is_rebuilt(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    ws.panel_meta.write_text('{"fingerprint": "abc", ', encoding="utf-8")
    said: list[str] = []
    panel, meta = ensure_panel(ws, load_config(ws.config), progress=said.append)
    assert any(str(ws.panel_meta) in s and "cannot be read" in s for s in said), said
    pd.testing.assert_frame_equal(panel, clean[1])
    assert catalog.read_panel_meta(ws).content_hash == meta.content_hash


def test_a_meta_without_a_hash_is_not_trusted(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    from dataclasses import replace

    catalog.write_panel_meta(ws, replace(catalog.read_panel_meta(ws), content_hash=""))
    said: list[str] = []
    _, meta = ensure_panel(ws, load_config(ws.config), progress=said.append)
    assert any("no content hash" in s for s in said), said
    assert meta.content_hash == hashlib.sha256(ws.panel.read_bytes()).hexdigest()


def test_a_failing_rebuild_names_the_damage_and_its_own_error(
    clean: tuple[Workspace, pd.DataFrame, bytes], tmp_path: Path
) -> None:
    ws = copy_of(clean, tmp_path / "w")
    before = ws.panel.read_bytes()
    (ws.root / "kwb.csv").write_text(
        (ws.root / "kwb.csv").read_text(encoding="utf-8").replace('"1007"', '"veel"', 1),
        encoding="utf-8",
    )
    cfg = load_config(ws.config)
    fingerprint = panel_fingerprint(cfg, fingerprint_files(source_files(cfg)))
    damage = damaged(ws.panel, "its SHA-256 differs")
    said: list[str] = []
    with pytest.raises(InputError) as err:
        rebuild(ws, cfg, fingerprint, said.append, damage)
    message = str(err.value)
    assert "the panel is damaged" in message and "Rebuilding it failed" in message
    assert "'veel'" in message and str(ws.root / "kwb.csv") in message
    assert isinstance(err.value.__cause__, InputError) and err.value.__context__ is damage
    assert err.value.__cause__.column == "Bevolking/Aantal inwoners (aantal)"
    assert ws.panel.read_bytes() == before  # nothing written by the failed rebuild
    assert said and "damaged" in said[0]

"""``fetch_leefbaarometer``: zip archives built from the shared Amstelveen Leefbaarometer file,
served by the local server (tests/fetch/fetchserver.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fetchserver import AMSTELVEEN, FetchServer

from features.fetch.http import FetchError, HttpOptions
from features.fetch.leefbaarometer import FRAGMENT_NAME, STATE_NAME, fetch_leefbaarometer
from features.fetch.staging import visible_files
from features.readers import parse_lbm3_scores
from wijkradar.config import load_config
from wijkradar.errors import ConfigError, InputError

FAST = HttpOptions(timeout=5.0, retries=0, backoff=0.0)
ZIP = "application/zip"
NAME = AMSTELVEEN.name


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def amstelveen(shared_real_dir: Path) -> bytes:
    return (shared_real_dir / AMSTELVEEN).read_bytes()


def test_zip_is_checked_kept_and_described(
    fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes
) -> None:
    fetch_server.state.files["lbm3-wijken.zip"] = (_zip({
        f"Leefbaarometer 3.0/{NAME}": amstelveen, "Leefbaarometer 3.0/toelichting.txt": b"info",
    }), ZIP)
    res = fetch_leefbaarometer(fetch_server.url("lbm3-wijken.zip"), tmp_path, options=FAST)
    assert res.fetched and [p.name for p in res.paths] == [NAME]
    assert (tmp_path / NAME).read_bytes() == amstelveen  # byte for byte
    expected = parse_lbm3_scores(amstelveen.decode("utf-8"), NAME)
    (file,) = res.files
    assert (file.rows, file.units, file.level) == (len(expected), 14, "wijk") == (56, 14, "wijk")
    assert file.years == (2014, 2018, 2020, 2022)
    assert [p.name for p in visible_files(tmp_path)] == [NAME, FRAGMENT_NAME]
    (tmp_path / "wijkradar.toml").write_text(res.fragment.read_text(encoding="utf-8"))
    cfg = load_config(tmp_path / "wijkradar.toml")
    assert [(s.kind, s.path) for s in cfg.sources] == [("lbm3_scores", tmp_path / NAME)]


def test_a_plain_csv_download(fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes) -> None:
    fetch_server.state.files[NAME] = (amstelveen, "text/csv")
    res = fetch_leefbaarometer(fetch_server.url(NAME), tmp_path, options=FAST)
    assert [p.name for p in res.paths] == [NAME] and res.files[0].rows == 56


def test_unchanged_download_is_not_kept_again(
    fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes
) -> None:
    fetch_server.state.files["lbm.zip"] = (_zip({NAME: amstelveen}), ZIP)
    first = fetch_leefbaarometer(fetch_server.url("lbm.zip"), tmp_path, options=FAST)
    mtime = first.paths[0].stat().st_mtime_ns
    again = fetch_leefbaarometer(fetch_server.url("lbm.zip"), tmp_path, options=FAST)
    assert not again.fetched and again.files == first.files
    assert fetch_server.state.log[-1][1].get("if-none-match")  # answered 304
    assert first.paths[0].stat().st_mtime_ns == mtime
    assert (tmp_path / STATE_NAME).is_file()


@pytest.mark.parametrize("damage", ["truncated", "crc"])
def test_a_corrupt_zip_is_rejected_and_nothing_is_kept(
    fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes, damage: str
) -> None:
    data = bytearray(_zip({NAME: amstelveen}))
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:  # flip bytes inside the compressed member: the archive opens, its CRC fails
        start = 30 + len(NAME) + 20
        data[start:start + 8] = bytes(b ^ 0xFF for b in data[start:start + 8])
    fetch_server.state.files["broken.zip"] = (bytes(data), ZIP)
    with pytest.raises(InputError) as err:
        fetch_leefbaarometer(fetch_server.url("broken.zip"), tmp_path, options=FAST)
    assert "broken.zip" in str(err.value) and "nothing was kept" in str(err.value)
    expected = "not a readable zip" if damage == "truncated" else f"damaged: member {NAME!r}"
    assert expected in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_zip_without_csv_is_rejected(fetch_server: FetchServer, tmp_path: Path) -> None:
    fetch_server.state.files["docs.zip"] = (_zip({"toelichting.pdf": b"%PDF-1.4"}), ZIP)
    with pytest.raises(InputError, match=r"holds no CSV file.*toelichting\.pdf"):
        fetch_leefbaarometer(fetch_server.url("docs.zip"), tmp_path, options=FAST)
    assert list(tmp_path.iterdir()) == []


def test_a_csv_the_reader_rejects_is_not_kept(
    fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes
) -> None:
    bad = amstelveen.replace(b"4.270599604867483", b"hoog", 1)
    fetch_server.state.files["lbm.zip"] = (_zip({NAME: amstelveen, "b.csv": bad}), ZIP)
    with pytest.raises(InputError) as err:
        fetch_leefbaarometer(fetch_server.url("lbm.zip"), tmp_path, options=FAST)
    message = str(err.value)
    assert "lbm.zip!b.csv" in message and "column 'lbm'" in message and "'hoog'" in message
    assert list(tmp_path.iterdir()) == []


def test_member_patterns(fetch_server: FetchServer, tmp_path: Path, amstelveen: bytes) -> None:
    fetch_server.state.files["two.zip"] = (_zip({NAME: amstelveen, "other.csv": b"x"}), ZIP)
    res = fetch_leefbaarometer(fetch_server.url("two.zip"), tmp_path, options=FAST,
                               members=("Amstelveen*",))
    assert [p.name for p in res.paths] == [NAME]
    with pytest.raises(ConfigError, match="matches no file"):
        fetch_leefbaarometer(fetch_server.url("two.zip"), tmp_path, options=FAST,
                             members=("buurten*",), force=True)


def test_a_missing_download_is_a_404(fetch_server: FetchServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"Leefbaarometer download, gone.zip: HTTP 404"):
        fetch_leefbaarometer(fetch_server.url("gone.zip"), tmp_path, options=FAST)
    assert list(tmp_path.iterdir()) == []

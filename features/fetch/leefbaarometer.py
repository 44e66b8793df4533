"""A Leefbaarometer open-data download: one CSV, or a zip archive of CSVs.

``fetch_leefbaarometer`` downloads the URL, opens the zip (a zip whose bytes are damaged, or
that holds no CSV, is rejected), reads every CSV (or those matching ``members``) with the
``lbm3_scores`` reader the panel uses, and keeps the files only when all of them read. It then
writes ``sources_leefbaarometer.toml``: one ``[[source]]`` entry per kept file.

Re-running is cheap: the server's ``ETag`` and ``Last-Modified`` are kept in a hidden state
file and sent back (a 304 answer means unchanged), and a download whose bytes equal the kept
ones changes nothing.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from features.fetch.cbs import Say
from features.fetch.fragment import check_fragment, source_entry
from features.fetch.http import HttpOptions, Target, check_url, get, http_client
from features.fetch.staging import staging
from features.readers import decode, parse_lbm3_scores
from wijkradar.errors import ConfigError, InputError

FRAGMENT_NAME = "sources_leefbaarometer.toml"
STATE_NAME = ".leefbaarometer-fetch.json"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class LbmFile:
    """One kept CSV: its name in the output folder, rows, units, years and unit level."""

    name: str
    rows: int
    units: int
    years: tuple[int, ...]
    level: str


@dataclass(frozen=True)
class LbmFetch:
    """What ``fetch_leefbaarometer`` did: the files (and their paths), whether anything was
    downloaded and written now (False: unchanged), and the config fragment."""

    url: str
    files: tuple[LbmFile, ...]
    paths: tuple[Path, ...]
    fetched: bool
    fragment: Path


def _state(out: Path) -> dict[str, Any]:
    try:
        doc = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError)


def _open_zip(data: bytes, url: str) -> zipfile.ZipFile:
    """The archive, every member's CRC checked (a damaged member is named)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise InputError(
            f"the download is not a readable zip archive ({type(exc).__name__}: {exc}); "
            "nothing was kept", file=url,
        ) from exc
    for info in archive.infolist():
        try:
            with archive.open(info) as member:
                while member.read(1 << 20):
                    pass
        except _ZIP_ERRORS as exc:
            raise InputError(
                f"the zip archive is damaged: member {info.filename!r} cannot be read "
                f"({type(exc).__name__}: {exc}); nothing was kept", file=url,
            ) from exc
    return archive


def _csv_members(data: bytes, url: str, members: tuple[str, ...]) -> dict[str, bytes]:
    """name -> bytes of the CSVs in a zip (base names; ``members`` are glob patterns)."""
    archive = _open_zip(data, url)
    names = [
        n for n in archive.namelist()
        if not n.endswith("/") and not any(p.startswith((".", "__MACOSX")) for p in n.split("/"))
    ]
    chosen = [n for n in names if n.lower().endswith(".csv")]
    for pattern in members:
        if not any(fnmatch.fnmatch(PurePosixPath(n).name, pattern) for n in names):
            raise ConfigError(
                f"--member {pattern!r} matches no file of {url}. It holds: {', '.join(names)}."
            )
    if members:
        chosen = [n for n in names if any(
            fnmatch.fnmatch(PurePosixPath(n).name, p) for p in members
        )]
    if not chosen:
        raise InputError(
            f"the zip archive holds no CSV file (it holds: {', '.join(names) or 'nothing'}); "
            "nothing was kept", file=url,
        )
    out: dict[str, bytes] = {}
    for name in chosen:
        base = PurePosixPath(name).name
        if base in out:
            raise InputError(f"two members of the zip are called {base!r}", file=url)
        out[base] = archive.read(name)
    return out


def _url_name(url: str) -> str:
    return PurePosixPath(httpx.URL(url).path).name


def _files_of(
    response: httpx.Response, url: str, members: tuple[str, ...]
) -> tuple[dict[str, bytes], bool]:
    """The CSVs of the download (name -> bytes) and whether it was a zip archive."""
    data = response.content
    kind = response.headers.get("content-type", "")
    if data[:4] == _ZIP_MAGIC or _url_name(url).lower().endswith(".zip") or "zip" in kind:
        return _csv_members(data, url, members), True
    if members:
        raise ConfigError(f"--member applies to a zip archive; {url} is not one.")
    name = _url_name(url) or "leefbaarometer.csv"
    return {name if name.lower().endswith(".csv") else f"{name}.csv": data}, False


def _checked(files: dict[str, bytes], url: str, zipped: bool) -> tuple[LbmFile, ...]:
    out = []
    for name, data in files.items():
        where = f"{url}!{name}" if zipped else url
        try:
            frame = parse_lbm3_scores(decode(data, where), where)
        except InputError as exc:
            raise InputError(f"{exc}; it is no lbm3_scores file, nothing was kept") from exc
        out.append(LbmFile(
            name=name, rows=len(frame), units=int(frame["unit_code"].nunique()),
            years=tuple(sorted(int(y) for y in frame["year"].unique())),
            level=str(frame["level"].iloc[0]),
        ))
    return tuple(out)


def fragment_text(url: str, paths: tuple[Path, ...]) -> str:
    lines = [
        f"# Leefbarometer 3.0 scores from {url}: written by `wijkradar fetch leefbaarometer`.",
        "# Paste these [[source]] entries into a wijkradar.toml as they are (absolute paths).",
        "",
    ]
    for path in paths:
        lines += source_entry("lbm3_scores", path.resolve())
    return "\n".join(lines)


def _conditional(state: dict[str, Any]) -> dict[str, str]:
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = str(state["etag"])
    if state.get("last_modified"):
        headers["If-Modified-Since"] = str(state["last_modified"])
    return headers


def _unchanged(out: Path, url: str, state: dict[str, Any]) -> LbmFetch | None:
    try:
        files = tuple(
            LbmFile(**{**f, "years": tuple(f["years"])}) for f in state.get("files", [])
        )
    except (TypeError, KeyError):
        return None
    paths = tuple(out / f.name for f in files)
    complete = all(p.is_file() for p in (*paths, out / FRAGMENT_NAME))
    if state.get("url") != url or not files or not complete:
        return None
    return LbmFetch(url, files, paths, False, out / FRAGMENT_NAME)


def fetch_leefbaarometer(
    url: str,
    out: Path,
    *,
    options: HttpOptions | None = None,
    members: tuple[str, ...] = (),
    force: bool = False,
    say: Say = lambda _msg: None,
) -> LbmFetch:
    """Download, check and keep a Leefbarometer open-data file (see the module docstring)."""
    check_url(url, "--url")
    options = options or HttpOptions()
    state = {} if force else _state(out)
    kept = _unchanged(out, url, state)
    target = Target("Leefbaarometer download", _url_name(url))
    with http_client(options) as client:
        if kept is not None:
            client.headers.update(_conditional(state))
        say(f"downloading {url}")
        response = get(client, url, target, options)
    if kept is not None and response.status_code == 304:
        return kept
    digest = hashlib.sha256(response.content).hexdigest()
    if kept is not None and state.get("sha256") == digest:
        return kept
    files, zipped = _files_of(response, url, members)
    checked = _checked(files, url, zipped)
    paths = tuple(out / f.name for f in checked)
    text = fragment_text(url, paths)
    check_fragment(text, FRAGMENT_NAME)
    new_state = {
        "url": url, "sha256": digest, "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
        "files": [asdict(f) for f in checked],
    }
    with staging(out) as stage:
        for name, data in files.items():
            stage.write_bytes(name, data)
        stage.write_bytes(FRAGMENT_NAME, text.encode("utf-8"))
        stage.write_bytes(STATE_NAME, json.dumps(new_state, indent=1).encode("utf-8"))
        stage.commit()
    return LbmFetch(url, checked, paths, True, out / FRAGMENT_NAME)

"""One CBS OData v3 table into the ``cbs_kwb_json`` form the readers take.

``fetch_table`` reads the table's ``TableInfos`` first. When the kept file's ``Modified`` date
(and level) equal it, nothing more is fetched. Otherwise it reads ``DataProperties``, the
``TypedDataSet`` page by page through every ``odata.nextLink`` (and, when a page holds the
API's cap of 10,000 records without a link, on with ``$skip``), and, for a
``WijkenEnBuurten`` table, that dimension's titles, which become the region names as in
``cbsodata.get_data`` (the code stays in ``Codering_3``). It keeps gemeenten and the
requested level, checks the result with ``features.odata.parse_cbs_kwb_json`` (what
``wijkradar panel`` will read) and renames it into place.

The file: ``{"TableInfos": {...}, "fetch": {...}, "DataProperties": [...], "value": [...]}``;
the reader takes ``value`` and ignores the rest. Its name is ``cbs_<table>_<year>.json`` (the
year from the table's ``Period``), so the reader finds the year in the name as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import wijkradar
from features.fetch import DEFAULT_BASE_URL
from features.fetch.http import HttpOptions, Target, check_url, failure, get_json, http_client
from features.fetch.staging import staging
from features.odata import parse_cbs_kwb_json, region_level
from wijkradar.errors import ConfigError, InputError

API_PAGE_LIMIT = 10_000  # records per answer of CBS's ODataApi
LEVELS = ("gemeente", "wijk", "buurt")
_TABLE_ID = re.compile(r"^[0-9]{4,5}[A-Za-z]{2,3}$")
_SUFFIX = re.compile(r"_\d+$")
_YEAR = re.compile(r"^\s*((?:19|20)\d{2})\s*$")
Say = Callable[[str], None]


@dataclass(frozen=True)
class TableInfo:
    """A table's ``TableInfos`` record: identifier, title, period, modified date (as CBS
    writes it, e.g. '2025-03-27T02:00:00') and the whole record."""

    identifier: str
    title: str
    period: str
    modified: str
    raw: dict[str, Any]

    @property
    def year(self) -> int | None:
        """The period as a year when it is one ('2024'), else None."""
        m = _YEAR.match(self.period)
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class CbsFetch:
    """What ``fetch_table`` did: the table, the kept file, whether it was fetched now (False:
    unchanged since the kept copy), the records kept, the TypedDataSet pages read, the level
    and the ``Modified`` date of the copy it replaced (None: there was none)."""

    table: TableInfo
    path: Path
    fetched: bool
    records: int
    pages: int
    level: str | None
    previous_modified: str | None


def check_table_id(table_id: str) -> str:
    if not _TABLE_ID.match(table_id):
        raise ConfigError(
            f"A CBS table identifier looks like 85984NED (five digits and three letters). "
            f"Got {table_id!r}."
        )
    return table_id


def check_level(level: str | None) -> str | None:
    if level is not None and level not in LEVELS:
        raise ConfigError(f"The level must be one of {', '.join(LEVELS)}. Got {level!r}.")
    return level


def table_file_name(info: TableInfo) -> str:
    year = info.year
    return f"cbs_{info.identifier}_{year}.json" if year else f"cbs_{info.identifier}.json"


def _table_url(base_url: str, table_id: str, part: str) -> str:
    return f"{base_url.rstrip('/')}/{table_id}/{part}"


def _values(doc: dict[str, Any], target: Target, url: str) -> list[dict[str, Any]]:
    value = doc.get("value")
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise failure(target, "the answer has no 'value' list of records", url)
    return value


def _origin(url: str) -> tuple[str, str, int | None]:
    u = httpx.URL(url)
    return u.scheme, u.host, u.port


def fetch_pages(
    client: httpx.Client, url: str, target: Target, options: HttpOptions, say: Say
) -> tuple[list[dict[str, Any]], int]:
    """Every record of a paged OData collection and the number of pages read."""
    records: list[dict[str, Any]] = []
    params: dict[str, str] | None = {"$format": "json"}
    seen: set[str] = set()
    next_url, page = url, 1
    while True:
        where = Target(target.what, target.part, page)
        doc, got = get_json(client, next_url, where, options, params)
        value = _values(doc, where, got)
        if page > 1 and value and records and value[0] == records[0]:
            raise failure(where, "the server sent the first page again (paging is ignored)", got)
        records.extend(value)
        link = doc.get("odata.nextLink")
        if isinstance(link, str) and link:
            if _origin(link) != _origin(url):
                raise failure(where, f"odata.nextLink leaves the server: {link}", got)
            if link in seen:
                raise failure(where, f"odata.nextLink repeats an earlier page: {link}", got)
            seen.add(link)
            next_url = link
            params = None if "$format=" in link else {"$format": "json"}
        elif len(value) >= API_PAGE_LIMIT:
            next_url, params = url, {"$format": "json", "$skip": str(len(records))}
        else:
            return records, page
        page += 1
        say(f"{target.what} {target.part}: {len(records):,} records, reading page {page}")


def fetch_table_info(
    client: httpx.Client, base_url: str, table_id: str, options: HttpOptions
) -> TableInfo:
    target = Target(f"table {table_id}", "TableInfos")
    doc, got = get_json(
        client, _table_url(base_url, table_id, "TableInfos"), target, options, {"$format": "json"}
    )
    value = _values(doc, target, got)
    if not value:
        raise failure(target, "TableInfos is empty", got)
    raw = value[0]
    identifier = str(raw.get("Identifier") or table_id)
    if identifier.upper() != table_id.upper():
        raise failure(target, f"the server describes table {identifier}, not {table_id}", got)
    return TableInfo(
        identifier=table_id, title=str(raw.get("Title") or ""),
        period=str(raw.get("Period") or ""), modified=str(raw.get("Modified") or ""), raw=raw,
    )


def _kept(path: Path) -> dict[str, Any] | None:
    """The ``fetch`` and ``TableInfos`` records of a kept file (None: absent or unreadable)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("TableInfos"), dict):
        return None
    return {"TableInfos": doc["TableInfos"], "fetch": doc.get("fetch") or {}}


def _same(kept: dict[str, Any], info: TableInfo, level: str | None) -> bool:
    """The kept copy is of this table's ``Modified`` date and level."""
    modified = str(kept["TableInfos"].get("Modified") or "")
    return bool(info.modified) and modified == info.modified and (
        kept["fetch"].get("level") == level
    )


def record_code(rec: dict[str, Any]) -> str | None:
    """The region code of a TypedDataSet record: ``Codering_N``, else ``WijkenEnBuurten``."""
    by_base = {_SUFFIX.sub("", k): k for k in rec}
    for base in ("Codering", "WijkenEnBuurten"):
        if base in by_base and rec[by_base[base]] is not None:
            return str(rec[by_base[base]]).strip()
    return None


def keep_level(records: list[dict[str, Any]], level: str | None, what: str) -> list[dict[str, Any]]:
    """Gemeenten and the units of ``level`` (None: every record)."""
    if level is None:
        return records
    wanted = {"gemeente", level}
    out = []
    for i, rec in enumerate(records):
        code = record_code(rec)
        if code is None:
            raise InputError(
                f"{what}: record {i} has no region code (Codering or WijkenEnBuurten), so "
                "--level cannot place it",
                row=i,
            )
        if region_level(code) in wanted:
            out.append(rec)
    return out


def _region_titles(
    client: httpx.Client, base_url: str, info: TableInfo, options: HttpOptions, say: Say
) -> dict[str, str]:
    url = _table_url(base_url, info.identifier, "WijkenEnBuurten")
    rows, _ = fetch_pages(
        client, url, Target(f"table {info.identifier}", "WijkenEnBuurten"), options, say
    )
    return {
        str(r.get("Key", "")).strip(): str(r.get("Title", "")).strip()
        for r in rows if r.get("Key") is not None
    }


def _name_regions(records: list[dict[str, Any]], titles: dict[str, str]) -> None:
    """The WijkenEnBuurten key becomes its title where a Codering key holds the code."""
    for rec in records:
        by_base = {_SUFFIX.sub("", k): k for k in rec}
        if "Codering" not in by_base or "WijkenEnBuurten" not in by_base:
            continue
        title = titles.get(str(rec[by_base["WijkenEnBuurten"]] or "").strip(), "")
        if title and region_level(title) is None:
            rec[by_base["WijkenEnBuurten"]] = title


def _document(
    info: TableInfo, props: list[dict[str, Any]], records: list[dict[str, Any]],
    meta: dict[str, Any],
) -> str:
    doc = {"TableInfos": info.raw, "fetch": meta, "DataProperties": props, "value": records}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _download(
    client: httpx.Client, base_url: str, info: TableInfo, level: str | None,
    options: HttpOptions, say: Say,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    what = f"table {info.identifier}"
    props, _ = fetch_pages(
        client, _table_url(base_url, info.identifier, "DataProperties"),
        Target(what, "DataProperties"), options, say,
    )
    say(f"{what}: TypedDataSet")
    records, pages = fetch_pages(
        client, _table_url(base_url, info.identifier, "TypedDataSet"),
        Target(what, "TypedDataSet"), options, say,
    )
    named = any(p.get("Key") == "WijkenEnBuurten" for p in props)
    if named:
        _name_regions(records, _region_titles(client, base_url, info, options, say))
    kept = keep_level(records, level, what)
    meta = {
        "table": info.identifier, "base_url": base_url, "level": level,
        "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pages": pages, "records_fetched": len(records), "records_kept": len(kept),
        "region_names": "WijkenEnBuurten titles" if named else None,
        "tool": f"wijkradar {wijkradar.__version__}",
    }
    return props, kept, meta


def fetch_table(
    table_id: str,
    out: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    level: str | None = None,
    options: HttpOptions | None = None,
    force: bool = False,
    say: Say = lambda _msg: None,
    expect_year: int | None = None,
) -> CbsFetch:
    """Fetch one table into ``out`` (see the module docstring). ``expect_year``: the year the
    table must cover (the KWB catalog's), checked against its ``Period``."""
    check_table_id(table_id)
    check_level(level)
    check_url(base_url, "--base-url")
    options = options or HttpOptions()
    what = f"table {table_id}"
    with http_client(options) as client:
        info = fetch_table_info(client, base_url, table_id, options)
        if expect_year is not None and info.year != expect_year:
            raise InputError(
                f"{what} covers the period {info.period!r}, the catalog lists it for "
                f"{expect_year}; nothing was written"
            )
        path = out / table_file_name(info)
        kept = _kept(path)
        previous = str(kept["TableInfos"].get("Modified") or "") if kept else None
        if kept is not None and not force and _same(kept, info, level):
            count = int(kept["fetch"].get("records_kept", 0))
            return CbsFetch(info, path, False, count, 0, level, previous)
        say(f"{what}: {info.title} ({info.period}), modified {info.modified}")
        props, records, meta = _download(client, base_url, info, level, options, say)
    text = _document(info, props, records, meta)
    try:
        parse_cbs_kwb_json(text, str(path), info.year)
    except InputError as exc:
        raise InputError(
            f"{what}: the fetched table is not readable as cbs_kwb_json ({exc}); "
            "nothing was written"
        ) from exc
    with staging(out) as stage:
        stage.write_bytes(path.name, text.encode("utf-8"))
        stage.commit()
    return CbsFetch(info, path, True, len(records), int(meta["pages"]), level, previous)

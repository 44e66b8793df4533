"""A real HTTP server on 127.0.0.1 that stands in for CBS's OData API and for the
Leefbaarometer downloads, started once per session in a thread.

The OData tables are built from ``../shared/data/real/cbs_kwb_2024_wijk/``: the 3,735 region
records of KWB 2024 (342 gemeenten, 3,393 wijken), as ``TypedDataSet`` records of the OData
v3 form (``ID``, the space-padded ``WijkenEnBuurten`` key, ``Gemeentenaam_1``,
``SoortRegio_2``, ``Codering_3`` and the measures), after a national ``NL01`` row as CBS
publishes it. Pages hold 1,000 records and carry ``odata.nextLink`` while more follow.
``TableInfos`` is the shared file's own record. The WijkenEnBuurten dimension gives the
Amstelveen wijken the names of ``lbm_amstelveen_wijk`` (the other regions' titles are their
codes). A stand-in for KWB 2023 (85618NED) serves the same records with the 2023 title and
period: it exercises multi-year fetching, not 2023's figures.

Each test gets the server with its state reset (the ``fetch_server`` fixture, conftest.py):
it can fail a page with a status (always, or once), delay it, change the ``Modified`` date,
and publish files under ``/lbm/``; every request is logged.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 1000
ROOT = "/ODataApi/odata"
KWB_2024 = Path("cbs_kwb_2024_wijk") / "stripped_filtered_data_2024.json"
TABLE_INFOS = Path("cbs_kwb_2024_wijk") / "TableInfos.json"
AMSTELVEEN = Path("lbm_amstelveen_wijk") / "AmstelveenDataWithDimensions.csv"


@dataclass
class Table:
    infos: dict[str, Any]
    props: list[dict[str, Any]]
    records: list[dict[str, Any]]
    regions: list[dict[str, Any]]


@dataclass
class ServerState:
    tables: dict[str, Table]
    modified: dict[str, str] = field(default_factory=dict)
    fail: dict[tuple[str, str, int], int] = field(default_factory=dict)
    fail_once: dict[tuple[str, str, int], int] = field(default_factory=dict)
    delay: dict[tuple[str, str, int], float] = field(default_factory=dict)
    garbage: set[tuple[str, str, int]] = field(default_factory=set)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    next_links: bool = True  # False: like an API that caps each answer without a link

    def requests(self, part: str) -> list[dict[str, str]]:
        return [h for p, h in self.log if p.endswith("/" + part)]


def _padded(code: str) -> str:
    return code.ljust(10)


def build_table(shared: Path, identifier: str, title: str, period: str) -> Table:
    raw: dict[str, dict[str, Any]] = json.loads((shared / KWB_2024).read_text(encoding="utf-8"))
    infos = json.loads((shared / TABLE_INFOS).read_text(encoding="utf-8"))[0]
    infos = {**infos, "Identifier": identifier, "Title": title, "ShortTitle": title,
             "Period": period}
    names = {r["wk_code"]: r["wk_naam"] for r in csv.DictReader(
        io.StringIO((shared / AMSTELVEEN).read_text(encoding="utf-8")))}
    names["GM0362"] = "Amstelveen"
    measures = sorted({k for rec in raw.values() for k in rec})
    national = {k: sum(r[k] for c, r in raw.items() if c.startswith("GM") and r.get(k) is not None)
                for k in measures}
    rows = [("NL01", "Nederland", "Land", national)] + [
        (code, names.get("GM" + code[2:6], ""), "Gemeente" if code[:2] == "GM" else "Wijk", rec)
        for code, rec in raw.items()
    ]
    records = [
        {"ID": i, "WijkenEnBuurten": _padded(code), "Gemeentenaam_1": gm.ljust(40),
         "SoortRegio_2": kind.ljust(10), "Codering_3": _padded(code), **rec}
        for i, (code, gm, kind, rec) in enumerate(rows)
    ]
    regions = [{"Key": _padded(code), "Title": names.get(code, "Nederland" if code == "NL01"
                                                         else code)} for code, *_ in rows]
    props = [{"ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDetail",
              "Key": "WijkenEnBuurten", "Title": "Wijken en buurten"}]
    props += [{"ID": i + 1, "Position": i + 1, "ParentID": None, "Type": "Topic", "Key": k,
               "Title": k} for i, k in enumerate(["Gemeentenaam_1", "SoortRegio_2", "Codering_3",
                                                  *measures])]
    return Table(infos=infos, props=props, records=records, regions=regions)


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, doc: Any, status: int = 200) -> None:
        self._send(status, json.dumps(doc).encode("utf-8"))

    def do_GET(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        state.log.append((url.path, {**query, **{k.lower(): v for k, v in self.headers.items()}}))
        if url.path.startswith("/lbm/"):
            return self._file(url.path[len("/lbm/"):])
        parts = url.path[len(ROOT):].strip("/").split("/")
        if not url.path.startswith(ROOT) or len(parts) != 2:
            return self._json({"error": "not found"}, 404)
        table_id, part = parts
        table = state.tables.get(table_id)
        if table is None:
            return self._json({"odata.error": {"message": f"table {table_id} unknown"}}, 404)
        skip = int(query.get("$skip", "0"))
        key = (table_id, part, skip // PAGE_SIZE + 1)
        if key in state.delay:
            time.sleep(state.delay[key])
        if key in state.fail_once:
            return self._json({"error": "once"}, state.fail_once.pop(key))
        if key in state.fail:
            return self._json({"error": "failed"}, state.fail[key])
        if key in state.garbage:
            return self._send(200, b"<html>Service unavailable</html>", "text/html")
        rows = {"TableInfos": [{**table.infos, "Modified": state.modified.get(
                    table_id, table.infos["Modified"])}],
                "DataProperties": table.props, "TypedDataSet": table.records,
                "WijkenEnBuurten": table.regions}.get(part)
        if rows is None:
            return self._json({"error": f"no {part}"}, 404)
        page = rows[skip:skip + PAGE_SIZE]
        doc: dict[str, Any] = {"odata.metadata": f"{self.server.base}/{table_id}/$metadata",
                               "value": page}
        if skip + PAGE_SIZE < len(rows) and state.next_links:
            doc["odata.nextLink"] = (f"{self.server.base}/{table_id}/{part}?$format=json"
                                     f"&$skip={skip + PAGE_SIZE}")
        return self._json(doc)

    def _file(self, name: str) -> None:
        state = self.server.state
        if name not in state.files:
            return self._send(404, b"not found", "text/plain")
        body, kind = state.files[name]
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", kind, {"ETag": etag})
        return self._send(200, body, kind, {"ETag": etag})


class StandIn(ThreadingHTTPServer):
    daemon_threads = True
    state: ServerState
    base: str

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) closes the socket mid-answer


@dataclass
class FetchServer:
    """The running server: ``base`` is the OData root, ``url(name)`` a file's URL."""

    server: StandIn
    tables: dict[str, Table]

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def state(self) -> ServerState:
        return self.server.state

    def url(self, name: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/lbm/{name}"

    def reset(self) -> ServerState:
        self.server.state = ServerState(tables=dict(self.tables))
        return self.server.state

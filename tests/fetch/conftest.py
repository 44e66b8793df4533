"""Fixtures of the fetch tests: the local stand-in server of ``fetchserver.py``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fetchserver import ROOT, FetchServer, Handler, StandIn, Table, build_table


@pytest.fixture(scope="session")
def shared_tables(shared_real_dir: Path) -> dict[str, Table]:
    return {
        "85984NED": build_table(shared_real_dir, "85984NED",
                                "Kerncijfers wijken en buurten 2024", "2024"),
        "85618NED": build_table(shared_real_dir, "85618NED",
                                "Kerncijfers wijken en buurten 2023", "2023"),
    }


@pytest.fixture(scope="session")
def _running(shared_tables: dict[str, Table]) -> Iterator[FetchServer]:
    server = StandIn(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    server.base = f"http://{host}:{port}{ROOT}"
    running = FetchServer(server=server, tables=shared_tables)
    running.reset()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield running
    server.shutdown()
    server.server_close()


@pytest.fixture()
def fetch_server(_running: FetchServer) -> FetchServer:
    _running.reset()
    return _running

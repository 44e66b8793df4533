"""Latency of the ranking API on an NL-sized (buurt-level) ranking.

Builds a temporary workspace with a published 14,500-unit ranking (two runs of the newest
year, so the change columns are computed; the builder of ``tests/api/conftest.py``), starts the
app with uvicorn on 127.0.0.1 in a background thread, and requests pages of 100 rows over HTTP.
Prints the cold first request and the median and p95 of each scenario; exits 1 when the median
of the plain ``/api/rankings?limit=100`` exceeds the target (50 ms).

With ``--map-workspace W`` (a built workspace, e.g. of examples/lbm3_pc4.toml) it also measures
``/api/map`` there: the national map and one gemeente's, cold (first request: boundaries read,
outlines dissolved, simplified) and warm (cached), the body's size and its gzipped size on the
wire; exits 1 when the national body is 1.5 MB or more.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/api.py [--units 14500] [--requests 300]
        [--map-workspace W [--map-config W/../lbm3_pc4.toml]]
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
MAP_LIMIT = 1.5e6  # bytes


def fixtures() -> ModuleType:
    path = ROOT / "tests" / "api" / "apiworkspace.py"
    spec = importlib.util.spec_from_file_location("apiworkspace", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start(workspace: Path, config: Path | None = None) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from serving.api import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(workspace, config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


def timed(client: object, url: str, params: dict[str, object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url, params=params)  # type: ignore[attr-defined]
        out.append((time.perf_counter() - t0) * 1000.0)
        response.raise_for_status()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=14_500)
    parser.add_argument("--gemeenten", type=int, default=342)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--map-workspace", type=Path, default=None)
    parser.add_argument("--map-config", type=Path, default=None)
    args = parser.parse_args()
    import httpx

    map_ok = True
    if args.map_workspace is not None:
        map_ok = bench_map(args.map_workspace, args.map_config)

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        t0 = time.perf_counter()
        info = fixtures().build_workspace(
            workspace, n_units=args.units, n_gemeenten=args.gemeenten, boundaries=False
        )
        units = info["units"]
        print(f"workspace: {len(units):,} units, built in {time.perf_counter() - t0:.1f} s")
        base, server, thread = start(workspace)
        gemeente = str(units["gemeente_code"].iloc[len(units) // 2])
        scenarios = {
            "limit=100": {"limit": 100},
            "limit=100, offset=7000": {"limit": 100, "offset": 7000},
            "limit=100, gemeente": {"limit": 100, "gemeente": gemeente},
            "limit=100, q=wijk 1": {"limit": 100, "q": "wijk 1"},
            "limit=100, sort=-rank_change": {"limit": 100, "sort": "-rank_change"},
            "limit=500": {"limit": 500},
        }
        results = {}
        with httpx.Client(base_url=base, timeout=60) as client:
            cold = timed(client, "/api/rankings", {"limit": 100}, 1)[0]
            print(f"cold first request (loads and indexes the run): {cold:.0f} ms")
            for name, params in scenarios.items():
                timed(client, "/api/rankings", params, 3)  # warm any sort order
                results[name] = timed(client, "/api/rankings", params, args.requests)
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)
    print(f"{'scenario':32} {'median ms':>10} {'p95 ms':>8}  (n={args.requests} each)")
    for name, samples in results.items():
        p95 = statistics.quantiles(samples, n=20)[18]
        print(f"{name:32} {statistics.median(samples):10.1f} {p95:8.1f}")
    median = statistics.median(results["limit=100"])
    verdict = "OK" if median < TARGET_MS else "TOO SLOW"
    print(f"target: median of limit=100 < {TARGET_MS:.0f} ms: {median:.1f} ms, {verdict}")
    return 0 if median < TARGET_MS and map_ok else 1


def bench_map(workspace: Path, config: Path | None) -> bool:
    """/api/map of a built workspace: size (raw, gzip) and time, cold and warm."""
    import httpx

    base, server, thread = start(workspace, config)
    with httpx.Client(base_url=base, timeout=300) as client:
        gemeente = client.get("/api/rankings", params={"limit": 1}).json()["rows"][0]
        rows = []
        one = {"gemeente": gemeente["gemeente_code"]}
        for name, params in (("national", {}), ("one gemeente", one)):
            times = []
            for _ in range(6):
                t0 = time.perf_counter()
                response = client.get("/api/map", params=params)
                times.append((time.perf_counter() - t0) * 1000.0)
                response.raise_for_status()
            wire = response.num_bytes_downloaded  # gzipped on the wire (httpx asks for gzip)
            body = response.json()
            warm = statistics.median(times[1:])
            rows.append((name, len(response.content), wire, times[0], warm, body["n_shown"]))
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    head = ("/api/map", "units", "body KB", "gzip KB", "cold ms", "warm ms")
    print("{:16} {:>6} {:>8} {:>8} {:>8} {:>8}".format(*head))
    for name, size, wire, cold, warm, shown in rows:
        print(f"{name:16} {shown:6d} {size / 1e3:8.0f} {wire / 1e3:8.0f} {cold:8.0f} {warm:8.1f}")
    national = rows[0][1]
    verdict = "OK" if national < MAP_LIMIT else "TOO LARGE"
    limit = MAP_LIMIT / 1e6
    print(f"target: national /api/map body < {limit:.1f} MB: {national / 1e6:.2f} MB, {verdict}")
    return national < MAP_LIMIT


if __name__ == "__main__":
    sys.exit(main())

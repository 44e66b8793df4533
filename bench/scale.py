"""How the scoring job scales: 14.5k, 100k and 1M units, in one process and on Dask.

A small workspace is generated and trained once (``wijkradar generate`` + ``train``; its
champion is the packaged model). For each size N a copy of it gets a panel of N units: the
rows of the scored as-of year drawn with replacement, given new buurt codes (many units per
gemeente, over the generated gemeenten, sizes skewed as in ``features.synth.world``) and
features jittered by 2 % (multiplicative noise), written with a matching panel meta. Then,
one run at a time, each in fresh processes:

* ``core``: the job's scoring step alone, ``serving.job.score_rows(model.predict, rows,
  features)`` (contributions, additivity, ranking, drivers in words);
* ``job``: ``wijkradar score`` end to end (read the panel, resolve and load the model,
  score, guards, drift, publish: ranking, CSV, explanations, per-gemeente CSV/XLSX); its
  stages from the arrival times of its ``--log-format json`` lines; the published folder's
  size; then the same command again, which finds nothing new (the start-up time);
* ``dask-W`` for W workers: a ``dask scheduler`` and W ``dask worker`` processes (one thread
  each, OMP_WAIT_POLICY=PASSIVE) and the Dask engine's scoring step
  (``serving.distributed.DaskScorer`` with ``scheduler`` = that address), compared with
  ``core``; with ``wijkradar score --engine dask`` once the CLI has it, also end to end.

Peak memory is sampled (psutil, every 0.2 s) per process of each run's process tree:
the main process, each Dask worker, the scheduler. The projection of the Dask step with
more workers fits T(W) = serial + parallel / W to the 1- and 2-worker runs (Amdahl).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/scale.py [--sizes 14500 100000 1000000]
        [--workers 1 2] [--exports run on_demand] [--repeat N] [--work DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
YEAR = 2022
MB = 1024 * 1024
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR":
       "false", "PYTHONPATH": str(ROOT)}


@dataclass
class Measured:
    """One run: wall seconds, peak RSS per process (MB, by role) and extra figures."""

    name: str
    size: int
    wall: float
    peaks: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float | str] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.size / self.wall if self.wall else float("nan")


class Sampler:
    """Peak RSS of every process in the trees of ``roots`` (psutil), by role."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots, self.peaks, self._stop = roots, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for role, pid in self.roots.items():
                try:
                    root = psutil.Process(pid)
                    procs = [(role, root)] + [
                        (f"{role}/{_kind(p)}-{p.pid}", p) for p in root.children(recursive=True)
                    ]
                    for name, p in procs:
                        rss = p.memory_info().rss / MB
                        self.peaks[name] = max(self.peaks.get(name, 0.0), rss)
                except psutil.Error:
                    continue
            self._stop.wait(0.2)


def _kind(p: object) -> str:
    try:
        cmd = " ".join(p.cmdline())  # type: ignore[attr-defined]
    except Exception:
        return "proc"
    return "worker" if "spawn_main" in cmd or "forkserver" in cmd else "child"


def cli(*args: str) -> None:
    subprocess.run([str(BIN / "wijkradar"), *args], check=True, env=ENV, capture_output=True)


def base_workspace(work: Path, gemeenten: int, seed: int) -> Path:
    base = work / "base"
    if not (base / "scores").exists() and not (base / "mlflow" / "mlflow.db").exists():
        shutil.rmtree(base, ignore_errors=True)
        cli("generate", "--workspace", str(base), "--seed", str(seed), "--gemeenten",
            str(gemeenten))
        cli("train", "--workspace", str(base), "--as-of", str(YEAR))
    return base


def scaled_workspace(base: Path, work: Path, n: int, seed: int) -> Path:
    """A copy of ``base`` whose panel holds ``n`` units of the as-of year (see the module)."""
    import hashlib

    import numpy as np

    from features import sources
    from features.build import ensure_panel, panel_fingerprint
    from wijkradar import catalog
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    target = work / f"ws-{n}"
    if (target / "panel" / "panel.json").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("scores", ".run", "report"))
    ws = Workspace(target)
    panel, meta = ensure_panel(Workspace(base), load_config(Workspace(base).config))
    rows = panel[panel["as_of_year"] == YEAR].reset_index(drop=True)
    del panel
    rng = np.random.default_rng([seed, n])
    out = rows.take(rng.integers(0, len(rows), n)).reset_index(drop=True)
    gm = rows[["gemeente_code", "gemeente_name"]].drop_duplicates("gemeente_code")
    weights = rng.lognormal(0.0, 1.1, len(gm))
    pick = np.sort(rng.choice(len(gm), size=n, p=weights / weights.sum()))
    out["gemeente_code"] = gm["gemeente_code"].to_numpy()[pick]
    out["gemeente_name"] = gm["gemeente_name"].to_numpy()[pick]
    k = np.arange(n) - np.searchsorted(pick, pick)  # position within the gemeente
    codes = np.char.add(np.char.add("BU", out["gemeente_code"].str[2:].to_numpy(dtype="U4")),
                        np.char.zfill(k.astype("U7"), 7))
    out["unit_code"] = codes.astype(object)
    out["unit_name"] = np.char.add("Buurt ", k.astype("U7")).astype(object)
    for f in meta.model_features:
        if out[f].dtype.kind == "f":
            out[f] = out[f].to_numpy() * (1.0 + 0.02 * rng.standard_normal(n))
    out = out.astype({"unit_code": "str", "unit_name": "str"})
    catalog.write_parquet(out, ws.panel)
    digest = hashlib.sha256(ws.panel.read_bytes()).hexdigest()
    cfg = load_config(ws.config)  # the fingerprint the code in use gives these sources
    fingerprint = panel_fingerprint(cfg, sources.fingerprint_files(sources.source_files(cfg)))
    units = replace(meta, rows=n, units=n, as_of_years=[YEAR], content_hash=digest,
                    fingerprint=fingerprint)
    catalog.write_panel_meta(ws, units)
    return target


def run_measured(name: str, n: int, cmd: list[str], others: dict[str, int] | None = None,
                 stages: bool = False) -> tuple[Measured, str]:
    """Run ``cmd``; its wall time, the peaks of its tree (and of ``others``), the arrival
    time of each stderr line (``stages``) and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV)
    marks: list[tuple[float, str]] = []
    with Sampler({"main": proc.pid, **(others or {})}) as sampler:
        assert proc.stderr is not None and proc.stdout is not None
        errors = []
        for line in proc.stderr:
            marks.append((time.perf_counter() - start, line.strip()))
            errors.append(line)
        stdout = proc.stdout.read()
        code = proc.wait()
    wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"{name} ({' '.join(cmd)}) exited {code}:\n{''.join(errors)[-3000:]}")
    m = Measured(name, n, wall, dict(sampler.peaks))
    if stages:
        m.extra.update(_stages(marks))
    return m, stdout


def _stages(marks: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds between the job's progress lines (JSON, ``message``)."""
    out: dict[str, float] = {}
    last, label = 0.0, "start: imports, the alias, the panel meta"
    for t, line in marks:
        try:
            message = json.loads(line)["message"]
        except (ValueError, KeyError, TypeError):
            continue
        out[label] = round(t - last, 2)
        last, label = t, message.split(" ")[0] + " " + " ".join(message.split(" ")[1:3])
    return out


def on_demand_config(ws: Path) -> Path:
    """The workspace's config with ``[exports] when = "on_demand"``, beside it."""
    lean = ws / "wijkradar-on-demand.toml"
    text = (ws / "wijkradar.toml").read_text(encoding="utf-8")
    lean.write_text(text + '\n[exports]\nwhen = "on_demand"\n', encoding="utf-8")
    return lean


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB


def measure_job(ws: Path, n: int, extra: list[str], name: str) -> list[Measured]:
    """``wijkradar score`` end to end (published), then again (nothing new)."""
    shutil.rmtree(ws / "scores", ignore_errors=True)
    args = [str(BIN / "wijkradar"), "score", "--workspace", str(ws), "--as-of", str(YEAR),
            "--log-format", "json", *extra]
    job, _ = run_measured(name, n, args, stages=True)
    from wijkradar import catalog
    from wijkradar.catalog import Workspace

    run = catalog.latest_run(Workspace(ws), YEAR)
    assert run is not None
    rows = catalog.read_manifest(run).row_count
    if rows != n:
        raise RuntimeError(f"{ws}: the job scored {rows:,} units, not {n:,} (panel rebuilt?)")
    job.extra["output_mb"] = round(folder_mb(run.path), 1)
    job.extra["gemeenten_mb"] = round(folder_mb(run.gemeenten), 1)
    again = min((run_measured(f"{name} nothing new", n, args, stages=True)[0]
                 for _ in range(3)), key=lambda m: m.wall)
    if not extra:  # the start-up's steps, once per size
        base = [sys.executable, "-c", "pass"]
        again.extra["python -c pass"] = round(run_measured("python", n, base)[0].wall, 2)
        _, out = run_measured("startup", n, [sys.executable, __file__, "--child", "startup",
                                             "--ws", str(ws)])
        again.extra.update(json.loads(out.strip().splitlines()[-1]))
    return [job, again]


def start_cluster(work: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A dask scheduler and ``workers`` one-thread workers (processes this bench started)."""
    file = work / f"scheduler-{workers}.json"
    file.unlink(missing_ok=True)
    env = {**ENV, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                               "0", "--no-dashboard", "--scheduler-file", str(file)], **quiet)]
    while not file.exists():
        time.sleep(0.1)
    time.sleep(0.3)
    address = json.loads(file.read_text())["address"]
    procs += [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                "--memory-limit", "0", "--no-dashboard"], **quiet)
              for _ in range(workers)]
    return address, procs


def stop_cluster(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def child(mode: str, ws_path: Path, scheduler: str | None, workers: int) -> None:
    """In a fresh process: the scoring step alone (``core``), or on Dask (``engine``)."""
    import resource

    from features.build import ensure_panel
    from ml import registry
    from serving.distributed import DaskOptions, DaskScorer
    from serving.job import score_rows, scoring_predict
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws = Workspace(ws_path)
    cfg = load_config(ws.config)
    panel, _ = ensure_panel(ws, cfg)
    rows = panel[panel["as_of_year"] == YEAR].reset_index(drop=True)
    del panel
    expected = int(ws_path.name.split("-")[-1])
    if len(rows) != expected:  # the panel was rebuilt from the sources: the code changed
        raise RuntimeError(f"{ws_path}: {len(rows):,} rows to score, expected {expected:,}; "
                           f"start again in a new --work folder.")
    tracking = registry.tracking_for(ws, cfg)
    model, features = registry.load(tracking, registry.resolve(tracking, None))
    before = _rss()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the high-water mark
    result: dict[str, object] = {}
    t0 = time.perf_counter()
    predict = scoring_predict(model, cfg.explain.method)  # as the job does
    if mode == "core":
        ranking, _ = score_rows(predict, rows, features)
    else:
        if scheduler is None:
            options = DaskOptions(n_workers=workers)
        else:
            options = DaskOptions(scheduler=scheduler)
        scorer = DaskScorer(options, ws.root / ".run")
        ranking, _ = scorer(predict, rows, features)
        result["timings"] = asdict(scorer.timings_)
    result["seconds"] = time.perf_counter() - t0
    result["rows_mb"] = rows.memory_usage(deep=False).sum() / MB
    result["ranking_mb"] = ranking.memory_usage(deep=False).sum() / MB
    result["rss_before_mb"] = before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result["peak_above_start_mb"] = peak - before
    print(json.dumps(result))


def startup(ws_path: Path) -> None:
    """In a fresh process: where a "nothing new" score spends its time, step by step (the
    steps ``serving.job`` takes before it finds the run published)."""
    t = [time.perf_counter()]
    import wijkradar.app.cli  # noqa: F401  (typer, rich, the console)

    t.append(time.perf_counter())
    import serving.job  # noqa: F401  (what the score command imports)

    t.append(time.perf_counter())
    from features.build import kept_panel_meta
    from ml import registry
    from wijkradar import catalog
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws = Workspace(ws_path)
    cfg = load_config(ws.config)
    _, meta = kept_panel_meta(ws, cfg)
    assert meta is not None, "the panel would be rebuilt"
    t.append(time.perf_counter())
    registry.resolve(registry.tracking_for(ws, cfg), None)
    t.append(time.perf_counter())
    run = catalog.latest_run(ws, YEAR)
    assert run is not None
    catalog.read_manifest(run)
    t.append(time.perf_counter())
    names = ["import cli", "import serving.job", "kept_panel_meta (sources' fingerprint)",
             "registry.resolve", "latest run and its manifest"]
    print(json.dumps({n: round(b - a, 2) for n, a, b in zip(names, t[:-1], t[1:], strict=True)}))


def _rss() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure_step(ws: Path, n: int, mode: str, scheduler: str | None = None,
                 others: dict[str, int] | None = None, name: str = "") -> Measured:
    cmd = [sys.executable, __file__, "--child", mode, "--ws", str(ws)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    m, out = run_measured(name or mode, n, cmd, others)
    result = json.loads(out.strip().splitlines()[-1])
    m.wall = float(result.pop("seconds"))  # the step, not the process's start-up
    for key, value in (result.pop("timings", None) or {}).items():
        m.extra[f"engine_{key}"] = round(value, 2)
    m.extra.update({k: round(float(v), 1) for k, v in result.items()})
    return m


def has_engine() -> bool:
    proc = subprocess.run([str(BIN / "wijkradar"), "score", "--help"], capture_output=True,
                          text=True, env=ENV)
    return "--engine" in proc.stdout


def fastest(runs: list[Measured]) -> Measured:
    """The run with the shortest wall time (the others were slowed by the machine)."""
    return min(runs, key=lambda m: m.wall)


def measure_size(
    base: Path, work: Path, n: int, workers: list[int], seed: int,
    exports: Sequence[str] = ("run", "on_demand"), repeat: int = 1,
) -> list[Measured]:
    ws = scaled_workspace(base, work, n, seed)
    lean = on_demand_config(ws)
    eager = measure_job(ws, n, [], "job single") if "run" in exports else []
    # The core step and the lean job, interleaved ``repeat`` times; the fastest of each.
    cores, leans = [], []
    for _ in range(repeat):
        cores.append(measure_step(ws, n, "core", name="core score_rows"))
        if "on_demand" in exports:
            leans.append(measure_job(ws, n, ["--config", str(lean)],
                                     "job single, exports on demand"))
    out = [fastest(cores), *eager]
    if "on_demand" in exports:
        out += [fastest([job for job, _ in leans]), fastest([again for _, again in leans])]
        export, _ = run_measured("export on demand", n, [str(BIN / "wijkradar"), "export",
                                                         "--workspace", str(ws), "--config",
                                                         str(lean), "--force"])
        out.append(export)
    for w in workers:
        address, procs = start_cluster(work, w)
        try:
            roles = {"scheduler": procs[0].pid, **{f"worker{i}": p.pid
                                                  for i, p in enumerate(procs[1:])}}
            out.append(measure_step(ws, n, "engine", address, roles, f"dask {w} worker(s) step"))
            if has_engine():
                out += measure_job(ws, n, ["--engine", "dask", "--scheduler", address],
                                   f"job dask {w}")[:1]
        finally:
            stop_cluster(procs)
    return out


def projection(results: list[Measured]) -> list[str]:
    """How the Dask step grows with workers (Amdahl: T(W) = serial + parallel / W), two ways:
    fitted to the 1- and 2-worker steps, and from the 1-worker step's own parts (the driver's
    input writing, cluster and assembly are serial; the workers' scoring is parallel), which
    assumes a core per worker."""
    lines = []
    for n in sorted({m.size for m in results}):
        by = {m.name: m for m in results if m.size == n}
        one, two = by.get("dask 1 worker(s) step"), by.get("dask 2 worker(s) step")
        if one is None:
            continue
        fits = []
        if two is not None:
            parallel = max(2 * (one.wall - two.wall), 0.0)
            fits.append(("fitted to W = 1, 2", one.wall - parallel, parallel))
        e = {k: float(v) for k, v in one.extra.items() if k.startswith("engine_")}
        serial = e["engine_write_input"] + e["engine_cluster"] + e["engine_assemble"]
        fits.append(("from the 1-worker parts", serial, e["engine_score"]))
        for label, serial, parallel in fits:
            times = {w: serial + parallel / w for w in (1, 2, 4, 8, 16)}
            cells = ", ".join(f"W={w}: {t:.1f} s ({n / t:,.0f} rows/s)" for w, t in times.items())
            lines.append(f"{n:,} units, {label}: serial {serial:.1f} s + parallel "
                         f"{parallel:.1f} s / W -> {cells}")
    return lines


def report(results: list[Measured]) -> None:
    print("| units | run | wall s | rows/s | peak RSS per process (MB) | notes |")
    print("|---|---|---|---|---|---|")
    for m in results:
        peaks = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(m.peaks.items()) if v > 60)
        notes = "; ".join(f"{k} {v}" for k, v in m.extra.items())
        print(f"| {m.size:,} | {m.name} | {m.wall:.1f} | {m.rows_per_s:,.0f} | {peaks} | "
              f"{notes} |")
    for n in sorted({m.size for m in results}):
        by = {m.name: m for m in results if m.size == n}
        core = by.get("core score_rows")
        for job in (by.get("job single"), by.get("job single, exports on demand")):
            if not (core and job):
                continue
            peak = job.peaks.get("main", float("nan"))
            out_mb = float(job.extra.get("output_mb", float("nan")))
            print(f"{n:,} {job.name}: job / core step = {job.wall / core.wall:.2f} (target "
                  f"<= 1.5); job peak / output = {peak:,.0f} / {out_mb:,.0f} MB = "
                  f"{peak / out_mb:.2f} (target <= 2)")
    for line in projection(results):
        print("projection", line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[14_500, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--work", type=Path, default=Path("/tmp/wijkradar-scale"))
    parser.add_argument("--gemeenten", type=int, default=60, help="of the base workspace")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--exports", nargs="+", choices=["run", "on_demand"],
                        default=["run", "on_demand"],
                        help="the job's [exports] when: with the run, on demand, or both")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time the core step and the lean job this many times, "
                             "interleaved, and keep the fastest of each")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--report", type=Path, help="only print the report of a --json file")
    parser.add_argument("--child", choices=["core", "engine", "startup"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--ws", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "startup":
        startup(args.ws)
        return 0
    if args.child:
        child(args.child, args.ws, args.scheduler, 2)
        return 0
    if args.report:
        report([Measured(**m) for m in json.loads(args.report.read_text())])
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    base = base_workspace(args.work, args.gemeenten, args.seed)
    results: list[Measured] = []
    for n in args.sizes:
        results += measure_size(base, args.work, n, args.workers, args.seed, args.exports,
                                args.repeat)
        report([m for m in results if m.size == n])
        sys.stdout.flush()
    print()
    report(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())

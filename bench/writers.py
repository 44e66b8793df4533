"""How long writing a run's files takes, and how much memory, before and after issue 14.

For each size N (14.5k, 100k; 1M with ``--sizes 1000000``) a synthetic ranking with the real
column layout is built once: ids over 342 gemeenten, risk, margin, ranks and Dutch
``top_drivers`` (``serving.ranking.build_ranking``), the guard columns
(``serving.job.with_guards``), one ``shap__<feature>`` column per feature of ~100 panel-like
features (a third of them unused by the model, their contributions 0) and ``shap__base``;
the feature values are continuous (the worst case for the drivers' sentence groups) with 2 %
missing; a previous ranking for the rank changes. Then, in fresh processes, interleaved:

* ``old``: the writers of commit dd93a5c (``bench/writers_baseline.py``);
* ``new``: ``serving.writers.write_run_files``.

Each reports the wall time of the whole call, its stages (from the files' modification
times: ranking.parquet, ranking.csv, explanations.parquet, drift.json, the exports), the peak
resident memory of the process during the call (its high-water mark reset just before,
``/proc/self/clear_refs``) and of its largest worker process (sampled with psutil), the
resident memory before the call (the inputs) and the size of the files written. The drivers
in words (part of the scoring step, ``build_ranking``) are timed too: the old per-row
sentences against ``serving.ranking.driver_texts``. At 14.5k units the two runs' files are
compared: the same frames read back, the same per-gemeente CSV bytes and Excel cells.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/writers.py [--sizes 14500 100000]
        [--work DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]
N_FEATURES = 99
MB = 1024 * 1024
STAGES = ("ranking.parquet", "ranking.csv", "explanations.parquet", "drift.json")


def feature_names(p: int = N_FEATURES) -> list[str]:
    from features.describe import TERMS

    base = list(TERMS)
    names = [*base, *(f"{b}_chg3" for b in base), *(f"{b}_chg1" for b in base)]
    names = ["gm_lbm_chg_prev", "gm_low_income_hh_pct_chg3", "lbm_chg_prev", *names]
    return list(dict.fromkeys(names))[:p]


def build_inputs(n: int, folder: Path, seed: int = 0) -> None:
    """ranking.parquet, values.parquet and previous.parquet of ``n`` units in ``folder``."""
    import pandas as pd

    from serving.job import with_guards
    from serving.ranking import build_ranking

    rng = np.random.default_rng(seed)
    features = feature_names()
    p = len(features)
    weights = rng.lognormal(0.0, 1.0, 342)  # skewed gemeente sizes, the largest a few %
    gm = rng.choice(342, size=n, p=weights / weights.sum())
    rows = pd.DataFrame({
        "unit_code": pd.Series([f"BU{i:08d}" for i in range(n)], dtype="str"),
        "unit_name": pd.Series([f"Buurt {i}" for i in range(n)], dtype="str"),
        "gemeente_code": pd.Series([f"GM{g:04d}" for g in gm], dtype="str"),
        "gemeente_name": pd.Series([f"Gemeente {g}" for g in gm], dtype="str"),
        "as_of_year": np.full(n, 2022, dtype="int64"),
    })
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 50.0, p)
    X[:, ::3] = np.abs(X[:, ::3]) * 10  # levels, counts
    X[rng.random((n, p)) < 0.02] = np.nan
    values = pd.concat([rows[["unit_code"]], pd.DataFrame(X, columns=features)], axis=1)
    shap = rng.normal(0.0, 0.05, (n, p))
    shap[:, 2::3] = 0.0  # features no tree uses
    output = pd.DataFrame(shap, columns=[f"shap__{f}" for f in features], copy=False)
    output["shap__base"] = -2.0
    margin = shap.sum(axis=1) - 2.0
    output.insert(0, "margin", margin)
    output.insert(0, "risk", 1.0 / (1.0 + np.exp(-margin)))
    ranking = build_ranking(pd.concat([rows, values[features]], axis=1), output, features)
    previous = ranking[["unit_code", "rank"]].sample(frac=0.95, random_state=seed)
    previous["rank"] = np.arange(1, len(previous) + 1)
    ranking = with_guards(ranking, values, previous, features, 0.3)
    ranking.to_parquet(folder / "ranking.parquet", index=False)
    values.to_parquet(folder / "values.parquet", index=False)
    previous.to_parquet(folder / "previous.parquet", index=False)


# --- the child: one mode, a fresh process ----------------------------------------------------


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class WorkerPeak:
    """The largest resident set of any process below this one (the export workers, started
    by a forkserver, are not our children: ``RUSAGE_CHILDREN`` misses them), sampled."""

    def __init__(self, every: float = 0.1) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(every):
            for proc in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, proc.memory_info().rss / MB)

    def __enter__(self) -> WorkerPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(mode: str, inputs: Path, out: Path) -> dict[str, float]:
    import pandas as pd

    from wijkradar.catalog import RunFolder

    ranking = pd.read_parquet(inputs / "ranking.parquet")
    values = pd.read_parquet(inputs / "values.parquet")
    previous = pd.read_parquet(inputs / "previous.parquet")
    drift = pd.DataFrame({"feature": ["lbm"], "psi": [0.01], "flagged": [False]})
    notes = ["Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024"]
    staged = RunFolder(out)
    out.mkdir(parents=True)
    before = _status_mb("VmRSS:")
    _reset_peak()
    start = time.time()
    with WorkerPeak() as workers:
        if mode == "old":
            import writers_baseline

            writers_baseline.write_run_files(staged, ranking, values, drift, previous, None,
                                             notes)
        else:
            from serving.writers import RunContent, write_run_files

            content = RunContent(ranking, values, drift, previous)
            write_run_files(staged, content, notes, lambda _: None)
    wall = time.time() - start
    result = {"wall": wall, "rss_before": before, "peak": _status_mb("VmHWM:"),
              "worker_peak": workers.peak}
    last = start
    for name in STAGES:
        done = (out / name).stat().st_mtime
        result[name] = done - last
        last = done
    result["exports"] = start + wall - last
    result["output_mb"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / MB
    return result


def drivers_timing(inputs: Path) -> dict[str, float]:
    """The old per-row driver sentences against ``driver_texts`` on the same contributions."""
    import pandas as pd
    import writers_baseline

    from serving.ranking import contribution_matrix, top_drivers

    ranking = pd.read_parquet(inputs / "ranking.parquet")
    values = pd.read_parquet(inputs / "values.parquet").set_index("unit_code")
    features = [c[6:] for c in ranking.columns if c.startswith("shap__") and c != "shap__base"]
    shap = contribution_matrix(ranking, [f"shap__{f}" for f in features])
    vals = values.loc[ranking["unit_code"], features].to_numpy()
    t0 = time.perf_counter()
    old = writers_baseline.top_drivers(shap, vals, features)
    t1 = time.perf_counter()
    new = top_drivers(shap, vals, features)
    t2 = time.perf_counter()
    return {"old": t1 - t0, "new": t2 - t1, "equal": float(old == new)}


# --- comparing the two runs' files -----------------------------------------------------------


def compare(old: Path, new: Path) -> list[str]:
    """What differs between the files of the two runs (empty: nothing)."""
    import openpyxl
    import pandas as pd

    problems = []
    for name, read in (("ranking.parquet", pd.read_parquet), ("ranking.csv", pd.read_csv),
                       ("explanations.parquet", pd.read_parquet)):
        try:
            pd.testing.assert_frame_equal(read(new / name), read(old / name))
        except AssertionError as exc:
            problems.append(f"{name}: {str(exc)[:200]}")
    names = sorted(p.name for p in (old / "gemeenten").iterdir())
    if names != sorted(p.name for p in (new / "gemeenten").iterdir()):
        problems.append("gemeenten/: other files")
    for name in names:
        a, b = old / "gemeenten" / name, new / "gemeenten" / name
        if name.endswith(".csv") and a.read_bytes() != b.read_bytes():
            problems.append(f"gemeenten/{name} differs")
        if name.endswith(".xlsx") and name in names[1:8]:
            cells = [[(c.value, c.number_format, c.font.bold) for c in row]
                     for book in (openpyxl.load_workbook(a), openpyxl.load_workbook(b))
                     for row in book.active.iter_rows()]
            half = len(cells) // 2
            if cells[:half] != cells[half:]:
                problems.append(f"gemeenten/{name}: other cells")
    return problems


def run_child(mode: str, inputs: Path, out: Path) -> dict[str, float]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, __file__, "--child", mode, str(inputs), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(n: int, work: Path) -> dict[str, object]:
    inputs = work / f"in-{n}"
    inputs.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build_inputs(n, inputs)
    print(f"  inputs of {n:,} units built in {time.perf_counter() - t0:.0f} s", flush=True)
    old = run_child("old", inputs, work / f"old-{n}")
    new = run_child("new", inputs, work / f"new-{n}")
    row: dict[str, object] = {"n": n, "old": old, "new": new}
    if n <= 20_000:
        row["problems"] = compare(work / f"old-{n}", work / f"new-{n}")
        row["drivers"] = drivers_timing(inputs)
    return row


def report(rows: list[dict[str, object]]) -> None:
    head = (f"{'units':>9} {'run':>4} {'wall s':>7} {'parquet':>7} {'csv':>6} {'expl':>6} "
            f"{'exports':>7} {'peak MB':>8} {'+inputs':>8} {'worker':>7} {'out MB':>7}")
    print(head)
    for row in rows:
        for mode in ("old", "new"):
            r = row[mode]
            print(f"{row['n']:>9,} {mode:>4} {r['wall']:>7.1f} {r['ranking.parquet']:>7.1f} "
                  f"{r['ranking.csv']:>6.1f} {r['explanations.parquet']:>6.1f} "
                  f"{r['exports']:>7.1f} {r['peak'] - r['rss_before']:>8.0f} "
                  f"{r['rss_before']:>8.0f} {r['worker_peak']:>7.0f} {r['output_mb']:>7.0f}")
        old, new = row["old"], row["new"]
        print(f"{'':>9} old/new wall {old['wall'] / new['wall']:.1f}x, peak above the inputs "
              f"{(old['peak'] - old['rss_before']) / max(new['peak'] - new['rss_before'], 1):.1f}x"
              f"; new peak (whole process) / output {new['peak'] / new['output_mb']:.2f}")
        if "drivers" in row:
            d = row["drivers"]
            print(f"{'':>9} drivers in words: old {d['old']:.2f} s, new {d['new']:.2f} s "
                  f"({d['old'] / d['new']:.1f}x), equal: {bool(d['equal'])}")
        if "problems" in row:
            print(f"{'':>9} files old vs new: {row['problems'] or 'the same content'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[14_500, 100_000])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, inputs, out = args.child
        print(json.dumps(child(mode, Path(inputs), Path(out))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-writers-"))
    rows = []
    for n in args.sizes:
        print(f"{n:,} units (files below {work})", flush=True)
        rows.append(measure(n, work))
    report(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

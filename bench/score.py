"""How fast is the scoring step, and how much does the job add to LightGBM's own work?

For each size (10k and 100k units; 1M with ``--large``) on a synthetic frame like the real
panel (~100 float features, ~2 % missing) and one booster (binary, 8 leaves, depth 3, 400
trees), fresh subprocesses measure

* ``job``:  ``serving.job.score_rows(predict, rows, features)`` with ``predict`` =
  ``partial(models.explain.predict_frame, booster, features, order="margin")`` (the rows in
  rank order, as the job asks the packaged model): contributions in chunks, risk and margin,
  the additivity check, ranks and the top-driver texts. Timed with each
  explanation method: ``native`` (LightGBM's ``pred_contrib``: the job before the kernel),
  ``fast`` (the kernel) and ``interventional`` (the kernel against 200 background rows, the
  job's default);
* ``bare``: ``booster.predict(X)`` + ``booster.predict(X, pred_contrib=True)`` on the same
  float64 matrix (and the contributions alone, for reference).

Time: the best of ``--repeat`` runs after a warm-up, job and bare interleaved in one process
so that a busy machine slows both alike; wall time and the CPU time of all threads (steadier
when other processes compete for the cores). Memory, each mode in its own fresh process: the
resident set just before one run and the peak during it (``ru_maxrss`` after resetting the
high-water mark through ``/proc/self/clear_refs``; without that, the peak since start), and
the peak of Python/numpy allocations during a separate traced run (``tracemalloc``;
LightGBM's own C++ buffers are not traced).

    python bench/score.py [--large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

N_FEATURES = 100
MISSING = 0.02
TRAIN_ROWS = 20_000
PARAMS = {
    "objective": "binary",
    "num_leaves": 8,
    "max_depth": 3,
    "learning_rate": 0.05,
    "num_threads": 1,
    "verbosity": -1,
    "seed": 7,
}
ROUNDS = 400
MB = 1024 * 1024


def feature_names(p: int = N_FEATURES) -> list[str]:
    """Names like the panel's: levels, 1- and 3-year changes, gemeente context."""
    from features.describe import TERMS

    base = list(TERMS)
    names = [*base, *(f"{b}_chg3" for b in base), *(f"{b}_chg1" for b in base)]
    names = ["gm_lbm_chg_prev", "gm_low_income_hh_pct_chg3", "lbm_chg_prev", *names]
    return list(dict.fromkeys(names))[:p]


def matrix(n: int, p: int, seed: int) -> np.ndarray:
    """(n, p) float64, C order: mixed scales and shapes, ~2 % NaN."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, ::3] = np.exp(X[:, ::3])  # some skewed features
    X *= rng.uniform(0.1, 50.0, p)
    X[rng.random((n, p)) < MISSING] = np.nan
    return X


def labels(X: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Z = np.nan_to_num((X - np.nanmean(X, axis=0)) / np.nanstd(X, axis=0))
    logit = -2.0 + Z[:, :10] @ rng.normal(0.0, 0.6, 10) + 0.5 * Z[:, 10] * Z[:, 11]
    return (rng.random(len(X)) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")


def rows_frame(X: np.ndarray, features: list[str], seed: int):  # -> pd.DataFrame
    """The scoring input: the panel's id columns and the features."""
    import pandas as pd

    n = len(X)
    rng = np.random.default_rng(seed)
    gm = rng.integers(0, 342, n)
    ids = pd.DataFrame(
        {
            "unit_code": pd.Series([f"BU{i:08d}" for i in range(n)], dtype="str"),
            "unit_name": pd.Series([f"Buurt {i}" for i in range(n)], dtype="str"),
            "gemeente_code": pd.Series([f"GM{g:04d}" for g in gm], dtype="str"),
            "gemeente_name": pd.Series([f"Gemeente {g}" for g in gm], dtype="str"),
            "as_of_year": np.full(n, 2022, dtype="int64"),
        }
    )
    return pd.concat([ids, pd.DataFrame(X, columns=features)], axis=1)


# --- the child: one size, one mode, a fresh process -------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _best(fn: Callable[[], object], repeat: int) -> float:
    return min(_timed(fn)[0] for _ in range(repeat))


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all the process's threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


JOB_METHODS = ("native", "fast", "interventional")


def _setup(
    mode: str, n: int, model: Path, method: str = "fast"
) -> tuple[Callable[[], object], Callable[[], object]]:
    """(the measured call, the contributions alone) for ``mode``, warmed up; ``job`` explains
    by ``method`` (``models.explain.explainer``; interventional against 200 rows of X)."""
    import lightgbm as lgb

    from models.explain import explainer, predict_frame
    from serving.job import score_rows

    booster = lgb.Booster(model_file=str(model))
    features = booster.feature_name()
    X = matrix(n, len(features), seed=n)

    def contrib() -> object:
        return booster.predict(X, pred_contrib=True)

    if mode == "job":
        rows = rows_frame(X, features, seed=n)
        how = explainer(booster, method, X[:200] if method == "interventional" else None)
        predict = partial(predict_frame, booster, features, using=how, order="margin")
        score_rows(predict, rows.iloc[:1000], features)  # warm-up
        return (lambda: score_rows(predict, rows, features)), contrib
    booster.predict(X[:1000], pred_contrib=True)  # warm-up
    return (lambda: (booster.predict(X), booster.predict(X, pred_contrib=True))), contrib


def child_memory(mode: str, n: int, model: Path) -> dict[str, float | str | int | bool]:
    """Resident set before, peak during one run, and the traced Python/numpy peak."""
    run, _ = _setup(mode, n, model)
    before = _rss_mb()
    reset = _reset_peak()
    seconds = _best(run, 1)
    peak = _peak_mb()
    tracemalloc.start()
    run()
    traced = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    return {
        "mode": mode,
        "n": n,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_mb": peak,
        "peak_reset": reset,
        "traced_peak_mb": traced,
    }


def child_time(n: int, model: Path, repeat: int) -> dict[str, float | int]:
    """Best-of-``repeat`` times of the job by each method, bare and the contributions alone,
    interleaved so that a busy machine slows them alike."""
    calls = {f"job_{m}": _setup("job", n, model, m)[0] for m in JOB_METHODS}
    bare, contrib = _setup("bare", n, model)
    calls.update(bare=bare, contrib=contrib)
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, fn in calls.items():
            wall, cpu = _timed(fn)
            times.setdefault(name, []).append(wall)
            times.setdefault(f"{name}_cpu", []).append(cpu)
    return {"n": n, **{k: min(v) for k, v in times.items()}}


# --- the parent ------------------------------------------------------------------------------


def train(path: Path) -> float:
    import lightgbm as lgb

    features = feature_names()
    X = matrix(TRAIN_ROWS, len(features), seed=1)
    started = time.perf_counter()
    data = lgb.Dataset(X, label=labels(X, seed=2), feature_name=features)
    booster = lgb.train(PARAMS, data, num_boost_round=ROUNDS)
    booster.save_model(str(path))
    return time.perf_counter() - started


def _child(args: list[str]) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    cmd = [sys.executable, __file__, *args]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(n: int, times: dict, memory: dict[str, dict], p: int) -> None:
    matrix_mb = n * p * 8 / MB
    output_mb = n * (p + 3) * 8 / MB
    print(
        f"\n{n:,} units x {p} features  (float matrix {matrix_mb:,.0f} MB; "
        f"risk + margin + contributions {output_mb:,.0f} MB)"
    )
    rows = [(f"job   score_rows, {m}", f"job_{m}") for m in JOB_METHODS]
    rows += [("bare  predict + pred_contrib", "bare"), ("      pred_contrib alone", "contrib")]
    print(f"  {'':<36} {'wall':>8}    {'rows/s':>10}   {'CPU':>8}")
    for name, key in rows:
        seconds, cpu = times[key], times[f"{key}_cpu"]
        print(f"  {name:<36} {seconds:8.3f} s  {n / seconds:>10,.0f}   {cpu:8.3f} s")
    for m in JOB_METHODS:
        job = f"job_{m}"
        print(
            f"  job ({m}) / bare: wall {times[job] / times['bare']:.2f}, CPU "
            f"{times[f'{job}_cpu'] / times['bare_cpu']:.2f};  / pred_contrib alone: wall "
            f"{times[job] / times['contrib']:.2f}"
        )
    for mode in ("job", "bare"):
        r = memory[mode]
        extra = r["peak_mb"] - r["rss_before_mb"]
        note = "" if r["peak_reset"] else "  [peak since process start]"
        print(
            f"  {mode:<4} memory: resident before {r['rss_before_mb']:6,.0f} MB, peak during "
            f"{r['peak_mb']:6,.0f} MB (+{extra:,.0f}); traced Python/numpy peak "
            f"{r['traced_peak_mb']:,.0f} MB{note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also 1,000,000 units")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--child", choices=["time", "job", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "time":
        print(json.dumps(child_time(args.n, args.model, args.repeat)))
        return
    if args.child:
        print(json.dumps(child_memory(args.child, args.n, args.model)))
        return
    sizes = [*args.sizes, *([1_000_000] if args.large else [])]
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "booster.txt"
        seconds = train(model)
        print(
            f"trained {ROUNDS} trees (num_leaves 8, max_depth 3, 1 thread) on {TRAIN_ROWS:,} "
            f"rows in {seconds:.1f} s; scoring with LightGBM's default threads "
            f"({os.cpu_count()} CPUs); load average {os.getloadavg()[0]:.1f}"
        )
        for n in sizes:
            repeat = args.repeat if n <= 100_000 else 1
            common = ["--n", str(n), "--model", str(model)]
            times = _child(["--child", "time", "--repeat", str(repeat), *common])
            memory = {m: _child(["--child", m, *common]) for m in ("job", "bare")}
            report(n, times, memory, N_FEATURES)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()

"""Benchmark: matminer vs mi's fast backend, end to end from formula strings.

For each n (default 1e3, 1e4, 1e5, 1e6) a fresh worker process generates n random formula
strings (1-9 distinct elements over H..Lr, amounts omitted / integer / 1-3 decimals; see
``mi.features.validation.random_formulas``), then times ``featurize(formulas, preset,
backend=...)`` from the list of strings to the DataFrame (float32 for the fast backend), after
one warm-up call (imports and element tables; its time is printed separately). Peak memory is
the worker's peak RSS (``ru_maxrss``), which includes the imports (pymatgen, matminer) and the
formula list. matminer runs only where n <= --matminer-max (default 1e4); larger sizes show its
rate *extrapolated* from the largest measured size, labelled as such. The max relative
difference compares fast and matminer on the compositions where both ran.

``--stream N`` additionally streams N compositions in chunks to a Parquet file
(``featurize_to_parquet``) and reports throughput and peak RSS (the chunks cycle through a
pool of 1e6 random formulas; the file is deleted afterwards).

``--exactness`` runs the fast == matminer check on real compositions of the shared datasets
plus random ones for every shipped composition preset.

Timings come from a shared machine (about 7 engineers on 2 cores): treat them as indicative.
The script prints a table and ends with one JSON line.

Usage::

    .venv/bin/python benchmarks/featurize.py                    # 1e3 .. 1e6, magpie
    .venv/bin/python benchmarks/featurize.py --sizes 1000 10000 --stream 10000000
    .venv/bin/python benchmarks/featurize.py --exactness --exact-real 5000 --exact-random 1000
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
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- worker ------------------------------------------------------------------------------------
def worker(n: int, backend: str, preset: str, seed: int, out: str | None, n_jobs: int | None):
    warnings.simplefilter("ignore")
    from mi.features import featurize
    from mi.features.validation import random_formulas

    formulas = random_formulas(n, seed=seed)
    t0 = time.perf_counter()
    featurize(["Fe2O3"], preset=preset, backend=backend)  # warm-up: imports, element tables
    warm = time.perf_counter() - t0
    dtype = np.float32 if backend == "fast" else np.float64
    t0, c0 = time.perf_counter(), time.process_time()
    df = featurize(formulas, preset=preset, backend=backend, dtype=dtype, n_jobs=n_jobs)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if out:  # for the exactness comparison: the same call in float64 (not timed)
        full = featurize(formulas, preset=preset, backend=backend, dtype=np.float64)
        np.save(out, full.to_numpy())
    print(json.dumps({"n": n, "backend": backend, "seconds": elapsed, "cpu_seconds": cpu,
                      "warmup_s": warm, "load": os.getloadavg()[0],
                      "peak_rss_mb": _peak_rss_mb(), "shape": list(df.shape)}))  # fmt: skip


def stream_worker(n: int, preset: str, chunk: int, n_jobs: int | None):
    warnings.simplefilter("ignore")
    from mi.features import featurize, featurize_to_parquet
    from mi.features.validation import random_formulas

    pool = random_formulas(min(n, 1_000_000), seed=7)

    def chunks():
        done = 0
        while done < n:
            size = min(chunk, n - done)
            start = done % len(pool)
            part = pool[start : start + size]
            if len(part) < size:
                part = part + pool[: size - len(part)]
            done += size
            yield part

    featurize(["Fe2O3"], preset=preset)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.parquet"
        t0, c0 = time.perf_counter(), time.process_time()
        featurize_to_parquet(chunks(), path, preset=preset, n_jobs=n_jobs)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        size_mb = path.stat().st_size / 2**20
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
    print(json.dumps({"n": n, "rows": rows, "seconds": elapsed, "cpu_seconds": cpu,
                      "parquet_mb": size_mb,
                      "peak_rss_mb": _peak_rss_mb()}))  # fmt: skip


def _run(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    res = subprocess.run([PY, __file__, *args], capture_output=True, text=True, env=env,
                         cwd=REPO, check=False)  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# -- exactness ---------------------------------------------------------------------------------
def exactness(n_real: int, n_random: int, data_dir: Path) -> list[dict]:
    warnings.simplefilter("ignore")
    from mi.features import featurize
    from mi.features.validation import compare_features, random_formulas, real_formulas

    real = real_formulas(data_dir)
    rng = np.random.default_rng(0)
    picked = [real[i] for i in rng.choice(len(real), size=min(n_real, len(real)), replace=False)]
    formulas = picked + random_formulas(n_random, seed=1)
    rows = []
    for preset in ("magpie", "magnet", "conductor"):
        t0 = time.perf_counter()
        fast = featurize(formulas, preset=preset)
        t1 = time.perf_counter()
        slow = featurize(formulas, preset=preset, backend="matminer")
        t2 = time.perf_counter()
        cmp = compare_features(fast, slow)
        rows.append({"preset": preset, "n": len(formulas), "n_real": len(picked),
                     "n_random": n_random, "fast_s": t1 - t0, "matminer_s": t2 - t1,
                     **cmp})  # fmt: skip
        print(f"{preset:10s} n={len(formulas):6d} (real {len(picked)}, random {n_random})  "
              f"max_rel_diff={cmp['max_rel_diff']:.3g}  nan_mismatch={cmp['nan_mismatch']}  "
              f"bit-identical {cmp['n_identical']}/{cmp['n_entries']}  "
              f"matminer {len(formulas) / (t2 - t1):.0f}/s", flush=True)  # fmt: skip
    return rows


# -- main --------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6])
    ap.add_argument("--preset", default="magpie")
    ap.add_argument("--matminer-max", type=float, default=1e4)
    ap.add_argument("--n-jobs", type=int, default=None, help="threads for the fast backend")
    ap.add_argument("--repeat", type=int, default=3, help="fast runs per size (median shown)")
    ap.add_argument("--stream", type=float, default=0, help="also stream N rows to Parquet")
    ap.add_argument("--stream-chunk", type=int, default=250_000)
    ap.add_argument("--exactness", action="store_true")
    ap.add_argument("--exact-real", type=int, default=5000)
    ap.add_argument("--exact-random", type=int, default=1000)
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--worker", nargs=3, metavar=("N", "BACKEND", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--stream-worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        n, backend, out = args.worker
        worker(int(n), backend, args.preset, 3, None if out == "-" else out, args.n_jobs)
        return
    if args.stream_worker:
        stream_worker(args.stream_worker, args.preset, args.stream_chunk, args.n_jobs)
        return

    from mi.config import resolve_n_jobs
    from mi.features.core import _threads

    print(f"# featurize benchmark, preset={args.preset}; shared, loaded machine "
          f"(load average {os.getloadavg()[0]:.1f}, CPU quota {resolve_n_jobs(-1)} cores, "
          f"fast backend threads {_threads(args.n_jobs)}: one while the load average reaches the "
          "CPU count)", flush=True)  # fmt: skip
    if args.exactness:
        exactness(args.exact_real, args.exact_random, Path(args.data_dir))

    jobs_args = [] if args.n_jobs is None else ["--n-jobs", str(args.n_jobs)]
    rows = []
    mm_rate = None
    max_rel = 0.0
    header = (f"{'n':>9} | {'matminer /s':>18} | {'fast /s':>9} | {'fast /s range':>17} | "
              f"{'ratio':>7} | "
              f"{'fast s':>7} | {'fast CPU s':>10} | {'load':>5} | {'peak RSS MB':>11} | "
              f"{'max rel diff':>12}")  # fmt: skip
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n = int(size)
            fast_out = str(Path(tmp) / f"fast{n}.npy") if n <= args.matminer_max else "-"
            runs = [
                _run(["--worker", str(n), "fast", fast_out if k == 0 else "-", "--preset",
                      args.preset, *jobs_args])
                for k in range(args.repeat)
            ]  # fmt: skip
            runs.sort(key=lambda r: r["seconds"])
            fast = runs[len(runs) // 2]  # median run (the machine is shared: timings vary)
            fast["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
            fast_rate = n / fast["seconds"]
            spread = f"{n / runs[-1]['seconds']:,.0f}-{n / runs[0]['seconds']:,.0f}"
            label = ""
            rel = float("nan")
            if n <= args.matminer_max:
                mm_out = str(Path(tmp) / f"mm{n}.npy")
                mm = _run(["--worker", str(n), "matminer", mm_out, "--preset", args.preset])
                mm_rate = n / mm["seconds"]
                a, b = np.load(fast_out), np.load(mm_out)
                if not np.array_equal(np.isnan(a), np.isnan(b)):
                    raise SystemExit("NaN positions differ between fast and matminer")
                ok = ~np.isnan(b) & (a != b)
                rel = float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))) if ok.any() else 0.0
                max_rel = max(max_rel, rel)
                mm_text = f"{mm_rate:,.0f}"
            else:
                label = " (extrapolated)"
                mm_text = f"{mm_rate:,.0f}*" if mm_rate else "n/a"
            ratio = fast_rate / mm_rate if mm_rate else float("nan")
            row = {"n": n, "matminer_per_s": mm_rate, "matminer_extrapolated": bool(label),
                   "fast_per_s": fast_rate, "fast_per_s_range": spread, "ratio": ratio,
                   "fast_seconds": fast["seconds"],
                   "fast_cpu_seconds": fast["cpu_seconds"], "load": fast["load"],
                   "fast_warmup_s": fast["warmup_s"], "peak_rss_mb": fast["peak_rss_mb"],
                   "max_rel_diff": rel}  # fmt: skip
            rows.append(row)
            print(f"{n:>9,} | {mm_text:>18} | {fast_rate:>9,.0f} | {spread:>17} | {ratio:>7,.0f} | "
                  f"{fast['seconds']:>7.2f} | {fast['cpu_seconds']:>10.2f} | "
                  f"{fast['load']:>5.1f} | "
                  f"{fast['peak_rss_mb']:>11,.0f} | {rel:>12.2g}"
                  f"{label}", flush=True)  # fmt: skip
    print("* matminer rate extrapolated from the largest measured size (matminer's cost is "
          "linear in n); timed fast output is float32, max rel diff compares its float64 run; "
          f"first-call warm-up (imports, element tables) {rows[-1]['fast_warmup_s']:.1f} s, "
          "not included; fast /s is the median of --repeat fresh-process runs (range: slowest-"
          "fastest); 'fast CPU s' is that run's process CPU time (all threads) and 'load' the "
          "1-minute load average of the shared 2-core machine when it started.")  # fmt: skip
    stream = None
    if args.stream:
        stream = _run(["--stream-worker", str(int(args.stream)), "--preset", args.preset,
                       "--stream-chunk", str(args.stream_chunk), *jobs_args])  # fmt: skip
        print(f"stream to Parquet: {stream['rows']:,} rows in {stream['seconds']:.1f} s "
              f"({stream['rows'] / stream['seconds']:,.0f}/s), file {stream['parquet_mb']:,.0f} MB "
              f"(deleted), peak RSS {stream['peak_rss_mb']:,.0f} MB, chunks of "
              f"{args.stream_chunk:,}")  # fmt: skip
    last = rows[-1]
    final = {"n": last["n"], "matminer_per_s": last["matminer_per_s"],
             "matminer_extrapolated": last["matminer_extrapolated"],
             "fast_per_s": last["fast_per_s"], "fast_per_s_range": last["fast_per_s_range"],
             "ratio": last["ratio"], "max_rel_diff": max_rel,
             "fast_per_cpu_s": last["n"] / last["fast_cpu_seconds"],
             "peak_rss_mb": last["peak_rss_mb"], "preset": args.preset, "dtype": "float32",
             "machine": "shared 2-core, loaded"}  # fmt: skip
    if stream:
        final["stream"] = {"n": stream["rows"], "per_s": stream["rows"] / stream["seconds"],
                           "peak_rss_mb": stream["peak_rss_mb"]}  # fmt: skip
    print(json.dumps(final))


if __name__ == "__main__":
    main()

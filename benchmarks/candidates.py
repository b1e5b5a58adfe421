"""Candidate-generation benchmark: throughput and memory of mi.candidates.

Cases (each in a fresh subprocess, so peak memory is per case):

- ``size_1e12``      building a 10^12-point template and reading ``.size`` (nothing generated)
- ``gen_nodedup``    streaming ~10^7 template candidates, no deduplication
- ``gen_hash``       the same with hash deduplication (the default)
- ``gen_constrained``  hash dedup + Dy/Tb mass budget (mi.criticality) + max 6 elements
- ``gen_exact``      exact (key-string) deduplication, on a 10^6 subset for comparison
- ``substitute``     substitution from the SuperCon seeds (group rule), if the data is there
- ``charge_balance`` ChargeBalanced on 2,000 oxide candidates: first pass and cached pass

Throughput = grid points processed per second (template cases) including building the
``CompositionMatrix`` chunks, per wall-clock second and per CPU second of this process (the
latter is less sensitive to other users' load; generation is single-threaded). Peak RSS is
the process maximum resident set size.
Timings are taken on a shared, loaded machine (2 cores, several engineers working at once).

Usage::

    .venv/bin/python benchmarks/candidates.py            # full run (~10^7 candidates)
    .venv/bin/python benchmarks/candidates.py --scale 0.1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CHUNK = 1 << 16


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _template(scale: float):
    from mi.candidates import Template

    step = 0.01 if scale >= 1 else 0.02
    return Template(
        "(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z-w}Co{z}[M]{w})14B",
        ranges={
            "x": (0, 1, step),
            "y": (0, 1, step),
            "z": (0, 0.30, 0.01),
            "w": (0, 0.15, 0.01),
        },
        sites={"M": ["Ni", "Cu", "Ga", "Al"]},
    )


def _run_template(scale: float, dedup, constraints=(), limit: int | None = None) -> dict:
    from mi.candidates import ConstraintReport

    t0 = time.perf_counter()
    t = _template(scale)
    size = t.size
    build = time.perf_counter() - t0
    report = ConstraintReport()
    kept = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for m in t.iter_chunks(CHUNK, dedup=dedup, constraints=constraints, report=report):
        kept += m.n
        if limit is not None and report.n_input >= limit:
            break
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "template_size": size,
        "build_s": round(build, 3),
        "points": report.n_input,
        "kept": kept,
        "seconds": round(dt, 2),
        "points_per_s": round(report.n_input / dt),
        "cpu_s": round(cpu, 2),
        "points_per_cpu_s": round(report.n_input / cpu),
        "removed": report.removed,
    }


def case_size_1e12(scale: float) -> dict:
    from mi.candidates import Template

    t0 = time.perf_counter()
    t = Template("Fe{a}Co{b}Ni{c}Cu{d}Al{e}Ga{f}", ranges={k: (0.01, 1.0, 0.01) for k in "abcdef"})
    size = t.size
    dt = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = next(t.iter_chunks(CHUNK))
    return {
        "size": size,
        "seconds": round(dt, 4),
        "first_chunk_s": round(time.perf_counter() - t0, 4),
        "first_chunk_rows": first.n,
    }


def case_gen_nodedup(scale: float) -> dict:
    return _run_template(scale, dedup=False)


def case_gen_hash(scale: float) -> dict:
    return _run_template(scale, dedup="hash")


def case_gen_constrained(scale: float) -> dict:
    from mi.candidates import MaxElements
    from mi.criticality import max_mass_fraction

    return _run_template(
        scale, dedup="hash", constraints=[max_mass_fraction({"Dy", "Tb"}, 0.01), MaxElements(6)]
    )


def case_gen_exact(scale: float) -> dict:
    return _run_template(scale, dedup="exact", limit=int(1_000_000 * min(scale, 1.0)))


def case_substitute(scale: float) -> dict:
    from mi.candidates import substitute
    from mi.data import load_dataset

    try:
        ds = load_dataset("supercon")
    except Exception as exc:  # data not available here
        return {"skipped": f"{type(exc).__name__}: {exc}"[:120]}
    t0 = time.perf_counter()
    pool = substitute(ds, method="group", threshold=0.5)
    dt = time.perf_counter() - t0
    return {
        "seeds": len(ds.df),
        "proposed": pool.report.n_input,
        "kept": len(pool),
        "seconds": round(dt, 2),
        "proposed_per_s": round(pool.report.n_input / dt),
    }


def case_charge_balance(scale: float) -> dict:
    from mi.candidates import ChargeBalanced, Template

    t = Template(
        "Li{1-x}[A]{x}[B]{1-y}[C]{y}O2",
        ranges={"x": (0, 0.5, 0.05), "y": (0, 1, 0.05)},
        sites={"A": ["Na", "K", "Mg"], "B": ["Co", "Ni", "Mn"], "C": ["Fe", "Al", "Ti"]},
    )
    from mi.chem import CompositionMatrix

    m = CompositionMatrix.concat(list(t.iter_chunks(CHUNK)))
    m = m.take(list(range(min(2000, m.n))))
    cb = ChargeBalanced(cache={})
    t0 = time.perf_counter()
    ok = cb(m)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    cb(m)
    second = time.perf_counter() - t0
    return {
        "rows": m.n,
        "balanced": int(ok.sum()),
        "first_s": round(first, 2),
        "ms_per_formula": round(1000 * first / max(cb.misses, 1), 2),
        "cached_s": round(second, 3),
    }


CASES = {name[len("case_") :]: fn for name, fn in globals().items() if name.startswith("case_")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: ~10^7 candidates")
    parser.add_argument("--case", choices=sorted(CASES), help="run one case in-process")
    args = parser.parse_args()
    if args.case:
        out = CASES[args.case](args.scale)
        out["peak_rss_mb"] = round(_rss_mb(), 1)
        print(json.dumps(out))
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    results = {}
    for name in CASES:
        proc = subprocess.run(
            [sys.executable, __file__, "--case", name, "--scale", str(args.scale)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            results[name] = {"error": proc.stderr.strip().splitlines()[-1:]}
        else:
            results[name] = json.loads(lines[-1])
    print("mi.candidates benchmark (timings on a shared, loaded machine: 2 cores, ~7 users)")
    print(
        f"{'case':<16} {'points':>12} {'kept':>12} {'seconds':>8} {'points/s':>11} "
        f"{'pts/CPU-s':>11} {'RSS MB':>7}"
    )
    for name, r in results.items():
        points = r.get("points", r.get("size", r.get("proposed", r.get("rows", ""))))
        kept = r.get("kept", r.get("balanced", ""))
        secs = r.get("seconds", r.get("first_s", ""))
        rate = r.get("points_per_s", r.get("proposed_per_s", ""))
        print(
            f"{name:<16} {points!s:>12} {kept!s:>12} {secs!s:>8} {rate!s:>11} "
            f"{r.get('points_per_cpu_s', '')!s:>11} {r.get('peak_rss_mb', '')!s:>7}"
        )
    for name, r in results.items():
        extra = {k: v for k, v in r.items() if k in ("removed", "error", "skipped")}
        if extra:
            print(f"  {name}: {extra}")
    print(json.dumps({"benchmark": "candidates", "scale": args.scale, "results": results}))


if __name__ == "__main__":
    main()

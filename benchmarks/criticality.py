"""Throughput of mi.criticality.score and the constraints on a composition matrix.

Builds N random compositions (2-5 elements drawn from magnet/conductor chemistry, random
amounts) as a ``mi.chem.CompositionMatrix`` and times ``score`` (all columns, with and without
the ``composition`` string column) and three constraints, as of one date (``--as-of``, default
today): the per-element risk vector is computed once for that date (the warm-up call), then every
call is one sparse matrix product. Target: >= 200,000 compositions/s.

Usage::

    .venv/bin/python benchmarks/criticality.py [--n 500000] [--repeats 3]

Prints a table, then one JSON line. Timings are wall-clock on whatever machine runs this
(the project machine is shared and loaded: treat figures as lower bounds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from scipy import sparse

from mi.chem import ELEMENTS, CompositionMatrix, element_index
from mi.criticality import exclude_elements, max_mass_fraction, max_supply_risk, score

POOL = (
    "B C N O Al Si P S Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge Y Zr Nb Mo "
    "La Ce Pr Nd Sm Gd Tb Dy Ho Cu Ba Sr Bi Sn In Pt H"
).split()


def make_matrix(n: int, seed: int = 0) -> CompositionMatrix:
    rng = np.random.default_rng(seed)
    pool = np.array([element_index(s) for s in dict.fromkeys(POOL)])
    k = rng.integers(2, 6, size=n)
    indptr = np.concatenate([[0], np.cumsum(k)])
    cols = np.concatenate([rng.choice(pool, size=ki, replace=False) for ki in k[:20000]])
    # reuse the element choices of the first 20000 rows cyclically (fast set-up, same sparsity)
    if n > 20000:
        reps = -(-n // 20000)
        base_k, base_cols = k[:20000], cols
        k = np.tile(base_k, reps)[:n]
        indptr = np.concatenate([[0], np.cumsum(k)])
        cols = np.tile(base_cols, reps)[: indptr[-1]]
    vals = rng.uniform(0.05, 14.0, size=indptr[-1])
    csr = sparse.csr_matrix((vals, cols, indptr), shape=(n, len(ELEMENTS)))
    csr.sort_indices()
    return CompositionMatrix.from_amounts(csr)


def timed(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--as-of", default=None, help="YYYY-MM-DD (default today)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    cm = make_matrix(args.n)
    setup_s = time.perf_counter() - t0
    as_of = args.as_of
    warm = score(cm.take(np.arange(10)), as_of=as_of)  # tables and the element risk vector
    as_of = warm.attrs["as_of"]

    cases = {
        "score (all columns, no strings)": lambda: score(cm, as_of=as_of),
        "score (+ composition strings)": lambda: score(cm, include_composition=True, as_of=as_of),
        "max_mass_fraction({Dy,Tb}, 0.01)": lambda: max_mass_fraction({"Dy", "Tb"}, 0.01)(cm),
        "exclude_elements(Co, Ga)": lambda: exclude_elements("Co", "Ga")(cm),
        "max_supply_risk(0.2)": lambda: max_supply_risk(0.2, as_of=as_of)(cm),
    }
    results = {}
    for name, fn in cases.items():
        seconds = timed(fn, args.repeats)
        results[name] = {"seconds": seconds, "per_s": args.n / seconds}

    df = score(cm, as_of=as_of)
    n_nan = int(df["supply_risk"].isna().sum())

    print(
        f"mi.criticality throughput, N = {args.n:,} random compositions (2-5 elements), "
        f"supply risk as of {as_of}"
    )
    print(
        "timed on a shared, loaded machine (wall clock, best of "
        f"{args.repeats}); treat figures as lower bounds"
    )
    print(f"matrix set-up {setup_s:.2f} s; rows with NaN supply_risk (contain H): {n_nan:,}")
    print(f"{'operation':<36} {'seconds':>9} {'compositions/s':>16}")
    for name, r in results.items():
        print(f"{name:<36} {r['seconds']:>9.3f} {r['per_s']:>16,.0f}")
    headline = results["score (all columns, no strings)"]["per_s"]
    print(f"target >= 200,000/s: {'met' if headline >= 200_000 else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "criticality",
                "n": args.n,
                "repeats": args.repeats,
                "as_of": as_of,
                "score_per_s": round(headline),
                "score_with_strings_per_s": round(
                    results["score (+ composition strings)"]["per_s"]
                ),
                "max_mass_fraction_per_s": round(
                    results["max_mass_fraction({Dy,Tb}, 0.01)"]["per_s"]
                ),
                "exclude_elements_per_s": round(results["exclude_elements(Co, Ga)"]["per_s"]),
                "max_supply_risk_per_s": round(results["max_supply_risk(0.2)"]["per_s"]),
                "target_per_s": 200_000,
                "target_met": bool(headline >= 200_000),
                "machine": f"{platform.machine()} {os.cpu_count()} cpus (shared, loaded)",
            }
        )
    )


if __name__ == "__main__":
    main()

"""xgboost wall time by thread count and OpenMP wait policy (why mi.models sets PASSIVE).

Each configuration runs in a fresh subprocess (the OpenMP runtime reads ``OMP_WAIT_POLICY``
once, when xgboost's library loads) and fits the same model twice. ``mi.models`` sets
``OMP_WAIT_POLICY=PASSIVE`` when the variable is unset and caps ``nthread`` at the CPU quota
(:func:`mi.config.cpu_quota`); "unset" shows libgomp's default (spin, then sleep).

Usage::

    .venv/bin/python benchmarks/model_threads.py [--rows 5000] [--trees 150]

Prints a table, then one JSON line. Timings come from a shared, loaded machine: compare rows
of the same run only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np
import xgboost as xgb
rows, trees, nthread = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
X = rng.normal(size=(rows, 200)); y = X[:, 0] + rng.normal(size=rows)
walls = []
for _ in range(2):
    t = time.perf_counter()
    xgb.XGBRegressor(n_estimators=trees, max_depth=6, n_jobs=nthread, tree_method="hist").fit(X, y)
    walls.append(time.perf_counter() - t)
print(json.dumps({"best_wall_s": min(walls), "cpu_s": time.process_time()}))
"""


def run(policy: str | None, nthread: int, rows: int, trees: int) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("OMP_NUM_THREADS", None)
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(rows), str(trees), str(nthread)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--trees", type=int, default=150)
    args = parser.parse_args()
    from mi.config import cpu_quota

    quota = cpu_quota()
    print(
        f"CPU quota {quota}, os.cpu_count {os.cpu_count()}, load {os.getloadavg()[0]:.1f} "
        "(shared, loaded machine)"
    )
    print(f"{'OMP_WAIT_POLICY':<16} {'nthread':>7} {'wall s':>8} {'cpu s':>8}")
    results = []
    for policy in ("PASSIVE", None, "ACTIVE"):
        for nthread in sorted({1, max(2, quota)}):
            r = run(policy, nthread, args.rows, args.trees)
            results.append({"policy": policy or "unset", "nthread": nthread, **r})
            print(
                f"{policy or 'unset':<16} {nthread:>7} {r['best_wall_s']:>8.2f} {r['cpu_s']:>8.2f}",
                flush=True,
            )
    print(json.dumps({"benchmark": "model_threads", "quota": quota, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Retrospective discovery benchmark of mi.active on real data (SuperCon, band gaps, Curie).

    .venv/bin/python benchmarks/discovery.py            # full: 20 seeds per case (< 20 min)
    .venv/bin/python benchmarks/discovery.py --quick    # smoke test: 3 seeds, small budgets
    .venv/bin/python benchmarks/discovery.py --cases expt_gap --seeds 30 --n-jobs 2

Prints a table with the published anchors beside the figures and one JSON line per case
(protocols and metric definitions: mi/active/cases.py and mi/active/metrics.py). Timings come
from a shared, loaded machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test (3 seeds)")
    parser.add_argument("--cases", nargs="*", default=None, help="cases (default: all)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per case (default 20)")
    parser.add_argument("--n-jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "MI_DATA_DIR" not in os.environ and SHARED.is_dir():
        os.environ["MI_DATA_DIR"] = str(SHARED)
    from mi.active.cases import run_report

    run_report(args.cases, quick=args.quick, n_seeds=args.seeds, n_jobs=args.n_jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

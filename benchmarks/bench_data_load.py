"""Load time of each registered real dataset (cold and memoised) and its row accounting.

Run: ``MI_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/bench_data_load.py``.
Cold = verify sha256 + parse + validate + merge; warm = in-process memo (returns a copy).
Timings are wall-clock on whatever machine runs it (a shared, loaded 2-core machine when
these figures were first taken): compare only runs on the same machine.
"""

from __future__ import annotations

import json
import time

from mi.data import cache as _cache
from mi.data import load_dataset
from mi.data import registry as _registry

NAMES = ["supercon", "expt_gap", "curie_tc", "novamag", "mp_magnetism", "obelix"]


def main() -> None:
    load_dataset("obelix")  # import warm-up, not timed
    results = []
    print(
        f"{'dataset':<14}{'input':>8}{'accepted':>10}{'rejected':>10}{'merged':>8}"
        f"{'output':>8}{'cold s':>9}{'warm s':>9}"
    )
    for name in NAMES:
        _registry._LOADED.clear()
        _cache._VERIFIED.clear()
        t0 = time.perf_counter()
        ds = load_dataset(name)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_dataset(name)
        warm = time.perf_counter() - t0
        r = ds.report
        assert r.n_input == r.n_accepted + r.n_rejected
        row = {
            "dataset": name,
            "n_input": r.n_input,
            "n_accepted": r.n_accepted,
            "n_rejected": r.n_rejected,
            "n_merged_groups": r.n_merged_groups,
            "n_output": r.n_output,
            "cold_s": round(cold, 3),
            "warm_s": round(warm, 4),
        }
        results.append(row)
        print(
            f"{name:<14}{r.n_input:>8}{r.n_accepted:>10}{r.n_rejected:>10}"
            f"{r.n_merged_groups:>8}{r.n_output:>8}{cold:>9.3f}{warm:>9.4f}"
        )
    total = sum(r["cold_s"] for r in results)
    print(f"total cold load of the six datasets: {total:.2f} s (shared, loaded machine)")
    print(
        json.dumps({"benchmark": "data_load", "results": results, "total_cold_s": round(total, 3)})
    )


if __name__ == "__main__":
    main()

"""Peak memory of ``mi.data.read_table`` on large CSV tables, as a multiple of the file size.

Run: ``python benchmarks/ingest_memory.py [--sizes 10 100]`` (MB). For each size a CSV of
random ternary compositions (two-decimal amounts, ~3 % repeated rows so merging is exercised)
and a target column with ~1 % invalid cells is written to a temporary folder, then read in a
fresh child process; the child's peak resident memory (``ru_maxrss``) is compared with the
file size. ``baseline`` is the peak of a child that only imports ``mi.data`` (interpreter,
numpy, pandas, pyarrow); ``ratio`` counts the whole child, ``ratio above baseline`` only what
reading the table added. ``--extra`` adds a text column (``lab``, one of 40 names) and a numeric
column (``T_K``) to every row: the chunked path then also carries those columns and reports
merged groups that differ in them. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, time
from mi.data import read_table
t0 = time.perf_counter()
args = sys.argv[1:]
ds = read_table(args[0], composition_col="formula", targets=["Tc"]) if args else None
out = {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
       "seconds": time.perf_counter() - t0}
if ds is not None:
    r = ds.report
    assert r.n_input == r.n_accepted + r.n_rejected
    out.update(columns=len(ds.df.columns), differs=int((r.merged["differs_in"] != "").sum()),
               rows=r.n_input, accepted=r.n_accepted, rejected=r.n_rejected, output=len(ds.df))
print(json.dumps(out))
"""

ELEMENTS = np.array(["Fe", "Co", "Ni", "Nd", "Pr", "Dy", "B", "O", "Cu", "Al", "Si", "Ti",
                     "Mn", "Sm", "Ga", "Zr", "Nb", "Mo", "La", "Ce"])  # fmt: skip


LABS = np.array([f"lab {chr(65 + i % 26)}{i}" for i in range(40)])


def write_table(path: Path, megabytes: float, seed: int = 0, extra: bool = False) -> int:
    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w") as fh:
        fh.write("formula,Tc,lab,T_K\n" if extra else "formula,Tc\n")
        while fh.tell() < megabytes * 1e6:
            n = 50_000
            el = ELEMENTS[rng.integers(0, len(ELEMENTS), (n, 3))]
            amt = np.round(rng.uniform(0.05, 3, (n, 3)), 2).astype(str)
            formula = el[:, 0] + amt[:, 0] + el[:, 1] + amt[:, 1] + el[:, 2] + amt[:, 2]
            repeat = rng.random(n) < 0.03
            formula[repeat] = formula[0]
            tc = np.round(rng.normal(500, 150, n), 1).astype(str)
            tc[rng.random(n) < 0.01] = "n/a"
            if extra:
                lab = LABS[rng.integers(0, len(LABS), n)]
                temp = np.round(rng.uniform(4, 400, n), 1).astype(str)
                cells = zip(formula, tc, lab, temp, strict=True)
                fh.write("".join(f"{f},{t},{la},{k}\n" for f, t, la, k in cells))
            else:
                fh.write("".join(f"{f},{t}\n" for f, t in zip(formula, tc, strict=True)))
            rows += n
    return rows


def child(args: list[str]) -> dict[str, float]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[10, 100], help="file sizes, MB")
    ap.add_argument("--extra", action="store_true", help="add a text and a numeric column")
    args = ap.parse_args()
    base = child([])["peak"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.sizes:
            path = Path(tmp) / f"table_{mb:g}MB.csv"
            write_table(path, mb, extra=args.extra)
            size = path.stat().st_size
            r = child([str(path)])
            results.append(
                {
                    "file_mb": round(size / 1e6, 1),
                    "rows": r["rows"],
                    "columns": r["columns"],
                    "merged_differ": r["differs"],
                    "rejected": r["rejected"],
                    "output_rows": r["output"],
                    "peak_mb": round(r["peak"] / 1e6, 1),
                    "baseline_mb": round(base / 1e6, 1),
                    "ratio": round(r["peak"] / size, 2),
                    "ratio_above_baseline": round((r["peak"] - base) / size, 2),
                    "seconds": round(r["seconds"], 1),
                }
            )
    cols = list(results[0])
    print("".join(f"{c:>22}" for c in cols))
    for row in results:
        print("".join(f"{row[c]:>22,}" for c in cols))
    print(json.dumps({"benchmark": "ingest_memory", "extra": args.extra, "results": results}))


if __name__ == "__main__":
    main()

"""Execute every notebook in notebooks/ and print its wall time (and the figures it shows).

Usage::

    .venv/bin/python benchmarks/notebook_times.py [--out DIR] [NAME ...]

Each notebook runs in a fresh kernel of this interpreter (a throw-away kernelspec, as in
tests/test_notebooks.py), offline, with the working directory set to a temporary folder (or
``--out``, where the executed copies are also written for inspection). Prints a table and a
final JSON line. Timings include kernel start-up; on a shared, loaded machine they vary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_notebooks import CELL_TIMEOUT_S, install_kernel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="substrings of notebook names (default: all)")
    parser.add_argument("--out", type=Path, help="folder for executed copies and run outputs")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="mi-notebooks-"))
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MI_OFFLINE", "true")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MI_N_JOBS", "1")
    shared = ROOT.parent / "shared" / "datasets"
    if shared.is_dir():
        os.environ.setdefault("MI_DATA_DIR", str(shared))
    os.environ["JUPYTER_PATH"] = str(out / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(out / "jupyter-runtime")
    os.environ["IPYTHONDIR"] = str(out / "ipython")
    kernel = install_kernel(out / "jupyter")
    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if args.names and not any(n in path.name for n in args.names):
            continue
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            kernel_name=kernel,
            timeout=CELL_TIMEOUT_S,
            resources={"metadata": {"path": str(out)}},
        )
        t0 = time.perf_counter()
        error = ""
        try:
            client.execute()
        except Exception as exc:  # report and go on with the next notebook
            error = f"{type(exc).__name__}: {str(exc).splitlines()[-1] if str(exc) else ''}"
        seconds = time.perf_counter() - t0
        images = sum(
            "image/png" in o.get("data", {})
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        nbformat.write(nb, out / path.name)
        rows.append(
            {
                "notebook": path.name,
                "seconds": round(seconds, 1),
                "figures": images,
                "ok": not error,
                "error": error,
            }
        )
    print(f"{'notebook':38s} {'seconds':>8s} {'figures':>8s}  status")
    for r in rows:
        status = "ok" if r["ok"] else f"FAILED {r['error'][:60]}"
        print(f"{r['notebook']:38s} {r['seconds']:8.1f} {r['figures']:8d}  {status}")
    print(f"(executed copies in {out}; timings on a shared, loaded machine, kernel start included)")
    print(
        json.dumps(
            {"benchmark": "notebook_times", "cell_timeout_s": CELL_TIMEOUT_S, "results": rows}
        )
    )


if __name__ == "__main__":
    main()

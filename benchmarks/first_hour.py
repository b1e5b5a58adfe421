"""The first hour of a new user, timed: a fresh clone, ``make demo``, ``mi demo --quick``.

Clones this repository (its committed HEAD) into a temporary folder with ``shared`` beside it
(a link to ``../shared`` of this checkout, as on the project machines), then times, each in a
fresh process and exactly as the README says:

1. ``make venv``: creates ``.venv`` and installs mi with its runtime dependencies, with an
   empty pip cache unless ``--warm-pip-cache`` (the install step of ``make demo``);
2. ``make demo``: the demo run itself (the venv is up to date, so nothing is installed);
3. ``.venv/bin/mi demo --quick --out runs/quick``;
4. ``.venv/bin/mi demo --cv-folds 0 --out runs/demo-5fold`` with ``--full-cv``: the workflow's
   own 5-fold cross-validation, to compare with the demo default (3 folds).

For each step it prints the wall time, the CPU seconds of the child processes and the load
average before and after (the project machine is shared: quote the load with the figure).
Ends with one JSON line.

Usage::

    .venv/bin/python benchmarks/first_hour.py [--keep DIR] [--warm-pip-cache] [--full-cv]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _step(name: str, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> dict:
    load_before = os.getloadavg()[0]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - t0
    row = {
        "step": name,
        "command": " ".join(cmd),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(_children_cpu() - cpu0, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "ok": proc.returncode == 0,
        "log": str(log),
    }
    print(
        f"{name:22s} {row['seconds']:8.1f} s wall {row['cpu_seconds']:8.1f} s CPU  "
        f"load {row['load_before']:.1f} -> {row['load_after']:.1f}  "
        f"{'ok' if row['ok'] else 'FAILED, see ' + str(log)}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--warm-pip-cache", action="store_true", help="use the user's pip cache")
    parser.add_argument("--full-cv", action="store_true", help="also time the 5-fold demo")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="mi-first-hour-"))
    base.mkdir(parents=True, exist_ok=True)
    clone = base / "mi"
    if clone.exists():
        shutil.rmtree(clone)
    shared = ROOT.parent / "shared"
    if shared.is_dir() and not (base / "shared").exists():
        (base / "shared").symlink_to(shared)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MI_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    if not args.warm_pip_cache:
        env["PIP_CACHE_DIR"] = str(base / "pip-cache")  # empty: a cold cache
    logs = base / "logs"
    logs.mkdir(exist_ok=True)
    print(f"fresh clone in {clone}; cpus {os.cpu_count()}; logs in {logs}")
    rows = [
        _step("make venv (install)", ["make", "venv"], clone, env, logs / "install.log"),
        _step("make demo (run)", ["make", "demo"], clone, env, logs / "demo.log"),
        _step(
            "mi demo --quick",
            [".venv/bin/mi", "demo", "--quick", "--out", "runs/quick"],
            clone,
            env,
            logs / "quick.log",
        ),
    ]
    if args.full_cv:
        rows.append(
            _step(
                "mi demo --cv-folds 0",
                [".venv/bin/mi", "demo", "--cv-folds", "0", "--out", "runs/demo-5fold"],
                clone,
                env,
                logs / "demo-5fold.log",
            )
        )
    installed = subprocess.run(
        [str(clone / ".venv" / "bin" / "pip"), "list", "--format=freeze"],
        capture_output=True,
        text=True,
    ).stdout.split()
    total = sum(r["seconds"] for r in rows[:2])
    print(f"make demo from a fresh clone to its report: {total:.0f} s ({len(installed)} packages)")
    print(
        json.dumps(
            {
                "benchmark": "first_hour",
                "cpus": os.cpu_count(),
                "cold_pip_cache": not args.warm_pip_cache,
                "packages_installed": len(installed),
                "make_demo_total_seconds": round(total, 1),
                "steps": rows,
            }
        )
    )
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

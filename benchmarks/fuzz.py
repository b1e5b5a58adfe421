"""Fuzz campaign over every input surface of issue 18; prints the table and one JSON line.

Run: ``MI_DATA_DIR=../shared/datasets OMP_NUM_THREADS=1 python benchmarks/fuzz.py [--n 10000]``.

Areas and inputs (``--n`` per area, model folders ``--n-models``):

- formulas: random strings built from element symbols, digits, brackets, hydrate dots, NUL/CR,
  exponents, dummy species and long repeats, parsed one by one;
- tables: CSV files of 20 rows each (formula cells as above, target cells numbers/text/NaN);
  rows counted, so ``inputs`` is rows;
- structures: CIF / POSCAR / JSON files of NaCl and Fe2O3 with mutations (truncation, NaN or
  flat lattice, NaN coordinates, ``Xx`` species, POSCAR counts removed, byte flips);
- workflow specs and campaign specs: the valid base spec with 1-3 random values written at
  random keys (``parse_spec`` + the work bounds; campaign ``load_spec``);
- model folders: saved forest / xgboost models with arrays, JSON or booster blobs corrupted,
  loaded in a child process (a native crash is counted, then the child restarts).

Columns: accepted / reported (refused with an ``MIError``, or a rejected row); lost (rows
neither accepted nor reported); escapes (any non-``MIError`` exception, or a native crash);
hangs (one input over ``--hang-seconds``); wrong (accepted although the input is known bad:
NUL or control bytes, dummy species, hydrate dot, cells over 1,000 characters, unsafe names,
oversized grids, broken structures, a model that then cannot predict finite numbers).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MI_N_JOBS", "1")

PIECES = ["Fe", "O", "Nd", "Dy", "B", "Co", "Xx", "H2O", "Cu", "S", "(", ")", "[", "]", "{",
          "}", ".", "5", "2", "14", "0.5", "1e13", "1e-9", "e", "-", " ", "\x00", "\r", "\n",
          "·", "*", "@", "Na", "Cl", "D", "NaN", "0", ".5H2O", "Q", "fe"]  # fmt: skip
HYDRATE = re.compile(r"[A-Za-z)\]}][1-9]\d*\.(\d+)\s*\(?H2O\)?\s*$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def formula(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(PIECES) * rng.randint(200, 3000)
    if kind < 0.15:
        return "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 12)))
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 10)))


def known_bad_formula(cell: str) -> bool:
    return bool(
        CONTROL.search(cell.strip()) or "Xx" in cell or HYDRATE.search(cell) or len(cell) > 1000
    )


class Area:
    def __init__(self, name: str) -> None:
        self.name = name
        self.c: Counter[str] = Counter()
        self.examples: list[str] = []

    def note(self, kind: str, what: object) -> None:
        """Count one escape or wrong acceptance and keep a few examples (printed to stderr)."""
        self.c[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {str(what)[:160]!r}")

    def row(self) -> dict[str, object]:
        return {"area": self.name, **{k: self.c[k] for k in COLUMNS}}


COLUMNS = ["inputs", "accepted", "reported", "lost", "escapes", "hangs", "wrong"]


def timed(area: Area, hang: float, fn, *args):
    t0 = time.perf_counter()
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - classified below
        return None, exc
    finally:
        if time.perf_counter() - t0 > hang:
            area.c["hangs"] += 1


def run_formulas(n: int, rng: random.Random, hang: float) -> Area:
    from mi.chem import parse_formulas
    from mi.exceptions import MIError

    area = Area("formulas")
    for _ in range(n):
        cell = formula(rng)
        area.c["inputs"] += 1
        result, exc = timed(area, hang, parse_formulas, [cell], "report")
        if exc is not None:
            if isinstance(exc, MIError):
                area.c["reported"] += 1
            else:
                area.note("escapes", f"{type(exc).__name__}: {exc} <- {cell!r}")
            continue
        if bool(result.valid[0]):
            area.c["accepted"] += 1
            m = parse_formulas([cell])
            again = parse_formulas(m.formulas(), on_error="report")
            if (
                known_bad_formula(cell)
                or not again.valid[0]
                or (again.matrix.canonical_keys() != m.canonical_keys())
            ):
                area.c["wrong"] += 1
        elif result.errors:
            area.c["reported"] += 1
        else:
            area.c["lost"] += 1
    return area


def run_tables(n: int, rng: random.Random, hang: float, tmp: Path) -> Area:
    from mi.data import read_table
    from mi.exceptions import MIError

    area = Area("tables (rows)")
    targets = ["1.5", "-2", "nan", "inf", "1e308", "abc", "", "<3", "7\x00", "2\r3", "[1 2]"]
    while area.c["inputs"] < n:
        rows = []
        for _ in range(20):
            cell = formula(rng) if rng.random() < 0.5 else rng.choice(["Fe2O3", "NaCl", "Nd2Fe14B"])
            value = rng.choice(targets) if rng.random() < 0.4 else f"{rng.uniform(-5, 5):.3f}"
            rows.append((cell, value))
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)  # CR stays in its cell
        w.writerow(["formula", "y"])
        w.writerows(rows)
        path = tmp / "t.csv"
        path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
        area.c["inputs"] += len(rows)
        ds, exc = timed(area, hang, read_table, path, "formula", ["y"])
        if exc is not None:
            if isinstance(exc, MIError):
                area.c["reported"] += len(rows)
            else:
                area.note("escapes", f"{type(exc).__name__}: {exc}")
                area.c["escapes"] += len(rows) - 1
            continue
        r = ds.report
        area.c["accepted"] += r.n_accepted
        area.c["reported"] += r.n_rejected
        area.c["lost"] += max(0, len(rows) - r.n_accepted - r.n_rejected)
        rejected = set(r.rejected["row"].tolist()) if len(r.rejected) else set()
        bad = {i for i, (cell, _) in enumerate(rows) if known_bad_formula(cell)}
        for i in sorted(bad - rejected):
            area.note("wrong", rows[i][0])
    return area


def _structures() -> dict[str, object]:
    from pymatgen.core import Lattice, Structure

    return {
        "NaCl": Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        ),  # fmt: skip
        "Fe2O3": Structure(
            Lattice.hexagonal(5.03, 13.7),
            ["Fe", "Fe", "O", "O", "O"],
            [[0, 0, 0.35], [0, 0, 0.65], [0.3, 0, 0.25], [0, 0.3, 0.25], [0.7, 0.7, 0.25]],
        ),  # fmt: skip
    }


def structure_input(rng: random.Random, bases: dict[str, object]) -> tuple[str, bytes, bool]:
    s = bases[rng.choice(list(bases))]
    fmt = rng.choice(["cif", "poscar", "json"])
    name = {"cif": "x.cif", "poscar": "POSCAR", "json": "x.json"}[fmt]
    if fmt == "json":
        text = json.dumps(s.as_dict())  # type: ignore[attr-defined]
    else:
        text = s.to(fmt=fmt)  # type: ignore[attr-defined]
    mutation = rng.choice(["none", "truncate", "nan", "flat", "xx", "counts", "flip", "none"])
    bad = mutation != "none"
    if mutation == "truncate":
        lines = text.splitlines()
        text = "\n".join(lines[: rng.randint(1, max(1, len(lines) - 1))])
    elif mutation == "nan":
        text = re.sub(r"(\d+\.\d+)", "nan", text, count=rng.randint(1, 3))
    elif mutation == "flat":
        if fmt == "cif":
            text = re.sub(r"_cell_length_a\s+\S+", "_cell_length_a 0.0", text)
        elif fmt == "poscar":
            lines = text.splitlines()
            lines[2] = "0.0 0.0 0.0"
            text = "\n".join(lines)
        else:
            d = json.loads(text)
            d["lattice"]["matrix"][0] = [0.0, 0.0, 0.0]
            text = json.dumps(d)
    elif mutation == "xx":
        text = text.replace("Na", "Xx").replace("Fe", "Xx")
    elif mutation == "counts" and fmt == "poscar":
        lines = text.splitlines()
        counts = lines[6].split()
        counts[0] = str(max(1, int(counts[0]) - 1))
        lines[6] = " ".join(counts)
        text = "\n".join(lines)
    elif mutation == "flip":
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return name, bytes(data), True
    else:
        bad = mutation != "none" and mutation != "counts"
    return name, text.encode(), bad


def run_structures(n: int, rng: random.Random, hang: float, tmp: Path) -> Area:
    from mi.data import read_structures
    from mi.exceptions import MIError

    area = Area("structures")
    bases = _structures()
    for _ in range(n):
        name, data, bad = structure_input(rng, bases)
        path = tmp / name
        path.write_bytes(data)
        area.c["inputs"] += 1
        res, exc = timed(area, hang, read_structures, [path])
        if exc is not None:
            if isinstance(exc, MIError):
                area.c["reported"] += 1
            else:
                area.note("escapes", f"{type(exc).__name__}: {exc}")
            continue
        r = res.report
        if len(res):
            area.c["accepted"] += 1
            base = {str(s.composition.reduced_formula) for s in bases.values()}  # type: ignore[attr-defined]
            wrong_formula = any(s.composition.reduced_formula not in base for s in res)
            if bad and (wrong_formula or data.count(b"nan") or b"Xx" in data):
                area.note(
                    "wrong", f"{name}: {data[:120]!r} -> {res[0].composition.reduced_formula}"
                )
        elif r.n_rejected:
            area.c["reported"] += 1
        else:
            area.c["lost"] += 1
    return area


WORKFLOW = {
    "version": 1,
    "name": "fuzz",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Fe{1-x}Co{x}", "ranges": {"x": [0, 1, 0.1]}}]},
}
WF_PATHS = [("name",), ("seed",), ("targets", 0, "name"), ("targets", 0, "dataset"),
            ("targets", 0, "preset"), ("targets", 0, "min_value"), ("targets", 0, "max_value"),
            ("targets", 0, "model_params"), ("candidates", "templates", 0, "formula"),
            ("candidates", "templates", 0, "ranges", "x"), ("candidates", "max_candidates"),
            ("execution", "chunk_size"), ("execution", "max_grid_points"), ("outputs", "top_n"),
            ("acquisition", "params"), ("unknown",)]  # fmt: skip
CAMPAIGN = {
    "name": "fuzz",
    "target": "Ms",
    "candidates": {"formulas": ["Fe", "Co", "FeCo"]},
    "features": {"preset": "fractions"},
}
CP_PATHS = [("name",), ("target",), ("seed",), ("min_observations",),
            ("candidates", "formulas"), ("candidates", "template"), ("model", "name"),
            ("model", "params"), ("acquisition", "name"), ("batch", "min_distance"),
            ("version",), ("extra",)]  # fmt: skip


def value(rng: random.Random) -> object:
    return rng.choice(
        [
            None, True, rng.randint(-(2**40), 2**40), rng.uniform(-1e9, 1e9), float("nan"),
            float("inf"), "/abs", "../../x", "a/b", "..", "a\x00b", "os.system", "", "x" * 70,
            [0.0, 1.0, 1e-15], [0.0, 1.0, 0.001], [1.0, 0.0, 0.1], {"n_estimators": -5},
            {"beta": "high"}, {"max_depth": "deep"}, 2**32, rng.choice(PIECES), 1e308,
        ]
    )  # fmt: skip


def put(data: dict, path: tuple, v: object) -> None:
    node: object = data
    for part in path[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and len(node) > part:
            node = node[part]
        else:
            return
    if isinstance(node, dict):
        node[path[-1]] = v


def run_specs(n: int, rng: random.Random, hang: float, campaign: bool) -> Area:
    import copy

    from mi._paths import is_safe_name
    from mi.exceptions import MIError

    area = Area("campaign specs" if campaign else "workflow specs")
    for _ in range(n):
        data = copy.deepcopy(CAMPAIGN if campaign else WORKFLOW)
        for _ in range(rng.randint(1, 3)):
            put(data, rng.choice(CP_PATHS if campaign else WF_PATHS), value(rng))
        area.c["inputs"] += 1
        if campaign:
            from mi.active.spec import load_spec

            spec, exc = timed(area, hang, load_spec, data)
        else:
            from mi.runner.bounds import check_work_bounds
            from mi.runner.spec import parse_spec

            def check(d: dict) -> object:
                s = parse_spec(d, "fuzz.toml")
                check_work_bounds(s)
                return s

            spec, exc = timed(area, hang, check, data)
        if exc is not None:
            if isinstance(exc, MIError):
                area.c["reported"] += 1
            else:
                area.note("escapes", f"{type(exc).__name__}: {exc} <- {data}")
            continue
        area.c["accepted"] += 1
        if not campaign:
            t = spec.targets[0]
            r = spec.candidates.templates[0].ranges.get("x")
            bad = not all(is_safe_name(v) for v in (t.name, t.dataset, t.preset))
            bad |= t.min_value is not None and t.max_value is not None and t.min_value > t.max_value
            bad |= r is not None and not all(math.isfinite(v) for v in r)
            bad |= not 0 <= spec.seed < 2**32
            if bad:
                area.note("wrong", data)
    return area


MODEL_WORKER = r"""
import json, sys, numpy as np
from mi.exceptions import MIError
from mi.models import load_model
for line in sys.stdin:
    folder = line.strip()
    try:
        m = load_model(folder)
    except MIError:
        print("reported", flush=True); continue
    except Exception as exc:
        print("escape " + type(exc).__name__, flush=True); continue
    try:
        p = m.predict(np.zeros((3, 3)))
        ok = bool(np.all(np.isfinite(p)))
    except Exception:
        ok = False
    print("accepted" if ok else "wrong", flush=True)
"""


def run_models(n: int, rng: random.Random, hang: float, tmp: Path) -> Area:
    import shutil

    import numpy as np

    from mi.models import RandomForestUncertaintyRegressor, XGBEnsembleRegressor, save_model

    area = Area("model folders")
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0]
    bases = {
        "forest": save_model(
            RandomForestUncertaintyRegressor(n_estimators=3, random_state=0, n_jobs=1).fit(X, y),
            tmp / "forest",
        ),
        "xgb": save_model(
            XGBEnsembleRegressor(n_members=2, n_estimators=4, n_jobs=1, random_state=0).fit(X, y),
            tmp / "xgb",
        ),
    }
    folders = []
    for i in range(n):
        base = bases[rng.choice(list(bases))]
        folder = tmp / f"m{i}"
        shutil.copytree(base, folder)
        victims = [p for p in folder.iterdir() if p.suffix in (".npz", ".json", ".ubj")]
        victim = rng.choice(victims)
        data = bytearray(victim.read_bytes())
        how = rng.choice(["truncate", "flip", "flip", "npz"])
        if how == "npz" and victim.suffix == ".npz":
            with np.load(victim, allow_pickle=False) as z:
                arrays = {k: z[k].copy() for k in z.files}
            k = rng.choice(list(arrays))
            flat = arrays[k].reshape(-1)
            if flat.size:
                j = rng.randrange(flat.size)
                if flat.dtype.kind == "f":
                    flat[j] = rng.choice([float("nan"), 1e300, -1.0, 0.0])
                else:
                    lim = np.iinfo(flat.dtype)
                    flat[j] = rng.choice([max(lim.min, -(10**6)), min(lim.max, 10**6), 0, 1])
            with open(victim, "wb") as fh:
                np.savez(fh, allow_pickle=False, **arrays)
        elif how == "truncate" or not data:
            victim.write_bytes(bytes(data[: rng.randrange(len(data) + 1)]))
        else:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            victim.write_bytes(bytes(data))
        folders.append(folder)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    todo = list(folders)
    while todo:
        proc = subprocess.Popen(
            [sys.executable, "-c", MODEL_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        while todo:
            folder = todo.pop(0)
            area.c["inputs"] += 1
            t0 = time.perf_counter()
            proc.stdin.write(f"{folder}\n")
            proc.stdin.flush()
            out = proc.stdout.readline().strip()
            if time.perf_counter() - t0 > hang:
                area.c["hangs"] += 1
            if not out:  # the child died: a native crash on this input
                area.note("escapes", f"native crash (exit {proc.wait()}) on {folder}")
                break
            key = out.split()[0]
            if key in ("escape", "wrong"):
                area.note("escapes" if key == "escape" else "wrong", f"{out} on {folder}")
            else:
                area.c[key] += 1
        proc.stdin.close()
        proc.wait()
    return area


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="inputs per area")
    ap.add_argument("--n-models", type=int, default=1_000, help="model folders")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--hang-seconds", type=float, default=5.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["MI_CACHE_DIR"] = str(tmp / "cache")
        areas = [
            run_formulas(args.n, rng, args.hang_seconds),
            run_tables(args.n, rng, args.hang_seconds, tmp),
            run_structures(args.n, rng, args.hang_seconds, tmp),
            run_specs(args.n, rng, args.hang_seconds, campaign=False),
            run_specs(args.n, rng, args.hang_seconds, campaign=True),
            run_models(args.n_models, rng, args.hang_seconds, tmp),
        ]
    rows = [a.row() for a in areas]
    for a in areas:
        for example in a.examples:
            print(f"[{a.name}] {example}", file=sys.stderr)
    print(f"{'area':<18}" + "".join(f"{c:>10}" for c in COLUMNS))
    for r in rows:
        print(f"{r['area']:<18}" + "".join(f"{r[c]:>10,}" for c in COLUMNS))
    total = {c: sum(int(r[c]) for r in rows) for c in COLUMNS}  # type: ignore[call-overload]
    print(f"{'total':<18}" + "".join(f"{total[c]:>10,}" for c in COLUMNS))
    print(json.dumps({"benchmark": "fuzz", "seed": args.seed, "areas": rows, "total": total}))


if __name__ == "__main__":
    main()

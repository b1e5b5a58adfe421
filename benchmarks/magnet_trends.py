"""The physical trends a magnet scientist checks first, on R2(Fe,Co)14B series made in code.

The models are the flagship's (``workflows/ndfeb_hree_reduction.toml``): each target is trained
exactly as the workflow trains it (same dataset, row filters, preset, model and parameters; the
cross-validation, which only recalibrates the std, is run only for a physics model with
``min_skill``, whose learned correction it keeps or drops as the workflow does), or read from a
finished run with ``--run DIR`` (its ``models/<target>``). The anisotropy field and the
coercivity proxy come from the workflow's ``[coercivity]`` settings
(:func:`mi.features.coercivity.kronmuller`).

Trends (sign, size, and the cited value of ``../shared/magnets/REFERENCE.md`` where there is one):

- Co for Fe raises Tc (first step and up to z = 0.3);
- Ce for Nd lowers Tc, Js and Ha;
- Dy or Tb for Nd lower Js (by at least 0.5 T at full substitution) and raise Ha, and change Tc
  little (|dTc| <= 60 K);
- Pr and Nd add to Js (their 4f moment is parallel to Fe's): Js(Pr2Fe14B), Js(Nd2Fe14B) >
  Js(La2Fe14B);
- Ha(Tb2Fe14B) > Ha(Dy2Fe14B) > Ha(Nd2Fe14B) > Ha(La2Fe14B);
- magnitudes: Ha of Nd2Fe14B, Dy2Fe14B, Tb2Fe14B and La2Fe14B within 30 % of the cited value.

A table of predicted against cited magnitudes (Ha of the four, Js of Nd2Fe14B from
REFERENCE.md; Js of Dy2Fe14B and Tb2Fe14B from Herbst, Rev. Mod. Phys. 63, 819 (1991), shown
for information) gives the ratio of each.

Outside the 2:14:1 family, for information (not a check): the rare-earth rows of NOVAMAG that
list an anisotropy field (``novamag_anisotropy_field``: mostly measured 1:12 phases such as
SmFe11V, SmFe11Mo, SmFe9Co2Ti, (Zr,Nd)(Fe,Si)12), their listed Ha beside the flagship's
prediction and the basis of its physics K1 (the 1:12 phases get the 4f term only: no
3d-sublattice term is calibrated for them).

Usage::

    .venv/bin/python benchmarks/magnet_trends.py            # trains the three models, ~1 min
    .venv/bin/python benchmarks/magnet_trends.py --run runs/ndfeb   # a finished flagship run

Prints one line per trend and one JSON line with every prediction and check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
if "MI_DATA_DIR" not in os.environ and os.path.isdir(_SHARED):
    os.environ["MI_DATA_DIR"] = os.path.normpath(_SHARED)  # as the Makefile does

from mi.features import featurize  # noqa: E402
from mi.features.coercivity import kronmuller  # noqa: E402
from mi.runner.spec import RunSpec, load_spec  # noqa: E402

FLAGSHIP = Path(__file__).resolve().parent.parent / "workflows" / "ndfeb_hree_reduction.toml"

#: Cited room-temperature values (../shared/magnets/REFERENCE.md).
REFERENCE = {
    ("Nd2Fe14B", "Tc"): 585.0,
    ("Nd2Fe14B", "Js"): 1.61,
    ("Nd2Fe14B", "Ha"): 7.3,
    ("Nd2Fe14B", "K1"): 4.2,
    ("Dy2Fe14B", "Ha"): 15.0,
    ("Tb2Fe14B", "Ha"): 22.0,
    ("La2Fe14B", "Ha"): 2.0,
}

#: Room-temperature Js of the heavy-R compounds (T), J. F. Herbst, Rev. Mod. Phys. 63, 819
#: (1991): shown beside the predictions, not checked (not in REFERENCE.md).
LITERATURE = {
    ("Dy2Fe14B", "Js"): 0.71,
    ("Tb2Fe14B", "Js"): 0.70,
}

#: Predicted magnitudes checked against the cited value: |predicted / cited - 1| <= tolerance.
MAGNITUDE_CHECKS = [("Nd2Fe14B", "Ha"), ("Dy2Fe14B", "Ha"), ("Tb2Fe14B", "Ha"), ("La2Fe14B", "Ha")]
MAGNITUDE_TOLERANCE = 0.30


def series() -> dict[str, list[str]]:
    """The R2(Fe,Co)14B series, generated here."""

    def r2(a: str, b: str, x: float) -> str:
        return f"({a}{1 - x:.2f}{b}{x:.2f})2Fe14B" if 0 < x < 1 else f"{b if x else a}2Fe14B"

    return {
        "Co for Fe": [
            f"Nd2(Fe{1 - z:.2f}Co{z:.2f})14B" if z else "Nd2Fe14B"
            for z in (0.0, 0.05, 0.1, 0.2, 0.3)
        ],  # fmt: skip
        "Ce for Nd": [r2("Nd", "Ce", x) for x in (0.0, 0.25, 0.5, 1.0)],
        "Dy for Nd": [r2("Nd", "Dy", x) for x in (0.0, 0.1, 0.25, 0.5, 1.0)],
        "Tb for Nd": [r2("Nd", "Tb", x) for x in (0.0, 0.1, 0.25, 0.5, 1.0)],
        "R2Fe14B": [f"{r}2Fe14B" for r in ("La", "Ce", "Pr", "Nd", "Tb", "Dy", "Y")],
    }


def trained_models(spec: RunSpec, run: Path | None) -> dict[str, Any]:
    """The flagship's surrogates: read from a run, or trained as the workflow trains them."""
    from mi.runner.training import load_training, make_model

    models: dict[str, Any] = {}
    for target in spec.targets:
        if run is not None:
            from mi.models import load_model

            models[target.name] = load_model(run / "models" / target.name)
            continue
        table = load_training(target, spec.seed).table
        X = featurize(table["composition"].tolist(), preset=target.preset)
        model = make_model(target, spec.seed)
        if "n_jobs" in model.get_params():
            model.set_params(n_jobs=1)
        if model.get_params().get("min_skill") is not None and target.cv.enabled:
            model, note = _gated(model, target, X, table, spec.seed)
            print(f"{target.name}: {note['reason']}" if note else f"{target.name}: no CV skill")
        models[target.name] = model.fit(X, table["y"].to_numpy())
    return models


def _gated(model: Any, target: Any, X: Any, table: Any, seed: int) -> tuple[Any, Any]:
    """The workflow's cross-validation and correction gate (mi.runner.magnets.gate_correction)."""
    from sklearn.base import clone

    from mi.models import evaluate
    from mi.runner.magnets import gate_correction

    result = evaluate(
        clone(model),
        X,
        table["y"].to_numpy(),
        groups=table["composition"].to_numpy(),
        cv=target.cv.method,
        n_splits=target.cv.n_splits,
        random_state=seed,
        calibration=None,
        progress=False,
    )
    return gate_correction(model, result.to_dict())


def predict(spec: RunSpec, models: dict[str, Any], formulas: list[str]) -> dict[str, np.ndarray]:
    """Mean and std of every target, plus Ha and Hc, for ``formulas``."""
    out: dict[str, np.ndarray] = {}
    feats: dict[str, Any] = {}
    for target in spec.targets:
        if target.preset not in feats:
            feats[target.preset] = featurize(formulas, preset=target.preset)
        mean, std = models[target.name].predict(feats[target.preset], return_std=True)
        out[f"{target.name}_mean"], out[f"{target.name}_std"] = np.asarray(mean), np.asarray(std)
    c = spec.coercivity
    if c is not None:
        out.update(
            kronmuller(
                out[f"{c.anisotropy}_mean"],
                out[f"{c.anisotropy}_std"],
                out[f"{c.polarisation}_mean"],
                out[f"{c.polarisation}_std"],
                alpha=c.alpha,
                neff=c.neff,
            )
        )
    return out


def listed_fields(spec: RunSpec, models: dict[str, Any]) -> list[dict[str, Any]]:
    """Predicted against listed Ha for NOVAMAG's rare-earth rows with an anisotropy field."""
    from mi.data import load_dataset
    from mi.exceptions import DataUnavailableError
    from mi.features.rare_earth import anisotropy_basis

    try:
        table = load_dataset("novamag_anisotropy_field").df
    except DataUnavailableError as err:  # no cache and no network: say so, keep the checks
        print(f"novamag_anisotropy_field not available ({err}); skipping that table")
        return []
    formulas = table["composition"].tolist()
    basis = anisotropy_basis(formulas)
    keep = [i for i in range(len(formulas)) if _has_rare_earth(formulas[i])]
    if not keep:
        return []
    chosen = [formulas[i] for i in keep]
    pred = predict(spec, models, chosen)
    if "Ha_mean" not in pred:  # a workflow without [coercivity] predicts no anisotropy field
        return []
    listed = table["Ha"].to_numpy(dtype=np.float64)[keep]
    return [
        {
            "composition": f,
            "predicted": float(pred["Ha_mean"][j]),
            "std": float(pred["Ha_std"][j]),
            "listed": float(listed[j]),
            "ratio": float(pred["Ha_mean"][j] / listed[j]),
            "basis": str(basis[keep[j]]),
        }
        for j, f in enumerate(chosen)
    ]


def _has_rare_earth(formula: str) -> bool:
    from pymatgen.core import Composition

    from mi.features.rare_earth import FOUR_F_COUNT

    return any(str(el) in FOUR_F_COUNT for el in Composition(formula).elements)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when every check passes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflow", type=Path, default=FLAGSHIP)
    parser.add_argument("--run", type=Path, default=None, help="use the models of a finished run")
    args = parser.parse_args(argv)
    spec = load_spec(args.workflow)
    t0 = time.perf_counter()
    models = trained_models(spec, args.run)
    groups = series()
    formulas = sorted({f for fs in groups.values() for f in fs})
    pred = predict(spec, models, formulas)
    at = {f: i for i, f in enumerate(formulas)}

    def v(formula: str, prop: str) -> float:
        return float(pred[f"{prop}_mean"][at[formula]])

    def s(formula: str, prop: str) -> float:
        return float(pred[f"{prop}_std"][at[formula]])

    checks: list[dict[str, Any]] = []

    def check(name: str, a: str, b: str, prop: str, rule: str, limit: float = 0.0) -> None:
        """Rule 'up': b > a; 'down': b < a; 'small': |b - a| <= limit; 'drop': a - b >= limit."""
        delta = v(b, prop) - v(a, prop)
        ok = {
            "up": delta > 0,
            "down": delta < 0,
            "small": abs(delta) <= limit,
            "drop": -delta >= limit,
        }[rule]
        ref_a, ref_b = REFERENCE.get((a, prop)), REFERENCE.get((b, prop))
        ref = None if ref_a is None or ref_b is None else ref_b - ref_a
        checks.append(
            {
                "trend": name,
                "property": prop,
                "from": a,
                "to": b,
                "expected": rule if rule in ("up", "down") else f"{rule} {limit:g}",
                "value_from": v(a, prop),
                "value_to": v(b, prop),
                "delta": delta,
                "std_to": s(b, prop),
                "reference_delta": ref,
                "reference_from": ref_a,
                "reference_to": ref_b,
                "ok": bool(ok),
            }
        )

    nd = "Nd2Fe14B"
    co = groups["Co for Fe"]
    check("Co for Fe raises Tc (first step)", co[0], co[1], "Tc", "up")
    check("Co for Fe raises Tc (z = 0.3)", co[0], co[-1], "Tc", "up")
    for prop in ("Tc", "Js", "Ha"):
        check("Ce for Nd lowers " + prop, nd, "Ce2Fe14B", prop, "down")
    for heavy in ("Dy", "Tb"):
        full = f"{heavy}2Fe14B"
        check(f"{heavy} for Nd lowers Js by >= 0.5 T", nd, full, "Js", "drop", 0.5)
        tenth = groups[f"{heavy} for Nd"][1]
        check(f"{heavy} for Nd lowers Js (10 % of R)", nd, tenth, "Js", "down")
        check(f"{heavy} for Nd raises Ha", nd, full, "Ha", "up")
        check(f"{heavy} for Nd raises Ha (10 % of R)", nd, tenth, "Ha", "up")
        check(f"{heavy} for Nd changes Tc little", nd, full, "Tc", "small", 60.0)
    check("Pr adds to Js (vs La, no 4f moment)", "La2Fe14B", "Pr2Fe14B", "Js", "up")
    check("Nd adds to Js (vs La, no 4f moment)", "La2Fe14B", nd, "Js", "up")
    order = ["Tb2Fe14B", "Dy2Fe14B", nd, "La2Fe14B"]
    for a, b in zip(order[1:], order[:-1], strict=True):
        check("Ha order Tb > Dy > Nd > La", a, b, "Ha", "up")
    magnitudes = []
    for formula, prop in [*MAGNITUDE_CHECKS, (nd, "Js"), *LITERATURE]:
        cited = REFERENCE.get((formula, prop), LITERATURE.get((formula, prop)))
        assert cited is not None
        ratio = v(formula, prop) / cited
        magnitudes.append(
            {
                "compound": formula,
                "property": prop,
                "predicted": v(formula, prop),
                "std": s(formula, prop),
                "cited": cited,
                "ratio": ratio,
                "source": "REFERENCE.md" if (formula, prop) in REFERENCE else "Herbst 1991",
            }
        )
        if (formula, prop) in MAGNITUDE_CHECKS:
            checks.append(
                {
                    "trend": f"{prop}({formula}) within {MAGNITUDE_TOLERANCE:.0%} of cited",
                    "property": prop,
                    "from": formula,
                    "to": formula,
                    "expected": f"ratio {1 - MAGNITUDE_TOLERANCE:g}..{1 + MAGNITUDE_TOLERANCE:g}",
                    "value_from": cited,
                    "value_to": v(formula, prop),
                    "delta": v(formula, prop) - cited,
                    "std_to": s(formula, prop),
                    "reference_delta": None,
                    "reference_from": cited,
                    "reference_to": cited,
                    "ok": bool(abs(ratio - 1.0) <= MAGNITUDE_TOLERANCE),
                }
            )

    source = f"run {args.run}" if args.run else "trained now"
    print(f"magnet trends: workflow {spec.name} ({source})")
    print(
        f"{'trend':44s} {'prop':4s} {'from':>10s} {'to':>10s} {'delta':>9s} {'+-std':>8s} "
        f"{'ref':>8s}  ok"
    )
    for c in checks:
        ref = "" if c["reference_delta"] is None else f"{c['reference_delta']:+8.2f}"
        print(
            f"{c['trend']:44s} {c['property']:4s} {c['value_from']:10.3f} {c['value_to']:10.3f} "
            f"{c['delta']:+9.3f} {c['std_to']:8.3f} {ref:>8s}  {'yes' if c['ok'] else 'NO'}"
        )
    print("\nmagnitudes (predicted +- std | cited, ratio):")
    for m in magnitudes:
        print(
            f"  {m['property']}({m['compound']}) {m['predicted']:8.2f} +- {m['std']:6.2f} | "
            f"{m['cited']:6.2f}   ratio {m['ratio']:5.2f}   ({m['source']})"
        )
    print("\nR2Fe14B endpoints (predicted | cited):")
    props = ["Tc", "Js", "K1", "Ha", "Hc"]
    for f in groups["R2Fe14B"]:
        cells = []
        for p in props:
            ref = REFERENCE.get((f, p))
            cells.append(f"{p} {v(f, p):8.2f}" + (f" | {ref:g}" if ref is not None else ""))
        print(f"  {f:10s} " + "   ".join(cells))
    outside = listed_fields(spec, models)
    print("\nanisotropy field outside 2:14:1 (NOVAMAG rows with a listed Ha; information only):")
    for row in outside:
        print(
            f"  {row['composition']:18s} Ha {row['predicted']:6.2f} +- {row['std']:5.2f} | "
            f"{row['listed']:6.2f}   ratio {row['ratio']:5.2f}   K1 basis: {row['basis']}"
        )
    n_ok = sum(c["ok"] for c in checks)
    print(f"\n{n_ok}/{len(checks)} checks pass ({time.perf_counter() - t0:.0f} s)")
    record = {
        "benchmark": "magnet_trends",
        "workflow": spec.name,
        "source": str(args.run) if args.run else "trained",
        "checks": checks,
        "n_ok": n_ok,
        "n_checks": len(checks),
        "magnitudes": magnitudes,
        "outside_2_14_1": outside,
        "predictions": {
            f: {p: v(f, p) for p in props} | {f"{p}_std": s(f, p) for p in props} for f in formulas
        },
    }
    print(json.dumps(record))
    return 0 if n_ok == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())

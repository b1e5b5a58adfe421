"""Accuracy and uncertainty calibration of the mi.models surrogates on the real datasets.

Every task goes through the registry (``mi.data.load_dataset``) and the presets
(``mi.features.featurize``), plus the element-fraction vector from ``mi.chem`` where stated.
Protocol (per task, printed with the results):

- duplicates: the registry merges rows with the same reduced composition (median target), so
  every composition appears once; groups for the splits are ``mi.chem`` canonical keys;
- ``kfold``: 5-fold shuffled grouped k-fold (seed 0; stratified for classification);
- ``loco``: leave-one-cluster-out, 5 k-means clusters on the standardised features
  (Meredig et al. 2018), reported next to the random-split figures;
- metrics: mean +- std over folds; for regressors the out-of-fold std is recalibrated by
  cross-fitting (each fold's ``a * std + b`` map fitted on the other folds' out-of-fold
  predictions) and the pooled calibration report is printed (raw and recalibrated coverage);
- baseline column: one xgboost model with the library's default hyperparameters on the magpie
  columns only, on the same folds (the issue's "plain xgb-magpie (here)" anchors were measured
  by someone else with their own settings, hence slightly different).

Models (all with explicit thread counts): classification ``XGBClassifierModel`` (300 trees,
lr 0.1, depth 6); regression ``XGBEnsembleRegressor`` with 4 members, each on 80 % of the rows
(subagging) or all rows (SuperCon on all rows, depth 10), 300 trees, lr 0.1, depth 8; SuperCon
Tc > 0: extra trees (``RandomForestUncertaintyRegressor`` with random splits, no bootstrap, 300
trees, max_features 0.5, std = spread of the trees); band gap: hard
two-stage (metal classifier, then regressor on non-metals); Curie: absolute-error loss (robust to
wrongly mined labels); OBELiX: ``CalibratedRegressor`` (std recalibrated on the training rows).
Features: conductor preset for the band-gap tasks and OBELiX, magnet preset for Curie and Ms,
magpie for SuperCon (conductor measured no better), each plus the element-fraction vector.

Usage::

    .venv/bin/python benchmarks/accuracy.py              # full run (12.5 min on 2 shared cores)
    .venv/bin/python benchmarks/accuracy.py --quick      # smoke run (~4 min, subsampled)
    .venv/bin/python benchmarks/accuracy.py --tasks supercon_pos,expt_gap --no-loco

Prints a table with the literature/baseline anchors beside our numbers, one JSON line per task,
and a final JSON summary line. Timings come from a shared, loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
if "MI_DATA_DIR" not in os.environ and os.path.isdir(_SHARED):
    os.environ["MI_DATA_DIR"] = os.path.normpath(_SHARED)  # as the Makefile does

from mi.chem import ELEMENTS, parse_formulas  # noqa: E402
from mi.config import resolve_n_jobs  # noqa: E402
from mi.data import load_dataset  # noqa: E402
from mi.features import featurize  # noqa: E402
from mi.models import (  # noqa: E402
    CalibratedRegressor,
    RandomForestUncertaintyRegressor,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
    evaluate,
)

SEED = 0


# ---------------------------------------------------------------------------- features / data


def element_fractions(compositions: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Atomic-fraction columns (``frac <El>``, only elements present) and canonical keys."""
    matrix = parse_formulas(compositions)
    frac = pd.DataFrame(matrix.fractions(), columns=[f"frac {e}" for e in ELEMENTS])
    return frac.loc[:, frac.to_numpy().any(axis=0)], matrix.canonical_keys()


def build_features(
    compositions: list[str], preset: str, fractions: bool
) -> tuple[pd.DataFrame, list[str]]:
    """Preset features (+ element fractions) and the canonical composition keys."""
    X = featurize(compositions, preset=preset).reset_index(drop=True)
    frac, keys = element_fractions(compositions)
    if fractions:
        X = pd.concat([X, frac], axis=1)
    return X, keys


# ---------------------------------------------------------------------------- models


def regressor(quick: bool, n_jobs: int, **overrides: Any) -> XGBEnsembleRegressor:
    params: dict[str, Any] = dict(
        n_members=4,
        n_estimators=300,
        learning_rate=0.1,
        max_depth=8,
        subsample=0.8,
        colsample_bytree=0.5,
        min_child_weight=1.0,
        bootstrap=False,  # subagging: each member sees 80 % of the rows (bootstrap cost accuracy)
        max_samples=0.8,
    )
    params.update(overrides)
    if quick:
        params.update(n_members=3, n_estimators=150, learning_rate=0.15)
    return XGBEnsembleRegressor(random_state=SEED, n_jobs=n_jobs, **params)


def supercon_regressor(quick: bool, n_jobs: int, n_members: int = 4) -> XGBEnsembleRegressor:
    # deeper trees on all rows (measured: RMSE 7.39 vs 7.79 for a bootstrap ensemble, depth 8)
    return regressor(quick, n_jobs, max_depth=10, max_samples=None, n_members=n_members)


def extra_trees(quick: bool, n_jobs: int) -> RandomForestUncertaintyRegressor:
    """Extremely randomized trees on all rows; std = spread of the trees (then recalibrated).

    Chosen for SuperCon Tc > 0 on other folds (seed 1) by ``benchmarks/supercon_variants.py``;
    on the reported folds (seed 0) RMSE 7.22 K against 7.39 K for the depth-10 xgboost ensemble.
    """
    return RandomForestUncertaintyRegressor(
        n_estimators=100 if quick else 300,
        max_features=0.5,
        splitter="random",
        bootstrap=False,
        random_state=SEED,
        n_jobs=n_jobs,
    )


def classifier(quick: bool, n_jobs: int, **overrides: Any) -> XGBClassifierModel:
    params: dict[str, Any] = dict(
        n_estimators=300, learning_rate=0.1, max_depth=6, subsample=0.8, colsample_bytree=0.5
    )
    params.update(overrides)
    if quick:
        params.update(n_estimators=150, learning_rate=0.15)
    return XGBClassifierModel(random_state=SEED, n_jobs=n_jobs, **params)


# ---------------------------------------------------------------------------- tasks


@dataclass
class Task:
    name: str
    dataset: str
    target: str
    metric: str  # headline metric
    preset: str
    fractions: bool
    prepare: Callable[[Any, bool], tuple[pd.DataFrame, np.ndarray, str, Any]]
    model: Callable[[bool, int], Any]
    anchors: str
    goal: tuple[str, float] | None = None  # ("<=" or ">=", value) on the headline metric
    loco: bool = True
    load_options: dict[str, Any] = field(default_factory=dict)


def _subsample(df: pd.DataFrame, quick: bool, n: int = 3000) -> pd.DataFrame:
    if quick and len(df) > n:
        return df.sample(n=n, random_state=SEED).reset_index(drop=True)
    return df


def prep_metal(ds: Any, quick: bool):
    df = _subsample(ds.df, quick)
    return (
        df,
        df["is_metal"].to_numpy(),
        ("registry merge of duplicate compositions (median Eg); is_metal = merged Eg == 0"),
        "kfold",
    )


def prep_gap(ds: Any, quick: bool):
    df = _subsample(ds.df, quick)
    return (
        df,
        df["Eg"].to_numpy(float),
        ("all merged compositions, metals included with Eg = 0 (as matbench_expt_gap)"),
        "kfold",
    )


def prep_supercon_pos(ds: Any, quick: bool):
    df = _subsample(ds.df[ds.df["tc_reported"]].reset_index(drop=True), quick)
    return (
        df,
        df["Tc"].to_numpy(float),
        ("merged duplicates (median Tc); only rows with a reported Tc > 0"),
        "kfold",
    )


def prep_supercon_all(ds: Any, quick: bool):
    df = _subsample(ds.df, quick)
    y = np.where(df["tc_reported"], df["Tc"], 0.0).astype(float)
    return df, y, "merged duplicates; all rows, 'no Tc reported' as Tc = 0", "kfold"


CURIE_MAX_K = 1400.0  # above every known Curie temperature (Co: 1388 K): a mining error
CURIE_MAX_REL_SPREAD = 0.5


def prep_curie(ds: Any, quick: bool):
    df = ds.df
    n0 = len(df)
    rel = df["Tc_std"] / df["Tc"].where(df["Tc"] > 0)
    keep = (
        (df["Tc"] > 0)
        & (df["Tc"] <= CURIE_MAX_K)
        & ((df["Tc_n"] == 1) | (rel <= CURIE_MAX_REL_SPREAD))
    )
    df = df[keep].reset_index(drop=True)
    note = (
        "label-audited consensus per composition (registry, datasets/curie_tc.toml); kept "
        f"0 < Tc <= {CURIE_MAX_K:.0f} K and, for compounds with several mined values, "
        f"std/median <= {CURIE_MAX_REL_SPREAD} (mined values agree): {len(df)} of {n0} compositions"
    )
    df = _subsample(df, quick)
    return df, df["Tc"].to_numpy(float), note, "kfold"


def prep_ms(ds: Any, quick: bool):
    df = ds.df
    return df, df["Ms"].to_numpy(float), "registry-cleaned, merged duplicates (median Ms)", "kfold"


def prep_obelix(ds: Any, quick: bool):
    df = ds.df.reset_index(drop=True)
    train = np.flatnonzero(df["split"].to_numpy() == "train")
    test = np.flatnonzero(df["split"].to_numpy() == "test")
    note = (
        f"official split, unmerged rows (train {train.size}, test {test.size}); censored "
        "'<1E-10' kept at -10 (upper bound); std recalibrated inside the model "
        "(CalibratedRegressor: 5-fold out-of-fold on the training rows only)"
    )
    return df, df["log10_sigma"].to_numpy(float), note, [(train, test)]


TASKS: list[Task] = [
    Task(
        "expt_is_metal",
        "expt_gap",
        "is_metal",
        "roc_auc",
        "conductor",
        True,
        prep_metal,
        lambda q, j: classifier(q, j),
        "RF-Magpie 0.9167; best matbench 0.9598; plain xgb-magpie (here) 0.974",
        (">=", 0.98),
    ),
    Task(
        "expt_gap",
        "expt_gap",
        "Eg (eV)",
        "mae",
        "conductor",
        True,
        prep_gap,
        lambda q, j: TwoStageRegressor(classifier(q, j), regressor(q, j), combine="hard"),
        "RF-Magpie 0.4461; MODNet 0.3327; best 0.2865; plain xgb-magpie (here) 0.397",
        ("<=", 0.35),
    ),
    Task(
        "supercon_pos",
        "supercon",
        "Tc (K), Tc > 0",
        "rmse",
        "magpie",
        True,
        prep_supercon_pos,
        extra_trees,
        "Hamidieh xgb ~9.5 (UCI, dups); CatBoost 2024 6.45; plain xgb-magpie (here) 7.57",
        ("<=", 6.5),
    ),
    Task(
        "supercon_two_stage",
        "supercon",
        "Tc (K), all",
        "rmse",
        "magpie",
        True,
        prep_supercon_all,
        lambda q, j: TwoStageRegressor(classifier(q, j), supercon_regressor(q, j, n_members=3)),
        "plain xgb-magpie on all rows (here) 10.7",
        loco=False,
    ),
    Task(
        "supercon_one_stage",
        "supercon",
        "Tc (K), all",
        "rmse",
        "magpie",
        True,
        prep_supercon_all,
        lambda q, j: supercon_regressor(q, j, n_members=3),
        "plain xgb-magpie on all rows (here) 10.7",
        loco=False,
    ),
    Task(
        "curie_tc",
        "curie_tc",
        "Tc (K)",
        "mae",
        "magnet",
        True,
        prep_curie,
        # absolute-error loss: robust to wrongly mined labels, aims at the MAE (125 vs 127 K)
        lambda q, j: regressor(q, j, objective="reg:absoluteerror"),
        "Nelson & Sanvito ~50 K MAE (2,500 curated magnets)",
        ("<=", 60.0),
    ),
    Task(
        "novamag_ms",
        "novamag",
        "Ms (T?)",
        "mae",
        "magnet",
        True,
        prep_ms,
        lambda q, j: regressor(q, j, max_depth=6),
        "no published anchor",
    ),
    Task(
        "mp_ms",
        "mp_magnetism",
        "Ms (unit n.s.)",
        "mae",
        "magnet",
        True,
        prep_ms,
        lambda q, j: regressor(q, j, max_depth=6),
        "no published anchor",
    ),
    Task(
        "obelix",
        "obelix",
        "log10 sigma (S/cm)",
        "mae",
        "conductor",
        True,
        prep_obelix,
        lambda q, j: CalibratedRegressor(
            regressor(q, j, max_depth=4, min_child_weight=2.0), method="linear", cv=5
        ),
        "no anchor quoted (the OBELiX paper baselines were not checked here)",
        load_options={"merge": "none"},
    ),
]


# ---------------------------------------------------------------------------- running


def _json(value: Any) -> str:
    """Strict JSON (NaN and infinities become null)."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, float | np.floating):
            return float(v) if math.isfinite(v) else None
        if isinstance(v, np.integer):
            return int(v)
        return v

    return json.dumps(clean(value), allow_nan=False)


def _fmt(summary: dict[str, Any], metric: str, digits: int = 3) -> str:
    s = summary.get(metric)
    if s is None or s["mean"] is None or not math.isfinite(s["mean"]):
        return "-"
    if s["std"] is None or math.isnan(s["std"]):
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} +- {s['std']:.{digits}f}"


def plain_xgb(classification: bool, n_jobs: int) -> Any:
    """The issue's baseline: one xgboost model with the library's default hyperparameters."""
    common = dict(n_estimators=100, learning_rate=0.3, max_depth=6, subsample=1.0)
    if classification:
        return XGBClassifierModel(colsample_bytree=1.0, random_state=SEED, n_jobs=n_jobs, **common)
    return XGBEnsembleRegressor(
        n_members=1,
        bootstrap=False,
        colsample_bytree=1.0,
        random_state=SEED,
        n_jobs=n_jobs,
        **common,
    )


def error_tail(oof: pd.DataFrame) -> dict[str, float]:
    """How much of the out-of-fold squared error the worst 1 % of rows carry."""
    tested = oof[oof["fold"].notna()]
    sq = np.sort(((tested["mean"] - tested["y"]) ** 2).to_numpy())[::-1]
    k = max(1, len(sq) // 100)
    return {
        "worst_1pct_share_of_squared_error": float(sq[:k].sum() / sq.sum()),
        "rmse_without_worst_1pct": float(np.sqrt(sq[k:].mean())),
    }


def run_task(
    task: Task, quick: bool, loco: bool, n_jobs: int, baseline: bool = True
) -> dict[str, Any]:
    start = time.perf_counter()
    ds = load_dataset(task.dataset, **task.load_options)
    df, y, cleaning, cv = task.prepare(ds, quick)
    compositions = list(df["composition"])
    X, groups = build_features(compositions, task.preset, task.fractions)
    features_s = time.perf_counter() - start
    model = task.model(quick, n_jobs)
    kfold = evaluate(model, X, y, groups=groups, cv=cv, n_splits=5, random_state=SEED)
    out: dict[str, Any] = {
        "task": task.name,
        "dataset": task.dataset,
        "sha256": ds.meta.sha256,
        "target": task.target,
        "n": int(len(y)),
        "n_features": int(X.shape[1]),
        "features": f"{task.preset} preset" + (" + element fractions" if task.fractions else ""),
        "cleaning": cleaning,
        "model": repr(model),
        "kfold": kfold.to_dict(),
        "anchors": task.anchors,
        "quick": quick,
    }
    if kfold.task == "regression":
        out["error_tail"] = error_tail(kfold.oof)
    if loco and task.loco:
        res = evaluate(model, X, y, groups=groups, cv="loco", n_splits=5, random_state=SEED)
        out["loco"] = res.to_dict()
    if baseline:
        magpie = X[[c for c in X.columns if c.startswith("MagpieData ")]]
        base = plain_xgb(kfold.task == "classification", n_jobs)
        res = evaluate(base, magpie, y, groups=groups, cv=cv, n_splits=5, random_state=SEED)
        out["baseline"] = {
            "model": "plain xgboost (library defaults: 100 trees, lr 0.3, depth 6), magpie "
            "features only, same folds",
            "metrics": res.to_dict()["metrics"],
        }
    headline = out["kfold"]["metrics"][task.metric]["mean"]
    if task.goal is not None:
        op, value = task.goal
        out["goal"] = f"{task.metric} {op} {value}"
        out["goal_met"] = bool(headline >= value if op == ">=" else headline <= value)
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["featurize_seconds"] = round(features_s, 1)
    return out


def print_table(results: list[dict[str, Any]]) -> None:
    head = (
        f"{'task':<19} {'n':>6} {'metric':<8} {'k-fold (mean +- std)':<22} {'LOCO':<22} "
        f"{'plain xgb':<10} {'cov68':>6} {'cov95':>6} {'goal':<14} anchors"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        task = next(t for t in TASKS if t.name == r["task"])
        metrics = [task.metric] + [m for m in ("mae", "rmse", "r2") if m != task.metric]
        if r["kfold"]["task"] == "classification":
            metrics = ["roc_auc", "accuracy", "f1"]
        for i, m in enumerate(metrics):
            k = _fmt(r["kfold"]["metrics"], m)
            lo = _fmt(r["loco"]["metrics"], m) if "loco" in r else "-"
            bl = _fmt(r["baseline"]["metrics"], m).split(" ")[0] if "baseline" in r else "-"
            cal = r["kfold"].get("calibration") or r["kfold"].get("calibration_raw")
            c68 = f"{cal['coverage_68']:.3f}" if (cal and i == 0) else ""
            c95 = f"{cal['coverage_95']:.3f}" if (cal and i == 0) else ""
            goal = ""
            if i == 0 and "goal" in r:
                goal = ("MET " if r["goal_met"] else "MISSED ") + r["goal"].split(" ", 1)[1]
            name = r["task"] if i == 0 else ""
            n = str(r["n"]) if i == 0 else ""
            anchors = r["anchors"] if i == 0 else ""
            print(
                f"{name:<19} {n:>6} {m:<8} {k:<22} {lo:<22} {bl:<10} {c68:>6} {c95:>6} "
                f"{goal:<14} {anchors}"
            )
    print()
    print("Calibration (pooled out-of-fold, k-fold): raw ensemble std -> cross-fit recalibrated")
    for r in results:
        raw, cal = r["kfold"].get("calibration_raw"), r["kfold"].get("calibration")
        if raw and cal:
            print(
                f"  {r['task']:<19} cov95 {raw['coverage_95']:.3f} -> {cal['coverage_95']:.3f}  "
                f"cov68 {raw['coverage_68']:.3f} -> {cal['coverage_68']:.3f}  "
                f"miscal.area {raw['miscalibration_area']:.3f} -> {cal['miscalibration_area']:.3f}"
                f"  NLL {raw['nll']:.4g} -> {cal['nll']:.4g}  Spearman(|err|,std) "
                f"{cal['spearman']:.3f}"
            )
        elif raw:
            print(
                f"  {r['task']:<19} cov95 {raw['coverage_95']:.3f}  cov68 {raw['coverage_68']:.3f}"
                f"  miscal.area {raw['miscalibration_area']:.3f}  NLL {raw['nll']:.4g}  Spearman "
                f"{raw['spearman']:.3f}  (std calibrated inside the model, test split only)"
            )
    print(
        "  (hard two-stage gap model: correctly classified metals have error 0 and std 0 before "
        "recalibration, which inflates raw NLL and the miscalibration area)"
    )
    print()
    print("Error tails (k-fold, out of fold): share of the squared error in the worst 1 % of rows")
    for r in results:
        if "error_tail" in r:
            tail = r["error_tail"]
            print(
                f"  {r['task']:<19} {100 * tail['worst_1pct_share_of_squared_error']:.0f} %; "
                f"RMSE without them {tail['rmse_without_worst_1pct']:.4g}"
            )
    print()
    print("Protocols / cleaning:")
    for r in results:
        print(
            f"  {r['task']}: {r['kfold']['protocol']}; {r['cleaning']}; {r['features']} "
            f"({r['n_features']} columns); {r['seconds']} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small models, subsampled data")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default all)")
    parser.add_argument("--no-loco", action="store_true", help="skip leave-one-cluster-out")
    parser.add_argument("--n-jobs", type=int, default=None, help="xgboost threads (<= quota)")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the plain xgboost-on-magpie baseline"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    names = [t for t in args.tasks.split(",") if t]
    unknown = set(names) - {t.name for t in TASKS}
    if unknown:
        parser.error(f"unknown task(s) {sorted(unknown)}; choose from {[t.name for t in TASKS]}")
    tasks = [t for t in TASKS if not names or t.name in names]
    n_jobs = resolve_n_jobs(args.n_jobs)
    print(
        f"mi accuracy benchmark: {len(tasks)} task(s), quick={args.quick}, xgboost threads "
        f"{n_jobs}, python {platform.python_version()}, host cpus {os.cpu_count()} "
        "(shared, loaded machine: timings are indicative only)",
        flush=True,
    )
    results = []
    total = time.perf_counter()
    for task in tasks:
        r = run_task(task, args.quick, not args.no_loco, n_jobs, not args.no_baseline)
        results.append(r)
        print(_json(r), flush=True)
    print()
    print_table(results)
    summary = {
        "benchmark": "accuracy",
        "quick": args.quick,
        "seconds": round(time.perf_counter() - total, 1),
        "threads": n_jobs,
        "tasks": {
            r["task"]: {
                "n": r["n"],
                "kfold": {m: v["mean"] for m, v in r["kfold"]["metrics"].items()},
                "kfold_std": {m: v["std"] for m, v in r["kfold"]["metrics"].items()},
                "loco": {m: v["mean"] for m, v in r["loco"]["metrics"].items()}
                if "loco" in r
                else None,
                "baseline": {m: v["mean"] for m, v in r["baseline"]["metrics"].items()}
                if "baseline" in r
                else None,
                "coverage_95": (
                    r["kfold"].get("calibration") or r["kfold"].get("calibration_raw") or {}
                ).get("coverage_95"),
                "goal_met": r.get("goal_met"),
            }
            for r in results
        },
    }
    print(_json(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

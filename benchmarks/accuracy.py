"""Accuracy and uncertainty calibration of the mi.models surrogates on the real datasets.

Every task goes through the registry (``mi.data.load_dataset``) and the presets
(``mi.features.featurize``), plus the element-fraction vector from ``mi.chem`` where stated.

**Public fixed splits** (comparable with the leaderboards; ``mi.data.public_splits``):

- ``jarvis_supercon_chem``: JARVIS-Leaderboard ``supercon_chem``: train on the 13,131 train ids,
  MAE on the 3,283 test ids (ids = rows of SuperCon's ``Supercon_data.csv``, every row kept, Tc =
  0 included; the 3 test rows whose formula the registry rejects get the training median);
- ``matbench_expt_gap`` / ``matbench_expt_is_metal``: Matbench v0.1, the official 5 folds
  (``KFold`` / ``StratifiedKFold``, seed 18012019, rows in mbid order), mean MAE / ROC-AUC.

For these the model is chosen among a few candidates by a 3-fold cross-validation *inside each
training set* (seed 1; never the test rows), refitted on the whole training set and scored
once; a plain ``xgboost`` (500 trees, depth 6, lr 0.05) on the same features and splits is
printed beside it, with both fit times, and the leaderboard rows.

**Own tasks** (protocol printed with the results):

- duplicates: the registry merges rows with the same reduced composition (median target), so
  every composition appears once; groups for the splits are ``mi.chem`` canonical keys;
- ``kfold``: 5-fold shuffled grouped k-fold (seed 0; stratified for classification);
- ``loco``: leave-one-cluster-out, 5 k-means clusters on the standardised features
  (Meredig et al. 2018), reported next to the random-split figures;
- metrics: mean +- std over folds; coverage of the 68 % / 95 % intervals of the std *as the
  model returns it* (calibrated at fit, out-of-bag; no recalibration by the benchmark);
- baseline columns: a plain ``xgboost.XGBRegressor`` / ``XGBClassifier`` (500 trees, depth 6,
  lr 0.05) and the library's default surrogate ``XGBEnsembleRegressor()`` on the same features
  and folds, with their summed fit times.

Models (all with explicit thread counts): classification ``XGBClassifierModel`` (300 trees,
lr 0.1, depth 6); regression ``XGBEnsembleRegressor`` with 6 members, each on 2/3 of the rows
(so every row has two out-of-bag members for the calibration), 300 trees, lr 0.1, depth 8
(SuperCon all rows: depth 10); SuperCon Tc > 0: extra trees (``RandomForestUncertaintyRegressor``
with random splits on bootstrap resamples, 300 trees, max_features 0.5); band gap: hard
two-stage (metal classifier, then regressor on non-metals); SuperCon all rows, two-stage: std
scaled at fit by ``calibrate_cv=3`` (split-conformal, out-of-sample training rows only);
``matbench_expt_gap``: ``band_gap`` preset (conductor + charge balance from oxidation states),
a soft vote of xgboost and extra trees says metal or not, ``XGBEnsembleRegressor()`` predicts
``log(1 + Eg)`` of the non-metals, and the gate (median of the mixture with spread 0.1 / 0.2 /
0.3 log units, or hard) is chosen by the 3-fold CV inside each training fold; Curie:
absolute-error loss (robust to wrongly mined labels); OBELiX: ``CalibratedRegressor`` (std
recalibrated on the training rows). Features: conductor preset for the own band-gap tasks and
OBELiX (``band_gap`` for ``matbench_expt_gap``), magnet preset for Curie and Ms, magpie for
SuperCon (conductor measured no better), each plus the element-fraction vector.

Usage::

    .venv/bin/python benchmarks/accuracy.py                       # everything (long)
    .venv/bin/python benchmarks/accuracy.py --task jarvis_supercon_chem          # ~12 min
    .venv/bin/python benchmarks/accuracy.py --task matbench_expt_gap             # ~24 min
    .venv/bin/python benchmarks/accuracy.py --task matbench_expt_is_metal        # ~1-2 min
    .venv/bin/python benchmarks/accuracy.py --quick               # smoke run (subsampled)
    .venv/bin/python benchmarks/accuracy.py --tasks supercon_pos,expt_gap --no-loco

(wall times measured on the shared 2-core machine, 1 thread, with other jobs running.)

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
from sklearn.ensemble import ExtraTreesClassifier, VotingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
if "MI_DATA_DIR" not in os.environ and os.path.isdir(_SHARED):
    os.environ["MI_DATA_DIR"] = os.path.normpath(_SHARED)  # as the Makefile does

from mi.chem import ELEMENTS, parse_formulas  # noqa: E402
from mi.config import resolve_n_jobs  # noqa: E402
from mi.data import load_dataset  # noqa: E402
from mi.data.public_splits import jarvis_split, matbench_folds, source_rows  # noqa: E402
from mi.features import featurize  # noqa: E402
from mi.models import (  # noqa: E402
    CalibratedRegressor,
    RandomForestUncertaintyRegressor,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
    calibration_report,
    classification_metrics,
    evaluate,
)
from mi.models.splits import GroupedKFold  # noqa: E402
from mi.models.xgb import xgb  # noqa: E402

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
        n_members=6,
        n_estimators=300,
        learning_rate=0.1,
        max_depth=8,
        subsample=0.8,
        colsample_bytree=0.5,
        min_child_weight=1.0,
        bootstrap=False,  # subagging: each member sees 2/3 of the rows, every row is left out
        max_samples=2 / 3,  # by two members (their out-of-bag errors calibrate the std)
        max_bin=64,  # the bins these task models were measured with (library default now 32)
    )
    params.update(overrides)
    if quick:
        params.update(n_estimators=100, learning_rate=0.2)
    return XGBEnsembleRegressor(random_state=SEED, n_jobs=n_jobs, **params)


def supercon_regressor(quick: bool, n_jobs: int) -> XGBEnsembleRegressor:
    # deeper trees (measured: RMSE 7.39 vs 7.79 for a bootstrap ensemble, depth 8)
    return regressor(quick, n_jobs, max_depth=10)


def extra_trees(quick: bool, n_jobs: int, **overrides: Any) -> RandomForestUncertaintyRegressor:
    """Extremely randomized trees on bootstrap resamples; std = spread, calibrated out-of-bag.

    Extra trees were chosen for SuperCon Tc > 0 on other folds (seed 1) by
    ``benchmarks/supercon_variants.py``; the bootstrap gives the out-of-bag rows the std is
    calibrated on (it costs accuracy: reported-fold RMSE 7.40 K against 7.22 K on all rows,
    whose std could not be calibrated without another cross-validation).
    """
    return RandomForestUncertaintyRegressor(
        n_estimators=100 if quick else 300,
        max_features=0.5,
        splitter="random",
        bootstrap=True,
        random_state=SEED,
        n_jobs=n_jobs,
        **overrides,
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
        # calibrate_cv: the mixture's std alone covered 0.98 of held-out rows (3-fold seed 1,
        # 6,000 rows: 0.979 -> 0.971 with the conformal scale fitted inside the training rows)
        lambda q, j: TwoStageRegressor(classifier(q, j), supercon_regressor(q, j), calibrate_cv=3),
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
        lambda q, j: supercon_regressor(q, j),
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


#: The issue's reference: one plain xgboost model, as a user would write it.
PLAIN_XGB = dict(n_estimators=500, max_depth=6, learning_rate=0.05)


def plain_xgb(classification: bool, n_jobs: int) -> Any:
    """One ``xgboost.XGBRegressor`` / ``XGBClassifierModel``: 500 trees, depth 6, lr 0.05."""
    if classification:
        return XGBClassifierModel(
            subsample=1.0, colsample_bytree=1.0, random_state=SEED, n_jobs=n_jobs, **PLAIN_XGB
        )
    return xgb.XGBRegressor(tree_method="hist", random_state=SEED, n_jobs=n_jobs, **PLAIN_XGB)


def default_surrogate(n_jobs: int) -> XGBEnsembleRegressor:
    """The library's default surrogate, untouched."""
    return XGBEnsembleRegressor(random_state=SEED, n_jobs=n_jobs)


def error_tail(oof: pd.DataFrame) -> dict[str, float]:
    """How much of the out-of-fold squared error the worst 1 % of rows carry."""
    tested = oof[oof["fold"].notna()]
    sq = np.sort(((tested["mean"] - tested["y"]) ** 2).to_numpy())[::-1]
    k = max(1, len(sq) // 100)
    return {
        "worst_1pct_share_of_squared_error": float(sq[:k].sum() / sq.sum()),
        "rmse_without_worst_1pct": float(np.sqrt(sq[k:].mean())),
    }


def _summary(folds: pd.DataFrame, names: list[str]) -> dict[str, dict[str, float]]:
    return {
        m: {
            "mean": float(folds[m].mean()),
            "std": float(folds[m].std(ddof=1)) if len(folds) > 1 else math.nan,
            "n_folds": int(len(folds)),
        }
        for m in names
    }


def baselines(
    task: Task,
    X: pd.DataFrame,
    y: np.ndarray,
    groups: Any,
    cv: Any,
    classification: bool,
    n_jobs: int,
) -> dict[str, Any]:
    """Plain xgboost and the default surrogate on the task's folds, fold by fold interleaved.

    Each fold fits the plain model and then the default one, so the load of the shared machine
    hits both alike; the fit-time ratio is that of the summed fit times.
    """
    if isinstance(cv, str):
        splits = list(
            GroupedKFold(5, stratify=classification, random_state=SEED).split(X, y, groups)
        )
    else:
        splits = list(cv)
    makers: dict[str, Callable[[], Any]] = {"baseline": lambda: plain_xgb(classification, n_jobs)}
    if not classification:
        makers["default"] = lambda: default_surrogate(n_jobs)
    folds: dict[str, list[pd.DataFrame]] = {k: [] for k in makers}
    pooled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for split in splits:
        for name, make in makers.items():
            res = evaluate(make(), X, y, groups=groups, cv=[split], calibration=None)
            folds[name].append(res.folds)
            if name == "default":
                tested = res.oof["fold"].notna().to_numpy()
                pooled.append(
                    tuple(res.oof.loc[tested, c].to_numpy(float) for c in ("y", "mean", "std"))
                )
    tables = {k: pd.concat(v, ignore_index=True) for k, v in folds.items()}
    names = ["roc_auc", "accuracy", "f1"] if classification else ["mae", "rmse", "r2"]
    base_s = float(tables["baseline"]["fit_seconds"].sum())
    out: dict[str, Any] = {
        "baseline": {
            "model": "plain xgboost (500 trees, depth 6, lr 0.05), same features and folds",
            "metrics": _summary(tables["baseline"], names),
            "fit_seconds": base_s,
        }
    }
    if "default" in tables:
        d = tables["default"]
        d_s = float(d["fit_seconds"].sum())
        cal = calibration_report(*(np.concatenate(parts) for parts in zip(*pooled, strict=True)))
        out["default"] = {
            "model": "XGBEnsembleRegressor() (library defaults), same features and folds",
            "metrics": _summary(d, names),
            "fit_seconds": d_s,
            "fit_time_ratio_vs_plain": d_s / base_s if base_s > 0 else None,
            "coverage_68": cal.coverage_68,
            "coverage_95": cal.coverage_95,
            "folds_not_worse_than_plain": int(
                (d[task.metric].to_numpy() <= tables["baseline"][task.metric].to_numpy()).sum()
            ),
        }
    return out


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
    # calibration=None: the coverage printed is that of the std the model returns itself
    kfold = evaluate(
        model, X, y, groups=groups, cv=cv, n_splits=5, random_state=SEED, calibration=None
    )
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
        "fit_seconds": float(kfold.folds["fit_seconds"].sum()),
        "anchors": task.anchors,
        "quick": quick,
    }
    if kfold.task == "regression":
        out["error_tail"] = error_tail(kfold.oof)
    if loco and task.loco:
        res = evaluate(
            model, X, y, groups=groups, cv="loco", n_splits=5, random_state=SEED, calibration=None
        )
        out["loco"] = res.to_dict()
    if baseline:
        out.update(baselines(task, X, y, groups, cv, kfold.task == "classification", n_jobs))
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
        f"{'plain xgb':<10} {'default':<10} {'cov68':>6} {'cov95':>6} {'goal':<14} anchors"
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
            df = _fmt(r["default"]["metrics"], m).split(" ")[0] if "default" in r else "-"
            cal = r["kfold"].get("calibration_raw")
            c68 = f"{cal['coverage_68']:.3f}" if (cal and i == 0) else ""
            c95 = f"{cal['coverage_95']:.3f}" if (cal and i == 0) else ""
            goal = ""
            if i == 0 and "goal" in r:
                goal = ("MET " if r["goal_met"] else "MISSED ") + r["goal"].split(" ", 1)[1]
            name = r["task"] if i == 0 else ""
            n = str(r["n"]) if i == 0 else ""
            anchors = r["anchors"] if i == 0 else ""
            print(
                f"{name:<19} {n:>6} {m:<8} {k:<22} {lo:<22} {bl:<10} {df:<10} {c68:>6} {c95:>6} "
                f"{goal:<14} {anchors}"
            )
    print()
    print(
        "Default surrogate XGBEnsembleRegressor() vs plain xgboost (500 trees, depth 6, lr 0.05),"
        " same features and folds; coverage of the default's own std (no wrapper):"
    )
    for r in results:
        if "default" in r:
            d, b = r["default"], r["baseline"]
            task = next(t for t in TASKS if t.name == r["task"])
            m = task.metric
            ours, plain = d["metrics"][m]["mean"], b["metrics"][m]["mean"]
            print(
                f"  {r['task']:<19} {m} {ours:.4g} vs {plain:.4g}"
                f" (not worse on {d['folds_not_worse_than_plain']}/{r['kfold']['n_folds']} folds);"
                f" fit {d['fit_seconds']:.0f} s vs {b['fit_seconds']:.0f} s"
                f" (x{d['fit_time_ratio_vs_plain']:.2f}); cov68 {d['coverage_68']:.3f}"
                f" cov95 {d['coverage_95']:.3f}"
            )
    print()
    print("Calibration of the task models' own std (pooled out-of-fold, k-fold):")
    for r in results:
        raw = r["kfold"].get("calibration_raw")
        if raw:
            print(
                f"  {r['task']:<19} cov68 {raw['coverage_68']:.3f}  cov95 {raw['coverage_95']:.3f}"
                f"  miscal.area {raw['miscalibration_area']:.3f}  NLL {raw['nll']:.4g}  Spearman"
                f"(|err|,std) {raw['spearman']:.3f}"
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


# ---------------------------------------------------------------------------- public splits


@dataclass
class PublicData:
    X: pd.DataFrame
    y: np.ndarray  # targets of the accepted rows
    splits: list[tuple[np.ndarray, np.ndarray]]  # row indices into X / y
    test_unscored: list[np.ndarray]  # per split: test targets of rows the registry rejected
    note: str
    sha256: Any


@dataclass
class PublicTask:
    name: str
    metric: str  # "mae" or "roc_auc"
    classification: bool
    load: Callable[[bool], PublicData]
    candidates: Callable[[bool, int], Any]
    leaderboard: str
    goal: tuple[str, float]


def load_jarvis_supercon(quick: bool) -> PublicData:
    split = jarvis_split("jarvis_supercon_chem")
    ds = load_dataset(split.dataset, merge="none")
    rows = source_rows(ds.report, ds.report.n_input)
    position = {int(r): i for i, r in enumerate(rows)}
    y = ds.df["Tc"].to_numpy(float)
    truth = dict(zip(split.test_ids.tolist(), split.test_values.tolist(), strict=True))
    train = np.array([position[i] for i in split.train_ids if i in position])
    test = np.array([position[i] for i in split.test_ids if i in position])
    unscored = np.array([truth[i] for i in split.test_ids if i not in position])
    if quick:
        rng = np.random.RandomState(SEED)
        train, test = rng.permutation(train)[:3000], rng.permutation(test)[:1000]
    X, _ = build_features(list(ds.df["composition"]), "magpie", True)
    note = (
        f"{split.protocol}; {len(train)} train / {len(test)} test rows featurized, "
        f"{unscored.size} test ids with a formula the registry rejects predicted by the "
        "training median (scored)"
    )
    return PublicData(X, y, [(train, test)], [unscored], note, [ds.meta.sha256, split.sha256])


def _load_matbench(name: str, target: str, quick: bool, preset: str = "conductor") -> PublicData:
    ds = load_dataset(name)
    if not ds.df["mbid"].is_monotonic_increasing:
        raise RuntimeError(f"{name}: rows are not in mbid order; the official folds need it")
    y = ds.df[target].to_numpy()
    y = y.astype(int) if y.dtype == bool else y.astype(float)
    splits = matbench_folds(y, classification=y.dtype.kind == "i")
    if quick:
        splits = splits[:1]
    X, _ = build_features(list(ds.df["composition"]), preset, True)
    note = (
        f"Matbench v0.1 official folds ({len(splits)} of 5 run), {len(y)} rows in mbid order, "
        f"unmerged; {preset} preset + element fractions ({X.shape[1]} columns)"
    )
    return PublicData(X, y, splits, [np.array([])] * len(splits), note, ds.meta.sha256)


#: Candidates of a public task: (name of the fit, factory, {variant name: parameters set before
#: predicting}). Variants of one fit differ only in how it predicts, so each inner fold fits once.
Candidates = list[tuple[str, Callable[[], Any], dict[str, dict[str, Any]]]]


def voting_metal_classifier(quick: bool, n_jobs: int) -> VotingClassifier:
    """Soft vote of the xgboost classifier and extra trees (measured ROC-AUC 0.976 vs 0.975)."""
    trees = ExtraTreesClassifier(  # NaN-aware splits (scikit-learn >= 1.6)
        n_estimators=150 if quick else 300, max_features=0.3, random_state=SEED, n_jobs=n_jobs
    )
    return VotingClassifier([("xgb", classifier(quick, n_jobs)), ("et", trees)], voting="soft")


def gap_candidates(quick: bool, n_jobs: int) -> Candidates:
    """Gated gap model: one fit, four gates chosen by 3-fold CV inside each training set.

    Vote classifier (xgboost + extra trees) for metal / non-metal; the library's default
    surrogate ``XGBEnsembleRegressor()`` (with its earlier column subsample 0.5 and 64 bins,
    the settings measured here) fitted on ``log(1 + Eg)`` of the non-metals (its
    out-of-bag-calibrated std gives the intervals). The gates only change how the fitted
    stages are combined (``median``: the mixture's median with the given log-unit spread;
    ``hard``: the regressor's gap where p(non-metal) >= 0.5), so each inner fold fits once.
    Design measured by 5-fold CV inside the training rows of official fold 1 only: MAE 0.292
    against 0.317 for the previous candidate (hard gate, raw target, conductor preset).
    """

    def gated() -> Any:
        # the default surrogate's settings when this design was measured (the library
        # default has since moved to colsample_bytree 0.7 and 32 bins)
        gaps = XGBEnsembleRegressor(
            colsample_bytree=0.5, max_bin=64, random_state=SEED, n_jobs=n_jobs
        )
        if quick:
            gaps.set_params(n_members=4, n_estimators=100, learning_rate=0.2)
        return TwoStageRegressor(
            voting_metal_classifier(quick, n_jobs),
            gaps,
            combine="median",
            target_transform="log1p",
            calibrate_cv=3,
        )

    gates = {
        "gated_median_s0.2": {"combine": "median", "median_spread": 0.2},
        "gated_median_s0.1": {"combine": "median", "median_spread": 0.1},
        "gated_median_s0.3": {"combine": "median", "median_spread": 0.3},
        "gated_hard": {"combine": "hard"},
    }
    return [("gated", gated, gates)]


def supercon_candidates(quick: bool, n_jobs: int) -> Candidates:
    # the median of the trees aims at the MAE on this zero-inflated, skewed target
    points = {"extra_trees_median": {"point": "median"}, "extra_trees_mean": {"point": "mean"}}
    return [("extra_trees", lambda: extra_trees(quick, n_jobs), points)]


def metal_candidates(quick: bool, n_jobs: int) -> Candidates:
    return [
        ("xgb_classifier", lambda: classifier(quick, n_jobs), {"xgb_classifier": {}}),
        (
            "xgb_classifier_deep",
            lambda: classifier(quick, n_jobs, max_depth=8, n_estimators=500),
            {"xgb_classifier_deep": {}},
        ),
    ]


PUBLIC_TASKS: list[PublicTask] = [
    PublicTask(
        "jarvis_supercon_chem",
        "mae",
        False,
        load_jarvis_supercon,
        supercon_candidates,
        "JARVIS-Leaderboard: matminer+RF 4.851 K; matminer+xgboost 4.930 K; cfid_chem 5.033 K; "
        "ElemNet2 5.114 K; training median 16.69 K (no entry reports an interval)",
        ("<=", 4.60),
    ),
    PublicTask(
        "matbench_expt_gap",
        "mae",
        False,
        lambda q: _load_matbench("matbench_v01_expt_gap", "Eg", q, preset="band_gap"),
        gap_candidates,
        "Matbench v0.1: Darwin 0.2865; MODNet 0.3327; RF-SCM/Magpie 0.4461; Dummy 1.1435 eV; "
        "open PR #364 (classifier-gated regressor) claims 0.2775 eV",
        ("<=", 0.280),
    ),
    PublicTask(
        "matbench_expt_is_metal",
        "roc_auc",
        True,
        lambda q: _load_matbench("matbench_v01_expt_is_metal", "is_metal", q),
        metal_candidates,
        "Matbench v0.1: Darwin 0.9598; AMMExpress 0.9209; RF 0.9167",
        (">=", 0.965),
    ),
]


def _score(task: PublicTask, model: Any, X: pd.DataFrame, y: np.ndarray) -> float:
    if task.classification:
        return float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    return float(np.mean(np.abs(model.predict(X) - y)))


def choose(
    task: PublicTask, candidates: Candidates, X: pd.DataFrame, y: np.ndarray
) -> tuple[str, dict[str, float]]:
    """Pick a variant by a 3-fold cross-validation on the training rows only (seed 1)."""
    names = [v for _, _, variants in candidates for v in variants]
    if len(names) == 1:
        return names[0], {}
    splitter = (
        StratifiedKFold(3, shuffle=True, random_state=1)
        if task.classification
        else KFold(3, shuffle=True, random_state=1)
    )
    scores: dict[str, list[float]] = {v: [] for v in names}
    for tr, te in splitter.split(np.zeros((len(y), 1)), y):
        for _, make, variants in candidates:
            first = next(iter(variants.values()))
            model = make().set_params(**first).fit(X.iloc[tr], y[tr])
            for name, params in variants.items():
                scores[name].append(_score(task, model.set_params(**params), X.iloc[te], y[te]))
    mean = {k: float(np.mean(v)) for k, v in scores.items()}
    better = max if task.metric == "roc_auc" else min
    return better(mean, key=mean.__getitem__), mean


def _make_variant(candidates: Candidates, name: str) -> Any:
    for _, make, variants in candidates:
        if name in variants:
            return make().set_params(**variants[name])
    raise KeyError(name)


def run_public(task: PublicTask, quick: bool, n_jobs: int, select: bool) -> dict[str, Any]:
    start = time.perf_counter()
    data = task.load(quick)
    candidates: Candidates = task.candidates(quick, n_jobs)
    if not select:
        fit_name, make, variants = candidates[0]
        first = next(iter(variants))
        candidates = [(fit_name, make, {first: variants[first]})]
    folds: list[dict[str, Any]] = []
    y_all, mean_all, std_all = [], [], []
    for (train, test), unscored in zip(data.splits, data.test_unscored, strict=True):
        X_tr, y_tr, X_te, y_te = data.X.iloc[train], data.y[train], data.X.iloc[test], data.y[test]
        chosen, inner = choose(task, candidates, X_tr, y_tr)
        t0 = time.perf_counter()
        model = _make_variant(candidates, chosen).fit(X_tr, y_tr)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain = plain_xgb(task.classification, n_jobs).fit(X_tr, y_tr)
        plain_s = time.perf_counter() - t0
        row: dict[str, Any] = {
            "n_train": int(train.size),
            "n_test": int(test.size + unscored.size),
            "chosen": chosen,
            "inner_scores": inner,
            "fit_seconds": fit_s,
            "plain_fit_seconds": plain_s,
        }
        if task.classification:
            p = model.predict_proba(X_te)[:, 1]
            row["roc_auc"] = float(roc_auc_score(y_te, p))
            row["plain_roc_auc"] = float(roc_auc_score(y_te, plain.predict_proba(X_te)[:, 1]))
            row.update(
                {
                    k: v
                    for k, v in classification_metrics(
                        y_te, np.c_[1 - p, p], np.array([0, 1])
                    ).items()
                    if k != "roc_auc"
                }
            )
        else:
            mean, std = model.predict(X_te, return_std=True)
            fallback = float(np.median(y_tr))
            y_sc = np.r_[y_te, unscored]
            row["mae"] = float(
                np.mean(np.abs(np.r_[mean, np.full(unscored.size, fallback)] - y_sc))
            )
            plain_pred = np.r_[plain.predict(X_te), np.full(unscored.size, fallback)]
            row["plain_mae"] = float(np.mean(np.abs(plain_pred - y_sc)))
            row["rmse"] = float(
                np.sqrt(np.mean((np.r_[mean, np.full(unscored.size, fallback)] - y_sc) ** 2))
            )
            cal = calibration_report(y_te, mean, std)
            row["coverage_68"], row["coverage_95"] = cal.coverage_68, cal.coverage_95
            y_all.append(y_te), mean_all.append(mean), std_all.append(std)
        folds.append(row)
    m = task.metric
    out: dict[str, Any] = {
        "task": task.name,
        "public": True,
        "protocol": data.note,
        "sha256": data.sha256,
        "metric": m,
        "score": float(np.mean([f[m] for f in folds])),
        "plain_xgb": float(np.mean([f[f"plain_{m}"] for f in folds])),
        "folds": folds,
        "fit_seconds": float(sum(f["fit_seconds"] for f in folds)),
        "plain_fit_seconds": float(sum(f["plain_fit_seconds"] for f in folds)),
        "leaderboard": task.leaderboard,
        "candidates": [v for _, _, variants in candidates for v in variants],
        "selection": "3-fold CV inside each training set (seed 1), then refit on it"
        if sum(len(v) for _, _, v in candidates) > 1
        else "first candidate (no selection)",
        "quick": quick,
    }
    if y_all:
        cal = calibration_report(
            np.concatenate(y_all), np.concatenate(mean_all), np.concatenate(std_all)
        )
        out["coverage_68"], out["coverage_95"] = cal.coverage_68, cal.coverage_95
        out["rmse"] = float(np.mean([f["rmse"] for f in folds]))
    op, value = task.goal
    out["goal"] = f"{m} {op} {value}"
    out["goal_met"] = bool(out["score"] >= value if op == ">=" else out["score"] <= value)
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def print_public(results: list[dict[str, Any]]) -> None:
    print("Public fixed splits (protocol as published; model chosen inside each training set):")
    for r in results:
        cov = (
            f"cov68 {r['coverage_68']:.3f} cov95 {r['coverage_95']:.3f}"
            if "coverage_95" in r
            else "no interval (classifier)"
        )
        chosen = sorted({f["chosen"] for f in r["folds"]})
        print(
            f"  {r['task']:<23} ours {r['metric']} {r['score']:.4f} ({', '.join(chosen)}); plain "
            f"xgb {r['plain_xgb']:.4f}; {cov}; fit {r['fit_seconds']:.0f} s vs plain "
            f"{r['plain_fit_seconds']:.0f} s; wall {r['seconds']:.0f} s; "
            f"{'MET' if r['goal_met'] else 'MISSED'} {r['goal']}"
        )
        print(f"  {'':<23} leaderboard: {r['leaderboard']}")
        print(f"  {'':<23} protocol: {r['protocol']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small models, subsampled data")
    parser.add_argument(
        "--tasks", "--task", default="", help="comma-separated task names (default all)"
    )
    parser.add_argument("--no-loco", action="store_true", help="skip leave-one-cluster-out")
    parser.add_argument("--n-jobs", type=int, default=None, help="xgboost threads (<= quota)")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the plain xgboost and default-surrogate columns of the own tasks",
    )
    parser.add_argument(
        "--no-select",
        action="store_true",
        help="public splits: fit the first candidate, no selection inside the training sets",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    names = [t for t in args.tasks.split(",") if t]
    every = [t.name for t in TASKS] + [t.name for t in PUBLIC_TASKS]
    unknown = set(names) - set(every)
    if unknown:
        parser.error(f"unknown task(s) {sorted(unknown)}; choose from {every}")
    tasks = [t for t in TASKS if not names or t.name in names]
    public = [t for t in PUBLIC_TASKS if not names or t.name in names]
    n_jobs = resolve_n_jobs(args.n_jobs)
    print(
        f"mi accuracy benchmark: {len(tasks) + len(public)} task(s), quick={args.quick}, xgboost "
        f"threads {n_jobs}, python {platform.python_version()}, host cpus {os.cpu_count()} "
        "(shared, loaded machine: timings are indicative only)",
        flush=True,
    )
    results, public_results = [], []
    total = time.perf_counter()
    for ptask in public:
        r = run_public(ptask, args.quick, n_jobs, not args.no_select)
        public_results.append(r)
        print(_json(r), flush=True)
    for task in tasks:
        r = run_task(task, args.quick, not args.no_loco, n_jobs, not args.no_baseline)
        results.append(r)
        print(_json(r), flush=True)
    print()
    if public_results:
        print_public(public_results)
        print()
    if results:
        print_table(results)
    summary = {
        "benchmark": "accuracy",
        "quick": args.quick,
        "seconds": round(time.perf_counter() - total, 1),
        "threads": n_jobs,
        "public": {
            r["task"]: {
                "metric": r["metric"],
                "score": r["score"],
                "plain_xgb": r["plain_xgb"],
                "coverage_68": r.get("coverage_68"),
                "coverage_95": r.get("coverage_95"),
                "fit_seconds": r["fit_seconds"],
                "plain_fit_seconds": r["plain_fit_seconds"],
                "seconds": r["seconds"],
                "goal_met": r["goal_met"],
            }
            for r in public_results
        },
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
                "default": {m: v["mean"] for m, v in r["default"]["metrics"].items()}
                if "default" in r
                else None,
                "default_fit_time_ratio": r["default"]["fit_time_ratio_vs_plain"]
                if "default" in r
                else None,
                "coverage_68": (r["kfold"].get("calibration_raw") or {}).get("coverage_68"),
                "coverage_95": (r["kfold"].get("calibration_raw") or {}).get("coverage_95"),
                "goal_met": r.get("goal_met"),
            }
            for r in results
        },
    }
    print(_json(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

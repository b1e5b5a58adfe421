"""Grouped-CV error of the flagship's Curie model on raw and on audited labels.

The flagship (``workflows/ndfeb_hree_reduction.toml``) learns the Curie temperature from the
literature-mined set (curie_tc). Its labels are either the plain median of every value mined for
a compound (``load_dataset("curie_tc", audit=False)``: raw) or the label audit's consensus
(``mi.data.audit``, the default: audited). This script cross-validates the flagship's Curie model
(its preset, model, parameters, ``min_value`` and CV settings, read from the workflow file) on
both, with compositions as groups (no composition in two folds), and prints:

- MAE, RMSE, R2 and the 95 % interval coverage (raw ensemble std, and recalibrated out of fold
  as the workflow does) on each label set;
- the raw-label model's out-of-fold predictions scored against the audited labels, on the
  compounds both sets share: how much of the gain is a better model rather than easier labels;
- the audited-label model's error split by how many papers agree on the label (one paper, or
  two or more): how much of the remaining error sits on labels no second paper confirms;
- the R2(Fe,Co)14B series predicted by the model fitted on all rows of each label set (the
  reference: Nd2Fe14B 585 K, ``../shared/magnets/REFERENCE.md``). Compounds in a training set are
  predicted in sample, so this shows what the labels teach, not an accuracy;
- before/after on the audited labels: the flagship's previous Curie setting (a random forest
  with the median of its trees, ``max_features`` 0.33, on preset ``curie_co_as_fe``: Co counted
  as Fe in every compound) beside the current one (``max_features`` 0.2 on preset
  ``curie_co_in_magnets_elements``: Co counted as Fe only in Fe-rich R-TM magnets, where the Co
  share alone carries the Co-for-Fe trend, constrained to raise Tc, plus the fractions of the
  common non-rare-earth elements), on the same folds, with the first 5 % Co step of Nd2Fe14B
  each predicts;
- the label-noise floor of the audited labels (``benchmarks/label_noise.py``): what a perfect
  model would score against them.

The audit uses only the values mined for each compound and the rules in the manifest, never a
model's prediction, so scoring on audited labels is not circular.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/label_audit.py   # under 1 min on one core
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/label_audit.py --select   # + ~3 min

``--select`` also runs the nested model selection behind the flagship's Curie setting: for each
reported fold, the candidates of :data:`CANDIDATES` are scored by a 3-fold grouped
cross-validation *inside that fold's training rows* (seed 1), the best is refitted on the
training rows and scored once on the fold's test rows. It prints the nested MAE and the choice
of every fold.

Prints a table and one JSON line per label set.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_ROOT = Path(__file__).resolve().parent.parent
_SHARED = _ROOT.parent / "shared" / "datasets"
if "MI_DATA_DIR" not in os.environ and _SHARED.is_dir():
    os.environ["MI_DATA_DIR"] = str(_SHARED)  # as the Makefile does

from mi.data import load_dataset  # noqa: E402
from mi.features import featurize  # noqa: E402
from mi.models import evaluate  # noqa: E402
from mi.runner.spec import load_spec  # noqa: E402
from mi.runner.training import make_model  # noqa: E402

WORKFLOW = _ROOT / "workflows" / "ndfeb_hree_reduction.toml"
#: R2(Fe,Co)14B compounds predicted by the fitted models (Nd2Fe14B: 585 K, REFERENCE.md).
PROBE = [
    "Nd2Fe14B",
    "Nd2(Fe0.95Co0.05)14B",
    "Pr2Fe14B",
    "Dy2Fe14B",
    "Tb2Fe14B",
    "Ce2Fe14B",
    "PrNdFe14B",
    "Nd2Fe12Co2B",
]
#: The flagship's Curie setting before this round (the "before" of the before/after rows).
PREVIOUS: dict[str, Any] = {
    "preset": "curie_co_as_fe",
    "model": "random_forest",
    "model_params": {
        "n_estimators": 150,
        "max_features": 0.33,
        "point": "median",
        "monotone_increasing": "Co share of FeCoNi up to Co = Fe; Co-for-Fe Tc increment",
        "offset": "Co-for-Fe Tc increment",
    },
}


def labels(audit: bool, target: Any) -> pd.DataFrame:
    """Training table of the flagship's Curie target, as the workflow filters it."""
    df = load_dataset(target.dataset, audit=audit).df
    y = df[target.column or "Tc"].to_numpy(float)
    keep = np.isfinite(y)
    if target.min_value is not None:
        keep &= y >= target.min_value
    if target.max_value is not None:
        keep &= y <= target.max_value
    return pd.DataFrame({"composition": df["composition"][keep].to_numpy(), "y": y[keep]})


def cross_validate(table: pd.DataFrame, target: Any, seed: int) -> dict[str, Any]:
    """Grouped k-fold CV of the flagship's model on one label set."""
    t0 = time.perf_counter()
    X = featurize(table["composition"].tolist(), preset=target.preset)
    model = make_model(target, seed)
    if "n_jobs" in model.get_params():
        model.set_params(n_jobs=1)
    result = evaluate(
        model,
        X,
        table["y"].to_numpy(float),
        groups=table["composition"].to_numpy(),
        cv=target.cv.method,
        n_splits=target.cv.n_splits,
        random_state=seed,
        calibration="linear",
    )
    oof = result.oof.assign(composition=table["composition"].to_numpy())
    err = (oof["mean"] - oof["y"]).abs()
    model.fit(X, table["y"].to_numpy(float))  # on every row: what the labels teach
    mean, std = model.predict(featurize(PROBE, preset=target.preset)[X.columns], return_std=True)
    known = set(table["composition"])
    probe = {
        name: {"mean": float(m), "std": float(sd), "in_training": key in known}
        for name, key, m, sd in zip(PROBE, _clean_formulas(PROBE), mean, std, strict=True)
    }
    return {
        "preset": target.preset,
        "model": target.model,
        "model_params": dict(target.model_params),
        "n": len(table),
        "mae": float(err.mean()),
        "rmse": float(np.sqrt(((oof["mean"] - oof["y"]) ** 2).mean())),
        "r2": result.summary["r2"]["mean"] if "r2" in result.summary else None,
        "coverage_95_raw_std": result.calibration_raw.coverage_95,
        "coverage_95_recalibrated": (
            result.calibration.coverage_95 if result.calibration is not None else None
        ),
        "seconds": time.perf_counter() - t0,
        "oof": oof[["composition", "y", "mean"]],
        "probe": probe,
    }


#: Candidates of the nested selection (``--select``): name -> (preset, model, parameters).
#: ``curie_co_as_fe`` counts Co as Fe everywhere, ``curie_co_in_magnets`` only in Fe-rich R-TM
#: magnets (the Co-for-Fe trend is carried by the Co share in both); ``..._elements`` adds the
#: fractions of the common non-rare-earth elements. Every candidate keeps the flagship's
#: monotone constraint; the forests also its Co-for-Fe offset.
CANDIDATES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "xgb_ensemble 6x300 d6": (
        "curie_co_as_fe",
        "xgb_ensemble",
        {"n_members": 6, "n_estimators": 300, "max_depth": 6, "learning_rate": 0.05},
    ),
    "forest median mf0.33": (
        "curie_co_as_fe",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.33, "point": "median"},
    ),
    "forest median mf0.5": (
        "curie_co_as_fe",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.5, "point": "median"},
    ),
    "forest mean mf0.33": (
        "curie_co_as_fe",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.33},
    ),
    "xgb_ensemble abs-error, Co in magnets": (
        "curie_co_in_magnets",
        "xgb_ensemble",
        {
            "n_members": 4,
            "n_estimators": 300,
            "max_depth": 6,
            "learning_rate": 0.05,
            "objective": "reg:absoluteerror",
        },
    ),
    "forest median mf0.33, Co in magnets": (
        "curie_co_in_magnets",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.33, "point": "median"},
    ),
    "forest median mf0.5, Co in magnets": (
        "curie_co_in_magnets",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.5, "point": "median"},
    ),
    "forest median mf0.33, Co in magnets + elements": (
        "curie_co_in_magnets_elements",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.33, "point": "median"},
    ),
    "forest median mf0.2, Co in magnets + elements": (
        "curie_co_in_magnets_elements",
        "random_forest",
        {"n_estimators": 150, "max_features": 0.2, "point": "median"},
    ),
}


def nested_selection(table: pd.DataFrame, target: Any, seed: int) -> dict[str, Any]:
    """Nested CV: choose among :data:`CANDIDATES` inside each reported fold's training rows."""
    from mi.models.splits import GroupedKFold

    compositions = table["composition"].tolist()
    features = {
        preset: featurize(compositions, preset=preset)
        for preset in sorted({c[0] for c in CANDIDATES.values()})
    }
    y = table["y"].to_numpy(float)
    groups = table["composition"].to_numpy()
    keep = {k: v for k, v in target.model_params.items() if k == "monotone_increasing"}
    offset = {k: v for k, v in target.model_params.items() if k == "offset"}

    def make(name: str) -> Any:
        preset, model_name, params = CANDIDATES[name]
        extra = keep | (offset if model_name == "random_forest" else {})
        spec = target.model_copy(
            update={"preset": preset, "model": model_name, "model_params": params | extra}
        )
        model = make_model(spec, seed)
        if "n_jobs" in model.get_params():
            model.set_params(n_jobs=1)
        return model

    n = len(y)
    outer = GroupedKFold(target.cv.n_splits, random_state=seed).split(np.zeros((n, 1)), y, groups)
    pred = np.full(n, np.nan)
    choices = []
    for train, test in outer:
        inner = list(GroupedKFold(3, random_state=1).split(train, y[train], groups[train]))
        scores = {}
        for name in CANDIDATES:
            X = features[CANDIDATES[name][0]]
            oof = np.empty(len(train))
            for a, b in inner:
                model = make(name).fit(X.iloc[train[a]], y[train[a]])
                oof[b] = model.predict(X.iloc[train[b]])
            scores[name] = float(np.abs(oof - y[train]).mean())
        best = min(scores, key=scores.__getitem__)
        X = features[CANDIDATES[best][0]]
        pred[test] = make(best).fit(X.iloc[train], y[train]).predict(X.iloc[test])
        choices.append({"chosen": best, "inner_mae": scores})
    return {"nested_mae": float(np.abs(pred - y).mean()), "folds": choices}


def consensus_papers(compositions: list[str]) -> np.ndarray:
    """Distinct papers behind each audited label (the values its consensus uses)."""
    from label_noise import _curie_pools, _select  # same directory

    from mi.chem import parse_formulas

    pools, _ = _curie_pools()
    papers: dict[str, set[str]] = {}
    for key, _value, doi in _select(pools, "consensus"):
        papers.setdefault(key, set()).add(doi)
    keys = parse_formulas(compositions).canonical_keys()
    return np.array([len(papers.get(k, ())) for k in keys])


def _clean_formulas(formulas: list[str]) -> list[str]:
    """The dataset's clean formula of each probe compound (to tell whether it is a label)."""
    from mi.data.formulas import check_formulas

    return [str(f) for f in check_formulas(formulas).formulas]


def main() -> int:
    spec = load_spec(WORKFLOW)
    target = next(t for t in spec.targets if t.dataset == "curie_tc")
    print(
        f"flagship Curie model: {target.model} {target.model_params}, preset {target.preset}, "
        f"{target.cv.n_splits}-fold {target.cv.method} grouped by composition, "
        f"min_value {target.min_value}"
    )
    runs = {}
    for name, audit in (("raw", False), ("audited", True)):
        runs[name] = cross_validate(labels(audit, target), target, spec.seed)
    previous = target.model_copy(update=PREVIOUS)
    before = cross_validate(labels(True, target), previous, spec.seed)
    raw, aud = runs["raw"]["oof"], runs["audited"]["oof"]
    common = raw.merge(aud, on="composition", suffixes=("_raw", "_aud"))
    cross = {
        "n_common": len(common),
        "raw_model_vs_audited_labels_mae": float(
            (common["mean_raw"] - common["y_aud"]).abs().mean()
        ),
        "raw_model_vs_raw_labels_mae": float((common["mean_raw"] - common["y_raw"]).abs().mean()),
        "audited_model_vs_audited_labels_mae": float(
            (common["mean_aud"] - common["y_aud"]).abs().mean()
        ),
    }
    head = (
        f"{'labels':<9} {'rows':>6} {'MAE K':>7} {'RMSE K':>7} {'R2':>6} {'cov95 raw':>9} "
        f"{'cov95 cal':>9} {'s':>6}"
    )
    print(head)
    print("-" * len(head))
    for name, r in runs.items():
        print(
            f"{name:<9} {r['n']:>6} {r['mae']:>7.1f} {r['rmse']:>7.1f} {r['r2']:>6.3f} "
            f"{r['coverage_95_raw_std']:>9.3f} {r['coverage_95_recalibrated']:>9.3f} "
            f"{r['seconds']:>6.0f}"
        )
    print(
        f"on the {cross['n_common']} compounds in both sets: raw-label model vs audited labels "
        f"MAE {cross['raw_model_vs_audited_labels_mae']:.1f} K (vs its own raw labels "
        f"{cross['raw_model_vs_raw_labels_mae']:.1f} K); audited-label model "
        f"{cross['audited_model_vs_audited_labels_mae']:.1f} K"
    )
    support = consensus_papers(aud["composition"].tolist())
    err = (aud["mean"] - aud["y"]).abs().to_numpy()
    by_support = {}
    for label, mask in (("one paper", support == 1), ("2+ papers", support >= 2)):
        by_support[label] = {"n": int(mask.sum()), "mae": float(err[mask].mean())}
    cross["audited_mae_by_agreeing_papers"] = by_support
    print(
        "audited-label model by papers agreeing on the label: "
        + "; ".join(f"{k}: MAE {v['mae']:.1f} K over {v['n']}" for k, v in by_support.items())
    )
    print("R2(Fe,Co)14B predicted by the model fitted on every row (* = a training label):")
    for compound in PROBE:
        cells = []
        for name, r in runs.items():
            p = r["probe"][compound]
            star = "*" if p["in_training"] else " "
            cells.append(f"{name} {p['mean']:6.0f} +- {p['std']:4.0f} K{star}")
        print(f"  {compound:<12} " + "   ".join(cells))
    print("before/after on the audited labels (same folds):")
    co = {}
    for name, r in (("before", before), ("after", runs["audited"])):
        p = r["probe"]
        co[name] = p["Nd2(Fe0.95Co0.05)14B"]["mean"] - p["Nd2Fe14B"]["mean"]
        print(
            f"  {name:<6} {r['model']:<13} preset {r['preset']:<18} MAE {r['mae']:6.1f} K  "
            f"RMSE {r['rmse']:6.1f} K  "
            f"cov95 (recalibrated) {r['coverage_95_recalibrated']:.3f}  first 5 % Co step of "
            f"Nd2Fe14B {co[name]:+6.1f} K"
        )
    floor = noise_floor()
    print(
        f"label-noise floor of the audited labels: perfect-model MAE >= "
        f"{floor['perfect_model_mae_lower_bound']:.0f} K (every multi-paper label exact), about "
        f"{floor['perfect_model_mae_gaussian_single_paper_only']:.0f} K for Gaussian errors"
    )
    if "--select" in sys.argv[1:]:
        nested = nested_selection(labels(True, target), target, spec.seed)
        print(f"nested selection on the audited labels: MAE {nested['nested_mae']:.1f} K")
        for k, fold in enumerate(nested["folds"]):
            inner = ", ".join(f"{n} {v:.1f}" for n, v in fold["inner_mae"].items())
            print(f"  fold {k}: chose {fold['chosen']} (inner MAE K: {inner})")
        print(json.dumps({"benchmark": "label_audit", "nested_selection": nested}))
    for name, r in runs.items():
        line = {"benchmark": "label_audit", "labels": name}
        line.update({k: v for k, v in r.items() if k != "oof"})
        if name == "audited":
            line.update(cross)
            line["noise_floor"] = floor
        print(json.dumps(line))
    line = {"benchmark": "label_audit", "labels": "audited", "setting": "before"}
    line.update({k: v for k, v in before.items() if k != "oof"})
    line["co_step_5pct"] = co
    print(json.dumps(line))
    return 0


def noise_floor() -> dict[str, Any]:
    """Label-noise floor of the flagship's audited Curie labels (benchmarks/label_noise.py)."""
    from label_noise import flagship_floors  # same directory

    floor = next(f for f in flagship_floors() if f["labels"] == "audited")
    return {k: v for k, v in floor.items() if k != "noise_2_papers"}


if __name__ == "__main__":
    sys.exit(main())

"""Copper alloys (Gorsse et al. 2023): grouped 5-fold CV of conductivity and strength surrogates.

Protocol (printed with the results):

- data: the registered ``cu_alloys_gorsse2023`` dataset through ``mi.data.load_dataset``
  (wt % element columns converted to atomic formulas; rows merge only when composition and all
  seven processing conditions agree; 12 rows whose wt % do not sum to 100 rejected);
- folds: 5-fold shuffled grouped k-fold (``mi.models.GroupedKFold``, seed 0) with the
  composition as group, so every processing variant of one alloy is in the same fold; the same
  folds for every model of a target;
- inputs: the ``magpie`` preset of the composition, with and without the seven processing
  conditions (solution treatment T and t, cold work, aged flag, aging T and t, secondary
  process flag) appended as columns;
- models: ``mi`` default (``XGBEnsembleRegressor()`` with its library defaults, the model a
  workflow's ``model = "xgb_ensemble"`` uses), a plain ``xgboost.XGBRegressor`` (500 trees,
  depth 6, learning rate 0.05, everything else xgboost's default), and a dummy predicting the
  training mean; every model with one thread;
- metric: MAE per fold, reported as mean +- std over the 5 folds.

Usage::

    MI_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/cu_alloys.py
    .venv/bin/python benchmarks/cu_alloys.py --targets conductivity --quick

Prints one table and one JSON line per (target, inputs, model).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd


def _models(quick: bool) -> dict[str, object]:
    from sklearn.dummy import DummyRegressor
    from xgboost import XGBRegressor

    from mi.models import XGBEnsembleRegressor

    trees = 100 if quick else 500
    return {
        "mi default (xgb_ensemble)": XGBEnsembleRegressor(
            random_state=0, n_jobs=1, **({"n_members": 3, "n_estimators": 100} if quick else {})
        ),
        "plain xgboost": XGBRegressor(
            n_estimators=trees, max_depth=6, learning_rate=0.05, n_jobs=1, random_state=0
        ),
        "dummy (mean)": DummyRegressor(),
    }


def run(targets: list[str], quick: bool) -> pd.DataFrame:
    """Cross-validate every model on every target, with and without conditions."""
    from sklearn.base import clone

    from mi.data import load_dataset
    from mi.features import featurize
    from mi.models import GroupedKFold

    ds = load_dataset("cu_alloys_gorsse2023")
    conds = ds.conditions
    print(f"dataset: {ds!r}; conditions: {conds}")
    print(ds.report.summary())
    rows = []
    for target in targets:
        df = ds.df[np.isfinite(ds.df[target].to_numpy(float))].reset_index(drop=True)
        comp = featurize(df["composition"].tolist(), preset="magpie", progress=False)
        comp.columns = [str(c) for c in comp.columns]
        y = df[target].to_numpy(float)
        groups = df["composition"].to_numpy()
        splits = list(GroupedKFold(5, random_state=0).split(comp, groups=groups))
        n_groups = len(set(groups))
        print(f"\n{target}: {len(df)} rows, {n_groups} compositions (groups), 5 grouped folds")
        for inputs in ("composition + conditions", "composition only"):
            X = pd.concat([comp, df[conds].astype(float)], axis=1) if "+" in inputs else comp
            for name, proto in _models(quick).items():
                maes = []
                t0 = time.perf_counter()
                for train, test in splits:
                    model = clone(proto)
                    model.fit(X.iloc[train], y[train])
                    pred = np.asarray(model.predict(X.iloc[test]), dtype=float)
                    maes.append(float(np.mean(np.abs(pred - y[test]))))
                seconds = time.perf_counter() - t0
                row = {
                    "target": target,
                    "unit": ds.meta.units.get(target, ""),
                    "inputs": inputs,
                    "model": name,
                    "mae_mean": float(np.mean(maes)),
                    "mae_std": float(np.std(maes)),
                    "n_rows": len(df),
                    "seconds": round(seconds, 1),
                }
                rows.append(row)
                print(json.dumps(row))
    return pd.DataFrame(rows)


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="conductivity,yield_strength,tensile_strength")
    parser.add_argument("--quick", action="store_true", help="Fewer trees (smoke run).")
    args = parser.parse_args()
    table = run(args.targets.split(","), args.quick)
    pairs = zip(table.mae_mean, table.mae_std, strict=True)
    table["MAE"] = [f"{m:.3g} +- {s:.2g}" for m, s in pairs]
    print()
    with pd.option_context("display.width", 160):
        print(table[["target", "unit", "inputs", "model", "MAE", "seconds"]].to_string(index=False))


if __name__ == "__main__":
    main()

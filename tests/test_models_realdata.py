"""mi.models on a small slice of the real band-gap data (through mi.data and mi.features)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mi.chem import parse_formulas
from mi.data import load_dataset
from mi.features import featurize
from mi.models import XGBClassifierModel, XGBEnsembleRegressor, evaluate


def test_metal_classifier_and_gap_regressor_on_real_slice(shared_datasets):
    df = load_dataset("expt_gap").df.sample(n=800, random_state=0).reset_index(drop=True)
    X = featurize(list(df["composition"]), preset="magpie").reset_index(drop=True)
    groups = parse_formulas(list(df["composition"])).canonical_keys()
    small = {"n_estimators": 60, "learning_rate": 0.2, "n_jobs": 1, "random_state": 0}
    clf = evaluate(XGBClassifierModel(**small), X, df["is_metal"].to_numpy(), groups=groups)
    assert clf.summary["roc_auc"]["mean"] > 0.9
    nonmetal = ~df["is_metal"].to_numpy()
    Xn, yn = X[nonmetal], df.loc[nonmetal, "Eg"].to_numpy(float)
    gn = np.asarray(groups)[nonmetal]
    model = XGBEnsembleRegressor(n_members=3, **small)
    kfold = evaluate(model, Xn, yn, groups=gn, n_splits=3)
    trivial = np.mean(np.abs(yn - yn.mean()))  # about 1.1 eV
    assert kfold.summary["mae"]["mean"] < 0.75 * trivial
    assert 0.85 <= kfold.calibration.coverage_95 <= 0.99
    loco = evaluate(model, Xn, yn, groups=gn, cv="loco", n_splits=3)
    assert isinstance(loco.oof, pd.DataFrame) and loco.oof["fold"].notna().all()
    assert loco.summary["mae"]["n_folds"] == 3


def test_label_noise_of_real_sets(shared_datasets):
    """The label-noise facts benchmarks/label_noise.py reports, checked on the real files."""
    from mi.models import near_duplicate_noise, replicate_noise

    df = load_dataset("supercon", merge="none").df
    df = df[df["Tc"] > 0]
    exact = replicate_noise(
        df["Tc"].to_numpy(float), parse_formulas(list(df["composition"])).canonical_keys()
    )
    assert exact.n_groups > 300 and exact.label_rmse < 3.0
    merged = load_dataset("supercon").df
    merged = merged[merged["Tc"] > 0]
    near = near_duplicate_noise(
        parse_formulas(list(merged["composition"])).fractions(), merged["Tc"].to_numpy(float), 0.005
    )
    # compositions within 0.5 % differ far more than exact replicates (real doping effects + noise)
    assert near.n_pairs > 1000 and near.label_rmse > 2 * exact.label_rmse
    gap = load_dataset("expt_gap", merge="none").df
    noise = replicate_noise(
        gap["Eg"].to_numpy(float), parse_formulas(list(gap["composition"])).canonical_keys()
    )
    assert noise.label_mae_low < 0.35  # the band-gap goal sits above the noise floor

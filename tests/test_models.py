"""Unit tests of mi.models: uncertainty, two-stage, calibration, evaluation, threads."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from mi.config import cpu_quota
from mi.exceptions import ModelError, RegistryKeyError
from mi.models import (
    CalibratedRegressor,
    GPRegressor,
    GroupedKFold,
    LeaveOneClusterOut,
    Prediction,
    RandomForestUncertaintyRegressor,
    ScaleCalibrator,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
    calibration_report,
    cross_fit_calibration,
    evaluate,
    get_calibrator,
    predict_distribution,
    xgb_threads,
)

SMALL = {"n_estimators": 30, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(240, 4))
    y = np.sin(X[:, 0]) * 3 + X[:, 1] + 0.3 * rng.normal(size=240)
    return X, y


# --- Prediction -------------------------------------------------------------------------------


def test_prediction_validates_and_subsets():
    p = Prediction([1.0, 2.0, 3.0], [0.1, 0.2, 0.3], members=np.ones((4, 3)))
    assert len(p) == 3
    lo, hi = p.interval(0.68)
    assert np.all(lo < p.mean) and np.all(hi > p.mean)
    assert len(p.take([0, 2])) == 2 and p.take([0, 2]).members.shape == (4, 2)
    with pytest.raises(ModelError, match="same length"):
        Prediction([1.0], [0.1, 0.2])
    with pytest.raises(ModelError, match=">= 0"):
        Prediction([1.0], [-0.1])
    with pytest.raises(ModelError, match="members must have shape"):
        Prediction([1.0, 2.0], [0.1, 0.1], members=np.ones((3, 5)))
    with pytest.raises(ModelError, match="level"):
        p.interval(1.5)


def test_predict_distribution(data):
    X, y = data
    model = XGBEnsembleRegressor(n_members=3, **SMALL).fit(X, y)
    pred = predict_distribution(model, X[:10])
    assert pred.members.shape == (3, 10)
    np.testing.assert_allclose(pred.mean, pred.members.mean(axis=0))
    np.testing.assert_allclose(pred.std, pred.members.std(axis=0, ddof=1))
    with pytest.raises(ModelError, match="return_std"):
        predict_distribution(LinearRegression().fit(X, y), X)


# --- threads ----------------------------------------------------------------------------------


def test_threads_never_exceed_quota(data, monkeypatch):
    from mi.config import get_settings
    from mi.models import _threads

    X, y = data
    monkeypatch.setitem(_threads._STATE, "passive", True)
    assert xgb_threads(1) == 1
    assert 1 <= xgb_threads(10_000) <= cpu_quota()
    assert xgb_threads(-1) == cpu_quota()
    monkeypatch.delenv("MI_N_JOBS", raising=False)
    get_settings(refresh=True)
    assert xgb_threads(None) == cpu_quota()
    model = XGBEnsembleRegressor(n_members=1, n_estimators=5, n_jobs=64).fit(X, y)
    assert model.members_[0].get_params()["n_jobs"] <= cpu_quota()


def test_threads_fall_back_to_one_when_openmp_would_spin(monkeypatch):
    from mi.exceptions import FallbackWarning
    from mi.models import _threads

    monkeypatch.setattr(_threads, "resolve_n_jobs", lambda n: 4)
    monkeypatch.setitem(_threads._STATE, "passive", False)
    monkeypatch.setitem(_threads._STATE, "user_policy", False)
    monkeypatch.setitem(_threads._STATE, "warned", False)
    with pytest.warns(FallbackWarning, match="OMP_WAIT_POLICY=PASSIVE"):
        assert xgb_threads(4) == 1
    monkeypatch.setitem(_threads._STATE, "user_policy", True)  # the user chose: respected
    assert xgb_threads(4) == 4


@pytest.mark.parametrize(
    ("first", "env", "expected"),
    [
        ("", None, "True PASSIVE"),
        ("import sklearn;", None, "False PASSIVE"),
        ("import sklearn;", "PASSIVE", "True PASSIVE"),
    ],
)
def test_passive_policy_detection_in_fresh_process(first, env, expected):
    import subprocess
    import sys

    code = (
        f"{first}import os, mi.models._threads as t; "
        "print(t.omp_passive(), os.environ['OMP_WAIT_POLICY'])"
    )
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env:
        environ["OMP_WAIT_POLICY"] = env
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr


# --- estimators -------------------------------------------------------------------------------


def test_xgb_ensemble_learns_and_is_reproducible(data):
    X, y = data
    a = XGBEnsembleRegressor(n_members=4, **SMALL).fit(X[:200], y[:200])
    b = XGBEnsembleRegressor(n_members=4, **SMALL).fit(X[:200], y[:200])
    np.testing.assert_array_equal(a.predict(X[200:]), b.predict(X[200:]))
    assert a.score(X[200:], y[200:]) > 0.7
    members = a.predict_members(X[200:])
    assert members.shape == (4, 40)
    assert np.all(a.predict(X[200:], return_std=True)[1] > 0)
    # members differ (bootstrap + seeds), ensemble std is their spread
    assert np.ptp(members, axis=0).max() > 0
    rs = np.random.RandomState(3)
    seeds = rs.randint(0, 2**31 - 1, size=8)
    # balanced subagging: 8 members on 75 % of the rows, every row left out by exactly 2
    counts = XGBEnsembleRegressor(n_members=8)._draw_counts(100, rs, seeds)
    assert set(np.unique(counts)) == {0.0, 1.0} and counts.shape == (8, 100)
    np.testing.assert_array_equal((counts == 0).sum(axis=0), 2)
    assert abs(counts.sum(axis=1).mean() - 75) < 1e-9
    one = XGBEnsembleRegressor(n_members=1, max_samples=0.5)._draw_counts(100, rs, seeds[:1])
    assert one.sum() == 50 and set(np.unique(one)) == {0.0, 1.0}
    boot = XGBEnsembleRegressor(bootstrap=True, max_samples=0.5)._draw_counts(100, rs, seeds[:2])
    assert np.all(boot.sum(axis=1) == 50) and boot.max() >= 1
    every = XGBEnsembleRegressor(max_samples=None)._draw_counts(7, rs, seeds[:3])
    np.testing.assert_array_equal(every, 1.0)
    with pytest.raises(ValueError, match="'max_samples' parameter"):
        XGBEnsembleRegressor(max_samples=1.5).fit(X, y)
    with pytest.raises(ValueError, match="'n_members' parameter of XGBEnsembleRegressor"):
        XGBEnsembleRegressor(n_members=0).fit(X, y)


def test_xgb_classifier_probabilities(data):
    X, _ = data
    labels = np.where(X[:, 0] > 0, "metal", "nonmetal")
    clf = XGBClassifierModel(**SMALL).fit(X[:200], labels[:200])
    proba = clf.predict_proba(X[200:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert list(clf.classes_) == ["metal", "nonmetal"]
    assert (clf.predict(X[200:]) == labels[200:]).mean() > 0.85


@pytest.mark.parametrize("uncertainty", ["trees", "jackknife"])
def test_random_forest_uncertainty(data, uncertainty):
    X, y = data
    rf = RandomForestUncertaintyRegressor(
        n_estimators=40, uncertainty=uncertainty, random_state=0, n_jobs=1
    ).fit(X[:200], y[:200])
    mean, std = rf.predict(X[200:], return_std=True)
    assert rf.score(X[200:], y[200:]) > 0.6
    assert np.all(std > 0) and np.all(np.isfinite(std))
    assert rf.inbag_.shape == (40, 200)


def test_extra_trees_mode(data):
    X, y = data
    kw = dict(n_estimators=30, max_features=0.5, random_state=0, n_jobs=1)
    extra = RandomForestUncertaintyRegressor(splitter="random", bootstrap=False, **kw)
    extra.fit(X[:200], y[:200])
    best = RandomForestUncertaintyRegressor(**kw).fit(X[:200], y[:200])
    assert extra.score(X[200:], y[200:]) > 0.6
    assert np.all(extra.inbag_ == 1)  # every tree saw every row
    # random thresholds: trees differ although all see the same rows
    mean, std = extra.predict(X[200:], return_std=True)
    assert np.all(std > 0)
    assert not np.allclose(mean, best.predict(X[200:]))
    again = RandomForestUncertaintyRegressor(splitter="random", bootstrap=False, **kw)
    np.testing.assert_array_equal(again.fit(X[:200], y[:200]).predict(X[200:]), mean)


def test_jackknife_needs_bootstrap(data):
    X, y = data
    rf = RandomForestUncertaintyRegressor(n_estimators=5, bootstrap=False, uncertainty="jackknife")
    with pytest.raises(ValueError, match="needs bootstrap=True"):
        rf.fit(X, y)
    with pytest.raises(ValueError, match="splitter"):
        RandomForestUncertaintyRegressor(n_estimators=5, splitter="fast").fit(X, y)


def test_jackknife_matches_direct_formula(data):
    X, y = data
    rf = RandomForestUncertaintyRegressor(
        n_estimators=25, uncertainty="jackknife", calibration="none", random_state=1, n_jobs=1
    ).fit(X[:60], y[:60])
    trees = rf.predict_members(X[60:65])
    n_b, n = rf.inbag_.shape
    expected = np.empty(5)
    for j in range(5):
        t = trees[:, j]
        cov = [
            np.mean((rf.inbag_[:, i] - rf.inbag_[:, i].mean()) * (t - t.mean())) for i in range(n)
        ]
        v = np.sum(np.square(cov)) - n / n_b**2 * np.sum((t - t.mean()) ** 2)
        expected[j] = max(v, t.var() / n_b)
    np.testing.assert_allclose(rf.predict(X[60:65], return_std=True)[1] ** 2, expected)


def test_gp_regressor_uncertainty_grows_away_from_data():
    X = np.linspace(0, 1, 25)[:, None]
    y = np.sin(6 * X[:, 0])
    gp = GPRegressor(random_state=0).fit(X, y)
    _, std_in = gp.predict(np.array([[0.5]]), return_std=True)
    _, std_out = gp.predict(np.array([[3.0]]), return_std=True)
    assert std_out[0] > 3 * std_in[0]
    assert gp.score(X, y) > 0.95
    with pytest.raises(ModelError, match="max_samples"):
        GPRegressor(max_samples=10).fit(X, y)


def test_two_stage_regressor():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = np.where(X[:, 0] > 0, 20 + 5 * X[:, 1], 0.0)
    clf = XGBClassifierModel(**SMALL)
    reg = XGBEnsembleRegressor(n_members=3, **SMALL)
    expected = TwoStageRegressor(clf, reg).fit(X[:300], y[:300])
    hard = TwoStageRegressor(clf, reg, combine="hard").fit(X[:300], y[:300])
    p = expected.predict_proba_positive(X[300:])
    assert ((p > 0.5) == (y[300:] > 0)).mean() > 0.9
    mean, std = expected.predict(X[300:], return_std=True)
    mu, s = expected.regressor_.predict(X[300:], return_std=True)
    np.testing.assert_allclose(mean, p * mu)
    np.testing.assert_allclose(std**2, p * (s**2 + mu**2) - mean**2, atol=1e-9)
    hard_mean = hard.predict(X[300:])
    assert np.all(hard_mean[p < 0.5] == 0.0)
    assert expected.predict_members(X[300:]).shape == (3, 100)
    rmse = np.sqrt(np.mean((mean - y[300:]) ** 2))
    assert rmse < 4.0
    # all-positive data: no classifier, probability 1
    only_pos = TwoStageRegressor(clf, reg).fit(X[:50], np.abs(y[:50]) + 1)
    assert only_pos.classifier_ is None
    np.testing.assert_allclose(only_pos.predict_proba_positive(X[:3]), 1.0)


# --- calibration ------------------------------------------------------------------------------


def test_calibration_report_on_calibrated_gaussian():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.5, 2.0, size=20000)
    y = rng.normal(scale=std)
    r = calibration_report(y, np.zeros_like(y), std)
    assert abs(r.coverage_68 - 0.683) < 0.015
    assert abs(r.coverage_95 - 0.95) < 0.01
    assert r.miscalibration_area < 0.01
    assert r.spearman > 0.2
    too_narrow = calibration_report(y, np.zeros_like(y), std / 3)
    assert too_narrow.coverage_95 < 0.6 and too_narrow.miscalibration_area > 0.2
    assert too_narrow.nll > r.nll


@pytest.mark.parametrize("method", ["scale", "linear", "isotonic"])
def test_calibrators_fix_narrow_std(method):
    rng = np.random.default_rng(2)
    std = rng.uniform(0.5, 2.0, size=5000)
    y = rng.normal(scale=std)
    cal = get_calibrator(method).fit(y[:4000], np.zeros(4000), std[:4000] / 3)
    fixed = cal.transform(std[4000:] / 3)
    r = calibration_report(y[4000:], np.zeros(1000), fixed)
    assert 0.92 <= r.coverage_95 <= 0.98
    again = type(cal).from_dict(cal.to_dict())
    np.testing.assert_allclose(again.transform(std[:5]), cal.transform(std[:5]))


def test_scale_calibrator_mle_and_registry_errors():
    assert ScaleCalibrator().fit([0.0, 0.0], [3.0, -3.0], [1.0, 1.0]).factor_ == 3.0
    with pytest.raises(RegistryKeyError, match="Did you mean 'scale'"):
        get_calibrator("scael")


def test_cross_fit_calibration_uses_other_folds_only():
    y = np.array([0.0, 0.0, 0.0, 0.0])
    mean = np.array([1.0, 1.0, 4.0, 4.0])
    std = np.ones(4)
    folds = np.array([0, 0, 1, 1])
    out = cross_fit_calibration(y, mean, std, folds, method="scale")
    np.testing.assert_allclose(out, [4.0, 4.0, 1.0, 1.0])


def test_calibrated_regressor_covers_held_out(data):
    X, y = data
    base = XGBEnsembleRegressor(n_members=4, **SMALL)
    model = CalibratedRegressor(base, method="scale", cv=4).fit(X[:180], y[:180])
    assert model.calibrator_.factor_ > 1.0  # bootstrap spread alone is too narrow
    mean, std = model.predict(X[180:], return_std=True)
    raw = model.estimator_.predict(X[180:], return_std=True)[1]
    np.testing.assert_allclose(std, raw * model.calibrator_.factor_)
    cov = calibration_report(y[180:], mean, std).coverage_95
    assert cov > 0.8
    members = model.predict_members(X[180:])
    np.testing.assert_allclose(members.std(axis=0, ddof=1), std, rtol=1e-6)


# --- evaluation -------------------------------------------------------------------------------


def test_grouped_kfold_keeps_groups_together():
    groups = np.repeat(np.arange(30), 3)
    X = np.zeros((90, 1))
    for train, test in GroupedKFold(5, random_state=3).split(X, groups=groups):
        assert not set(groups[train]) & set(groups[test])


def test_loco_clusters_and_groups():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 10], [-10, 10]])
    X = np.vstack([c + rng.normal(size=(30, 2)) for c in centers])
    splitter = LeaveOneClusterOut(3, random_state=0)
    tests = [te for _, te in splitter.split(X)]
    assert len(tests) == 3
    assert sorted(len(t) for t in tests) == [30, 30, 30]
    groups = np.arange(90) // 2
    labels = splitter.cluster(X, groups)
    for g in np.unique(groups):
        assert len(set(labels[groups == g])) == 1


def test_evaluate_regression_with_groups(data):
    X, y = data
    groups = np.arange(len(y)) // 2
    model = XGBEnsembleRegressor(n_members=3, **SMALL)
    result = evaluate(model, pd.DataFrame(X, columns=list("abcd")), y, groups=groups, n_splits=4)
    assert len(result.folds) == 4
    assert set(result.summary) == {"mae", "rmse", "r2"}
    assert result.summary["r2"]["mean"] > 0.5
    assert result.oof.groupby(groups)["fold"].nunique().max() == 1
    assert "grouped" in result.protocol
    assert result.calibration_raw is not None and result.calibration is not None
    assert result.calibration.coverage_95 > result.calibration_raw.coverage_95
    d = result.to_dict()
    assert d["calibration_method"] == "linear" and "pooled" in d
    assert " +- " in result.format("mae")


def test_evaluate_classification_loco_and_explicit_split(data):
    X, _ = data
    labels = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    clf = XGBClassifierModel(**SMALL)
    res = evaluate(clf, X, labels, cv="loco", n_splits=3)
    assert set(res.summary) == {"roc_auc", "accuracy", "f1"}
    assert "leave-one-cluster-out" in res.protocol
    assert res.oof["fold"].notna().all()
    split = [(np.arange(200), np.arange(200, 240))]
    res2 = evaluate(
        RandomForestUncertaintyRegressor(n_estimators=20, n_jobs=1), X, X[:, 0], cv=split
    )
    assert len(res2.folds) == 1 and res2.oof["fold"].isna().sum() == 200
    assert res2.calibration_raw.n == 40 and res2.calibration is None
    with pytest.raises(ModelError, match="rows but y has"):
        evaluate(clf, X, labels[:10])
    with pytest.raises(ModelError, match="Unknown cv"):
        evaluate(clf, X, labels, cv="random")


def test_evaluate_model_without_std(data):
    X, y = data
    res = evaluate(LinearRegression(), X, y, n_splits=3)
    assert res.calibration is None and res.calibration_raw is None


def test_calibrated_regressor_from_out_of_fold(data, tmp_path):
    from mi.models import get_calibrator, load_model, save_model

    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    fitted = XGBEnsembleRegressor(n_members=4, **SMALL).fit(frame, y)
    result = evaluate(XGBEnsembleRegressor(n_members=4, **SMALL), frame, y, n_splits=3)
    oof = result.oof
    model = CalibratedRegressor.from_out_of_fold(
        fitted, oof["y"], oof["mean"], oof["std"], method="linear", cv=3
    )
    assert model.estimator_ is fitted and model.get_params()["cv"] == 3
    expected = get_calibrator("linear").fit(oof["y"], oof["mean"], oof["std"])
    assert model.calibrator_.to_dict() == pytest.approx(expected.to_dict())
    mean, std = model.predict(frame.iloc[:20], return_std=True)
    raw_mean, raw_std = fitted.predict(frame.iloc[:20], return_std=True)
    np.testing.assert_allclose(mean, raw_mean)
    np.testing.assert_allclose(std, expected.transform(raw_std))
    # the members are spread to the recalibrated std (Thompson draws match the intervals)
    members = model.predict_members(frame.iloc[:20])
    np.testing.assert_allclose(members.std(axis=0, ddof=1), std, rtol=1e-6)
    save_model(model, tmp_path / "m")
    again = load_model(tmp_path / "m")
    np.testing.assert_allclose(again.predict(frame.iloc[:20], return_std=True)[1], std)
    with pytest.raises(Exception, match="not fitted"):
        CalibratedRegressor.from_out_of_fold(XGBEnsembleRegressor(), y, y, np.ones_like(y))


def test_calibrated_regressor_has_members_only_when_wrapped_model_has():
    assert hasattr(CalibratedRegressor(XGBEnsembleRegressor()), "predict_members")
    assert not hasattr(CalibratedRegressor(GPRegressor()), "predict_members")

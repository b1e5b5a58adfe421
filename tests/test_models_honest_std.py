"""Honest uncertainty out of the box: every mi regressor calibrates its std at fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mi.models import (
    CalibratedRegressor,
    GPRegressor,
    RandomForestUncertaintyRegressor,
    TwoStageGapRegressor,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
    calibration_report,
    load_model,
    save_model,
)

FAST = {"n_estimators": 40, "learning_rate": 0.2, "n_jobs": 1, "random_state": 0}


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth signal plus noise whose size depends on x (heteroscedastic)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    noise = 0.2 + 0.4 * (X[:, 1] > 0)
    return X, np.sin(2 * X[:, 0]) + X[:, 1] + noise * rng.normal(size=n)


@pytest.fixture(scope="module")
def split():
    X, y = _data(3000)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.mark.parametrize(
    "make",
    [
        lambda: XGBEnsembleRegressor(**FAST),
        lambda: XGBEnsembleRegressor(bootstrap=True, **FAST),
        lambda: RandomForestUncertaintyRegressor(n_estimators=60, n_jobs=1, random_state=0),
    ],
    ids=["xgb_default_sampling", "xgb_bootstrap", "random_forest"],
)
def test_default_std_covers_held_out_errors(split, make):
    X, y, X_new, y_new = split
    model = make().fit(X, y)
    mean, std = model.predict(X_new, return_std=True)
    report = calibration_report(y_new, mean, std)
    assert 0.92 <= report.coverage_95 <= 0.98, report
    assert 0.6 <= report.coverage_68 <= 0.8, report
    raw_std = model.set_params(calibration="none").fit(X, y).predict(X_new, return_std=True)[1]
    assert model.calibrator_ is None
    if isinstance(model, XGBEnsembleRegressor):  # the raw member spread alone is far too narrow
        assert calibration_report(y_new, mean, raw_std).coverage_95 < 0.85


def test_gp_std_calibrated_on_leave_one_out():
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(2300, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.3 * rng.normal(size=2300)  # the GP's noise model
    gp = GPRegressor(n_restarts_optimizer=0, random_state=0).fit(X[:300], y[:300])
    assert gp.oob_calibration_ is not None and gp.oob_calibration_.n == 300
    report = calibration_report(y[300:], *gp.predict(X[300:], return_std=True))
    assert 0.92 <= report.coverage_95 <= 0.98, report


def test_every_row_left_out_by_two_members_and_map_is_fitted(split):
    X, y, _, _ = split
    model = XGBEnsembleRegressor(**FAST).fit(X, y)
    assert model.calibrator_.name == "linear"
    assert model.oob_calibration_.n == X.shape[0]  # every row has its 2 out-of-bag members
    raw = XGBEnsembleRegressor(calibration="none", **FAST).fit(X, y)
    m1, s1 = model.predict(X[:50], return_std=True)
    m0, s0 = raw.predict(X[:50], return_std=True)
    np.testing.assert_array_equal(m0, m1)  # same members, only the std differs
    np.testing.assert_allclose(s1, model.calibrator_.transform(s0))
    np.testing.assert_allclose(model.predict_members(X[:50]).std(axis=0, ddof=1), s1)


def test_no_out_of_bag_rows_warns_and_returns_raw_spread(split):
    X, y, _, _ = split
    with pytest.warns(UserWarning, match="out-of-bag members"):
        model = XGBEnsembleRegressor(max_samples=None, **FAST).fit(X[:200], y[:200])
    assert model.calibrator_ is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        XGBEnsembleRegressor(max_samples=None, calibration="none", **FAST).fit(X[:50], y[:50])


def test_calibrated_std_survives_save_and_load(split, tmp_path):
    X, y, X_new, _ = split
    for model in (
        XGBEnsembleRegressor(**FAST).fit(X, y),
        RandomForestUncertaintyRegressor(n_estimators=30, n_jobs=1, random_state=0).fit(X, y),
        GPRegressor(n_restarts_optimizer=0, random_state=0).fit(X[:100], y[:100]),
    ):
        folder = save_model(model, tmp_path / type(model).__name__)
        loaded = load_model(folder)
        np.testing.assert_allclose(
            loaded.predict(X_new[:20], return_std=True)[1],
            model.predict(X_new[:20], return_std=True)[1],
            rtol=1e-5,
        )
        assert loaded.calibrator_.to_dict() == model.calibrator_.to_dict()


def test_wrapper_calibrates_the_raw_spread_once(split):
    X, y, _, _ = split
    wrapped = CalibratedRegressor(XGBEnsembleRegressor(**FAST), cv=3).fit(X[:400], y[:400])
    assert wrapped.estimator_.calibration == "none" and wrapped.estimator_.calibrator_ is None
    assert wrapped.estimator.calibration == "linear"  # the given estimator is left alone


def test_hard_two_stage_std_reflects_classifier_doubt():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = np.where(X[:, 0] > 0, 2.0 + X[:, 1] + 0.1 * rng.normal(size=600), 0.0)
    model = TwoStageRegressor(
        XGBClassifierModel(**FAST), XGBEnsembleRegressor(**FAST), combine="hard"
    ).fit(X[:400], y[:400])
    mean, std = model.predict(X[400:], return_std=True)
    assert np.all(std > 0)  # a predicted zero still carries the chance of being positive
    p = model.predict_proba_positive(X[400:])
    doubtful, sure = np.abs(p - 0.5) < 0.3, np.abs(p - 0.5) > 0.49
    if doubtful.any() and sure.any():
        assert std[doubtful].mean() > std[sure & (mean == 0)].mean()
    report = calibration_report(y[400:], mean, std)
    assert report.coverage_95 >= 0.9


def test_two_stage_gap_model_by_name(tmp_path):
    from mi.active.spec import SurrogateSpec
    from mi.models.registry import get_model_spec

    assert get_model_spec("two_stage_gap").cls is TwoStageGapRegressor
    spec = SurrogateSpec(name="two_stage_gap", params={"combine": "hard"})
    model = spec.build(random_state=3, n_observations=0)
    assert isinstance(model, TwoStageGapRegressor) and model.random_state == 3
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3))
    gap = np.where(X[:, 0] > 0, 1.0 + X[:, 1] ** 2, 0.0)  # metals: exactly 0
    model.set_params(
        classifier=XGBClassifierModel(**FAST), regressor=XGBEnsembleRegressor(**FAST)
    ).fit(X[:350], gap[:350])
    mean, std = model.predict(X[350:], return_std=True)
    metal = model.predict_proba_positive(X[350:]) < 0.5
    assert metal.any() and np.all(mean[metal] == 0.0) and np.all(mean >= 0.0)
    assert np.mean(np.abs(mean - gap[350:])) < 0.5
    loaded = load_model(save_model(model, tmp_path / "gap"))
    assert isinstance(loaded, TwoStageGapRegressor)
    np.testing.assert_allclose(loaded.predict(X[350:]), mean, rtol=1e-6)


def test_workflow_calibrates_once_on_its_cross_validation():
    from mi.runner.spec import TargetSpec
    from mi.runner.training import make_model

    on_cv = TargetSpec(name="tc", dataset="supercon")  # cv on, calibration "linear"
    assert make_model(on_cv, seed=0).calibration == "none"
    gap = TargetSpec(name="eg", dataset="expt_gap", model="two_stage_gap")
    assert make_model(gap, seed=0).calibration == "none"
    no_cv = TargetSpec(name="tc", dataset="supercon", cv={"enabled": False})
    assert make_model(no_cv, seed=0).calibration == "linear"  # the model's own, out-of-bag

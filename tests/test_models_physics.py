"""PhysicsResidualRegressor: baseline kept outside the data, sklearn contract, no-pickle save."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mi.models import PhysicsResidualRegressor, load_model, save_model

_SMALL = {"n_members": 2, "n_estimators": 20, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}
_WEIGHTS = (
    "bootstrap draws pick different rows when a row is repeated instead of weighted "
    "(as XGBEnsembleRegressor)"
)


@parametrize_with_checks(
    [
        PhysicsResidualRegressor(baseline=0, **_SMALL),
        PhysicsResidualRegressor(baseline=0, shrink_outside=False, **_SMALL),
    ],
    expected_failed_checks=lambda e: {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["noise a", "physics estimate (T)", "b"])
    y = 2.0 * X["physics estimate (T)"].to_numpy() + 0.3 * X["b"].to_numpy()
    return X, y


def test_baseline_trend_survives_outside_the_data() -> None:
    X, y = _data()
    model = PhysicsResidualRegressor(baseline="physics estimate", scale=2.0, **_SMALL).fit(X, y)
    assert model.baseline_index_ == 1
    inside = pd.DataFrame([[0.5, 0.5, 0.5]], columns=X.columns)
    far = pd.DataFrame([[0.5, 8.0, 0.5], [0.5, 9.0, 0.5]], columns=X.columns)
    assert model.domain_weight(inside)[0] == 1.0
    assert np.all(model.domain_weight(far) == 0.0)
    mean, std = model.predict(far, return_std=True)
    np.testing.assert_allclose(mean, [16.0, 18.0])  # the physics alone, trend kept
    assert np.all(std == pytest.approx(model.prior_std_))
    assert abs(model.predict(inside)[0] - (1.0 + 0.15)) < 0.1  # the correction is learned


def test_labels_without_baseline_and_lower_clip() -> None:
    X, y = _data()
    # labels hold only the rest: the correction learns y, the baseline is added on top
    model = PhysicsResidualRegressor(
        baseline=1, labels_include_baseline=False, shrink_outside=False, lower=0.0, **_SMALL
    ).fit(X, y - 2.0 * X.iloc[:, 1].to_numpy())
    np.testing.assert_allclose(model.predict(X), y - 1.0 * X.iloc[:, 1].to_numpy(), atol=0.15)
    assert model.predict(pd.DataFrame([[0.5, -5.0, 0.5]], columns=X.columns))[0] == 0.0


def test_ambiguous_baseline_name_is_refused() -> None:
    X, y = _data(50)
    with pytest.raises(ValueError, match="exactly one"):
        PhysicsResidualRegressor(baseline="", **_SMALL).fit(X, y)


def test_save_load_round_trip(tmp_path) -> None:
    X, y = _data()
    model = PhysicsResidualRegressor(baseline="physics estimate", **_SMALL).fit(X, y)
    probe = pd.concat([X.head(20), pd.DataFrame([[0.5, 7.0, 0.5]], columns=X.columns)])
    folder = save_model(model, tmp_path / "m")
    loaded = load_model(folder)
    for a, b in zip(model.predict(probe, return_std=True), loaded.predict(probe, return_std=True),
                    strict=True):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(model.predict_members(probe), loaded.predict_members(probe))


def test_correction_off_is_the_physics_with_the_prior_std() -> None:
    X, y = _data()
    on = PhysicsResidualRegressor(baseline="physics estimate", scale=2.0, **_SMALL).fit(X, y)
    off = PhysicsResidualRegressor(
        baseline="physics estimate", scale=2.0, correction=False, **_SMALL
    ).fit(X, y)
    inside = pd.DataFrame([[0.5, 0.5, 0.5], [0.2, 0.3, 0.9]], columns=X.columns)
    mean, std = off.predict(inside, return_std=True)
    np.testing.assert_allclose(mean, 2.0 * inside["physics estimate (T)"].to_numpy())
    np.testing.assert_allclose(std, off.prior_std_)
    assert off.prior_std_ == pytest.approx(np.std(y - 2.0 * X["physics estimate (T)"]))
    assert np.all(off.domain_weight(inside) == 0.0)
    assert not np.allclose(on.predict(inside), mean)  # with the correction: something learned
    # members spread around the physics with the prior std, the same offsets on every row
    members = off.predict_members(inside)
    np.testing.assert_allclose(members.mean(axis=0), mean, atol=1e-12)
    np.testing.assert_allclose(members.std(axis=0), off.prior_std_, rtol=1e-9)


def test_correction_off_survives_save_and_load(tmp_path) -> None:
    X, y = _data()
    off = PhysicsResidualRegressor(baseline=1, correction=False, **_SMALL).fit(X, y)
    loaded = load_model(save_model(off, tmp_path / "m"))
    assert loaded.correction is False
    for a, b in zip(off.predict(X, return_std=True), loaded.predict(X, return_std=True),
                    strict=True):  # fmt: skip
        np.testing.assert_allclose(a, b)


def test_gate_drops_a_correction_without_skill() -> None:
    from mi.runner.magnets import gate_correction

    def cv(r2: float) -> dict:
        return {"metrics": {"r2": {"mean": r2, "std": 0.1, "n_folds": 5}}}

    model, note = gate_correction(PhysicsResidualRegressor(min_skill=0.0), cv(-0.31))
    assert model.correction is False and note is not None
    assert note["correction"] is False and note["oof_r2"] == -0.31
    assert "no skill" in note["reason"]
    model, note = gate_correction(PhysicsResidualRegressor(min_skill=0.0), cv(0.4))
    assert model.correction is True and note is not None and note["correction"] is True
    # no rule, or no cross-validation: nothing decided, the correction stays
    for unruled, record in ((PhysicsResidualRegressor(), cv(-1.0)),
                            (PhysicsResidualRegressor(min_skill=0.0), {})):  # fmt: skip
        model, note = gate_correction(unruled, record)
        assert note is None and model.correction is True

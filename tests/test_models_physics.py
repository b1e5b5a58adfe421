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

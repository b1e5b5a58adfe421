"""PhysicsResidualRegressor's stated physics prior: baseline_std, its scope, calibration, saving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mi.exceptions import SpecError
from mi.models import CalibratedRegressor, PhysicsResidualRegressor, load_model, save_model
from mi.models.physics import stated_prior_rows
from mi.models.registry import get_model_spec

_SMALL = {
    "n_members": 3,
    "n_estimators": 20,
    "learning_rate": 0.3,
    "n_jobs": 1,
    "random_state": 0,
    "calibration": "none",  # the raw spread (no out-of-bag map)
}
_COLUMNS = ["noise a", "physics estimate (T)", "family flag"]


def _data(n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=_COLUMNS)
    X["family flag"] = 0.0  # the training data holds none of the family
    y = 2.0 * X["physics estimate (T)"].to_numpy() + 0.5 * rng.normal(size=n)
    return X, y


def _probe() -> pd.DataFrame:
    """Two rows inside the data, two far outside in the family, one far outside not in it."""
    return pd.DataFrame(
        [
            [0.5, 0.5, 0.0],
            [0.4, 0.6, 0.0],
            [0.5, 8.0, 1.0],
            [0.5, 9.0, 1.0],
            [0.5, 8.5, 0.0],
        ],
        columns=_COLUMNS,
    )


def _model(**params: object) -> PhysicsResidualRegressor:
    return PhysicsResidualRegressor(baseline="physics estimate", scale=2.0, **_SMALL, **params)


def test_faded_rows_take_the_stated_std_in_scope_and_the_residual_spread_outside() -> None:
    X, y = _data()
    plain = _model().fit(X, y)
    model = _model(baseline_std=0.05, baseline_scope={"family": [1.0, 1.0]}).fit(X, y)
    probe = _probe()
    assert model.scope_index_ == [2]
    weight = model.domain_weight(probe)
    assert weight[0] == 1.0 and np.all(weight[2:] == 0.0)
    mean, std = model.predict(probe, return_std=True)
    plain_mean, plain_std = plain.predict(probe, return_std=True)
    np.testing.assert_allclose(mean, plain_mean)  # the prior changes the std only
    np.testing.assert_allclose(std[2:4], 0.05)  # far out, in the family: the stated prior
    assert std[4] == pytest.approx(model.prior_std_)  # far out, not in it: as before
    assert model.prior_std_ > 0.4  # the spread of the (noisy) training residuals
    np.testing.assert_allclose(std[:2], plain_std[:2])  # inside: the learned std
    assert model.stated_prior(probe).tolist() == [False, False, True, True, False]
    # members sampled around the physics agree with the stated std where it applies
    members = model.predict_members(probe)
    np.testing.assert_allclose(members[:, 2:4].std(axis=0), 0.05, rtol=1e-6)


def test_without_scope_every_faded_row_takes_the_stated_std() -> None:
    X, y = _data()
    model = _model(baseline_std=0.05).fit(X, y)
    _, std = model.predict(_probe(), return_std=True)
    np.testing.assert_allclose(std[2:], 0.05)
    assert model.scope_index_ == []


def test_correction_dropped_gives_the_stated_std_everywhere_in_scope() -> None:
    X, y = _data()
    model = _model(baseline_std=0.05, correction=False).fit(X, y)
    mean, std = model.predict(_probe(), return_std=True)
    np.testing.assert_allclose(std, 0.05)
    np.testing.assert_allclose(mean, 2.0 * _probe()["physics estimate (T)"].to_numpy())


def test_partly_faded_rows_mix_the_learned_and_the_stated_std() -> None:
    X, y = _data()
    model = _model(baseline_std=0.05).fit(X, y)
    rows = [[0.5, 0.5 + 1.2 * s, 0.0] for s in np.linspace(0, 3, 40)]
    probe = pd.DataFrame(rows, columns=_COLUMNS)
    w = model.domain_weight(probe)
    partly = (w > 0) & (w < 1)
    assert partly.any()
    _, learned, fixed_weight, fixed = model.predict_std_parts(probe)
    np.testing.assert_allclose(fixed_weight, 1.0 - w)
    _, std = model.predict(probe, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(w * learned**2 + (1 - w) * 0.05**2))


def test_calibration_rescales_the_learned_part_only() -> None:
    X, y = _data()
    model = _model(baseline_std=0.05, baseline_scope={"family": [1.0, 1.0]})
    model.fit(X, y)
    probe = _probe()
    _, raw = model.predict(probe, return_std=True)
    # a calibration map fitted on out-of-fold rows whose raw std is 3 times too small
    rng = np.random.default_rng(2)
    oof_std = np.full(400, 0.1)
    oof_mean = np.zeros(400)
    oof_y = 0.3 * rng.normal(size=400)
    wrapped = CalibratedRegressor.from_out_of_fold(model, oof_y, oof_mean, oof_std, method="scale")
    factor = float(wrapped.calibrator_.transform(np.array([1.0]))[0])
    assert factor > 2.0
    _, std = wrapped.predict(probe, return_std=True)
    np.testing.assert_allclose(std[2:4], 0.05)  # the stated prior is not multiplied
    np.testing.assert_allclose(std[[0, 1, 4]], factor * raw[[0, 1, 4]], rtol=1e-9)
    members = wrapped.predict_members(probe)
    np.testing.assert_allclose(members.std(axis=0, ddof=1), std, rtol=1e-6)
    assert stated_prior_rows(wrapped, probe).tolist() == [False, False, True, True, False]
    assert stated_prior_rows(_model().fit(X, y), probe) is None  # no stated prior: no column


def test_save_load_keeps_the_stated_prior_and_its_scope(tmp_path) -> None:
    X, y = _data()
    scope = {"family": [0.5, 1.5], "noise": [0.0, 1.0]}
    model = _model(baseline_std=0.05, baseline_scope=scope).fit(X, y)
    wrapped = CalibratedRegressor.from_out_of_fold(
        model, y[:100], y[:100] + 0.2, np.full(100, 0.05), method="linear"
    )
    loaded = load_model(save_model(wrapped, tmp_path / "m"))
    inner = loaded.estimator_
    assert inner.baseline_std == 0.05
    assert inner.baseline_scope == scope
    assert inner.scope_index_ == [2, 0]
    probe = _probe()
    for a, b in zip(
        wrapped.predict(probe, return_std=True), loaded.predict(probe, return_std=True), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(probe, return_std=True)[1][2:4], 0.05)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"baseline_std": -0.1}, "'baseline_std' parameter"),
        ({"baseline_std": float("inf")}, "'baseline_std' parameter"),
        ({"baseline_scope": {"family": [1.0, 1.0]}}, "needs baseline_std"),
        ({"baseline_std": 0.1, "baseline_scope": {"family": [2.0, 1.0]}}, "low <= high"),
        ({"baseline_std": 0.1, "baseline_scope": {"family": 1.0}}, "'baseline_scope' parameter"),
        ({"baseline_std": 0.1, "baseline_scope": {}}, "'baseline_scope' parameter"),
    ],
)
def test_bad_prior_parameters_are_refused(params: dict[str, object], match: str) -> None:
    X, y = _data(50)
    with pytest.raises(ValueError, match=match):
        _model(**params).fit(X, y)


def test_scope_column_must_name_one_feature() -> None:
    X, y = _data(50)
    with pytest.raises(ValueError, match="baseline_scope column 'charm'"):
        _model(baseline_std=0.1, baseline_scope={"charm": [0.0, 1.0]}).fit(X, y)


def test_workflow_check_names_the_bad_prior_parameter() -> None:
    spec = get_model_spec("physics_residual")
    with pytest.raises(SpecError, match="model_params: The 'baseline_std' parameter"):
        spec.validate_params({"baseline_std": -1.0})
    spec.validate_params({"baseline_std": 0.1, "baseline_scope": {"a": [0.0, 1.0]}})


@parametrize_with_checks(
    [PhysicsResidualRegressor(baseline=0, baseline_std=0.1, **_SMALL)],
    expected_failed_checks=lambda e: {
        "check_sample_weight_equivalence_on_dense_data": "bootstrap draws, as XGBEnsembleRegressor"
    },
)
def test_sklearn_compatible_with_a_stated_prior(estimator, check):
    check(estimator)


def test_report_says_physics_only_beside_the_domain_flag() -> None:
    from mi.report.next_steps import Objective, domain_text, picks_table

    picks = pd.DataFrame(
        {
            "formula": ["Nd2Fe14B", "SmFe11Ti"],
            "Js_mean": [1.685, 1.3],
            "Js_std": [0.11, 0.9],
            "Js_in_domain": [False, False],
            "Js_unseen_elements": ["Nd", ""],
            "Js_domain_score": [3.9, 1.3],
            "Js_physics_prior": [True, False],
        }
    )
    table = picks_table(picks, [Objective("Js", "Js_mean", True, "Js_std", "T")])
    assert table["Js [T]"].tolist() == ["1.69 ± 0.11 † ‡", "1.30 ± 0.90 †"]
    rows = [row for _, row in picks.iterrows()]
    assert domain_text(rows[0], "Js").endswith("(physics only)")
    assert "physics only" not in domain_text(rows[1], "Js")

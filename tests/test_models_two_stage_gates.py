"""TwoStageRegressor gates: the mixture median and the log1p target of the regressor."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.linear_model import LinearRegression, LogisticRegression

from mi.models import TwoStageGapRegressor, TwoStageRegressor


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    gap = np.exp(0.5 * X[:, 1])  # a positive gap, log-linear in the second feature
    y = np.where(X[:, 0] > 0, gap, 0.0)
    return X, y


def test_log1p_regressor_is_fitted_on_log_targets():
    X, y = _data()
    model = TwoStageRegressor(
        LogisticRegression(), LinearRegression(), combine="hard", target_transform="log1p"
    ).fit(X, y)
    positive = y > 0
    np.testing.assert_allclose(
        model.regressor_.predict(X[positive]),
        LinearRegression().fit(X[positive], np.log1p(y[positive])).predict(X[positive]),
    )
    p = model.predict_proba_positive(X)
    expected = np.where(p >= 0.5, np.expm1(model.regressor_.predict(X)), 0.0)
    np.testing.assert_allclose(model.predict(X), expected)


def test_median_gate_is_the_mixture_median():
    X, y = _data()
    model = TwoStageRegressor(
        LogisticRegression(),
        LinearRegression(),
        combine="median",
        target_transform="log1p",
        median_spread=0.3,
    ).fit(X, y)
    p = model.predict_proba_positive(X)
    raw = model.regressor_.predict(X)
    pred = model.predict(X)
    metal = p < 0.5
    assert metal.any() and (~metal).any()
    np.testing.assert_array_equal(pred[metal], 0.0)
    # P(Y <= pred) = (1 - p) + p * Phi((log1p(pred) - raw) / spread) = 1/2 where pred > 0
    inside = (~metal) & (pred > 0)
    cdf = (1 - p) + p * norm.cdf((np.log1p(pred) - raw) / 0.3)
    np.testing.assert_allclose(cdf[inside], 0.5, atol=1e-6)
    # a doubtful non-metal is pulled towards 0: never above the hard gate's value (floored at 0)
    hard = model.set_params(combine="hard").predict(X)
    assert np.all(pred <= np.maximum(hard, 0.0) + 1e-12)
    assert np.mean(pred[~metal] < hard[~metal]) > 0.9


def test_gap_model_defaults_and_bad_settings():
    X, y = _data()
    model = TwoStageGapRegressor(LogisticRegression(), LinearRegression())
    assert (model.combine, model.target_transform) == ("median", "log1p")
    mean = model.fit(X, y).predict(X)
    assert np.all(mean >= 0.0)
    with pytest.raises(ValueError, match="combine"):
        TwoStageRegressor(LogisticRegression(), LinearRegression(), combine="mode").fit(X, y)
    with pytest.raises(ValueError, match="threshold >= -1"):
        TwoStageRegressor(
            LogisticRegression(), LinearRegression(), threshold=-2.0, target_transform="log1p"
        ).fit(X, y)


def test_mixture_interval_std_holds_95_percent_of_the_mixture():
    from mi.models.two_stage import mixture_interval_std

    rng = np.random.default_rng(1)
    p = np.array([0.02, 0.5, 0.9, 1.0])
    mu, s = np.array([10.0, 10.0, 10.0, 10.0]), np.array([2.0, 2.0, 2.0, 2.0])
    mean = p * mu
    std = mixture_interval_std(mean, p, mu, s, 0.0)
    for i in range(4):
        draws = np.where(rng.random(200_000) < p[i], rng.normal(mu[i], s[i], 200_000), 0.0)
        # the narrowest interval around the mean with 95 %: at least 95 % inside, and less
        # than 95 % when it is 2 % narrower (the mass jumps where the interval reaches y0)
        inside = np.mean(np.abs(draws - mean[i]) <= 1.96 * std[i] * (1 + 1e-9))
        narrower = np.mean(np.abs(draws - mean[i]) <= 1.96 * std[i] * 0.98)
        assert inside >= 0.945 and narrower < 0.95
    assert std[3] == pytest.approx(2.0, rel=1e-6)  # a sure positive: the regressor's own std


def test_calibrate_cv_scales_the_std_from_out_of_sample_training_errors():
    from mi.models import XGBClassifierModel, XGBEnsembleRegressor

    X, y = _data()
    y = y + np.where(y > 0, 0.3 * np.random.default_rng(2).normal(size=y.size), 0.0)
    y = np.maximum(y, 0.0)
    small = dict(n_estimators=40, n_jobs=1, random_state=0)
    reg = XGBEnsembleRegressor(**small)
    model = TwoStageRegressor(XGBClassifierModel(**small), reg, calibrate_cv=3).fit(X, y)
    fitted = model.regressor_
    positive = y > 0
    assert fitted.oob_prediction_.shape == (int(positive.sum()),)
    assert np.isfinite(fitted.oob_std_).mean() > 0.9
    assert model.std_scale_ > 0 and model.std_scale_ != 1.0
    _, std = model.predict(X, return_std=True)
    unscaled = TwoStageRegressor(XGBClassifierModel(**small), reg).fit(X, y)
    np.testing.assert_allclose(std, unscaled.predict(X, return_std=True)[1] * model.std_scale_)
    # without out-of-bag predictions the std is left alone, with a warning
    with pytest.warns(UserWarning, match="not rescaled"):
        plain = TwoStageRegressor(LogisticRegression(), LinearRegression(), calibrate_cv=3)
        assert plain.fit(X, y).std_scale_ == 1.0


def test_calibrate_cv_with_too_few_negatives_warns_and_keeps_the_std():
    from mi.models import XGBClassifierModel, XGBEnsembleRegressor

    X, y = _data()
    y = np.where(np.arange(y.size) < 2, 0.0, np.abs(y) + 0.5)  # two negatives only
    small = dict(n_estimators=20, n_jobs=1, random_state=0)
    model = TwoStageRegressor(
        XGBClassifierModel(**small), XGBEnsembleRegressor(**small), calibrate_cv=3
    )
    with pytest.warns(UserWarning, match="at least 3 positive and 3 negative"):
        model.fit(X, y)
    assert model.std_scale_ == 1.0


def test_calibrate_cv_without_out_of_bag_std_for_the_positives_keeps_the_std():
    from mi.models import XGBClassifierModel, XGBEnsembleRegressor

    X, y = _data()
    small = dict(n_estimators=20, n_jobs=1, random_state=0)
    # 4 members on 75 % of the rows: every row has one out-of-bag member, so no OOB std
    reg = XGBEnsembleRegressor(n_members=4, **small)
    model = TwoStageRegressor(XGBClassifierModel(**small), reg, calibrate_cv=3)
    with pytest.warns(UserWarning, match="not rescaled"):
        model.fit(X, y)
    assert model.std_scale_ == 1.0

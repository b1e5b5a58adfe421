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

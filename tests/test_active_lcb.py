"""LCB: a self-registering acquisition module, and who asks for ensemble members."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from mi.active import get_acquisition, list_acquisitions
from mi.active.registry import ACQUISITIONS


def _p(mean, std):
    return SimpleNamespace(mean=np.asarray(mean, float), std=np.asarray(std, float), members=None)


def test_lcb_is_registered_by_its_own_module_and_is_the_bound_it_claims():
    assert "lcb" in list_acquisitions()["name"].tolist()
    assert ACQUISITIONS["lcb"].__module__ == "mi.active.lcb"
    mean, std = np.array([1.0, 1.2, 0.5]), np.array([0.0, 0.5, 0.1])
    up = get_acquisition("lcb", beta=2.0)(_p(mean, std))
    np.testing.assert_allclose(up, mean - 2.0 * std)
    down = get_acquisition("lcb", maximize=False, beta=1.0)(_p(mean, std))
    np.testing.assert_allclose(down, -(mean + std))
    # the score is the norm.cdf(-beta) quantile of a Gaussian predictive distribution
    q = norm(loc=mean, scale=np.where(std > 0, std, 1e-300)).ppf(norm.cdf(-2.0))
    np.testing.assert_allclose(up, q, atol=1e-9)


def test_lcb_prefers_the_sure_candidate_where_ucb_prefers_the_gamble():
    pred = _p([1.0, 1.2], [0.0, 0.5])
    assert int(np.argmax(get_acquisition("lcb")(pred))) == 0
    assert int(np.argmax(get_acquisition("ucb")(pred))) == 1


def test_lcb_rejects_negative_beta():
    with pytest.raises(ValueError, match="'beta' parameter of lcb must be >= 0"):
        get_acquisition("lcb", beta=-1.0)(_p([1.0], [1.0]))


@pytest.mark.parametrize(
    ("name", "params", "needs"),
    [
        ("ei", {}, False),
        ("lcb", {}, False),
        ("thompson", {}, True),
        ("constrained", {"base": "thompson"}, True),
        ("constrained", {"base": "ei"}, False),
        ("penalized", {"base": "thompson"}, True),
        ("penalized", {"base": "ucb"}, False),
    ],
)
def test_the_acquisition_says_whether_it_needs_ensemble_members(name, params, needs):
    assert get_acquisition(name, **params).needs_members is needs

"""Acquisition math on tiny fake posteriors (no model is fitted)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from mi.active import (
    AcquisitionContext,
    get_acquisition,
    hypervolume_2d,
    hypervolume_improvement,
    list_acquisitions,
    pareto_front,
    select_batch,
)
from mi.exceptions import CampaignError, RegistryKeyError


@dataclass
class P:
    """A fake posterior: exactly the fields an acquisition may read."""

    mean: np.ndarray
    std: np.ndarray
    members: np.ndarray | None = None


def norm_pdf(z):
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def norm_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_ei_matches_hand_computed_value():
    # mu = 1.2, sigma = 0.5, best = 1.0: z = 0.4
    p = P(np.array([1.2]), np.array([0.5]))
    expected = 0.2 * norm_cdf(0.4) + 0.5 * norm_pdf(0.4)
    assert get_acquisition("ei")(p, best=1.0)[0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.3152, abs=1e-4)  # Phi(0.4)=0.6554, phi(0.4)=0.3683


def test_ei_minimize_is_mirror_image_and_xi_shifts_threshold():
    p = P(np.array([0.8, -3.0]), np.array([0.5, 2.0]))
    mirror = P(-p.mean, p.std)
    lo = get_acquisition("ei", maximize=False)(p, best=1.0)
    hi = get_acquisition("ei", maximize=True)(mirror, best=-1.0)
    np.testing.assert_allclose(lo, hi)
    with_xi = get_acquisition("ei", xi=0.1)(p, best=1.0)
    np.testing.assert_allclose(with_xi, get_acquisition("ei")(p, best=1.1))


def test_ei_zero_std_is_plain_improvement_and_uses_y_observed():
    p = P(np.array([2.0, 0.5]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(get_acquisition("ei")(p, y_observed=[0.0, 1.0]), [1.0, 0.0])


def test_ei_against_monte_carlo():
    rng = np.random.default_rng(1)
    mu, sd, best = 0.3, 0.7, 0.5
    draws = rng.normal(mu, sd, 400_000)
    mc = np.maximum(draws - best, 0).mean()
    val = get_acquisition("ei")(P(np.array([mu]), np.array([sd])), best=best)[0]
    assert val == pytest.approx(mc, rel=0.01)


def test_pi_ucb_greedy_maxstd_formulas():
    p = P(np.array([1.0, 3.0]), np.array([2.0, 0.0]))
    np.testing.assert_allclose(
        get_acquisition("pi")(p, best=2.0), [norm_cdf(-0.5), 1.0], rtol=1e-12
    )
    np.testing.assert_allclose(
        get_acquisition("pi", maximize=False)(p, best=2.0),
        [0.5 + 0.5 * math.erf(0.5 / math.sqrt(2)), 0.0],
    )
    np.testing.assert_allclose(get_acquisition("ucb", beta=1.5)(p), [4.0, 3.0])
    np.testing.assert_allclose(get_acquisition("ucb", beta=1.5, maximize=False)(p), [2.0, -3.0])
    np.testing.assert_allclose(get_acquisition("greedy", maximize=False)(p), [-1.0, -3.0])
    np.testing.assert_allclose(get_acquisition("max_std")(p), [2.0, 0.0])
    with pytest.raises(ValueError, match="beta"):
        get_acquisition("ucb", beta=-1)(p)


def test_incumbent_required_and_shape_checks():
    p = P(np.array([1.0]), np.array([1.0]))
    with pytest.raises(CampaignError, match="incumbent"):
        get_acquisition("ei")(p)
    with pytest.raises(CampaignError, match="must match"):
        get_acquisition("greedy")(P(np.zeros(2), np.zeros(3)))
    with pytest.raises(CampaignError, match="NaN"):
        get_acquisition("greedy")(P(np.array([np.nan]), np.array([1.0])))


def test_thompson_uses_members_and_is_reproducible():
    members = np.array([[1.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    p = P(members.mean(0), members.std(0), members)
    ts = get_acquisition("thompson")
    np.testing.assert_array_equal(ts(p, member=1), members[1])
    np.testing.assert_array_equal(
        get_acquisition("thompson", maximize=False)(p, member=0), -members[0]
    )
    a = ts(p, rng=np.random.default_rng(3))
    b = ts(p, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert any(np.array_equal(a, m) for m in members)
    # without members: Gaussian draws around the mean
    q = P(np.zeros(20000), np.full(20000, 2.0))
    draws = ts(q, rng=1)
    assert draws.std() == pytest.approx(2.0, rel=0.03)


def test_random_is_uniform_and_seeded():
    p = P(np.zeros(1000), np.zeros(1000))
    a = get_acquisition("random")(p, rng=np.random.default_rng(0))
    assert 0 <= a.min() and a.max() < 1
    np.testing.assert_array_equal(a, get_acquisition("random")(p, rng=np.random.default_rng(0)))


def test_constrained_masks_infeasible():
    p = P(np.array([5.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    acq = get_acquisition("constrained", base="greedy", max_risk=0.5)
    out = acq(p, risk=np.array([0.9, 0.1, 0.5]))
    assert out[0] == -np.inf and out[1] == 1.0 and out[2] == 2.0
    out = acq(p, feasible=np.array([True, False, True]))
    np.testing.assert_array_equal(out, [5.0, -np.inf, 2.0])
    with pytest.raises(CampaignError, match="risk"):
        acq(p)


def test_penalized_scalarization_is_ei_on_shifted_gaussian():
    p = P(np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    risk = np.array([0.0, 1.0])
    y_obs, r_obs = np.array([0.0, 2.0]), np.array([0.0, 1.0])
    acq = get_acquisition("penalized", weight=0.5, scale=1.0)
    out = acq(p, risk=risk, y_observed=y_obs, risk_observed=r_obs)
    # g = y - 0.5 r: observed g = [0, 1.5] -> best 1.5; candidates' g means [1.0, 0.5]
    ei = get_acquisition("ei")
    np.testing.assert_allclose(out, ei(P(np.array([1.0, 0.5]), p.std), best=1.5))
    assert out[0] > out[1]
    # zero weight: plain EI
    plain = get_acquisition("penalized", weight=0.0)(
        p, risk=risk, y_observed=y_obs, risk_observed=r_obs
    )
    np.testing.assert_allclose(plain, ei(p, best=2.0))


def test_pareto_front_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        y, r = rng.integers(0, 6, 25).astype(float), rng.integers(0, 6, 25).astype(float)
        mask = pareto_front(y, r)
        for i in range(25):
            dominated = np.any((y >= y[i]) & (r <= r[i]) & ((y > y[i]) | (r < r[i])))
            assert mask[i] == (not dominated)
        # minimization frame
        mask_min = pareto_front(y, r, maximize=False)
        np.testing.assert_array_equal(mask_min, pareto_front(-y, r))


def test_hypervolume_by_hand():
    # front: (y=1, r=0.2), (y=2, r=0.6); ref (0, 1)
    hv = hypervolume_2d(np.array([1.0, 2.0, 0.5]), np.array([0.2, 0.6, 0.9]), (0.0, 1.0))
    assert hv == pytest.approx(0.4 * 1 + 0.4 * 2)
    hvi = hypervolume_improvement(
        np.array([3.0, 1.5, 0.5]), np.array([0.5, 0.1, 0.7]), [1.0, 2.0], [0.2, 0.6], (0.0, 1.0)
    )
    # (3, 0.5): strips [0.5,0.6) h=1 -> 0.1*2, [0.6,1) h=2 -> 0.4*1  => 0.6
    # (1.5, 0.1): [0.1,0.2) h=0 -> 0.1*1.5, [0.2,0.6) h=1 -> 0.4*0.5 => 0.35 ; (0.5, 0.7): 0
    np.testing.assert_allclose(hvi, [0.6, 0.35, 0.0])
    # consistency: HVI = HV(front + point) - HV(front)
    base = hypervolume_2d(np.array([1.0, 2.0]), np.array([0.2, 0.6]), (0.0, 1.0))
    new = hypervolume_2d(np.array([1.0, 2.0, 3.0]), np.array([0.2, 0.6, 0.5]), (0.0, 1.0))
    assert new - base == pytest.approx(0.6)


def test_ehvi_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(2)
    y_obs = np.array([1.0, 2.0, 0.5, 2.5])
    r_obs = np.array([0.2, 0.6, 0.1, 0.9])
    mean = np.array([1.8, 0.7, 3.0])
    std = np.array([0.6, 0.3, 1.0])
    risk = np.array([0.3, 0.05, 0.95])
    ehvi = get_acquisition("ehvi", ref_point=(0.0, 1.0))
    out = ehvi(P(mean, std), risk=risk, y_observed=y_obs, risk_observed=r_obs)
    draws = rng.normal(mean, std, size=(200_000, 3))
    for j in range(3):
        mc = hypervolume_improvement(
            draws[:, j], np.full(len(draws), risk[j]), y_obs, r_obs, (0.0, 1.0)
        ).mean()
        assert out[j] == pytest.approx(mc, rel=0.02, abs=1e-4)
    # minimization of the property mirrors maximization of its negative
    lo = get_acquisition("ehvi", maximize=False, ref_point=(0.0, 1.0))
    out_min = lo(P(-mean, std), risk=risk, y_observed=-y_obs, risk_observed=r_obs)
    np.testing.assert_allclose(out_min, out)
    np.testing.assert_array_equal(ehvi.front(y_obs, r_obs), [2, 0, 1, 3])


def test_registry_did_you_mean_and_listing():
    with pytest.raises(RegistryKeyError, match="Did you mean 'ehvi'"):
        get_acquisition("ehv")
    with pytest.raises(TypeError, match="ucb"):
        get_acquisition("ucb", nonsense=1)
    names = set(list_acquisitions()["name"])
    assert {
        "greedy",
        "ucb",
        "ei",
        "pi",
        "max_std",
        "thompson",
        "random",
        "constrained",
        "penalized",
        "ehvi",
    } <= names


def _fractions(xs):
    # binary A(1-x) B(x) compositions embedded in 3 elements
    return np.array([[1 - x, x, 0.0] for x in xs])


@pytest.mark.parametrize("method", ["greedy", "local_penalization", "thompson"])
def test_batch_has_no_near_duplicates(method):
    xs = np.array([0.50, 0.505, 0.51, 0.20, 0.90, 0.515, 0.30])
    frac = _fractions(xs)
    mean = np.array([10.0, 9.9, 9.8, 5.0, 4.0, 9.7, 1.0])
    members = np.vstack([mean + d for d in (-0.1, 0.0, 0.1)])
    p = P(mean, np.full(7, 0.1), members)
    acq = get_acquisition("thompson" if method == "thompson" else "greedy")
    sel = select_batch(acq, p, 3, fractions=frac, method=method, min_distance=0.02, rng=0)
    chosen = frac[sel.indices]
    assert len(sel.indices) == 3 and len(set(sel.indices.tolist())) == 3
    d = 0.5 * np.abs(chosen[:, None, :] - chosen[None, :, :]).sum(-1)
    assert d[np.triu_indices(3, 1)].min() >= 0.02
    assert sel.indices[0] == 0
    # without the diversity rule, greedy takes the three near-identical best ones
    if method == "greedy":
        plain = select_batch(acq, p, 3, method="greedy", rng=0)
        assert plain.indices.tolist() == [0, 1, 2]


def test_batch_skips_infeasible_and_unavailable_and_warns():
    p = P(np.array([3.0, 2.0, 1.0]), np.zeros(3))
    acq = get_acquisition("constrained", base="greedy", max_risk=0.5)
    with pytest.warns(UserWarning, match="Only 1 of the 3"):
        sel = select_batch(
            acq,
            p,
            3,
            context=AcquisitionContext(risk=np.array([0.9, 0.1, 0.1])),
            available=np.array([True, True, False]),
        )
    assert sel.indices.tolist() == [1]
    with pytest.raises(RegistryKeyError):
        select_batch(acq, p, 1, method="kb")


def test_context_is_typed_not_a_bag():
    """The context is an AcquisitionContext or its named fields: a misspelt name fails loudly."""
    p = P(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    ei = get_acquisition("ei")
    np.testing.assert_array_equal(
        ei(p, AcquisitionContext(y_observed=np.array([0.5, 1.0]))), ei(p, best=1.0)
    )
    # keywords replace the context's own fields
    np.testing.assert_array_equal(ei(p, AcquisitionContext(best=0.0), best=1.0), ei(p, best=1.0))
    with pytest.raises(TypeError, match="y_best"):
        ei(p, y_best=1.0)  # once silently ignored, leaving the incumbent unset
    with pytest.raises(TypeError):
        AcquisitionContext().replace(riks=np.zeros(2))

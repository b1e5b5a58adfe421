"""Multi-objective campaigns: objectives in the spec, qParEGO batches, the observed front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mi.active import CallableOracle, Campaign, run_loop
from mi.active.multi import ChebyshevEI, pareto_mask, select_pareto_batch
from mi.exceptions import CampaignError, ObservationError, SpecError


def _brute_front(values, maximize):
    s = values * np.where(maximize, 1.0, -1.0)
    out = []
    for i in range(len(s)):
        dominated = any(
            np.all(s[j] >= s[i]) and np.any(s[j] > s[i]) for j in range(len(s)) if j != i
        )
        out.append(not dominated)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pareto_mask_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, size=(40, 3)).astype(float)  # ties on purpose
    maximize = [True, False, True]
    assert pareto_mask(values, maximize).tolist() == _brute_front(values, np.array(maximize))
    values[3, 1] = np.nan
    assert not pareto_mask(values, maximize)[3]


def test_chebyshev_ei_reduces_to_closed_form_ei_for_one_objective():
    mean = np.array([[0.2], [0.5], [0.9]])
    std = np.array([[0.1], [0.3], [0.05]])
    observed = np.array([[0.0], [0.6], [1.0]])  # range [0, 1]: utility = value
    acq = ChebyshevEI(np.array([1.0]), [True], np.array([0.0]), np.array([1.0]), n_samples=200_000)
    mc = acq(mean, std, observed, np.random.default_rng(0))
    # g(y) = (1 + rho) y, so EI_g = (1 + rho) * EI_y over the best y = 1.0
    scale = 1.05
    d = mean[:, 0] - 1.0
    closed = scale * (d * norm.cdf(d / std[:, 0]) + std[:, 0] * norm.pdf(d / std[:, 0]))
    np.testing.assert_allclose(mc, closed, rtol=0.03, atol=1e-5)


def test_exact_predictions_pick_pareto_optimal_points_spread_by_the_weights():
    rng = np.random.default_rng(3)
    mean = rng.uniform(size=(300, 2))
    std = np.zeros_like(mean)
    observed = np.array([[0.2, 0.2]])
    chosen, values, weights = select_pareto_batch(mean, std, observed, [True, True], 6, rng)
    # each pick is on the Pareto front of the candidates still available at its slot
    available = np.ones(len(mean), bool)
    for j in chosen:
        front = np.zeros(len(mean), bool)
        front[available] = pareto_mask(mean[available], [True, True])
        assert front[j]
        available[j] = False
    assert len(set(chosen.tolist())) == 6 and (values > 0).all()
    assert weights.shape == (6, 2) and np.allclose(weights.sum(axis=1), 1.0)


def _grid(step=0.1):
    out = []
    for x in np.arange(0, 1 + 1e-9, step):
        for y in np.arange(0, 1 - x + 1e-9, step):
            z = 1 - x - y
            parts = [("Fe", z), ("Co", x), ("Dy", y)]
            out.append("".join(f"{e}{v:.2f}" for e, v in parts if v > 1e-9))
    return out


def _fractions(formulas):
    from mi.chem import element_index, parse_formulas

    fr = parse_formulas(list(formulas)).fractions()
    return [fr[:, element_index(e)] for e in ("Fe", "Co", "Dy")]


def magnetisation(formulas):  # Fe-rich is best
    fe, co, dy = _fractions(formulas)
    return 2.0 * fe + 1.0 * co - 1.5 * dy


def anisotropy(formulas):  # Dy and Co help: a trade-off with magnetisation
    fe, co, dy = _fractions(formulas)
    return 3.0 * dy + 1.0 * co + 0.2 * fe


def _spec(**over):
    spec = {
        "name": "multi",
        "seed": 5,
        "min_observations": 4,
        "candidates": {"formulas": _grid()},
        "features": {"preset": "fractions"},
        "model": {
            "name": "xgb_ensemble",
            "params": {"n_members": 3, "n_estimators": 20, "max_depth": 3, "n_jobs": 1},
        },
        "objectives": [
            {"target": "Js"},
            {"target": "Ha"},
            {"column": "supply_risk", "maximize": False},
        ],
        "batch": {"min_distance": 0.05},
    }
    spec.update(over)
    return spec


def test_multi_objective_campaign_init_suggest_observe_status(tmp_path):
    campaign = Campaign.init(tmp_path / "c", _spec())
    assert campaign.spec.target == "Js" and campaign.spec.targets == ["Js", "Ha"]
    oracles = {"Js": CallableOracle(magnetisation), "Ha": CallableOracle(anisotropy)}
    run_loop(campaign, oracles, iterations=3, batch_size=4)
    table = campaign.suggest(4)
    assert len(table) == 4 and table["key"].is_unique
    for t in ("Js", "Ha"):
        assert np.isfinite(table[f"{t}_mean"]).all() and (table[f"{t}_std"] >= 0).all()
        assert table[t].isna().all()  # for the lab to fill in
    assert table["weights"].str.contains("supply_risk").all()
    measured = set(campaign.observations["key"])
    assert not measured & set(table["key"])

    # the lab sends both properties back
    filled = table.assign(
        Js=magnetisation(table["composition"]), Ha=anisotropy(table["composition"])
    )
    campaign.observe(filled)
    status = campaign.status()
    assert [o["name"] for o in status["objectives"]] == ["Js", "Ha", "supply_risk"]
    front = pd.DataFrame(status["pareto_front"])
    assert len(front) >= 2 and set(front.columns) == {"composition", "Js", "Ha", "supply_risk"}
    obs = campaign.observations
    pool = campaign.pool.set_index("key")
    every = obs.assign(supply_risk=pool.loc[obs["key"], "supply_risk"].to_numpy())
    mask = pareto_mask(every[["Js", "Ha", "supply_risk"]].to_numpy(), [True, True, False])
    assert sorted(every.loc[mask, "composition"]) == sorted(front["composition"])


def test_multi_objective_suggestions_are_reproducible(tmp_path):
    oracles = {"Js": CallableOracle(magnetisation), "Ha": CallableOracle(anisotropy)}
    runs = []
    for name in ("a", "b"):
        c = Campaign.init(tmp_path / name, _spec())
        run_loop(c, oracles, iterations=2, batch_size=3)
        runs.append(c.suggest(3)[["key", "acquisition", "weights"]])
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_observe_needs_every_target(tmp_path):
    campaign = Campaign.init(tmp_path / "c", _spec())
    table = campaign.suggest(2)
    with pytest.raises(ObservationError, match="missing column"):
        campaign.observe(table.drop(columns=["Ha"]).assign(Js=1.0))
    with pytest.raises(ObservationError, match="non-numeric 'Ha'"):
        campaign.observe(table.assign(Js=1.0, Ha=np.nan))
    with pytest.raises(CampaignError, match="missing \\['Ha'\\]"):
        run_loop(campaign, CallableOracle(magnetisation), iterations=1)


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ([{"target": "Js"}], "at least two entries"),
        ([{"column": "supply_risk"}, {"column": "cost_per_kg"}], "at least two entries"),
        ([{"target": "Js", "column": "supply_risk"}, {"target": "Ha"}], "exactly one of"),
        ([{"target": "Js"}, {"target": "Js"}], "repeat a name"),
    ],
)
def test_bad_objectives_are_spec_errors(tmp_path, objectives, message):
    with pytest.raises(SpecError, match=message):
        Campaign.init(tmp_path / "c", _spec(objectives=objectives))


def test_unknown_objective_column_is_named(tmp_path):
    spec = _spec(objectives=[{"target": "Js"}, {"column": "riskiness", "maximize": False}])
    with pytest.raises(SpecError, match="riskiness"):
        Campaign.init(tmp_path / "c", spec)

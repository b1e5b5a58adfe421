"""Campaign: suggest / observe / status, bad lab input, resume without duplicates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mi.active import CallableOracle, Campaign, LookupOracle, run_loop
from mi.active.campaign import CRITICALITY_COLUMNS
from mi.exceptions import CampaignError, ObservationError, SpecError, StateVersionError


def _formula(parts):
    return "".join(f"{el}{v:.2f}" for el, v in parts if v > 1e-9)


def grid_formulas(step=0.1):
    out = []
    for x in np.arange(0, 1 + 1e-9, step):
        for y in np.arange(0, 1 - x + 1e-9, step):
            z = 1 - x - y
            if z > 1e-9:
                out.append(_formula([("Fe", z), ("Co", x), ("Dy", y)]))
    return out


def toy_property(formulas):
    from mi.chem import element_index, parse_formulas

    fr = parse_formulas(list(formulas)).fractions()
    fe, co, dy = (fr[:, element_index(e)] for e in ("Fe", "Co", "Dy"))
    return 2.0 * fe + 6.0 * fe * co + 3.0 * dy


def make_spec(**over):
    spec = {
        "name": "toy",
        "target": "Ms",
        "maximize": True,
        "seed": 7,
        "min_observations": 4,
        "candidates": {"formulas": grid_formulas()},
        "features": {"preset": "fractions"},
        "model": {
            "name": "xgb_ensemble",
            "params": {"n_members": 3, "n_estimators": 20, "max_depth": 3, "n_jobs": 1},
        },
        "acquisition": {"name": "ei"},
        "batch": {"method": "local_penalization", "min_distance": 0.05},
    }
    spec.update(over)
    return spec


def snapshot(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def campaign(tmp_path):
    return Campaign.init(tmp_path / "c", make_spec())


def test_suggest_table_and_pending_are_recorded(campaign):
    table = campaign.suggest(5)
    assert len(table) == 5
    for col in (
        "campaign_id",
        "iteration",
        "rank",
        "composition",
        "key",
        "predicted_mean",
        "predicted_std",
        "acquisition",
        "Ms",
        "feasible",
        *CRITICALITY_COLUMNS,
    ):
        assert col in table, col
    assert table["Ms"].isna().all() and (table["campaign_id"] == campaign.campaign_id).all()
    assert table["key"].is_unique
    reopened = Campaign(campaign.directory)
    assert sorted(reopened.pending["key"]) == sorted(table["key"])
    # a resumed campaign never re-suggests pending candidates
    second = reopened.suggest(5)
    assert not set(second["key"]) & set(table["key"])
    assert reopened.status()["n_pending"] == 10


def test_loop_model_suggestions_use_the_surrogate(campaign):
    run_loop(campaign, CallableOracle(toy_property), iterations=4, batch_size=4)
    st = campaign.status()
    assert st["n_observed"] == 16 and st["n_pending"] == 0 and st["iteration"] == 4
    table = campaign.suggest(3)
    assert np.isfinite(table["predicted_mean"]).all() and (table["predicted_std"] >= 0).all()
    obs = campaign.observations
    assert obs["key"].is_unique and set(obs["source"]) == {"observe"}
    # the best found beats the median of the pool (the surrogate is doing something)
    truth = toy_property(campaign.pool["composition"])
    assert obs["Ms"].max() >= np.median(truth)


def test_same_seed_same_suggestions(tmp_path):
    a = Campaign.init(tmp_path / "a", make_spec())
    b = Campaign.init(tmp_path / "b", make_spec())
    oracle = CallableOracle(toy_property)
    run_loop(a, oracle, iterations=3, batch_size=3)
    run_loop(b, oracle, iterations=3, batch_size=3)
    cols = ["key", "Ms", "iteration", "step"]
    pd.testing.assert_frame_equal(a.observations[cols], b.observations[cols])
    c = Campaign.init(tmp_path / "c", make_spec(seed=8))
    run_loop(c, oracle, iterations=3, batch_size=3)
    assert c.observations["key"].tolist() != a.observations["key"].tolist()


def _observe_fails(campaign, df, match):
    before = snapshot(campaign.directory)
    with pytest.raises(ObservationError, match=match):
        campaign.observe(df)
    assert snapshot(campaign.directory) == before


def test_bad_lab_input_names_rows_and_leaves_state_untouched(campaign):
    table = campaign.suggest(4)
    good = table[["campaign_id", "composition", "Ms"]].copy()
    good["Ms"] = [1.0, 2.0, 3.0, 4.0]

    unknown = good.copy()
    unknown.loc[2, "composition"] = "Nd2Fe14B"
    _observe_fails(campaign, unknown, r"not in this campaign's pool at rows 2 .*Nd2Fe14B")

    dup = pd.concat([good, good.iloc[[1]]], ignore_index=True)
    _observe_fails(campaign, dup, r"duplicate compositions at rows 1, 4")

    missing = good.copy().astype({"Ms": object})
    missing.loc[0, "Ms"] = ""
    missing.loc[3, "Ms"] = "n/a"
    _observe_fails(campaign, missing, r"missing or non-numeric 'Ms' at rows 0, 3")

    other = good.copy()
    other["campaign_id"] = "someone-else-1234"
    _observe_fails(campaign, other, r"rows 0, 1, 2, 3 belong to campaign\(s\) \['someone-else")

    _observe_fails(campaign, good.drop(columns="Ms"), r"missing column")

    bad_formula = good.copy()
    bad_formula.loc[1, "composition"] = "Xx2O3"
    _observe_fails(campaign, bad_formula, r"unparsable compositions at rows 1")

    accepted = campaign.observe(good)
    assert len(accepted) == 4 and campaign.status()["n_pending"] == 0
    _observe_fails(campaign, good.iloc[[0]], r"already measured at rows 0")


def test_observe_csv_reports_line_numbers_and_accepts_other_spellings(campaign, tmp_path):
    table = campaign.suggest(2)
    path = tmp_path / "results.csv"
    lab = table[["campaign_id", "composition", "Ms"]].copy()
    lab["Ms"] = ["1.5", "abc"]
    lab.to_csv(path, index=False)
    with pytest.raises(
        ObservationError, match=r"results.csv: missing or non-numeric 'Ms' at lines 3"
    ):
        campaign.observe(path)
    # same composition written differently (reordered, scaled) is the same candidate
    from mi.chem import parse_formulas

    lab = pd.DataFrame({"composition": table["key"], "Ms": [1.5, 2.5]})
    respelled = [f"({k})2" for k in parse_formulas(list(lab["composition"])).formulas()]
    lab["composition"] = respelled
    lab.to_csv(path, index=False)
    out = campaign.observe(path)
    assert sorted(out["key"]) == sorted(table["key"])
    assert set(campaign.observations["source"]) == {"results.csv"}


def test_constraints_feasibility_and_criticality_acquisitions(tmp_path):
    spec = make_spec(
        constraints={"max_dytb_mass_fraction": 0.2, "exclude_elements": []},
        acquisition={"name": "ehvi"},
    )
    spec["constraints"]["risk"] = "dytb_mass_fraction"
    campaign = Campaign.init(tmp_path / "c", spec)
    st = campaign.status()
    assert st["constraints"][0]["removed"] > 0
    assert st["n_feasible"] == st["n_pool"] - st["constraints"][0]["removed"]
    run_loop(campaign, CallableOracle(toy_property), iterations=3, batch_size=3)
    table = campaign.suggest(3)
    assert table["feasible"].all() and (table["dytb_mass_fraction"] <= 0.2).all()
    assert (table["acquisition"] >= 0).all()

    spec = make_spec(acquisition={"name": "penalized", "params": {"weight": 2.0}})
    pen = Campaign.init(tmp_path / "p", spec)
    run_loop(pen, CallableOracle(toy_property), iterations=3, batch_size=3)
    assert len(pen.suggest(2)) == 2


def test_initial_results_and_lookup_oracle(tmp_path):
    formulas = grid_formulas()
    known = pd.DataFrame({"composition": formulas[:6] + ["Fe3O4"], "Ms": list(range(6)) + [0.5]})
    (tmp_path / "known.csv").write_text(known.to_csv(index=False))
    spec = make_spec(initial={"file": "known.csv"})
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    campaign = Campaign.init(tmp_path / "c", spec_path)
    obs = campaign.observations
    assert len(obs) == 7 and set(obs["source"]) == {"initial"}
    assert campaign.status()["n_pool"] == len(formulas)  # Fe3O4 is known, not a candidate
    oracle = LookupOracle(formulas, toy_property(formulas))
    run_loop(campaign, oracle, iterations=2, batch_size=2)
    assert campaign.status()["n_observed"] == 11


def test_init_errors_and_version_check(tmp_path):
    Campaign.init(tmp_path / "c", make_spec())
    with pytest.raises(CampaignError, match="already holds a campaign"):
        Campaign.init(tmp_path / "c", make_spec())
    with pytest.raises(SpecError, match="acquisition"):
        Campaign.init(tmp_path / "d", make_spec(acquisition={"nme": "ei"}))
    with pytest.raises(SpecError, match="cannot be parsed.*'Xx2'"):
        Campaign.init(tmp_path / "e", make_spec(candidates={"formulas": ["Fe2O3", "Xx2"]}))
    with pytest.raises(CampaignError, match="No campaign"):
        Campaign(tmp_path / "nothing")
    state = json.loads((tmp_path / "c" / "state.json").read_text())
    state["version"] = 99
    (tmp_path / "c" / "state.json").write_text(json.dumps(state))
    with pytest.raises(StateVersionError, match="version 99"):
        Campaign(tmp_path / "c")


def test_template_pool_with_grid_ranges(tmp_path):
    spec = make_spec(
        candidates={
            "template": "(Nd{1-x}Dy{x})2Fe14B",
            "ranges": {"x": {"start": 0, "stop": 0.5, "step": 0.1}},
        },
        constraints={"max_dytb_mass_fraction": 0.05},
    )
    campaign = Campaign.init(tmp_path / "c", spec)
    st = campaign.status()
    assert st["n_pool"] == 6  # x = 0, 0.1, ..., 0.5
    assert st["n_feasible"] == 6 - st["constraints"][0]["removed"] >= 1
    with pytest.raises(SpecError, match="start, stop and step"):
        Campaign.init(
            tmp_path / "d",
            make_spec(candidates={"template": "(Nd{1-x}Dy{x})2Fe14B", "ranges": {"x": {"a": 1}}}),
        )


def test_status_reports_the_observed_pareto_front(campaign):
    run_loop(campaign, CallableOracle(toy_property), iterations=3, batch_size=4)
    st = campaign.status()
    obs = campaign.observations
    risk = campaign.pool.set_index("key").loc[obs["key"], "supply_risk"].to_numpy()
    front = st["pareto_front"]
    assert front and [p["supply_risk"] for p in front] == sorted(p["supply_risk"] for p in front)
    for p in front:  # nothing observed is at least as good on both with one strictly better
        better = (obs["Ms"].to_numpy() >= p["Ms"]) & (risk <= p["supply_risk"])
        strictly = (obs["Ms"].to_numpy() > p["Ms"]) | (risk < p["supply_risk"])
        assert not (better & strictly).any()
    assert max(p["Ms"] for p in front) == obs["Ms"].max()


def test_calibrated_surrogate_is_opt_in(tmp_path):
    oracle = CallableOracle(toy_property)
    model = make_spec()["model"]
    raw = Campaign.init(tmp_path / "raw", make_spec())
    cal = Campaign.init(tmp_path / "cal", make_spec(model={**model, "calibration": "linear"}))
    for c in (raw, cal):
        run_loop(c, oracle, iterations=3, batch_size=4)  # 12 observations >= 2 x 5 folds
    # below 10 observations both fit the raw model: the same results so far
    cols = ["key", "Ms", "iteration"]
    pd.testing.assert_frame_equal(raw.observations[cols], cal.observations[cols])
    # with 12, only the calibrated campaign wraps the model: its reported spread differs
    a, b = raw.suggest(4), cal.suggest(4)
    assert np.isfinite(b["predicted_std"]).all()
    assert not np.allclose(
        np.sort(a["predicted_std"].to_numpy()), np.sort(b["predicted_std"].to_numpy())
    )
    with pytest.raises(SpecError, match="calibration"):
        Campaign.init(tmp_path / "bad", make_spec(model={**model, "calibration": "liner"}))


def test_campaign_templates_share_the_workflow_grammar_and_old_files_still_load(tmp_path):
    """[[candidates.templates]] reads as in a workflow; the older template + ranges converts."""
    from mi.runner.spec import parse_spec

    shared = {
        "formula": "(Nd{1-x}Dy{x})2(Fe{1-z}Co{z})14B",
        "ranges": {"x": [0, 0.2, 0.1]},  # start, stop, step: as in a workflow file
        "values": {"z": [0, 0.25]},
    }
    new = Campaign.init(tmp_path / "new", make_spec(candidates={"templates": [shared]}))
    old = Campaign.init(
        tmp_path / "old",
        make_spec(
            candidates={
                "template": shared["formula"],
                "ranges": {"x": {"start": 0, "stop": 0.2, "step": 0.1}, "z": [0, 0.25]},
            }
        ),
    )
    assert new.pool["key"].tolist() == old.pool["key"].tolist()
    assert len(new.pool) == 6
    workflow = parse_spec(
        {
            "version": 1,
            "name": "w",
            "targets": [{"name": "Tc", "dataset": "curie_tc"}],
            "candidates": {"templates": [shared]},
        }
    )
    grid = workflow.candidates.templates[0].build()
    keys = [k for chunk in grid.iter_chunks(100) for k in chunk.canonical_keys()]
    assert sorted(keys) == sorted(new.pool["key"].tolist())
    with pytest.raises(SpecError, match="exactly one of"):
        make = make_spec(candidates={"templates": [shared], "formulas": ["Fe"]})
        Campaign.init(tmp_path / "both", make)

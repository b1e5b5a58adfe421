"""The example workflows, run end to end at small sizes on the shared real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mi.exceptions import SpecError
from mi.runner.progress import Progress
from mi.runner.spec import load_spec
from mi.runner.validate import check_spec
from mi.runner.workflow import load_result, run_workflow

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / "workflows").glob("*.toml"))
HREE = {"Y", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"}


def small(spec, n=1500, chunk=400, rows=300):
    """The same workflow with small models, few rows and few candidates (1 thread)."""
    over = {
        "candidates.max_candidates": n,
        "execution.chunk_size": chunk,
        "outputs.top_n": 20,
        "outputs.keep_per_chunk": 100,
        "outputs.report": False,
    }
    for i, t in enumerate(spec.targets):
        params = dict(t.model_params, n_estimators=25, n_jobs=1)
        if "n_members" in params:
            params["n_members"] = 3
        over[f"targets.{i}.model_params"] = params
        over[f"targets.{i}.max_rows"] = rows
        over[f"targets.{i}.cv"] = {"n_splits": 2}
    return spec.with_overrides(**over)


def test_three_example_workflows_exist():
    assert {p.stem for p in WORKFLOWS} >= {
        "ndfeb_hree_reduction",
        "superconductor_low_criticality",
        "metal_screen",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_example_workflow_is_valid(path, shared_datasets):
    spec = load_spec(path)
    assert spec.version == 1 and spec.description
    check_spec(spec)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_example_workflow_runs_end_to_end(path, tmp_path, shared_datasets):
    spec = small(load_spec(path))
    result = run_workflow(spec, tmp_path / "out", progress=Progress(quiet=True))
    out = tmp_path / "out"
    for name in ("results.parquet", "top.csv", "summary.json"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    counts = summary["counts"]
    assert counts["generated"] == 1500
    removed = sum(c["removed"] for c in summary["constraints"])
    assert counts["passed_constraints"] + removed == counts["generated"]
    top = result.top
    assert 0 < len(top) <= 20
    assert top["rank"].tolist() == list(range(1, len(top) + 1))
    assert top["key"].is_unique
    for t in spec.targets:
        assert np.isfinite(top[f"{t.name}_mean"]).all()
        assert (top[f"{t.name}_std"] >= 0).all()
        cv = out / "cv" / f"{t.name}_oof.parquet"
        n_train = next(x["n_train"] for x in summary["targets"] if x["name"] == t.name)
        assert cv.is_file() and len(pd.read_parquet(cv)) == n_train == min(300, n_train)
        assert summary["targets"][0]["metrics"]
    if spec.outputs.rank_by == "acquisition":
        assert top["acquisition"].is_monotonic_decreasing
    else:
        assert top["pareto_rank"].is_monotonic_increasing
    # every constraint holds on every ranked candidate
    ranked = result.candidates
    for con in spec.constraints:
        if con.kind == "max_mass_fraction":
            from mi.chem import ATOMIC_MASSES, element_index, parse_formulas

            amounts = parse_formulas(ranked["formula"].tolist()).to_dense()
            mass = amounts * np.asarray(ATOMIC_MASSES)[: amounts.shape[1]]
            share = mass[:, [element_index(e) for e in con.elements]].sum(axis=1)
            assert (share / mass.sum(axis=1) <= con.limit + 1e-9).all()
        elif con.kind == "max_supply_risk":
            assert (ranked["supply_risk"] <= con.limit).all()
        elif con.kind == "exclude_elements":
            from mi.chem import parse_formulas

            m = parse_formulas(ranked["formula"].tolist())
            from mi.chem import element_index

            cols = [element_index(e) for e in con.elements]
            assert np.asarray(m.to_dense()[:, cols]).sum() == 0
    if spec.outputs.campaign_pool and spec.targets[0].task == "regression":
        from mi.active import Campaign

        campaign = Campaign(out / "campaign" / "state")
        assert campaign.spec.target == spec.targets[0].name
        assert summary["paths"]["campaign"] == "campaign/state"
    loaded = load_result(out)
    pd.testing.assert_frame_equal(loaded.candidates, result.candidates)


def test_flagship_dy_budget_removes_candidates(tmp_path, shared_datasets):
    spec = small(load_spec(REPO / "workflows" / "ndfeb_hree_reduction.toml"), n=800)
    result = run_workflow(spec, tmp_path, progress=Progress(quiet=True))
    (dy,) = result.summary.constraints
    assert "Dy+Tb" in dy.description and dy.removed > 0


def test_campaign_seeded_from_the_flagship_keeps_its_dytb_cap(tmp_path, shared_datasets):
    """Regression: the seeded campaign used to lose the workflow's Dy+Tb <= 1 % constraint."""
    from mi.active import Campaign

    spec = small(load_spec(REPO / "workflows" / "ndfeb_hree_reduction.toml"), n=800)
    assert spec.outputs.campaign_pool
    run_workflow(spec, tmp_path, progress=Progress(quiet=True))
    campaign = Campaign(tmp_path / "campaign" / "state")
    rules = campaign.spec.constraints.rules
    assert [r.describe() for r in rules] == [c.describe() for c in spec.constraints]
    pool = campaign.pool
    over_cap = pool["dytb_mass_fraction"].to_numpy() > 0.01 + 1e-12
    assert over_cap.any(), "the seeded known results include Dy/Tb compounds"
    assert not pool.loc[over_cap, "feasible"].any()
    status = campaign.status()
    assert any("Dy+Tb" in c["constraint"] and c["removed"] > 0 for c in status["constraints"])
    best = status["best_feasible"]["composition"]
    row = pool.loc[pool["composition"] == best].iloc[0]
    assert row["dytb_mass_fraction"] <= 0.01 + 1e-12
    table = campaign.suggest(4)
    assert (table["dytb_mass_fraction"] <= 0.01 + 1e-12).all()


def test_rerun_resumes_from_chunks_and_steps(tmp_path, shared_datasets):
    import io

    spec = small(load_spec(REPO / "workflows" / "metal_screen.toml"), n=2000, chunk=250)
    first = run_workflow(spec, tmp_path, progress=Progress(quiet=True))
    chunks = sorted((tmp_path / "chunks").glob("chunk_*.json"))
    assert len(chunks) >= 6
    for sidecar in chunks[3:]:  # as if the run had been killed after 3 chunks
        sidecar.unlink()
    (tmp_path / "results.parquet").unlink()
    stream = io.StringIO()
    second = run_workflow(spec, tmp_path, progress=Progress(stream=stream, tty=False))
    log = stream.getvalue()
    assert "from checkpoint" in log and "resumed: 3 chunks from checkpoint" in log
    pd.testing.assert_frame_equal(first.candidates, second.candidates)

    # an edited candidate grid keeps the trained surrogate and redoes only the screen
    edited = spec.with_overrides(**{"candidates.max_candidates": 1000})
    stream = io.StringIO()
    third = run_workflow(edited, tmp_path, progress=Progress(stream=stream, tty=False))
    log = stream.getvalue()
    assert log.count("[from checkpoint]") == 4  # load, featurize, cv, train
    assert "resumed" not in log and third.counts["generated"] == 1000
    assert len(list((tmp_path / "chunks").glob("chunk_*.json"))) >= 4

    # an edited model redoes that model (its saved files are replaced) and the screen
    retrained = edited.with_overrides(**{"targets.0.model_params": {"n_estimators": 10}})
    stream = io.StringIO()
    run_workflow(retrained, tmp_path, progress=Progress(stream=stream, tty=False))
    assert stream.getvalue().count("[from checkpoint]") == 2  # load, featurize

    other = spec.with_overrides(name="another")
    with pytest.raises(SpecError, match="holds a run of workflow 'metal_screen'"):
        run_workflow(other, tmp_path, progress=Progress(quiet=True))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("targets.0.dataset", "supercom", ["'supercom'", "supercon", "Did you mean 'supercon'?"]),
        ("targets.0.preset", "magpi", ["'magpi'", "magnet", "Did you mean 'magpie'?"]),
        ("acquisition.name", "ehvii", ["'ehvii'", "ucb", "Did you mean 'ehvi'?"]),
        ("targets.0.column", "Tcc", ["'Tcc'", "Did you mean 'Tc'?"]),
        (
            "targets.0.model_params",
            {"n_estimator": 5},
            ["n_estimator", "n_estimators", "Did you mean 'n_estimators'?"],
        ),
        ("acquisition.params", {"betta": 1.0}, ["betta", "Did you mean 'beta'?"]),
        ("criticality.objective", "supply_rsk", ["Did you mean 'supply_risk'?"]),
        ("criticality.hree_convention", "eu_2032", ["usgs", "Did you mean 'eu_2023'?"]),
        (
            "constraints",
            [{"kind": "exclude_elements", "elements": ["Dx"]}],
            ["'Dx'", "element symbol"],
        ),
    ],
)
def test_bad_names_fail_before_any_work(key, value, expected, tmp_path, shared_datasets):
    spec = load_spec(REPO / "workflows" / "superconductor_low_criticality.toml")
    if key == "acquisition.params":
        spec = spec.with_overrides(**{"acquisition.name": "ucb"})
    out = tmp_path / "never"
    with pytest.raises(SpecError) as info:  # element symbols fail when the spec is read
        run_workflow(spec.with_overrides(**{key: value}), out)
    for part in expected:
        assert part in str(info.value)
    assert not out.exists()


def test_bad_classification_rule_fails_before_work(tmp_path, shared_datasets):
    spec = load_spec(REPO / "workflows" / "metal_screen.toml")
    for rule, part in [
        ("is_metall", "Did you mean 'is_metal'?"),
        ("Egg == 0", "'Eg'"),
        ("Eg == zero", "'zero' is not a number"),
    ]:
        with pytest.raises(SpecError, match=part):
            run_workflow(spec.with_overrides(**{"targets.0.positive": rule}), tmp_path / "no")
    assert not (tmp_path / "no").exists()


def test_bad_template_is_a_spec_error(tmp_path, shared_datasets):
    spec = load_spec(REPO / "workflows" / "metal_screen.toml")
    bad = spec.with_overrides(
        **{"candidates.templates": [{"formula": "Fe{1-x}Qq{x}", "ranges": {"x": [0, 1, 0.1]}}]}
    )
    with pytest.raises(SpecError, match=r"candidates.templates\[0\].formula"):
        run_workflow(bad, tmp_path / "never")
    assert not (tmp_path / "never").exists()


@pytest.mark.slow
def test_sigkill_during_screen_then_resume_equals_uninterrupted(tmp_path, shared_datasets):
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = small(load_spec(REPO / "workflows" / "metal_screen.toml"), n=800, chunk=25, rows=150)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    out = tmp_path / "killed"
    code = (
        "import json, sys; from mi.runner.spec import parse_spec; "
        "from mi.runner.workflow import run_workflow; from mi.runner.progress import Progress; "
        f"run_workflow(parse_spec(json.load(open({str(spec_file)!r}))), {str(out)!r}, "
        "progress=Progress(quiet=True))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ))
    try:
        while True:  # no deadline: a loaded machine only makes this wait longer
            if len(list((out / "chunks").glob("chunk_*.json"))) >= 5 or proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    n_done = len(list((out / "chunks").glob("chunk_*.json")))
    assert n_done >= 5 and not (out / "summary.json").exists()
    resumed = run_workflow(spec, out, progress=Progress(quiet=True))
    reference = run_workflow(spec, tmp_path / "reference", progress=Progress(quiet=True))
    pd.testing.assert_frame_equal(resumed.candidates, reference.candidates)
    assert resumed.summary.counts == reference.summary.counts


def test_thompson_acquisition_gets_ensemble_members(tmp_path, shared_datasets):
    spec = small(load_spec(REPO / "workflows" / "superconductor_low_criticality.toml"), n=600)
    spec = spec.with_overrides(
        **{
            "acquisition.name": "thompson",
            "outputs.campaign_pool": None,
            "outputs.rank_by": "acquisition",
        }
    )
    result = run_workflow(spec, tmp_path, progress=Progress(quiet=True))
    top = result.top
    assert top["acquisition"].is_monotonic_decreasing
    # a posterior draw, not the mean: scores differ from the predicted means
    assert not np.allclose(top["acquisition"], top["Tc_mean"])


def test_screened_std_is_recalibrated_on_the_cross_validation(tmp_path, shared_datasets):
    from mi.models import CalibratedRegressor, get_calibrator, load_card, load_model

    spec = small(load_spec(REPO / "workflows" / "superconductor_low_criticality.toml"), n=600)
    spec = spec.with_overrides(**{"outputs.top_n": 600, "outputs.keep_per_chunk": 600})
    calibrated = run_workflow(spec, tmp_path / "cal", progress=Progress(quiet=True))
    model = load_model(tmp_path / "cal" / "models" / "Tc")
    assert isinstance(model, CalibratedRegressor)
    # the map is the one fitted on the out-of-fold predictions the run wrote
    oof = pd.read_parquet(tmp_path / "cal" / "cv" / "Tc_oof.parquet")
    expected = get_calibrator("linear").fit(oof["y_true"], oof["y_pred"], oof["y_std"])
    assert model.calibrator_.to_dict() == pytest.approx(expected.to_dict())
    card = load_card(tmp_path / "cal" / "models" / "Tc")
    assert card.extra["std_calibration"]["name"] == "linear"

    none = {"n_splits": 2, "calibration": "none"}
    raw = run_workflow(
        spec.with_overrides(**{"targets.0.cv": none}),
        tmp_path / "raw",
        progress=Progress(quiet=True),
    )
    assert not isinstance(load_model(tmp_path / "raw" / "models" / "Tc"), CalibratedRegressor)
    both = calibrated.top.merge(raw.top, on="formula", suffixes=("_cal", "_raw"))
    assert len(both) > 100
    np.testing.assert_allclose(both["Tc_mean_cal"], both["Tc_mean_raw"], rtol=1e-6)
    np.testing.assert_allclose(
        both["Tc_std_cal"], model.calibrator_.transform(both["Tc_std_raw"]), rtol=1e-5
    )
    assert not np.allclose(both["Tc_std_cal"], both["Tc_std_raw"])

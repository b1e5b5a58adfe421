"""A workflow on a user's table file: conditions as inputs, a log10 target, train-only, screen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mi.exceptions import SpecError
from mi.runner.predict import predict_table
from mi.runner.progress import Progress
from mi.runner.spec import parse_spec
from mi.runner.workflow import run_workflow


def _table(path: Path) -> Path:
    """Conductivity of Cu-Ni spanning three decades, falling with Ni and rising with T."""
    rng = np.random.default_rng(0)
    rows = []
    for x in np.arange(1, 31):
        for temp in (300.0, 400.0, 500.0):
            sigma = 10 ** (5.0 - 0.08 * x + 0.002 * (temp - 300.0)) * rng.lognormal(0, 0.02)
            rows.append({"formula": f"Cu{100 - x}Ni{x}", "T (K)": temp, "sigma": sigma})
    rows.append({"formula": "Cu50Ni50", "T (K)": 20.0, "sigma": 1e6})  # filtered by where
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _spec(path: Path, candidates: bool) -> dict:
    spec: dict = {
        "version": 1,
        "name": "own",
        "targets": [
            {
                "name": "sigma",
                "column": "sigma",
                "preset": "magpie",
                "model_params": {"n_members": 2, "n_estimators": 60},
                "cv": {"n_splits": 3},
                "table": {
                    "path": str(path),
                    "composition_col": "formula",
                    "where": "T_K >= 280",
                    "targets": [{"name": "sigma", "unit": "S/m", "transform": "log10"}],
                    "conditions": [{"name": "T_K", "column": "T (K)", "unit": "K"}],
                },
            }
        ],
        "outputs": {"report": False},
    }
    if candidates:
        spec["candidates"] = {
            "templates": [{"formula": "Cu{100-x}Ni{x}", "ranges": {"x": [2, 20, 6]}}],
            "conditions": {"T_K": [300.0, 500.0]},
        }
    return spec


def test_train_only_then_predict_transforms_back(tmp_path: Path) -> None:
    table = _table(tmp_path / "data" / "sigma.csv")
    spec = parse_spec(_spec(table, candidates=False))
    result = run_workflow(spec, tmp_path / "run", progress=Progress(quiet=True))
    assert result.summary.train_only is True and result.summary.counts is None
    record = result.summary.datasets[0]
    assert record.n_input == 91 and record.n_filtered == 1
    target = result.summary.targets[0]
    assert target.transform == "log10" and target.conditions == {"T_K": "K"}
    # the model learned log10(sigma) (about 2.6..5.2); predictions come back in S/m
    rows = pd.DataFrame({"composition": ["Cu95Ni5", "Cu95Ni5"], "T_K": [300.0, 500.0]})
    pred = predict_table(tmp_path / "run", rows, progress=False)
    truth = 10 ** (5.0 - 0.08 * 5 + 0.002 * np.array([0.0, 200.0]))
    assert np.allclose(pred["sigma_mean"], truth, rtol=0.35)
    assert (pred["sigma_lo"] < pred["sigma_mean"]).all()
    assert (pred["sigma_mean"] < pred["sigma_hi"]).all()
    assert pred["sigma_mean"].iloc[1] > pred["sigma_mean"].iloc[0]  # rises with T
    # the same alloys given as element columns in at %
    by_elements = pd.DataFrame({"Cu": [95.0, 95.0], "Ni": [5.0, 5.0], "T_K": [300.0, 500.0]})
    same = predict_table(tmp_path / "run", by_elements, elements="at%", progress=False)
    assert np.allclose(same["sigma_mean"], pred["sigma_mean"])
    out_of_range = predict_table(tmp_path / "run", ["Cu95Ni5"], conditions={"T_K": 900.0})
    assert not out_of_range["sigma_applicable"].iloc[0]
    assert "T_K = 900 outside training range [300, 500]" in out_of_range["sigma_domain_note"][0]


def test_screen_over_compositions_and_conditions(tmp_path: Path) -> None:
    table = _table(tmp_path / "sigma.csv")
    spec = parse_spec(_spec(table, candidates=True))
    result = run_workflow(spec, tmp_path / "run", progress=Progress(quiet=True))
    res = result.candidates
    assert set(res["T_K"]) == {300.0, 500.0}
    assert len(res) == 2 * 4  # 4 compositions x 2 temperatures
    assert res["key"].is_unique
    assert {"sigma_lo", "sigma_hi"} <= set(res.columns)
    assert res["sigma_mean"].min() > 100.0  # S/m, not log10 units
    assert result.summary.counts.conditions_per_composition == 2
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["targets"][0]["dataset"] == "sigma"


def test_candidate_conditions_must_match_the_models(tmp_path: Path) -> None:
    from mi.runner.validate import check_spec

    table = _table(tmp_path / "sigma.csv")
    data = _spec(table, candidates=True)
    data["candidates"]["conditions"] = {}
    with pytest.raises(SpecError, match="give values for \\['T_K'\\]"):
        check_spec(parse_spec(data))
    data["candidates"]["conditions"] = {"T_K": [300.0], "P_GPa": [1.0]}
    with pytest.raises(SpecError, match="P_GPa"):
        check_spec(parse_spec(data))


def test_target_names_dataset_or_table() -> None:
    with pytest.raises(SpecError, match="either 'dataset'"):
        parse_spec({"version": 1, "name": "x", "targets": [{"name": "y"}]})


def test_a_file_named_as_dataset_says_how_to_declare_it() -> None:
    from mi.runner.validate import check_spec

    data = {"version": 1, "name": "x", "targets": [{"name": "y", "dataset": "measured.parquet"}]}
    with pytest.raises(SpecError, match=r"is a file, not a registered dataset.*table\] path"):
        check_spec(parse_spec(data))
    data["targets"][0]["dataset"] = "out/measured.parquet"  # a path is refused when read
    with pytest.raises(SpecError, match=r"is a file, not a registered dataset.*table\] path"):
        parse_spec(data)

"""``--check`` validates values, not only names (issue 18, D11)."""

from __future__ import annotations

import copy

import pytest

from mi.exceptions import SpecError
from mi.runner.spec import parse_spec
from mi.runner.validate import check_spec

BASE = {
    "version": 1,
    "name": "t",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
}


def _target(**kw):
    return lambda d: d["targets"][0].update(**kw)


CASES = {
    "negative n_estimators": (
        _target(model_params={"n_estimators": -5}),
        "The 'n_estimators' parameter of XGBEnsembleRegressor",
    ),
    "string max_depth": (_target(model_params={"max_depth": "deep"}), "Got 'deep' instead"),
    "forest of one tree": (
        _target(model="random_forest", model_params={"n_estimators": 1}),
        "RandomForestUncertaintyRegressor must be an int in the range [2, inf)",
    ),
    "gp nu": (_target(model="gp", model_params={"nu": 3.0}), "'nu' parameter of GPRegressor"),
    "string beta": (
        lambda d: d.update(acquisition={"name": "ucb", "params": {"beta": "high"}}),
        "acquisition.params.beta = 'high'",
    ),
    "negative beta": (
        lambda d: d.update(acquisition={"name": "ucb", "params": {"beta": -1.0}}),
        "'beta' parameter of ucb must be >= 0",
    ),
    "min above max": (_target(min_value=10.0, max_value=1.0), "min_value = 10 is above"),
    "nan min": (_target(min_value=float("nan")), "min_value must be a finite number"),
    "seed beyond 2**32": (lambda d: d.update(seed=2**32), "seed"),
    "negative seed": (lambda d: d.update(seed=-1), "seed"),
    "empty range": (
        lambda d: d["candidates"].update(
            templates=[{"formula": "Fe{1-x}Co{x}", "ranges": {"x": [2.0, 3.0, 0.5]}}]
        ),
        "yields no candidates",
    ),
    "impossible where": (
        lambda d: d["candidates"].update(
            templates=[
                {"formula": "Fe{1-x}Co{x}", "ranges": {"x": [0.0, 0.5, 0.1]}, "where": ["x > 0.7"]}
            ]
        ),
        "yields no candidates",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_values_fail_at_check(case, shared_datasets):
    mutate, expected = CASES[case]
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(SpecError) as info:
        check_spec(parse_spec(data, "wf.toml"))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_valid_values_still_pass(shared_datasets):
    data = copy.deepcopy(BASE)
    data["targets"][0]["model_params"] = {"n_estimators": 50, "max_depth": 4}
    data["acquisition"] = {"name": "ucb", "params": {"beta": 1.5}}
    check_spec(parse_spec(data))

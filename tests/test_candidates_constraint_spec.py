"""Constraint specs: one grammar for workflow and campaign files, building the predicates."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from mi.active.spec import CampaignSpec
from mi.candidates.constraint_spec import CONSTRAINT_KINDS, feasible_mask, parse_constraint
from mi.chem import parse_formulas
from mi.exceptions import SpecError
from mi.runner.spec import parse_spec

FORMULAS = ["Nd2Fe14B", "Dy2Fe14B", "Fe2O3", "Nd2Fe12Co2B", "Li3PO4", "NaCl2"]

CASES = [
    (
        {"kind": "max_mass_fraction", "elements": ["Dy", "Tb"], "limit": 0.01},
        [True, False, True, True, True, True],
        "mass fraction of Dy+Tb <= 0.01",
    ),
    (
        {"kind": "max_atomic_fraction", "elements": ["Co"], "limit": 0.05},
        [True, True, True, False, True, True],
        "atomic fraction of Co <= 0.05",
    ),
    (
        {"kind": "exclude_elements", "elements": ["Dy"]},
        [True, False, True, True, True, True],
        "no Dy",
    ),
    (
        {"kind": "allow_elements", "elements": ["Nd", "Fe", "B", "Co"]},
        [True, False, False, True, False, False],
        "only Nd, Fe, B, Co",
    ),
    (
        {"kind": "max_elements", "n": 2},
        [False, False, True, False, False, True],
        "at most 2 elements",
    ),
    (
        {"kind": "charge_balanced"},
        [False, False, True, False, True, False],
        "charge-balanced (pymatgen oxidation-state guess)",
    ),
]


@pytest.mark.parametrize(("table", "keep", "line"), CASES)
def test_each_kind_builds_its_predicate_and_describes_itself(table, keep, line):
    spec = parse_constraint(table)
    assert spec.describe() == line
    assert spec.build()(parse_formulas(FORMULAS)).tolist() == keep


def test_every_kind_is_covered_and_written_the_same_in_workflows_and_campaigns():
    assert {c[0]["kind"] for c in CASES} | {"max_supply_risk"} == set(CONSTRAINT_KINDS)
    base = {
        "version": 1,
        "name": "t",
        "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
        "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
    }
    tables = [copy.deepcopy(c[0]) for c in CASES]
    workflow = parse_spec({**base, "constraints": tables}, "wf.toml")
    campaign = CampaignSpec.model_validate(
        {
            "name": "c",
            "target": "Tc",
            "candidates": {"formulas": FORMULAS},
            "constraints": {"rules": tables},
        }
    )
    assert workflow.constraints == campaign.constraints.rules


def test_feasible_mask_counts_each_row_against_the_first_rule_it_fails():
    matrix = parse_formulas(FORMULAS)
    risk = np.array([0.3, 0.9, 0.1, np.nan, 0.2, 0.2])
    mask, report = feasible_mask(
        [
            {"kind": "exclude_elements", "elements": ["Dy"]},
            {"kind": "max_supply_risk", "limit": 0.25},
        ],
        matrix,
        risk,
    )
    # unknown risk (NaN) cannot be shown to meet the limit
    assert mask.tolist() == [False, False, True, False, True, True]
    assert report == [
        {"constraint": "no Dy", "removed": 1},
        {"constraint": "supply risk <= 0.25", "removed": 2},
    ]
    with pytest.raises(SpecError, match="needs a supply-risk column"):
        feasible_mask([{"kind": "max_supply_risk", "limit": 0.5}], matrix)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"kind": "max_elements", "n": 0}, "greater than or equal to 1"),
        ({"kind": "exclude_elements", "elements": ["Xx"]}, "'Xx' is not an element symbol"),
        ({"kind": "max_atomic_fraction", "elements": ["Co"], "limit": 2}, "less than or equal"),
        ({"kind": "max_atomic_fractoin", "elements": ["Co"], "limit": 0.1}, "Did you mean"),
    ],
)
def test_bad_values_fail_when_the_workflow_is_read(table, expected):
    data = {
        "version": 1,
        "name": "t",
        "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
        "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
        "constraints": [table],
    }
    with pytest.raises(SpecError) as info:
        parse_spec(data, "wf.toml")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)

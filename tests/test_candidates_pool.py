"""Tests of mi.candidates constraints, CandidatePool and substitution from seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi.candidates import (
    AllowElements,
    CandidatePool,
    ChargeBalanced,
    ConstraintReport,
    DenyElements,
    MaxElements,
    Template,
    apply_constraints,
    similar_elements,
    substitute,
)
from mi.chem import element_index, parse_formulas
from mi.exceptions import DataError, FormulaError, RegistryKeyError, TableError

FORMULAS = ["Fe2O3", "Nd2Fe14B", "Dy2Fe14B", "LiCoO2", "NaCl", "SmCo5", "Li3PO4"]


# -- constraints ---------------------------------------------------------------------------
def test_element_constraints():
    m = parse_formulas(FORMULAS)
    assert AllowElements(["Fe", "O", "Nd", "B"])(m).tolist() == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert DenyElements("Dy")(m).tolist() == [True, True, False, True, True, True, True]
    assert MaxElements(2)(m).tolist() == [True, False, False, False, True, True, False]
    with pytest.raises(DataError, match="integer n >= 1"):
        MaxElements(0)
    with pytest.raises(FormulaError):
        DenyElements(["Qq"])


def test_charge_balance_is_cached_per_reduced_formula():
    cache: dict = {}
    cb = ChargeBalanced(cache=cache)
    m = parse_formulas(["Fe2O3", "Fe4O6", "NaCl2", "Li3PO4", "Nd2Fe14B"])
    assert cb(m).tolist() == [True, True, False, True, False]
    assert cb.misses == 4 and cb.hits == 1  # Fe4O6 reuses Fe2O3
    assert cb(m).tolist() == [True, True, False, True, False]
    assert cb.misses == 4 and cb.hits == 6
    assert cb.n_too_large == 0 or cb.max_atoms < 17


def test_apply_constraints_counts_in_order_and_checks_predicates():
    m = parse_formulas(FORMULAS)
    report = ConstraintReport()
    report.add_input(m.n)
    kept, mask = apply_constraints(m, [DenyElements(["Dy"]), MaxElements(2)], report)
    assert report.removed == {"none of {Dy}": 1, "at most 2 elements": 3}
    assert kept.n == int(mask.sum()) == 3

    def bad(matrix):
        return np.ones(matrix.n)  # not bool

    with pytest.raises(DataError, match="bool array"):
        apply_constraints(m, [bad])


# -- pool ----------------------------------------------------------------------------------
def test_pool_keys_frame_and_duplicates():
    pool = CandidatePool.from_formulas(FORMULAS, source=list("abcdefg"))
    frame = pool.to_frame()
    assert frame.index.name == "key"
    assert frame.loc["Fe2O3", "source"] == "a"
    assert list(frame.columns) == ["formula", "source"]
    with pytest.raises(DataError, match="unique"):
        CandidatePool.from_formulas(["Fe2O3", "Fe4O6"])
    first = CandidatePool.from_formulas(["Fe2O3", "Fe4O6", "FeO"], on_duplicate="first")
    assert first.keys == ["Fe2O3", "FeO"]


def test_pool_constraint_and_criticality_columns(tmp_path):
    from mi.criticality import max_mass_fraction

    pool = CandidatePool.from_formulas(["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Ce2Fe14B"])
    dytb = max_mass_fraction({"Dy", "Tb"}, 0.01)
    flagged = pool.with_constraints([dytb, MaxElements(3)]).with_criticality()
    frame = flagged.to_frame()
    assert frame[f"ok: {dytb.description}"].tolist() == [True, False, True]
    assert frame["ok: at most 3 elements"].tolist() == [True, False, True]
    assert frame["dytb_mass_fraction"].round(4).tolist() == [0.0, 0.0597, 0.0]
    assert frame["supply_risk"].between(0, 1).all()
    filtered = flagged.filter([dytb])
    assert len(filtered) == 2 and filtered.report.removed[dytb.description] == 1

    path = flagged.to_parquet(tmp_path / "pool.parquet")
    back = CandidatePool.read_parquet(path)
    pd.testing.assert_frame_equal(back.to_frame(), frame)
    np.testing.assert_array_equal(back.matrix.to_dense(), flagged.matrix.to_dense())


def test_template_pool_round_trips_through_parquet(tmp_path):
    t = Template(
        "(Nd0.8[M]{0.2})2Fe{14-c}Co{c}B",
        ranges={"c": (0, 2, 1)},
        sites={"M": ["Ce", "La", "Dy"]},
    )
    pool = t.to_pool(constraints=[DenyElements(["Dy"])])
    assert len(pool) == 6 and pool.report.removed["none of {Dy}"] == 3
    path = pool.to_parquet(tmp_path / "sub" / "t.parquet")
    back = CandidatePool.read_parquet(path)
    assert back.keys == pool.keys
    assert back.to_frame()["M"].tolist() == pool.to_frame()["M"].tolist()
    assert back.report.to_dict() == pool.report.to_dict()
    # amounts are stored exactly, not as rounded formula strings
    np.testing.assert_array_equal(back.matrix.to_csr().data, pool.matrix.to_csr().data)


def test_read_parquet_rejects_other_files(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(TableError, match="not a candidate pool"):
        CandidatePool.read_parquet(path)


# -- substitution from seeds ---------------------------------------------------------------
def test_similar_elements_rules():
    group = [s for s, _ in similar_elements("Dy", method="group")]
    assert {"Tb", "Gd", "Y", "La", "Ce"} <= set(group)
    assert "Pm" not in group and "Dy" not in group  # radioactive / self
    prob = similar_elements("Fe", method="probability", threshold=0.02)
    assert prob and all(score >= 0.02 for _, score in prob)
    assert [s for s, _ in prob][:4] == sorted(
        [s for s, _ in prob][:4], key=lambda s: -dict(prob)[s]
    )
    with pytest.raises(RegistryKeyError, match="Did you mean 'group'"):
        similar_elements("Fe", method="grop")


def test_substitute_records_seed_and_substitution():
    pool = substitute(
        ["Dy2Fe14B", "Nd2Fe14B"],
        method="group",
        elements=["Dy", "Nd"],
        allowed=["Ce", "La", "Nd", "Pr"],
        fractions=[0.5, 1.0],
    )
    frame = pool.to_frame()
    # Dy -> Nd gives Nd2Fe14B, a seed: excluded and counted
    assert "BFe14Nd2" not in frame.index
    assert pool.report.removed["equal to a seed (known compound)"] == 1
    row = frame.loc[parse_formulas(["Dy1Ce1Fe14B"]).canonical_keys()[0]]
    assert row["seed"] == "Dy2Fe14B" and row["substitution"] == "Dy->Ce (0.5)"
    row = frame.loc["BCe2Fe14"]
    assert row["n_routes"] == 2  # from Dy2Fe14B and from Nd2Fe14B
    ce = pool.matrix.to_dense()[:, element_index("Ce")]
    assert ce.max() == 2.0
    assert len(pool) == len(set(pool.keys))


def test_substitute_probability_with_constraints_and_pairs():
    report_free = substitute(["LiCoO2"], method="probability", threshold=0.02)
    assert len(report_free) > 5
    assert set(report_free.to_frame()["seed"]) == {"LiCoO2"}
    pool = substitute(
        ["LiCoO2"],
        method="probability",
        threshold=0.02,
        max_substitutions=2,
        constraints=[DenyElements(["Co"]), ChargeBalanced()],
    )
    frame = pool.to_frame()
    assert len(pool) > 0
    assert frame["substitution"].str.contains(", ").any()  # two elements replaced at once
    assert pool.matrix.to_dense()[:, element_index("Co")].max() == 0
    assert ChargeBalanced()(pool.matrix).all()
    assert pool.report.n_output == len(pool)
    assert pool.report.n_input - sum(pool.report.removed.values()) == len(pool)
    with pytest.raises(DataError, match=r"\(0, 1\]"):
        substitute(["LiCoO2"], fractions=[0.0])


def test_substitute_from_a_real_dataset(shared_datasets):
    from mi.data import load_dataset

    ds = load_dataset("curie_tc")
    pool = substitute(ds, method="group", elements=["Dy", "Tb"], allowed=["Ce", "La", "Y"])
    frame = pool.to_frame()
    seeds = set(ds.df[ds.composition_col])
    assert set(frame["seed"]) <= seeds
    assert frame["substitution"].str.match(r"^(Dy|Tb)->(Ce|La|Y)$").all()
    assert not (set(pool.keys) & set(parse_formulas(sorted(seeds)).canonical_keys()))
    dytb = [element_index("Dy"), element_index("Tb")]
    cand_frac = pool.matrix.fractions()[:, dytb].sum(axis=1)
    seed_frac = parse_formulas(frame["seed"].tolist()).fractions()[:, dytb].sum(axis=1)
    assert np.all(cand_frac < seed_frac)
    assert len(pool) == len(set(pool.keys)) > 0


@pytest.mark.slow
def test_probability_table_matches_pymatgen_api():
    import math

    from pymatgen.core.structure_prediction.substitution_probability import (
        SubstitutionProbability,
    )

    from mi.candidates.substitute import _probability_table

    sp = SubstitutionProbability()
    table = _probability_table()
    for old, new in [("Dy", "Gd"), ("Fe", "Co"), ("O", "S"), ("Li", "Na")]:
        olds = [s for s in sp.species if s.symbol == old]
        news = [s for s in sp.species if s.symbol == new]
        num = sum(
            math.exp(sp.get_lambda(b, a))
            for a in olds
            for b in news
            if sp.get_lambda(b, a) != sp.alpha
        )
        den = sum(sp.get_px(a) for a in olds)
        assert table[element_index(old), element_index(new)] == pytest.approx(num / den)

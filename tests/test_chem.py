from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from mi.chem import (
    ATOMIC_MASSES,
    DENSE_MAX_ROWS,
    ELEMENTS,
    CompositionMatrix,
    ParseResult,
    element_index,
    parse_formula,
    parse_formulas,
)
from mi.exceptions import FormulaError

# Formula columns of the shared datasets: (file, column).
DATASET_FORMULA_COLUMNS = [
    ("supercon_stanev2018/Supercon_data.csv", "name"),
    ("expt_gap_zhuo2018_roost/expt-bandgaps.csv", "composition"),
    ("obelix_ionic_conductivity/all.csv", "Reduced Composition"),
    ("obelix_ionic_conductivity/all.csv", "True Composition"),
    ("novamag_magnetic/novamag-raw.csv", "chemical formula"),
    ("novamag_magnetic/mp-magnetism.csv", "chemical formula"),
    ("curie_bert_psie_tc/Tc_dataset.csv", "compound"),
]


def _pymatgen_dict(formula: str) -> dict[str, float]:
    from pymatgen.core import Composition

    out: dict[str, float] = {}
    for key, amt in Composition(formula).items():
        sym = str(getattr(key, "symbol", key))
        out[sym] = out.get(sym, 0.0) + amt
    return out


def test_elements_match_pymatgen():
    from pymatgen.core import Element

    assert len(ELEMENTS) == 103
    for z, sym in enumerate(ELEMENTS, start=1):
        el = Element.from_Z(z)
        assert el.symbol == sym
        assert float(el.atomic_mass) == ATOMIC_MASSES[z - 1]
    assert element_index("H") == 0
    assert element_index("Lr") == 102
    assert element_index("D") == 0


def test_element_index_unknown_symbol_names_the_value():
    with pytest.raises(FormulaError, match="'Xx'"):
        element_index("Xx")


@pytest.mark.parametrize(
    "formula",
    [
        "Fe2O3",
        "Ba0.4K0.6Fe2As2",
        "(Nd0.8Dy0.2)2Fe14B",
        "Li3Fe2(PO4)3",
        "Ca(OH)2",
        "Fe[O2]3",
        "K4[Fe(CN)6]",
        "Y3N@C80",
        " Fe2 O3 ",
        "Fe2O3.5H2",  # "Fe2O3.5H2O" is refused as a hydrate dot (issue 18, D18)
        "Fe.5Co.5",
        "Fe5.",
        "FeFeO",
        "(Fe)(O)",
        "((Nd0.8Pr0.2)0.9Dy0.1)2(Fe0.9Co0.1)14B",
        "D2O",
        "Mg1e-3O",
    ],
)
def test_parse_agrees_bitwise_with_pymatgen(formula):
    ours = parse_formula(formula)
    assert ours == _pymatgen_dict(formula)
    m = parse_formulas([formula])
    row = {ELEMENTS[j]: m.to_dense()[0, j] for j in np.flatnonzero(m.to_dense()[0])}
    assert row == ours


@pytest.mark.parametrize(
    ("formula", "reason"),
    [
        ("Xx2O3", "unknown element symbol 'Xx'"),
        ("Og", "unknown element symbol 'Og'"),
        ("", "empty formula"),
        ("   ", "empty formula"),
        ("Fe0O", "zero amount"),
        ("Fe-1O", "negative amount"),
        ("Fe2-x", "invalid amount"),
        ("Fe2+", "cannot parse"),
        ("fe2o3", "cannot parse"),
        ("123", "no element symbol"),
        ("(FeO", "unbalanced parentheses"),
        ("Fe1e999", "non-finite"),
    ],
)
def test_invalid_formulas_raise_with_value_and_reason(formula, reason):
    with pytest.raises(FormulaError, match=reason) as info:
        parse_formulas(["Fe", formula])
    assert repr(formula) in str(info.value)
    assert "row 1" in str(info.value)


def test_missing_values_are_rejected():
    res = parse_formulas(["Fe", None, float("nan"), 3], on_error="report")
    assert res.valid.tolist() == [True, False, False, False]
    assert [e[0] for e in res.errors] == [1, 2, 3]
    assert "missing value" in res.errors[0][2]
    assert "not a string" in res.errors[2][2]


def test_single_string_is_not_split_into_characters():
    with pytest.raises(FormulaError, match="wrap it in a list"):
        parse_formulas("Fe2O3")


def test_on_error_modes_keep_every_row():
    formulas = ["Fe2O3", "Xx", "NaCl", "", "Xx"]
    with pytest.raises(FormulaError, match="row 1"):
        parse_formulas(formulas)
    m = parse_formulas(formulas, on_error="nan")
    assert isinstance(m, CompositionMatrix)
    assert len(m) == 5
    assert m.valid.tolist() == [True, False, True, False, False]
    frac = m.fractions()
    assert np.isnan(frac[1]).all() and np.isnan(frac[3]).all()
    np.testing.assert_allclose(frac[[0, 2]].sum(axis=1), 1.0)
    res = parse_formulas(formulas, on_error="report")
    assert isinstance(res, ParseResult)
    assert [(r, v) for r, v, _ in res.errors] == [(1, "Xx"), (3, ""), (4, "Xx")]
    assert list(res.errors_frame().columns) == ["row", "value", "reason"]
    with pytest.raises(ValueError, match="on_error"):
        parse_formulas(formulas, on_error="skip")  # type: ignore[arg-type]


def test_canonical_keys_and_formulas():
    m = parse_formulas(
        ["Fe2O3", "Fe4O6", "O3Fe2", "Ba0.4K0.6Fe2As2", "Ba0.8K1.2Fe4As4", "Xx"], on_error="nan"
    )
    keys = m.canonical_keys()
    assert keys[0] == keys[1] == keys[2] == "Fe2O3"
    assert keys[3] == keys[4] == "As10Ba2Fe10K3"
    assert keys[5] == ""
    assert m.formulas()[:4] == ["Fe2O3", "Fe4O6", "Fe2O3", "As2Ba0.4Fe2K0.6"]
    # formulas() round-trips through the parser
    again = parse_formulas(m.formulas()[:5])
    np.testing.assert_array_equal(again.to_dense(), m.to_dense()[:5])


def test_fractions_and_mass_fractions_match_pymatgen():
    from pymatgen.core import Composition

    formulas = ["Fe2O3", "(Nd0.8Dy0.2)2Fe14B", "LiFePO4"]
    m = parse_formulas(formulas)
    frac, wt = m.fractions(), m.mass_fractions()
    np.testing.assert_array_equal(m.fractions_csr().toarray(), frac)
    np.testing.assert_array_equal(m.mass_fractions_csr().toarray(), wt)
    for i, f in enumerate(formulas):
        comp = Composition(f)
        for el in comp:
            j = element_index(el.symbol)
            assert frac[i, j] == pytest.approx(comp.get_atomic_fraction(el), rel=1e-14)
            assert wt[i, j] == pytest.approx(comp.get_wt_fraction(el), rel=1e-12)


def test_constructors_take_and_compositions():
    dense = np.zeros((2, len(ELEMENTS)))
    dense[0, element_index("Fe")] = 2
    dense[0, element_index("O")] = 3
    dense[1, element_index("Na")] = 1
    a = CompositionMatrix.from_amounts(dense)
    b = CompositionMatrix.from_dict_rows([{"Fe": 2, "O": 3}, {"Na": 1}])
    c = CompositionMatrix.from_amounts(sparse.csr_matrix(dense))
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    np.testing.assert_array_equal(a.to_dense(), c.to_dense())
    assert isinstance(a.amounts, np.ndarray)
    assert a.take([1]).formulas() == ["Na"]
    assert a.take(np.array([False, True])).formulas() == ["Na"]
    assert a[1:].formulas() == ["Na"]
    comps = a.to_compositions()
    assert comps[0].reduced_formula == "Fe2O3"
    assert CompositionMatrix.concat([a, b]).n == 4
    with pytest.raises(FormulaError, match="Row 0"):
        CompositionMatrix.from_dict_rows([{"Qq": 1}])
    with pytest.raises(FormulaError, match="shape"):
        CompositionMatrix.from_amounts(np.zeros((2, 5)))
    bad = dense.copy()
    bad[1, 0] = -1
    with pytest.raises(FormulaError, match="row 1"):
        CompositionMatrix.from_amounts(bad)


def test_large_matrices_are_sparse_and_duplicates_parse_once():
    formulas = ["Fe2O3", "NaCl", "(Nd0.8Dy0.2)2Fe14B"] * ((DENSE_MAX_ROWS // 3) + 1)
    m = parse_formulas(formulas)
    assert m.is_sparse and sparse.issparse(m.amounts)
    assert m.n == len(formulas)
    assert m.canonical_keys()[-1] == "B5Dy2Fe70Nd8"


@pytest.mark.parametrize(("path", "column"), DATASET_FORMULA_COLUMNS)
def test_agrees_with_pymatgen_on_every_shared_dataset_row(shared_datasets, path, column):
    """Every row either parses to exactly pymatgen's amounts or is rejected with a reason.

    Rejections are allowed only where mi is stricter by design: pymatgen fails too, or the
    formula has a zero amount (pymatgen silently drops the element), an unknown symbol
    (pymatgen makes a dummy species) or is empty.
    """
    values = pd.read_csv(shared_datasets / path)[column].tolist()
    res = parse_formulas(values, on_error="report")
    dense = res.matrix.to_dense()
    reasons = {row: reason for row, _, reason in res.errors}
    for i, value in enumerate(values):
        try:
            expected = _pymatgen_dict(value)
        except (ValueError, TypeError, KeyError):
            assert not res.valid[i], f"pymatgen rejects row {i} {value!r}, mi accepted it"
            continue
        if not res.valid[i]:
            assert reasons[i].startswith(("zero amount", "unknown element", "empty")), (
                i,
                value,
                reasons[i],
            )
            continue
        row = {ELEMENTS[j]: dense[i, j] for j in np.flatnonzero(dense[i])}
        assert row == expected, (i, value)
    assert res.valid.mean() > 0.99


VECTOR_EDGE = [
    "Fe", "Fe2O3", "Fe.5", "Fe5.", "Fe.", "Fe..5", "Fe1.2.3", "FeO2Fe", "Fe0", "Fe0.00000001",
    "Fe0.000000001", "fe", "Xx", "Og", "D2O", "T", "HD", "1Fe", "Fe\x00", "Fe\x00O", "",
    "Fe1234567890123456", "Fe123456789012345", "Fe0123", "\u00c4", "Fe\u00c4", "Fe 2", "(Fe)",
    "Fe-1", "Fe2e3", "Fee", "FeOo", None, 3.5, "A", "Zz", "Fe99999999999999.9",
    "Fe0.1234567890123", "J", "Fe2.50", "Ca00.5", "Fe0.1O0.2", "LiFePO4", "Ba0.4K0.6Fe2As2",
]  # fmt: skip


def test_vectorised_parser_matches_exact_parser(shared_datasets):
    """The numpy fast path accepts only what the exact parser accepts, with identical amounts."""
    from mi.chem._vectorparse import vector_parse
    from mi.chem.parse import _parse_validated, _RowError

    values: list[object] = list(VECTOR_EDGE)
    for path, column in DATASET_FORMULA_COLUMNS:
        values.extend(pd.read_csv(shared_datasets / path)[column].tolist())
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    ok, counts, cols, amounts = vector_parse(arr)
    assert ok.mean() > 0.8
    ptr = np.concatenate([[0], np.cumsum(counts)])
    for i, value in enumerate(values):
        if not ok[i]:
            continue
        try:
            expected = _parse_validated(value)
        except _RowError:
            pytest.fail(f"vector parser accepted invalid {value!r}")
        got = (
            tuple(cols[ptr[i] : ptr[i + 1]].tolist()),
            tuple(amounts[ptr[i] : ptr[i + 1]].tolist()),
        )
        assert got == expected, value
    # whole-pipeline results equal the exact parser row by row (valid or the same rejection)
    res = parse_formulas(values, on_error="report")
    dense = res.matrix.to_dense()
    for i, value in enumerate(values):
        try:
            keys, amts = _parse_validated(value)
        except _RowError:
            assert not res.valid[i]
            continue
        np.testing.assert_array_equal(np.flatnonzero(dense[i]), np.sort(keys))
        assert [dense[i, k] for k in keys] == list(amts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="FeOCaNHDXxlu0123456789.() -", max_size=12), max_size=20))
def test_vectorised_and_exact_parsers_agree_on_arbitrary_text(values):
    from mi.chem.parse import _parse_validated, _RowError

    res = parse_formulas(values, on_error="report")
    csr = res.matrix.to_csr()
    for i, value in enumerate(values):
        try:
            keys, amounts = _parse_validated(value)
        except _RowError:
            assert not res.valid[i], value
            continue
        a, b = csr.indptr[i], csr.indptr[i + 1]
        assert tuple(csr.indices[a:b].tolist()) == keys, value
        assert tuple(csr.data[a:b].tolist()) == amounts, value

import math

import pytest

from mi.data.formulas import ELEMENTS, check_formulas, parse_formula


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fe2O3", {"Fe": 2.0, "O": 3.0}),
        ("(Nd0.8Dy0.2)2Fe14B", {"Nd": 1.6, "Dy": 0.4, "Fe": 14.0, "B": 1.0}),
        ("Ba0.4K0.6Fe2As2", {"Ba": 0.4, "K": 0.6, "Fe": 2.0, "As": 2.0}),
        ("Ag6 Ru2", {"Ag": 6.0, "Ru": 2.0}),
        ("Ca(FeAs)2", {"Ca": 1.0, "Fe": 2.0, "As": 2.0}),
        ("Sr2Ca2Cu(BiO4)2", {"Sr": 2.0, "Ca": 2.0, "Cu": 1.0, "Bi": 2.0, "O": 8.0}),
        ("[Fe(CN)6]", {"Fe": 1.0, "C": 6.0, "N": 6.0}),
        ("FeFe", {"Fe": 2.0}),
    ],
)
def test_parse_valid(text, expected):
    got = parse_formula(text)
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert math.isclose(got[k], v)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Xx2O3", "unknown element symbol 'Xx'"),
        ("Ee", "unknown element symbol 'Ee'"),
        ("Fe0O", "amount '0' after 'Fe' is not positive"),
        ("Fe-1O", "unexpected character '-'"),
        ("Fe2+O3", "unexpected character '+'"),
        ("Fe1e400O", "unexpected character 'e'"),
        ("1.2", "number '1.2' without an element"),
        ("(Fe", "unclosed '('"),
        ("Fe)", "unbalanced ')'"),
        ("Fe()2", "empty group ()"),
        ("D2O", "deuterium"),
        ("Og", "unknown element symbol 'Og'"),
        ("fe2o3", "unexpected character 'f'"),
    ],
)
def test_parse_invalid_quotes_the_problem(text, reason):
    with pytest.raises(ValueError, match=None) as info:
        parse_formula(text)
    assert reason in str(info.value)


def test_elements_are_z_1_to_103():
    assert len(ELEMENTS) == 103 and ELEMENTS[0] == "H" and ELEMENTS[25] == "Fe"
    assert ELEMENTS[-1] == "Lr"


def test_check_formulas_missing_values_are_empty_not_sodium_nitride():
    cells = ["NaN", "nan", float("nan"), None, "", "  ", "NA", "NaN2"]
    check = check_formulas(cells)
    for row in range(7):
        assert check.formulas[row] is None
        assert check.errors[row].startswith("empty formula"), check.errors[row]
    # "NaN2" is not a pandas missing marker: it is sodium + N2, a valid formula
    assert check.formulas[7] == "NaN2"


def test_check_formulas_keys_merge_equivalent_formulas():
    check = check_formulas(["Fe2O3", "Fe4O6", "O3Fe2", "Fe3O4", 5])
    assert check.keys[0] == check.keys[1] == check.keys[2]
    assert check.keys[3] != check.keys[0]
    assert check.formulas[:3] == ["Fe2O3", "Fe4O6", "O3Fe2"]
    assert "int, not text" in check.errors[4]

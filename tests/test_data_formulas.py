import pytest

from mi.data.formulas import ELEMENTS, check_formulas


@pytest.mark.parametrize(
    ("cell", "clean"),
    [
        ("Fe2O3", "Fe2O3"),
        ("(Nd0.8Dy0.2)2Fe14B", "BDy0.4Fe14Nd1.6"),
        ("Ba0.4K0.6Fe2As2", "As2Ba0.4Fe2K0.6"),
        ("Ag6 Ru2", "Ag6Ru2"),
        ("  Ca(FeAs)2 ", "As2CaFe2"),
    ],
)
def test_valid_cells_get_a_clean_formula(cell, clean):
    check = check_formulas([cell])
    assert check.errors == {}
    assert check.formulas == [clean]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("Xx2O3", "unknown element symbol 'Xx'"),
        ("Og", "unknown element symbol 'Og'"),
        ("Fe0O", "zero amount"),
        ("Fe-1O", "negative amount"),
        ("Fe2+O3", "cannot parse"),
        ("Fe1e400O", "non-finite amount"),
        ("(Fe", "unbalanced"),
        ("fe2o3", "cannot parse"),
    ],
)
def test_invalid_cells_are_rejected_with_the_value_and_reason(cell, reason):
    check = check_formulas(["Fe", cell])
    assert check.formulas[1] is None and check.keys[1] is None
    assert check.errors[1].startswith(f"invalid formula {cell!r}: ")
    assert reason in check.errors[1]


def test_elements_are_z_1_to_103():
    assert len(ELEMENTS) == 103 and ELEMENTS[0] == "H" and ELEMENTS[25] == "Fe"
    assert ELEMENTS[-1] == "Lr"


def test_missing_values_are_empty_not_sodium_nitride():
    cells = ["NaN", "nan", float("nan"), None, "", "  ", "NA", "NaN2"]
    check = check_formulas(cells)
    for row in range(7):
        assert check.formulas[row] is None
        assert check.errors[row].startswith("empty formula"), check.errors[row]
    assert check.errors[0] == "empty formula (missing value 'NaN')"
    # "NaN2" is not a pandas missing marker: it is sodium + N2, a valid formula
    assert check.formulas[7] is not None and 7 not in check.errors


def test_non_text_cells_are_reported():
    check = check_formulas([5, 2.5, ["Fe"], b"Fe"])
    assert all("not text" in check.errors[i] for i in range(4))


def test_keys_merge_equivalent_formulas():
    check = check_formulas(["Fe2O3", "Fe4O6", "O3Fe2", "Fe3O4"])
    assert check.keys[0] == check.keys[1] == check.keys[2]
    assert check.keys[3] != check.keys[0]


def test_hydrogen_isotope_symbols_are_listed():
    check = check_formulas(["D2O", "Dy2O3", "Sr4V2.7TI0.3O9.51", "Ta2O5", "PdT0.7"])
    assert check.isotopes == [0, 2, 4]
    assert all(check.formulas[i] is not None for i in (0, 2, 4))

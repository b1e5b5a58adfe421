"""Formulas are shown as scientists write them; the alphabetical key stays internal."""

import re

import pytest
from pymatgen.core import Composition

from mi.chem import parse_formulas
from mi.chem.display import display_formula, display_formulas


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("BFe14Nd2", "Nd2Fe14B"),
        ("BDy0.4Fe14Nd1.6", "Nd1.6Dy0.4Fe14B"),  # (Nd,Dy): Nd before Dy by electronegativity
        ("Co5Sm", "SmCo5"),
        ("Al0.45C0.02Mn0.55", "Mn0.55Al0.45C0.02"),
        ("Fe2O3", "Fe2O3"),
        ("Co3Fe8.5Sm0.8Ti0.5Zr0.2", "Sm0.8Zr0.2Ti0.5Fe8.5Co3"),  # amounts kept as given
        ("(Nd0.8Dy0.2)2Fe14B", "(Nd0.8Dy0.2)2Fe14B"),  # written by a person: unchanged
        ("Xx2O3", "Xx2O3"),
        ("", ""),
    ],
)
def test_display_formula(given, shown):
    assert display_formula(given) == shown


def test_order_is_pymatgens_and_the_composition_is_unchanged():
    keys = parse_formulas(["Nd2Fe14B", "SmCo5", "MnAl", "YBa2Cu3O7", "Ce2Fe14B"]).canonical_keys()
    shown = display_formulas(keys)
    for key, text in zip(keys, shown, strict=True):
        # same composition, symbols in pymatgen's order (Composition.formula)
        assert parse_formulas([text]).canonical_keys() == [key]
        pymatgen_order = re.findall(r"[A-Z][a-z]?", Composition(text).formula)
        assert re.findall(r"[A-Z][a-z]?", text) == pymatgen_order
    assert shown == ["Nd2Fe14B", "SmCo5", "MnAl", "Ba2YCu3O7", "Ce2Fe14B"]


def test_template_candidates_are_shown_in_scientific_order():
    from mi.candidates import Template

    chunk = next(Template("(Nd{1-x}Dy{x})2Fe14B", ranges={"x": (0, 0.1, 0.1)}).iter_chunks(10))
    assert display_formulas(chunk.formulas()) == ["Nd2Fe14B", "Nd1.8Dy0.2Fe14B"]

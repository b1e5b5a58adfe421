"""Damaged CIF files are refused with one line, never read as another compound (issue 18, D10).

pymatgen's reader skips atom-site rows it cannot read and takes an element out of a damaged
type symbol; the byte flips below were each read as a different compound before
:mod:`mi.data.cif_check` (found by ``benchmarks/fuzz.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from mi.data import read_structures
from mi.data.cif_check import cif_damage
from mi.exceptions import StructureError


def _nacl() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def _fe2o3() -> Structure:
    return Structure(
        Lattice.hexagonal(5.03, 13.7),
        ["Fe", "Fe", "O", "O", "O"],
        [[0, 0, 0.35], [0, 0, 0.65], [0.3, 0, 0.25], [0, 0.3, 0.25], [0.7, 0.7, 0.25]],
    )


def _flip(text: str, edits: list[tuple[str, str]]) -> bytes:
    data = text.encode()
    for old, new in edits:
        assert old.encode() in data
        data = data.replace(old.encode(), new.encode("latin-1"), 1)
    return data


# each: the edits (flipped bytes) and a word of the expected reason
DAMAGED = {
    # 'a' -> 0xf7 in the first type symbol, the formula-sum tag hit too: was Na3NCl4
    "Na3NCl4": (
        "NaCl",
        [("_chemical_formula_sum", "_chemical_formula_s\xf7m"), ("  Na  Na0", "  N\xf7  Na0")],
        "not plain text",
    ),
    # a space -> 'p' before a type symbol and the declared sum damaged: was Na3PCl4
    "Na3PCl4": (
        "NaCl",
        [("'Na4 Cl4'", "'Na4 -l4'"), ("  Na  Na3", " pNa  Na3")],
        "not an element",
    ),
    # a space -> '-' before a type symbol, sum tag unreadable: was Na4Cl3 (the row skipped)
    "Na4Cl3": (
        "NaCl",
        [("_chemical_formula_sum", "_che\x7fical_formula_sum"), ("  Cl  Cl5", " -Cl  Cl5")],
        "control byte",
    ),
    # a loop header turned into a value: the columns shift, was O2
    "O2": (
        "Fe2O3",
        [
            ("_chemical_formula_sum", "_chemical_^ormula_sum"),
            (" _atom_site_occ", " @atom_site_occ"),
        ],
        "type symbol '@atom_site_occupancy'",
    ),
    # a quote of a symmetry operation flipped, sum tag damaged: the operations misread, Fe3O4
    "Fe3O4": (
        "Fe2O3",
        [("_chemical_formula_sum", "_chemical_formula~sum"), ("'x, y, z'", "\xfex, y, z'")],
        "symmetry operation",
    ),
    "symmetry operation": ("NaCl", [("'x, y, z'", "ax, y, z'")], "symmetry operation"),
    "open quote": ("NaCl", [("'x, y, z'", "'x, y, z")], "not closed"),
    # a space -> '-' before an occupancy, sum tag damaged: the site was dropped, FeO3
    "FeO3": (
        "Fe2O3",
        [("_chemical_formula_sum ", "_chemical_formula_sum?"), ("0.35000000  1", "0.35000000 -1")],
        "occupancy '-1'",
    ),
    "lost value": ("NaCl", [("0.00000000  1\n  Cl  Cl7", "1\n  Cl  Cl7")], "values for 7 columns"),
    "coordinate": (
        "NaCl",
        [("0.50000000  0.00000000  0.00000000", "0.5p000000  0.0 0.0")],
        "fract_x",
    ),
    "cell": (
        "NaCl",
        [("_cell_length_b   5.64000000", "_cell_length_b   5.64\xe40000")],
        "length_b",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_cif_is_refused_with_one_line(tmp_path, case):
    base, edits, reason = DAMAGED[case]
    structure = _nacl() if base == "NaCl" else _fe2o3()
    path = tmp_path / "x.cif"
    path.write_bytes(_flip(structure.to(fmt="cif"), edits))
    result = read_structures([path])
    assert len(result) == 0 and result.report.n_input == result.report.n_rejected == 1
    message = result.report.rejected["reason"].iloc[0]
    assert reason in message and "\n" not in message
    with pytest.raises(StructureError, match=str(path.name)) as info:
        read_structures([path], on_error="raise")
    assert "\n" not in str(info.value)


def _valid_cifs() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, s in {"NaCl": _nacl(), "Fe2O3": _fe2o3()}.items():
        ox = s.copy()
        ox.add_oxidation_state_by_guess()
        out[f"{name}_p1"] = s.to(fmt="cif")
        out[f"{name}_symmetrized"] = str(CifWriter(s, symprec=0.1))
        out[f"{name}_oxidation_states"] = str(CifWriter(ox, symprec=0.1))
    return out


@pytest.mark.parametrize("name", sorted(_valid_cifs()))
def test_valid_cifs_are_read_unchanged(tmp_path, name):
    text = _valid_cifs()[name]
    assert cif_damage(text) is None
    path = tmp_path / f"{name}.cif"
    path.write_text(text)
    result = read_structures([path])
    assert len(result) == 1
    assert result[0].composition.reduced_formula == name.split("_")[0]


def test_hand_written_cif_with_uncertainties_and_text_fields_is_read(tmp_path):
    text = (
        "data_test\n_publ_author_name 'M\u00fcller, J.'\n_journal_name_full\n;\nA text field; "
        "with _underscores and loop_ words\n;\n_cell_length_a 4.0(1)\n_cell_length_b 4.0(1)\n"
        "_cell_length_c 4.0(1)\n_cell_angle_alpha 90\n_cell_angle_beta 90\n"
        "_cell_angle_gamma 90.0\n_symmetry_space_group_name_H-M 'P 1'\nloop_\n"
        "_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
        "_atom_site_fract_z\n_atom_site_occupancy\n"
        "Na1' Na1+ 0 0 0 1.0\n# a comment line\nCl1 Cl1- 0.5000(3) 0.5 .5 ? # end\n"
    )
    assert cif_damage(text) is None
    path = tmp_path / "hand.cif"
    path.write_text(text)
    result = read_structures([path])
    assert [s.composition.reduced_formula for s in result] == ["NaCl"]


COD = Path(__import__("ase").__file__).parent / "test" / "testdata" / "minerals"


@pytest.mark.skipif(not COD.is_dir(), reason="ase's COD test minerals are not installed")
def test_real_cod_cifs_pass_the_damage_check():
    files = sorted(COD.glob("cod_*.cif"))
    assert files
    for path in files:
        assert cif_damage(path.read_bytes().decode("utf-8", errors="replace")) is None, path
        assert len(read_structures([path])) == 1, path

"""Structure files that are not usable crystals are reported, never accepted (issue 18, D10)."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Lattice, Structure

from mi.data import read_structures


def _nacl() -> Structure:
    return Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _json_with(tmp_path, name, edit):
    d = _nacl().as_dict()
    edit(d)
    path = tmp_path / name
    path.write_text(json.dumps(d).replace("NaN", "NaN"))
    return path


def _nan_lattice(d):
    d["lattice"]["matrix"][0][0] = float("nan")


def _flat(d):
    d["lattice"]["matrix"] = [[1, 0, 0], [2, 0, 0], [0, 0, 1]]


def _nan_coords(d):
    d["sites"][0]["abc"] = [float("nan"), 0, 0]


@pytest.mark.parametrize(
    ("name", "edit", "reason"),
    [
        ("nan_lattice.json", _nan_lattice, "NaN"),
        ("flat.json", _flat, "volume"),
        ("nan_coords.json", _nan_coords, "coordinates"),
    ],
)
def test_broken_structures_are_rejected(tmp_path, name, edit, reason):
    path = _json_with(tmp_path, name, edit)
    result = read_structures([path])
    assert len(result) == 0 and result.report.n_rejected == 1
    assert reason in result.report.rejected["reason"].iloc[0]


def test_dummy_species_rejected(tmp_path):
    path = tmp_path / "dummy.cif"
    path.write_text(
        "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
        "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Xx1 Xx 0 0 0\nNa1 Na 0.5 0.5 0.5\n"
    )
    result = read_structures([path])
    assert len(result) == 0 and result.report.n_input == result.report.n_rejected == 1


def test_unreadable_block_of_multi_block_cif_is_counted(tmp_path):
    good = _nacl().to(fmt="cif")
    bad = good.replace("_cell_length_a", "_cell_length_q").replace("data_", "data_broken", 1)
    path = tmp_path / "two.cif"
    path.write_text(good + "\n" + bad)
    result = read_structures([path])
    r = result.report
    assert len(result) == 1 and r.n_input == 2 and r.n_rejected == 1
    assert "data block" in r.rejected["reason"].iloc[0]


def test_poscar_counts_that_do_not_match_the_coordinates_are_rejected(tmp_path):
    text = _nacl().to(fmt="poscar")
    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "POSCAR").write_text(text)
    assert len(read_structures([folder / "POSCAR"])) == 1
    lines = text.splitlines()
    counts = lines[6].split()
    counts[0] = "0" if counts[0] == "1" else str(int(counts[0]) - 1)
    lines[6] = " ".join(counts)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "POSCAR").write_text("\n".join(lines))
    result = read_structures([bad / "POSCAR"])
    assert len(result) == 0 and "coordinate lines follow" in result.report.rejected["reason"][0]


def test_truncated_cif_is_not_read_as_a_different_compound(tmp_path):
    text = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    ).to(fmt="cif")
    full = tmp_path / "full.cif"
    full.write_text(text)
    assert len(read_structures([full])) == 1
    cut = tmp_path / "cut.cif"
    cut.write_text("\n".join(text.splitlines()[:-1]))  # one atom line lost: Na4Cl3
    result = read_structures([cut])
    assert len(result) == 0 and "_chemical_formula_sum" in result.report.rejected["reason"][0]

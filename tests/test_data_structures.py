import json
import warnings

import ase.io
import pytest
from ase import Atoms
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from mi.data import read_structures
from mi.exceptions import DataError, StructureError


@pytest.fixture()
def folder(tmp_path):
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    nacl = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fe.to(filename=str(tmp_path / "Fe.cif"))
        nacl.to(filename=str(tmp_path / "POSCAR"), fmt="poscar")
        fe.to(filename=str(tmp_path / "CONTCAR"), fmt="poscar")
    (tmp_path / "nacl.json").write_text(json.dumps(nacl.as_dict()))
    (tmp_path / "many.json").write_text(json.dumps([fe.as_dict(), nacl.as_dict()]))
    ase.io.write(
        tmp_path / "two.extxyz",
        [AseAtomsAdaptor.get_atoms(fe), AseAtomsAdaptor.get_atoms(nacl)],
    )
    (tmp_path / "notes.txt").write_text("not a structure, and not picked up from a folder")
    return tmp_path


def test_reads_every_format_and_tags_the_source(folder):
    result = read_structures(folder)
    by_file = {}
    for s in result:
        by_file.setdefault(s.properties["source_file"].split("/")[-1], []).append(s)
    assert sorted(by_file) == [
        "CONTCAR",
        "Fe.cif",
        "POSCAR",
        "many.json",
        "nacl.json",
        "two.extxyz",
    ]
    assert by_file["Fe.cif"][0].composition.reduced_formula == "Fe"
    assert by_file["POSCAR"][0].composition.reduced_formula == "NaCl"
    assert [s.properties["source_index"] for s in by_file["two.extxyz"]] == [0, 1]
    assert by_file["two.extxyz"][1].composition.reduced_formula == "NaCl"
    assert len(by_file["many.json"]) == 2
    assert result.report.n_input == result.report.n_accepted == 8
    assert result.report.n_rejected == 0


def test_unreadable_files_are_reported_not_fatal(folder):
    (folder / "bad.cif").write_text("garbage")
    (folder / "list.json").write_text("[1, 2]")
    ase.io.write(folder / "mol.xyz", Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]]))
    result = read_structures(folder)
    r = result.report
    assert len(result) == 8 and r.n_rejected == 3 and r.n_input == 11
    reasons = dict(zip(r.rejected["value"], r.rejected["reason"], strict=True))
    assert "no structures" in reasons["bad.cif"]
    assert "not a structure dict" in reasons["list.json"]
    assert "no periodic 3-D cell" in reasons["mol.xyz"]
    with pytest.raises(StructureError, match="bad.cif"):
        read_structures(folder, on_error="raise")


def test_missing_file_and_bad_option(tmp_path):
    result = read_structures([tmp_path / "nope.cif"])
    assert result.report.rejected.loc[0, "reason"].endswith("file does not exist")
    with pytest.raises(DataError, match="on_error"):
        read_structures([], on_error="ignore")


def test_to_dataset(folder):
    ds = read_structures([folder / "Fe.cif", folder / "nacl.json"]).to_dataset()
    assert ds.compositions() == ["Fe2", "ClNa"]
    assert ds.structure_col == "structure"
    assert ds.df["source_file"].str.endswith(("Fe.cif", "nacl.json")).all()

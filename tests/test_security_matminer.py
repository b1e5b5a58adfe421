"""matminer-sourced files: sha256 on every load, decoded without importing modules (D5)."""

from __future__ import annotations

import gzip
import json
import sys

import pandas as pd
import pytest

from mi.data.sources.matminer import matminer_data_home, read_matminer_json
from mi.exceptions import ChecksumError, DataError


def _write(path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        json.dump(payload, fh)


def test_tampered_cache_file_is_refused_offline():
    from mi.data import load_dataset

    fake = {
        "data": [["Fe2O3", 2.0], ["NaCl", 8.5], ["Si", 1.1]],
        "columns": ["composition", "gap expt"],
        "index": [0, 1, 2],
    }
    _write(matminer_data_home() / "matbench_expt_gap.json.gz", fake)  # a valid, altered file
    with pytest.raises(ChecksumError) as info:
        load_dataset("matbench_expt_gap")
    message = str(info.value)
    assert "matbench_expt_gap.json.gz" in message and "783e7d1461eb83b0" in message
    assert "\n" not in message


def test_module_named_in_data_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_mi_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nclass Boom:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    payload = {
        "data": [["Fe2O3", {"@module": "evil_mi_module", "@class": "Boom", "x": 1}]],
        "columns": ["composition", "structure"],
        "index": [0],
    }
    path = tmp_path / "evil.json.gz"
    _write(path, payload)
    with pytest.raises(DataError, match="refusing object @module='evil_mi_module'"):
        read_matminer_json(path)
    assert not marker.exists() and "evil_mi_module" not in sys.modules


def test_allowed_pymatgen_objects_are_decoded(tmp_path):
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    payload = {
        "data": [["NaCl", s.as_dict(), 8.5]],
        "columns": ["composition", "structure", "gap expt"],
        "index": [0],
    }
    path = tmp_path / "ok.json.gz"
    _write(path, payload)
    df = read_matminer_json(path)
    assert isinstance(df, pd.DataFrame) and df.loc[0, "gap expt"] == 8.5
    assert isinstance(df.loc[0, "structure"], Structure)
    assert df.loc[0, "structure"].composition.reduced_formula == "NaCl"

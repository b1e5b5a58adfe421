"""Data-path defects of issue 18: key overflow (D7), CR/NUL cells (D8, D9), xlsx formulas
without cached values (D14), duplicate columns, BOM, hydrate dots and friends (D15-D22)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi.candidates._dedup import row_hashes
from mi.chem import parse_formulas
from mi.data import read_table


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Fe1e13O", "Fe2e13O"),  # int64 overflow of amount * 1e6
        ("Fe9.3e12O", "Fe9.4e12O"),
        ("Fe1e-7O2e-7", "Fe1e-7O1e-7"),  # every amount below the 1e-6 resolution
        ("Fe1e20O", "Fe3e20O"),
        ("FeO0.0000001", "FeO0.0000003"),
    ],
)
def test_distinct_compositions_keep_distinct_keys(a, b):
    m = parse_formulas([a, b], on_error="raise")
    keys = m.canonical_keys()
    assert keys[0] != keys[1]
    h = row_hashes(m.to_csr())
    assert h[0] != h[1]


def test_equal_compositions_share_keys_and_hashes_at_any_scale():
    m = parse_formulas(["Fe1e-7O2e-7", "FeO2", "Fe2e13O4e13", "Fe2O3", "O6Fe4"], on_error="raise")
    keys = m.canonical_keys()
    assert keys == ["FeO2", "FeO2", "FeO2", "Fe2O3", "Fe2O3"]
    h = row_hashes(m.to_csr())
    assert h[0] == h[1] == h[2] and h[3] == h[4] and h[0] != h[3]


def test_clean_formula_of_huge_amounts_parses_back():
    ds = read_table(
        pd.DataFrame({"f": ["Fe1e13O", "Fe2e13O", "Fe1e-7O3e-7"], "y": [1.0, 2.0, 3.0]}),
        composition_col="f",
        targets=["y"],
    )
    assert ds.report.n_accepted == 3 and len(ds.df) == 3  # nothing merged
    again = parse_formulas(ds.df["composition"].tolist(), on_error="raise")
    assert "e" not in "".join(ds.df["composition"]).replace("Fe", "")
    assert (
        again.canonical_keys()
        == parse_formulas(["Fe1e13O", "Fe2e13O", "Fe1e-7O3e-7"], on_error="raise").canonical_keys()
    )
    assert np.all(np.isfinite(ds.df["y"]))

"""Chunked ingest of large CSV tables gives the same dataset as one pass (issue 18, memory)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi.data import read_table
from mi.data.dataset import DatasetMeta
from mi.data.ingest import clean_csv_chunked
from mi.data.spec import TableSpec, TargetSpec


def _table(tmp_path, n=400, seed=1, note=False):
    rng = np.random.default_rng(seed)
    cells = ["Fe2O3", "Fe4O6", "O3Fe2", "NaCl", "Xx2", "Cu", "CuO", "Nd2Fe14B", "Fe1e13O", "",
             "Fe2O3\x00Pb", "CuSO4.5H2O", "(Nd0.8Dy0.2)2Fe14B"]  # fmt: skip
    values = ["1.5", "2", "abc", "nan", "3.25", "1e308", "-4", "1.7e308", ""]
    df = pd.DataFrame(
        {
            "formula": rng.choice(cells, n),
            "Tc": rng.choice(values, n),
        }
    )
    if note:
        df["note"] = rng.choice(["a", "b", "c"], n)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("merge", ["median", "mean"])
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_chunked_equals_one_pass(tmp_path, merge, chunk_rows):
    path = _table(tmp_path)
    one = read_table(path, composition_col="formula", targets=["Tc"], merge=merge)
    spec = TableSpec(
        composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),), merge=merge
    )
    chunked = clean_csv_chunked(path, spec, DatasetMeta(name="t"), chunk_rows=chunk_rows)
    assert chunked is not None
    pd.testing.assert_frame_equal(
        one.df.reset_index(drop=True),
        chunked.df.astype({"composition": object}).reset_index(drop=True),
    )
    a, b = one.report, chunked.report
    assert (a.n_input, a.n_accepted, a.n_rejected, a.n_output) == (
        b.n_input,
        b.n_accepted,
        b.n_rejected,
        b.n_output,
    )
    key = ["row", "column"]
    pd.testing.assert_frame_equal(
        a.rejected.sort_values(key).reset_index(drop=True),
        b.rejected.sort_values(key).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(
        a.merged.reset_index(drop=True), b.merged.reset_index(drop=True), check_dtype=False
    )


def test_censored_values_fall_back_to_one_pass(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"formula": ["Fe", "Co", "Fe"], "Tc": ["<3", "2", "4"]}).to_csv(path, index=False)
    spec = TableSpec(composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),))
    assert clean_csv_chunked(path, spec, DatasetMeta(name="c"), chunk_rows=2) is None


def test_read_table_takes_the_chunked_path_for_large_files(tmp_path, monkeypatch):
    import mi.data.ingest as ingest

    path = _table(tmp_path, n=2000)
    monkeypatch.setattr(ingest, "CHUNKED_MIN_BYTES", 1)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 64)
    calls = []
    real = ingest.clean_csv_chunked
    monkeypatch.setattr(
        ingest, "clean_csv_chunked", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    ds = read_table(path, composition_col="formula", targets=["Tc"])
    assert calls and ds.report.n_input == 2000
    assert ds.report.n_input == ds.report.n_accepted + ds.report.n_rejected


def test_a_table_with_other_columns_takes_the_one_pass_path(tmp_path):
    """Merged rows that differ in another column are reported (differs_in): the one-pass path."""
    path = _table(tmp_path, note=True)
    spec = TableSpec(composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),))
    assert clean_csv_chunked(path, spec, DatasetMeta(name="t"), chunk_rows=7) is None
    merged = read_table(path, composition_col="formula", targets=["Tc"]).report.merged
    assert (merged["differs_in"] == "note").any()

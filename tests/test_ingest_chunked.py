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


def _extra_columns(tmp_path, n=600, seed=2):
    """A table with a text, an integer, a decimal, a boolean and a mostly empty column."""
    rng = np.random.default_rng(seed)
    path = _table(tmp_path, n=n, seed=seed)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["note"] = rng.choice(["a", "b", "c, quoted", ""], n)
    df["batch"] = rng.integers(0, 3, n).astype(str)
    df.loc[rng.random(n) < 0.05, "batch"] = ""  # integers with gaps: floats, as one read
    df["T_K"] = np.round(rng.uniform(200, 400, n), 1).astype(str)
    df["ok"] = rng.choice(["True", "False"], n)
    df["rare"] = ""
    df.loc[n - 3, "rare"] = "only here"  # text in one chunk, empty in the others
    df.to_csv(path, index=False)
    return path


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Arrow text columns as the one-pass path holds them (Python objects, NaN when empty)."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), np.nan)
    return out.reset_index(drop=True)


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 1000])
def test_chunked_equals_one_pass_with_other_columns(tmp_path, chunk_rows):
    """Other columns: the group's first value, and every merged group that differs is named."""
    path = _extra_columns(tmp_path)
    one = read_table(path, composition_col="formula", targets=["Tc"])
    spec = TableSpec(composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),))
    chunked = clean_csv_chunked(path, spec, DatasetMeta(name="t"), chunk_rows=chunk_rows)
    assert chunked is not None
    assert chunked.df["note"].dtype == "string[pyarrow]"  # text stays compact
    pd.testing.assert_frame_equal(_plain(one.df), _plain(chunked.df))
    a, b = one.report, chunked.report
    assert (a.n_input, a.n_accepted, a.n_rejected, a.n_output) == (
        b.n_input,
        b.n_accepted,
        b.n_rejected,
        b.n_output,
    )
    pd.testing.assert_frame_equal(
        a.merged.reset_index(drop=True), b.merged.reset_index(drop=True), check_dtype=False
    )
    assert (b.merged["differs_in"].str.contains("note")).any()
    assert [n for n in a.notes if n.startswith("merged rows")] == [
        n for n in b.notes if n.startswith("merged rows")
    ]


def test_merged_rows_that_differ_in_another_column_are_reported(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame(
        {
            "formula": ["Fe2O3", "Co", "Fe4O6", "Ni", "Co", "Ni"],
            "Tc": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "lab": ["x", "y", "z", "w", "y", "w"],
            "T_K": [300, 300, 300, 4, 300, 5],
        }
    ).to_csv(path, index=False)
    spec = TableSpec(composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),))
    ds = clean_csv_chunked(path, spec, DatasetMeta(name="d"), chunk_rows=2)
    assert ds is not None
    merged = ds.report.merged.set_index("composition")
    assert merged.loc["Fe2O3", "differs_in"] == "lab"
    assert merged.loc["Co", "differs_in"] == ""
    assert merged.loc["Ni", "differs_in"] == "T_K"
    assert merged.loc["Fe2O3", "sources"] == f"{path} row 0; {path} row 2"
    assert ds.df.set_index("composition").loc["Ni", "T_K"] == 4  # the first row's value
    assert any("'T_K' (1 groups)" in n and "'lab' (1 groups)" in n for n in ds.report.notes)


def test_numbers_in_some_chunks_and_text_in_others_fall_back_to_one_pass(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame({"formula": ["Fe", "Co", "Ni"], "Tc": [1, 2, 3], "id": ["1", "2", "A3"]}).to_csv(
        path, index=False
    )
    spec = TableSpec(composition_col="formula", targets=(TargetSpec(name="Tc", column="Tc"),))
    assert clean_csv_chunked(path, spec, DatasetMeta(name="m"), chunk_rows=2) is None
    assert clean_csv_chunked(path, spec, DatasetMeta(name="m"), chunk_rows=3) is not None

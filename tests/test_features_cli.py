from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from mi.cli import app


def test_features_run_writes_table_and_lists_bad_rows(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3", "Xx2O3", "NaCl"]}).to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    res = CliRunner().invoke(
        app, ["features", "run", str(src), "--out", str(out), "--column", "formula"]
    )
    assert res.exit_code == 0, res.output
    assert "row 1 'Xx2O3'" in res.output
    df = pd.read_parquet(out)
    assert df["composition"].tolist() == ["Fe2O3", "Xx2O3", "NaCl"]
    assert df.shape == (3, 133)
    assert df.iloc[1, 1:].isna().all() and df.iloc[[0, 2], 1:].notna().all().all()


def test_features_run_unknown_column_is_one_error_line(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Fe2O3"]}).to_csv(src, index=False)
    res = CliRunner().invoke(app, ["features", "run", str(src), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code != 0
    assert "no column 'composition'" in str(res.exception) + res.output

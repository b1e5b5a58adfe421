import numpy as np
import pandas as pd
import pytest

from mi.data import Dataset, read_table
from mi.exceptions import TableError


def _raw():
    return pd.DataFrame(
        {
            "formula": ["Fe2O3", "Fe4O6", "Xx2O3", "NaN", "CoO", "NiO", "CuO", "ZnO", "LiCoO2"],
            "Eg": [2.0, 2.4, 1.0, 1.0, "abc", float("inf"), "<0.1", -1, "1e-3"],
            "note": list("abcdefghi"),
        }
    )


def _check_accounting(ds):
    r = ds.report
    assert r.n_input == r.n_accepted + r.n_rejected
    assert r.n_output == len(ds.df)
    assert int(ds.df[[c for c in ds.df if c.endswith("_n")]].iloc[:, 0].sum()) == r.n_accepted


def test_read_table_accounts_for_every_row():
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"], units={"Eg": "eV"})
    _check_accounting(ds)
    rej = ds.report.rejected.set_index("row")
    assert rej.loc[2, "reason"].startswith("invalid formula 'Xx2O3': unknown element symbol 'Xx'")
    assert rej.loc[3, "reason"].startswith("empty formula")
    assert rej.loc[4, "reason"] == "not a number" and rej.loc[4, "value"] == "abc"
    assert rej.loc[5, "reason"] == "not finite" and rej.loc[5, "column"] == "Eg"
    assert set(rej.index) == {2, 3, 4, 5}
    assert ds.report.n_rejected == 4 and ds.report.n_accepted == 5
    assert ds.meta.units == {"Eg": "eV"}


def test_merge_median_keeps_count_and_spread():
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"])
    row = ds.df.set_index("composition").loc["Fe2O3"]
    assert row["Eg"] == pytest.approx(2.2)
    assert row["Eg_n"] == 2 and row["Eg_std"] == pytest.approx(0.2)
    assert row["note"] == "a"  # other columns: first row of the group
    merged = ds.report.merged
    assert len(merged) == 1 and merged.loc[0, "sources"] == "<DataFrame> row 0; <DataFrame> row 1"
    assert merged.loc[0, "Eg_values"] == "2; 2.4"


def test_merge_none_keeps_every_row():
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"], merge="none")
    assert ds.report.n_output == ds.report.n_accepted == 5
    assert ds.report.merged.empty


def test_censored_values_are_kept_and_flagged():
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"])
    row = ds.df.set_index("composition").loc["CuO"]
    assert row["Eg"] == pytest.approx(0.1) and bool(row["Eg_censored"]) is True
    assert ds.df["Eg_censored"].sum() == 1


def test_censored_values_rejected_when_disabled():
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"], censored=False)
    rej = ds.report.rejected.set_index("row")
    assert rej.loc[6, "reason"] == "not a number"
    assert "Eg_censored" not in ds.df


def test_exact_values_win_over_censored_in_a_group():
    raw = pd.DataFrame(
        {
            "c": ["LiF", "LiF", "LiF", "NaF", "NaF"],
            "s": ["<1e-10", "1e-6", "1e-4", "<1e-10", "<1e-8"],
        }
    )
    ds = read_table(raw, composition_col="c", targets={"sigma": "s"})
    lif = ds.df.set_index("composition").loc["FLi"]
    assert lif["sigma"] == pytest.approx(5.05e-5) and not lif["sigma_censored"]
    assert lif["sigma_n"] == 2
    naf = ds.df.set_index("composition").loc["FNa"]
    assert naf["sigma_censored"] and naf["sigma_n"] == 2


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".json", ".xlsx", ".csv.gz"])
def test_every_table_format(tmp_path, suffix):
    raw = pd.DataFrame({"formula": ["Fe2O3", "CoO", "Xx"], "Tc": [950.0, 290.0, 1.0]})
    path = tmp_path / f"t{suffix}"
    if suffix in (".csv", ".csv.gz"):
        raw.to_csv(path, index=False)
    elif suffix == ".tsv":
        raw.to_csv(path, sep="\t", index=False)
    elif suffix == ".parquet":
        raw.to_parquet(path)
    elif suffix == ".json":
        raw.to_json(path, orient="records")
    else:
        raw.to_excel(path, index=False)
    ds = read_table(path, composition_col="formula", targets=["Tc"], units={"Tc": "K"})
    assert ds.compositions() == ["Fe2O3", "CoO"]
    assert ds.y().tolist() == [950.0, 290.0]
    rej = ds.report.rejected
    assert rej.loc[0, "file"] == str(path) and rej.loc[0, "row"] == 2
    assert len(ds.meta.sha256[path.name]) == 64


def test_literal_nan_cell_in_csv_is_empty_not_sodium_nitride(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("formula,Tc\nNaN,5\nnan,6\nFe,1043\n")
    ds = read_table(path, composition_col="formula", targets=["Tc"])
    assert ds.compositions() == ["Fe"]
    assert ds.report.rejected["reason"].str.startswith("empty formula").all()


def test_missing_column_names_the_closest(tmp_path):
    with pytest.raises(TableError, match="Did you mean 'formula'"):
        read_table(_raw(), composition_col="formla", targets=["Eg"])
    with pytest.raises(TableError, match="Column 'gap' is not in"):
        read_table(_raw(), composition_col="formula", targets=["gap"])


def test_unreadable_files_raise_table_error(tmp_path):
    bad = tmp_path / "t.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(TableError, match="Cannot read"):
        read_table(bad, targets=["x"])
    with pytest.raises(TableError, match="does not exist"):
        read_table(tmp_path / "missing.csv", targets=["x"])
    with pytest.raises(TableError, match="Cannot tell the format"):
        (tmp_path / "t.dat").write_text("a,b\n")
        read_table(tmp_path / "t.dat", targets=["x"])


def test_save_and_load_round_trip(tmp_path):
    ds = read_table(_raw(), composition_col="formula", targets=["Eg"], units={"Eg": "eV"})
    written = ds.save(tmp_path / "out.parquet")
    assert [p.name for p in written] == ["out.parquet", "out.rejected.csv", "out.merged.csv"]
    back = Dataset.load(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(back.df, ds.df)
    assert back.meta.units == {"Eg": "eV"} and back.targets == ["Eg"]
    assert back.report.n_rejected == ds.report.n_rejected == 4
    assert back.report.rejected["value"].tolist() == ds.report.rejected["value"].tolist()


def test_structure_column_gives_compositions():
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    raw = pd.DataFrame({"structure": [s, "junk", s.as_dict()], "E": [1.0, 2.0, 3.0]})
    ds = read_table(raw, structure_col="structure", targets=["E"])
    assert ds.structure_col == "structure"
    assert ds.compositions() == ["Fe2"]
    assert ds.df.loc[0, "E"] == 2.0 and ds.df.loc[0, "E_n"] == 2
    assert ds.report.rejected.loc[0, "row"] == 1
    assert np.isclose(ds.df.loc[0, "E_std"], 1.0)


def test_isotope_rows_are_noted_and_single_target_string_accepted():
    raw = pd.DataFrame({"f": ["PdD0.8", "Fe"], "Tc": [9.0, 0.5]})
    ds = read_table(raw, composition_col="f", targets="Tc")
    assert ds.targets == ["Tc"]
    assert any("1 accepted rows use D/T" in n and "<DataFrame> row 0" in n for n in ds.report.notes)

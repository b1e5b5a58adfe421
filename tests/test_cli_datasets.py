import subprocess
import sys

import pandas as pd

from mi.cli import main


def test_cli_imports_no_heavy_modules():
    code = (
        "import sys, mi.cli; heavy = [m for m in ('pandas', 'numpy', 'pymatgen', 'matminer', "
        "'sklearn', 'rich') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_datasets_list(capsys, shared_datasets):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for name in ["supercon", "expt_gap", "curie_tc", "novamag", "mp_magnetism", "obelix"]:
        assert name in out
    assert "16,414" in out and "Eg [eV]" in out


def test_datasets_show_supercon(capsys, shared_datasets):
    assert main(["datasets", "show", "supercon"]) == 0
    out = capsys.readouterr().out
    assert "input rows     : 16414" in out
    assert "rejected       : 16" in out
    assert "tc_reported" in out and "raw.githubusercontent.com/vstanev1/Supercon" in out


def test_datasets_show_unknown_is_one_red_line(capsys):
    assert main(["datasets", "show", "supercn"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Did you mean 'supercon'" in err[0]


def test_ingest_writes_parquet_and_reports(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("formula,Tc,Ms\nFe,1043,2.1\nFe2,1040,2.2\nXx2O3,5,1\nCo,abc,1.8\n")
    out = tmp_path / "out" / "clean.parquet"
    rc = main(
        [
            "ingest",
            str(src),
            "--composition-col",
            "formula",
            "--target",
            "Tc",
            "--target",
            "Ms",
            "--unit",
            "Tc=K",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    df = pd.read_parquet(out)
    assert df["composition"].tolist() == ["Fe"] and df["Tc_n"].tolist() == [2]
    rej = pd.read_csv(tmp_path / "out" / "clean.rejected.csv")
    assert rej["row"].tolist() == [2, 3]
    assert "wrote" in capsys.readouterr().out
    assert (
        main(
            ["ingest", str(src), "--composition-col", "formula", "--unit", "bad", "--out", str(out)]
        )
        == 1
    )

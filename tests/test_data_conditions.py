"""Own tables with conditions: element columns, condition columns, where filters, transforms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi.chem.elements import ATOMIC_MASSES, ELEMENTS
from mi.data import load_dataset, read_table
from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.spec import TableSpec
from mi.data.transforms import interval, inverse
from mi.data.where import parse_where
from mi.exceptions import TableError


def _clean(df: pd.DataFrame, **spec: object):
    return clean_frames([SourceFrame("t.csv", df)], TableSpec.model_validate(spec))


def test_copper_dataset_accounts_for_every_row() -> None:
    ds = load_dataset("cu_alloys_gorsse2023")
    rep = ds.report
    assert rep.n_input == 1831
    assert rep.n_rejected == 12  # element columns not summing to 100 wt %
    assert set(rep.reason_counts().index) == {"wt% amounts do not sum to 100 +- 1"}
    assert rep.n_accepted + rep.n_rejected + rep.n_filtered == rep.n_input
    assert rep.n_accepted - rep.n_output == (rep.merged["n_rows"] - 1).sum()
    assert ds.conditions[:3] == ["Tss_K", "tss_h", "cold_work_pct"]
    # processing variants of one composition stay separate rows
    assert ds.df.groupby("composition").size().max() > 10
    # merged rows agree in composition and every condition
    for _, g in ds.df.groupby(["composition", *ds.conditions], dropna=False):
        assert len(g) == 1


def test_wt_percent_is_converted_exactly() -> None:
    ds = load_dataset("cu_alloys_gorsse2023")
    raw = pd.read_csv(
        "/work/shared/datasets/cu_alloys_gorsse2023/Cu_alloys_database.csv",
        sep=";",
        encoding="latin-1",
    )
    first = raw.iloc[0]  # Cu 99.6, Ag 0.1, Cr 0.3 wt %
    mol = {el: first[el] / ATOMIC_MASSES[ELEMENTS.index(el)] for el in ("Cu", "Ag", "Cr")}
    total = sum(mol.values())
    from mi.chem import parse_formula

    amounts = parse_formula(ds.df["composition"].iloc[0])
    got = {k: v / sum(amounts.values()) for k, v in amounts.items()}
    for el, m in mol.items():
        assert got[el] == pytest.approx(m / total, rel=1e-9)


def test_conditions_keep_rows_apart_and_where_filters() -> None:
    df = pd.DataFrame(
        {
            "formula": ["Bi2Te3", "Bi2Te3", "Bi2Te3", "Bi2Te3", "PbTe"],
            "T (K)": [300, 300, 600, 10, 300],
            "sigma": [1.0e4, 3.0e4, 5.0e3, 9.0e4, 2.0e3],
            "lab": ["a", "b", "a", "a", "a"],
        }
    )
    ds = _clean(
        df,
        composition_col="formula",
        targets=[{"name": "sigma", "unit": "S/m", "transform": "log10"}],
        conditions=[{"name": "T_K", "column": "T (K)", "unit": "K"}],
        where="T_K >= 280 and T_K <= 700",
    )
    rep = ds.report
    assert (rep.n_input, rep.n_filtered, rep.n_accepted, rep.n_output) == (5, 1, 4, 3)
    assert rep.filtered["row"].tolist() == [3]
    assert rep.filtered["rule"].iloc[0] == "where T_K >= 280 and T_K <= 700"
    assert sorted(ds.df["T_K"].tolist()) == [300.0, 300.0, 600.0]
    merged = rep.merged.iloc[0]
    assert merged["n_rows"] == 2 and merged["differs_in"] == "lab"
    assert any("differ in other columns" in n for n in rep.notes)
    # the dataset holds log10 values; the transform is recorded for the models
    assert ds.meta.transforms == {"sigma": "log10"}
    row = ds.df[(ds.df["composition"] == "Bi2Te3") & (ds.df["T_K"] == 300)].iloc[0]
    assert row["sigma"] == pytest.approx(np.median([4.0, np.log10(3.0e4)]))


@pytest.mark.parametrize(
    ("spec", "df", "message"),
    [
        (
            {"conditions": [{"name": "T", "column": "T (C)", "unit": "K"}]},
            pd.DataFrame({"f": ["Cu"], "T (C)": [20], "y": [1.0]}),
            "states unit 'C' in its header",
        ),
        (
            {"conditions": [{"name": "T", "unit": "K"}]},
            pd.DataFrame({"f": ["Cu", "Cu"], "T": ["300 K", "27 C"], "y": [1.0, 2.0]}),
            "t.csv: row 1, column 'T'",
        ),
        ({"where": "Temp > 3"}, pd.DataFrame({"f": ["Cu"], "y": [1.0]}), "names column 'Temp'"),
        (
            {"targets": [{"name": "y", "transform": "log10"}]},
            pd.DataFrame({"f": ["Cu", "Ni"], "y": [1.0, 0.0]}),
            "t.csv: row 1, column 'y'",
        ),
    ],
)
def test_bad_input_is_one_clear_line(spec: dict, df: pd.DataFrame, message: str) -> None:
    full = {"composition_col": "f", "targets": [{"name": "y"}], **spec}
    with pytest.raises(TableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _clean(df, **full)


def test_condition_unit_is_required() -> None:
    with pytest.raises(ValueError, match="unit"):
        TableSpec.model_validate(
            {"composition_col": "f", "conditions": [{"name": "T"}], "targets": [{"name": "y"}]}
        )


def test_element_columns_errors() -> None:
    df = pd.DataFrame({"Cu": [60.0, 99.0], "Zn": [40.0, 0.5], "y": [1.0, 2.0]})
    spec = {"targets": [{"name": "y"}], "elements": {"basis": "wt%", "sum_tolerance": 0.1}}
    with pytest.raises(TableError, match=r"t.csv: row 1, column Cu..Zn: wt% amounts"):
        _clean(df, **spec)
    bad = {"targets": [{"name": "y"}], "elements": {"basis": "at%", "columns": ["Cu", "zinc"]}}
    with pytest.raises(TableError, match="'zinc' .* not an element symbol"):
        _clean(df.rename(columns={"Zn": "zinc"}), **bad)


def test_where_grammar_is_not_python() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b c": ["x", "y", "x"]})
    assert parse_where("not (a < 2) and `b c` == 'x'").mask(df).tolist() == [False, False, True]
    for text in ("__import__('os')", "a.b()", "a > 1; b", "a + 1 > 2", "lambda: 1"):
        with pytest.raises(TableError):
            parse_where(text).mask(df)


def test_inverse_transforms() -> None:
    lo, hi = interval("log10", np.array([2.0]), np.array([0.5]), z=1.0)
    assert (lo[0], hi[0]) == pytest.approx((10**1.5, 10**2.5))
    assert inverse("ln", np.log(np.array([3.0])))[0] == pytest.approx(3.0)


def test_read_table_keeps_rows_apart_by_condition() -> None:
    raw = pd.DataFrame({"formula": ["Fe2O3", "Fe2O3"], "T": [300, 400], "Eg": [2.0, 1.8]})
    ds = read_table(raw, composition_col="formula", targets=["Eg"], conditions={"T": "K"})
    assert len(ds.df) == 2 and ds.conditions == ["T"]


def test_ingest_cli_keeps_conditions_apart(tmp_path, capsys) -> None:
    from mi.cli import main

    table = tmp_path / "t.csv"
    table.write_text(
        "formula,T (K),aged,sigma\nBi2Te3,300,Y,1000\nBi2Te3,300,Y,3000\nBi2Te3,,N,90\n"
    )
    args = [
        "ingest", str(table), "-c", "formula", "-t", "sigma",
        "--condition", "T (K)=K,missing=keep", "--condition", "aged=1,flag",
        "--transform", "sigma=log10", "--out", str(tmp_path / "o" / "t.parquet"),
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "merged groups  : 1 (1 rows folded into others)" in out
    from mi.data import Dataset

    ds = Dataset.load(tmp_path / "o" / "t.parquet")
    assert ds.conditions == ["T_K", "aged"] and len(ds.df) == 2
    assert ds.meta.transforms == {"sigma": "log10"}
    bad = [*args[:6], "--condition", "T (K)=K,missing=sometimes"]
    assert main(bad) == 1
    assert "missing= takes keep, reject or a number" in capsys.readouterr().err


def test_condition_without_unit_is_one_line() -> None:
    raw = pd.DataFrame({"formula": ["Fe2O3"], "T": [300], "Eg": [2.0]})
    with pytest.raises(TableError) as err:
        read_table(raw, composition_col="formula", targets=["Eg"], conditions=[{"name": "T"}])
    assert str(err.value) == (
        "<DataFrame>: invalid table declaration: conditions.0.unit: Field required."
    )

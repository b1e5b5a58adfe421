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


def test_carriage_return_in_rejected_value_keeps_report_readable(tmp_path):
    from mi.data import Dataset

    raw = pd.DataFrame(
        {"f": ["Fe2O3", "Fe2O3\rX", "NaCl", "Fe\nXy", "Si"], "y": [1.0, 2.0, 3.0, 4.0, 5.0]}
    )
    ds = read_table(raw, composition_col="f", targets=["y"])
    assert ds.report.n_rejected == 2
    files = ds.save(tmp_path / "t.parquet")
    rejected_csv = next(p for p in files if p.name == "t.rejected.csv")
    assert len(rejected_csv.read_bytes().splitlines()) == 3  # header + one line per row
    back = Dataset.load(tmp_path / "t.parquet")
    values = back.report.rejected["value"].tolist()
    assert values == ["Fe2O3\\rX", "Fe\\nXy"]
    assert back.report.rejected["row"].tolist() == ds.report.rejected["row"].tolist()


def test_nul_byte_in_csv_cell_is_reported_not_truncated(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"formula,y\nFe2O3\x00Pb7.56,1.0\nNaCl,2.0\nSi,3\x00\n")
    ds = read_table(path, composition_col="formula", targets=["y"])
    assert ds.df["composition"].tolist() == ["ClNa"]
    rejected = ds.report.rejected
    assert ds.report.n_input == 3 and ds.report.n_rejected == 2
    assert "Fe2O3\\x00Pb7.56" in rejected["value"].tolist()


def test_nul_byte_in_campaign_observe_is_refused(tmp_path):
    from mi.active import Campaign
    from mi.exceptions import ObservationError

    formulas = ["Fe", "Co", "FeCo", "Fe3Co", "FeCo3", "Fe2Co", "FeCo2"]
    spec = {
        "name": "nul",
        "target": "Ms",
        "seed": 0,
        "min_observations": 2,
        "candidates": {"formulas": formulas},
        "features": {"preset": "fractions"},
        "model": {"name": "xgb_ensemble", "params": {"n_members": 2, "n_estimators": 5}},
        "acquisition": {"name": "ei"},
    }
    campaign = Campaign.init(tmp_path / "c", spec)
    table = campaign.suggest(2)
    path = tmp_path / "lab.csv"
    first = table["key"].iloc[0]
    path.write_bytes(f"composition,Ms\n{first}\x00Pb7.56,1.5\n".encode())
    with pytest.raises(ObservationError, match=r"lab\.csv"):
        campaign.observe(path)
    assert len(campaign.observations) == 0


def test_huge_and_deeply_nested_cells_are_refused_with_a_reason():
    cells = ["Fe2O3" * 20_000, "(" * 20_000 + "Fe" + ")" * 20_000, "NaCl"]
    result = parse_formulas(cells, on_error="report")
    assert result.valid.tolist() == [False, False, True]
    reasons = [reason for _, _, reason in result.errors]
    assert all("characters long; at most 1,000 are read" in r for r in reasons)
    ds = read_table(
        pd.DataFrame({"f": cells, "y": [1.0, 2.0, 3.0]}), composition_col="f", targets=["y"]
    )
    assert ds.report.n_input == 3 and ds.report.n_rejected == 2 and len(ds.df) == 1
    from mi.exceptions import FormulaError

    with pytest.raises(FormulaError) as info:
        parse_formulas(cells[:1])
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("cell", ["CuSO4.5H2O", "MgSO4.7H2O", "Na2CO3.10H2O", "CuSO4.5(H2O)"])
def test_hydrate_dot_is_refused_not_guessed(cell):
    result = parse_formulas([cell, "CuSO4(H2O)5"], on_error="report")
    assert result.valid.tolist() == [False, True]
    assert "hydrate dot" in result.errors[0][2] and "(H2O)" in result.errors[0][2]
    assert parse_formulas(["Ca0.5H2O"]).canonical_keys() == ["CaH4O2"]  # a real decimal stays


def test_xlsx_rows_of_uncached_formulas_are_counted_and_reported(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["formula", "y"])
    ws.append(["Fe2O3", 1.0])
    ws.append(['=CONCATENATE("Na","Cl")', "=1+1"])
    ws.append(["Si", 3.0])
    ws.append(['=CONCATENATE("Cu","O")', "=2+2"])  # last row: pandas would drop it
    path = tmp_path / "t.xlsx"
    wb.save(path)
    ds = read_table(path, composition_col="formula", targets=["y"])
    assert ds.report.n_input == 4
    assert ds.report.n_rejected == 2 and len(ds.df) == 2
    assert ds.report.rejected["value"].str.contains("without a cached value").all()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_duplicate_column_names_are_refused(tmp_path, suffix):
    from mi.exceptions import TableError

    path = tmp_path / f"dup{suffix}"
    if suffix == ".csv":
        path.write_text("formula,y,y\nFe,1,2\n")
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.append(["formula", "y", "y"])
        wb.active.append(["Fe", 1, 2])
        wb.save(path)
    with pytest.raises(TableError, match=r"duplicate column names \['y'\]"):
        read_table(path, composition_col="formula", targets=["y"])


@pytest.mark.parametrize("name", ["composition", "structure", "y_n", "y_std"])
def test_target_named_like_a_generated_column_is_one_clear_error(name):
    from mi.exceptions import TableError

    raw = pd.DataFrame({"f": ["Fe2O3", "NaCl"], "y": [1.0, 2.0], name: [3.0, 4.0]})
    with pytest.raises(TableError, match="collides with a column the cleaned dataset generates"):
        read_table(raw.loc[:, ~raw.columns.duplicated()], composition_col="f", targets=["y", name])


def test_unit_for_a_non_target_is_refused():
    from mi.exceptions import TableError

    raw = pd.DataFrame({"f": ["Fe2O3"], "y": [1.0], "z": [2.0]})
    with pytest.raises(TableError, match="Unit given for 'z', which is not a target"):
        read_table(raw, composition_col="f", targets=["y"], units={"z": "K"})


def test_merging_values_near_float_max_stays_finite():
    raw = pd.DataFrame({"f": ["Fe", "Fe", "Co", "Co"], "y": [1e308, 1.7e308, 1.0, 2.0]})
    ds = read_table(raw, composition_col="f", targets=["y"], merge="mean")
    assert np.all(np.isfinite(ds.df["y"])) and np.all(np.isfinite(ds.df["y_std"]))
    assert ds.df.set_index("composition").loc["Fe", "y"] == pytest.approx(1.35e308)


def test_bom_and_deep_nesting_in_definition_files(tmp_path):
    from mi.exceptions import SpecError
    from mi.runner.spec import load_spec

    text = (
        'version = 1\nname = "bom"\n[[targets]]\nname = "Tc"\ndataset = "curie_tc"\n'
        '[[candidates.templates]]\nformula = "Fe"\n'
    )
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_spec(path).name == "bom"
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(SpecError, match="nested too deeply") as info:
        load_spec(deep)
    assert "\n" not in str(info.value)


def test_control_characters_inside_a_formula_are_refused():
    result = parse_formulas(["O\rDy", "Fe\nO", "Fe2O3\r", " NaCl\n", "Fe\tO"], on_error="report")
    assert result.valid.tolist() == [False, False, True, True, True]
    assert all("control character" in reason for _, _, reason in result.errors)


def test_clean_formulas_round_trip_across_many_decades_and_hydrate_like_endings():
    cells = ["Co1e-9H2OB1e13Co", "Co1.5H2O1", "Ca0.5H2O"]
    m = parse_formulas(cells)
    assert parse_formulas(m.formulas()).canonical_keys() == m.canonical_keys()

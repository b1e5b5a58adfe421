"""Tests of ``mi criticality`` (the CLI front end of mi.criticality)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from mi.cli import main

MAGNETS = ["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Ce2Fe14B"]


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def test_table_for_three_magnets(capsys):
    assert main(["criticality", *MAGNETS]) == 0
    out = capsys.readouterr().out
    for formula in MAGNETS:
        assert formula in out
    assert "supply risk" in out and "Dy+Tb wt%" in out
    assert "HREE convention: eu_2023" in out
    assert "hhi_2013 (2013)" in out


def test_csv_output_matches_library(capsys):
    from mi.criticality import score

    assert main(["criticality", "--format", "csv", *MAGNETS]) == 0
    frame = pd.read_csv(
        io.StringIO(capsys.readouterr().out), keep_default_na=False, na_values=["NaN", ""]
    )
    expected = score(MAGNETS)
    assert frame["composition"].tolist() == MAGNETS
    pd.testing.assert_series_equal(frame["supply_risk"], expected["supply_risk"], rtol=1e-12)


def test_json_with_weights_and_convention(capsys):
    args = [
        "criticality",
        "--format",
        "json",
        "--weight",
        "dytb=1",
        "--convention",
        "usgs",
        "Dy2Fe14B",
        "H2O",
    ]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["supply_risk"] == pytest.approx(rows[0]["dytb_mass_fraction"])
    assert rows[1]["hhi_known"] is False and rows[1]["hhi_production_mass"] is None
    assert rows[1]["missing_elements"] == "hhi_2013: H"


def test_missing_column_shown_when_an_element_lacks_data(capsys):
    assert main(["criticality", "H2O"]) == 0
    out = capsys.readouterr().out
    assert "NaN" in out and "hhi_2013: H" in out


def test_list_shows_tables_with_source_and_year(capsys):
    assert main(["criticality", "--list"]) == 0
    out = capsys.readouterr().out
    for name, year in [
        ("hhi_2013", "2013"),
        ("eu_crm_2023", "2023"),
        ("us_doe_2023", "2023"),
        ("usgs_2022", "2022"),
        ("ree_groups", "2023"),
        ("price", "2013-2020"),
    ]:
        line = next(line for line in out.splitlines() if f" {name} " in line)
        assert year in line
    assert "Gaultois" in out and "2024/1252" in out


def test_table_option_describes_caveats(capsys):
    assert main(["criticality", "--table", "hhi_2013"]) == 0
    out = capsys.readouterr().out
    assert "caveat:  All lanthanides share one value" in out and "year:    2013" in out
    assert "licence:" in out
    assert main(["criticality", "--table", "hhi"]) == 1
    assert "Did you mean 'hhi_2013'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Xx2Fe"], "Invalid formula 'Xx2Fe'"),
        ([], "at least one formula"),
        (["--weight", "dytb", "Fe"], "COMPONENT=NUMBER"),
        (["--weight", "dy=1", "Fe"], "Unknown supply-risk component 'dy'"),
        (["--convention", "eu", "Fe"], "Unknown HREE convention 'eu'"),
        (["--format", "xml", "Fe"], "--format must be"),
        (["--as-of", "2024/12/31", "Fe"], "Unknown as-of date format '2024/12/31'"),
        (["--as-of", "2020-01-01", "Fe"], "before the earliest table"),
        (["--list", "--as-of", "31.12.2024"], "Unknown as-of date format"),
        (["--elements", "Dyy"], "Did you mean 'Dy'"),
        (["--model", "absent.toml", "Fe"], "does not exist"),
    ],
)
def test_errors_are_one_red_line(capsys, args, message):
    assert main(["criticality", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_as_of_2024_shows_no_export_control_on_dy(capsys):
    assert main(["criticality", "--as-of", "2024-12-31", "Dy2Fe14B"]) == 0
    out = capsys.readouterr().out
    assert "Supply risk as of 2024-12-31" in out and "usgs usgs_2022" in out
    assert "Dy2Fe14B: no element-specific export measure on its elements" in out
    assert "group-level rows on its rare earths (Dy; listed, not scored)" in out
    assert "Malaysia cabinet moratorium" in out and "No. 62 of 2025" not in out  # not yet announced
    row = next(line for line in out.splitlines() if line.startswith("│ Dy2Fe14B"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[4] == "0.000"  # export ctrl
    assert "gap: no price level for B, Fe, Dy" in out


def test_current_view_names_the_measures_on_each_candidate(capsys):
    assert main(["criticality", "--as-of", "2026-12-01", "Dy2Fe14B", "Ce2Fe14B", "Y2O3"]) == 0
    out = capsys.readouterr().out
    assert "Dy: China export licence since 2025-04-04" in out
    assert "export_controls_2023_2026.csv:38" in out
    assert "Ce2Fe14B: no element-specific export measure on its elements" in out
    assert "Resting on NOT VERIFIED status" in out and "counted as in force): Y" in out
    assert "usgs usgs_2025" in out


def test_list_names_the_tables_in_force_on_the_date(capsys):
    assert main(["criticality", "--list", "--as-of", "2024-12-31"]) == 0
    out = capsys.readouterr().out
    assert "as of 2024-12-31" in out
    usgs22 = next(line for line in out.splitlines() if " usgs_2022 " in line)
    assert "usgs from 2022-02-24" in usgs22
    usgs25 = next(line for line in out.splitlines() if " usgs_2025 " in line)
    assert "usgs from" not in usgs25
    assert "export_controls_2023_2026" in out and "prices_2025_2026" in out


def test_elements_view_traces_every_value(capsys):
    assert main(["criticality", "--elements", "--as-of", "2026-12-01", "Dy", "Fe"]) == 0
    out = capsys.readouterr().out
    assert "Dy export_control = 0.500 [China export licence since 2025-04-04]" in out
    assert "export_controls_2023_2026.csv:38; secondary" in out
    assert "Dy price_level = 0.616 [FOB China]: prices_2025_2026.csv:63; primary" in out
    assert "Fe price_level = NaN: no row (0 or gap)" in out
    assert (
        main(["criticality", "--elements", "--format", "csv", "--as-of", "2026-12-01", "Tb"]) == 0
    )
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["symbol"].tolist() == ["Tb"] and frame["export_control"][0] == 0.5
    assert frame["price_level_source"][0] == "prices_2025_2026.csv:62"

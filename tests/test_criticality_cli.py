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
    ],
)
def test_errors_are_one_red_line(capsys, args, message):
    assert main(["criticality", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1

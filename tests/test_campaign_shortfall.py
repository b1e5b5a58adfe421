"""``suggest -n N`` returns N suggestions, or says in one line why fewer."""

import shutil
from pathlib import Path

import pytest
from test_campaign import make_spec  # tests/ is on sys.path (rootdir-less)

from mi.active import Campaign
from mi.cli import main
from mi.exceptions import MIWarning

REPO = Path(__file__).resolve().parent.parent


def test_few_feasible_candidates_left_is_said(tmp_path):
    spec = make_spec(
        candidates={"formulas": ["Fe2O3", "FeO", "Fe3O4"]},
        batch={"method": "greedy", "min_distance": 0.0},
    )
    campaign = Campaign.init(tmp_path / "c", spec)
    with pytest.warns(MIWarning, match="only 3 feasible candidates"):
        table = campaign.suggest(8)
    assert len(table) == 3
    assert "Only 3 of the 8 requested" in table.attrs["shortfall"]


def test_diversity_filter_is_named_in_the_random_first_batch(tmp_path):
    spec = make_spec(batch={"method": "greedy", "min_distance": 0.9})
    campaign = Campaign.init(tmp_path / "c", spec)
    with pytest.warns(MIWarning, match="min_distance = 0.9") as record:
        table = campaign.suggest(8)
    assert 1 <= len(table) < 8
    assert "random diverse draw: 0 results" in str(record[0].message)


def test_full_batch_has_no_note(tmp_path):
    campaign = Campaign.init(tmp_path / "c", make_spec())
    table = campaign.suggest(5)
    assert len(table) == 5 and "shortfall" not in table.attrs


def test_cli_prints_the_reason_once(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "few"\ntarget = "Ms"\n[candidates]\nformulas = ["Fe2O3", "FeO"]\n'
        '[batch]\nmin_distance = 0.0\n[features]\npreset = "fractions"\n'
    )
    assert main(["campaign", "init", str(tmp_path / "c"), "--spec", str(spec)]) == 0
    capsys.readouterr()
    assert main(["campaign", "suggest", str(tmp_path / "c"), "-n", "8"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Only 2 of the 8 requested"), err


def test_example_campaign_of_the_readme_suggests_a_full_batch(tmp_path):
    example = tmp_path / "campaigns"
    shutil.copytree(REPO / "workflows" / "campaigns", example)
    campaign = Campaign.init(tmp_path / "camp", example / "ndfeb.toml")
    assert len(campaign.suggest(8)) == 8
    accepted = campaign.observe(example / "ndfeb_lab_results.csv")
    assert sorted(accepted["Tc"]) == [424, 530, 565, 585]

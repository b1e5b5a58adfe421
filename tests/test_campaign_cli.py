"""`mi campaign init/suggest/observe/status` end to end through the CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_campaign import grid_formulas, toy_property  # tests/ is on sys.path

from mi.cli import main


def test_cli_loop(tmp_path, capsys):
    pd.DataFrame({"composition": grid_formulas()}).to_csv(tmp_path / "pool.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        """
name = "cli-toy"
target = "Ms"
seed = 1
min_observations = 3
[candidates]
file = "pool.csv"
[features]
preset = "fractions"
[model]
name = "xgb_ensemble"
params = { n_members = 3, n_estimators = 20, max_depth = 3, n_jobs = 1 }
[constraints]
max_dytb_mass_fraction = 0.3
"""
    )
    camp = tmp_path / "camp"
    assert main(["campaign", "init", str(camp), "--spec", str(tmp_path / "spec.toml")]) == 0
    assert "Dy+Tb mass fraction <= 0.3: removed" in capsys.readouterr().out
    for it in (1, 2):
        assert main(["campaign", "suggest", str(camp), "-n", "3"]) == 0
        out = capsys.readouterr().out
        csv = camp / "suggestions" / f"iteration-{it:04d}.csv"
        assert str(csv) in out
        table = pd.read_csv(csv)
        assert len(table) == 3 and (table["dytb_mass_fraction"] <= 0.3).all()
        table["Ms"] = toy_property(table["composition"])
        table.to_csv(csv, index=False)
        assert main(["campaign", "observe", str(camp), str(csv)]) == 0
        assert f"Recorded 3 results; {3 * it} in total, 0 suggestions pending" in (
            capsys.readouterr().out
        )
    # observing the same file again: one red line, exit 1, nothing recorded
    assert main(["campaign", "observe", str(camp), str(csv)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: iteration-0002.csv: already measured at lines 2, 3, 4")
    assert len(err.strip().splitlines()) == 1
    assert main(["campaign", "status", str(camp)]) == 0
    out = capsys.readouterr().out
    assert "iteration 2, 6 observed, 0 pending" in out and "best feasible" in out
    assert main(["campaign", "status", str(tmp_path / "nope")]) == 1
    assert "No campaign" in capsys.readouterr().err


def test_cli_multi_objective_campaign_from_the_shipped_example(tmp_path, capsys):
    """init -> suggest -> observe -> status with three objectives, as the example file says."""
    import numpy as np

    from mi.chem import element_index, parse_formulas

    spec = Path(__file__).resolve().parents[1] / "workflows" / "campaigns"
    spec = spec / "ndfeb_multi_objective.toml"
    camp = tmp_path / "camp"
    assert main(["campaign", "init", str(camp), "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "Dy+Tb <= 0.03: removed" in out

    def lab(table):  # a stand-in for the lab: Co raises Tc, Dy lowers Js, Ce lowers both
        fr = parse_formulas(table["composition"].tolist()).fractions()
        co, dy, ce = (fr[:, element_index(e)] for e in ("Co", "Dy", "Ce"))
        return table.assign(
            Tc_K=585 + 900 * co - 300 * ce + 20 * dy, Js_T=1.61 - 6 * dy - 1.5 * ce + 0.5 * co
        )

    for it in (1, 2, 3):
        assert main(["campaign", "suggest", str(camp), "-n", "4"]) == 0
        out = capsys.readouterr().out
        assert "Fill in the 'Tc_K' and 'Js_T' columns" in out
        csv = camp / "suggestions" / f"iteration-{it:04d}.csv"
        lab(pd.read_csv(csv)).to_csv(csv, index=False)
        assert main(["campaign", "observe", str(camp), str(csv)]) == 0
    assert "weights" in pd.read_csv(csv).columns  # model-based from the 3rd batch on
    assert np.isfinite(pd.read_csv(csv)["Js_T_mean"]).all()
    capsys.readouterr()
    assert main(["campaign", "status", str(camp)]) == 0
    out = capsys.readouterr().out
    assert "objectives    maximize Tc_K, maximize Js_T, minimize supply_risk" in out
    assert "Pareto front of the feasible results (Tc_K, Js_T, supply_risk;" in out


def test_campaign_initial_results_from_a_table_file_with_element_columns(tmp_path, capsys):
    """A lab's own table as a campaign's known results: wt% columns, a filter, replicates."""
    import numpy as np

    rows = pd.DataFrame(
        {
            "Cu": [99.0, 99.0, 98.0, 97.0, 96.0, 50.0],
            "Ni": [1.0, 1.0, 2.0, 3.0, 4.0, 10.0],
            "T_K": [300, 300, 300, 300, 77, 300],
            "sigma": [80.0, 84.0, 70.0, 60.0, 95.0, 10.0],
        }
    )  # rows 0 and 1 are replicates; row 4 is filtered out; row 5 sums to 60 wt% (rejected)
    rows.to_csv(tmp_path / "known.tsv", sep="\t", index=False)
    pool = [f"Cu{100 - x:g}Ni{x:g}" for x in np.arange(0.5, 6.0, 0.5)]
    pd.DataFrame({"composition": pool}).to_csv(tmp_path / "pool.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        """
name = "cu-table"
target = "sigma"
seed = 0
[candidates]
file = "pool.csv"
[initial]
file = "known.tsv"
elements = "wt%"
where = "T_K >= 280 and T_K <= 320"
[features]
preset = "fractions"
"""
    )
    camp = tmp_path / "camp"
    # a bad row stops init with one line naming the file, row and columns
    assert main(["campaign", "init", str(camp), "--spec", str(tmp_path / "spec.toml")]) == 1
    err = capsys.readouterr().err
    assert "known.tsv: row 5, column Cu..Ni: wt% amounts do not sum to 100" in err
    assert len(err.strip().splitlines()) == 1
    spec = (tmp_path / "spec.toml").read_text()
    spec = spec.replace('elements = "wt%"', 'elements = { basis = "wt%", on_bad_sum = "reject" }')
    (tmp_path / "spec.toml").write_text(spec)
    assert main(["campaign", "init", str(camp), "--spec", str(tmp_path / "spec.toml")]) == 0
    out = capsys.readouterr().out
    assert "initial results known.tsv: 6 rows, 4 accepted, 1 filtered, 1 rejected" in out
    assert "1 replicate groups merged -> 3 results" in out
    from mi.active import Campaign

    obs = Campaign(camp).observations.sort_values("sigma")
    assert obs["sigma"].tolist() == [60.0, 70.0, 82.0]  # replicates merged by their median

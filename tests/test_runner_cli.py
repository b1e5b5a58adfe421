"""``mi run`` from the command line: output, resume, and errors before any work."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mi.cli import main

SMALL = """
version = 1
name = "cli_small"
description = "small metal screen for the CLI test"

[[targets]]
name = "metal"
dataset = "expt_gap"
task = "classification"
positive = "is_metal"
model = "xgb_classifier"
max_rows = 300
model_params = { n_estimators = 20, n_jobs = 1 }
cv = { n_splits = 2 }

[[candidates.templates]]
family = "binaries"
formula = "[A]{1-x}[B]{x}"
ranges = { x = [0.1, 0.9, 0.1] }
sites = { A = ["Fe", "Cu", "Ti"], B = ["Si", "N", "Al"] }

[[constraints]]
kind = "max_supply_risk"
limit = 0.5

[acquisition]
name = "greedy"

[outputs]
top_n = 5
report = false

[execution]
chunk_size = 30
"""


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_mi_run_writes_results_and_resumes(workflow, tmp_path, shared_datasets, capsys):
    out = tmp_path / "out"
    assert main(["run", str(workflow), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "cli_small: 81 candidates generated" in captured.out
    assert "surrogate metal (xgb_classifier" in captured.out
    assert f"top 5: {out / 'top.csv'}" in captured.out
    assert "screen" in captured.out and "total" in captured.out  # closing stage summary
    # not a terminal: plain progress lines on stderr
    assert "screen: started" in captured.err and "screen: finished" in captured.err
    assert (out / "results.parquet").is_file()
    assert main(["run", str(workflow), "--out", str(out)]) == 0
    again = capsys.readouterr()
    assert "from checkpoint" in again.err and "resumed: 3 chunks" in again.err


def test_unknown_key_is_one_red_line(workflow, tmp_path, capsys):
    workflow.write_text(SMALL.replace("max_rows = 300", "max_row = 300"))
    out = tmp_path / "never"
    assert main(["run", str(workflow), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "unknown key 'targets[0].max_row'" in err and "Did you mean 'max_rows'?" in err
    assert not out.exists()


def test_unknown_dataset_named_with_choices(workflow, tmp_path, capsys, shared_datasets):
    workflow.write_text(SMALL.replace('dataset = "expt_gap"', 'dataset = "expt_gaps"'))
    assert main(["run", str(workflow), "--out", str(tmp_path / "never")]) == 1
    err = capsys.readouterr().err
    assert "'expt_gaps'" in err and "supercon" in err and "Did you mean 'expt_gap'?" in err


def test_unreachable_scheduler_fails_before_work(workflow, tmp_path, capsys, shared_datasets):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "never"
    code = main(["run", str(workflow), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"Cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'" in err
    assert not out.exists()


def test_missing_workflow_suggests_builtin(tmp_path, capsys):
    assert main(["run", "metal_scren", "--out", str(tmp_path / "o")]) == 1
    assert "Did you mean 'metal_screen'?" in capsys.readouterr().err

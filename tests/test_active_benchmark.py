"""Retrospective benchmark: the loop, its bookkeeping, and one real-data case."""

from __future__ import annotations

import numpy as np
import pytest

from mi.active import benchmark
from mi.exceptions import CampaignError, RegistryKeyError


def small_forest(seed):
    from mi.models import RandomForestUncertaintyRegressor

    return RandomForestUncertaintyRegressor(n_estimators=20, random_state=seed, n_jobs=1)


@pytest.fixture(scope="module")
def toy_pool():
    # Fe(1-x-y) Co(x) Ni(y) on a grid; property peaks at Fe-rich Fe-Co
    rows, formulas = [], []
    for x in np.arange(0, 1.0001, 0.04):
        for y in np.arange(0, 1.0001 - x, 0.04):
            z = 1 - x - y
            if z > 1e-9:
                rows.append((z, x, y))
                formulas.append(
                    "".join(
                        f"{e}{v:.2f}"
                        for e, v in zip(("Fe", "Co", "Ni"), (z, x, y), strict=True)
                        if v > 1e-9
                    )
                )
    X = np.array(rows)
    y = 2 * X[:, 0] + 6 * X[:, 0] * X[:, 1] - X[:, 2]
    return X, formulas, y


def test_greedy_beats_random_and_bookkeeping(toy_pool):
    X, formulas, y = toy_pool
    mask = y >= np.quantile(y, 0.95)
    res = benchmark(
        X,
        formulas,
        y,
        mask,
        acquisitions=("greedy", ("ucb", {"beta": 1.0}), "random"),
        n_seeds=3,
        n_initial=8,
        batch_size=4,
        budget=24,
        model_factory=small_forest,
    )
    assert set(res.hits) == {"greedy", "ucb(beta=1.0)", "random"}
    assert res.hits["greedy"].shape == (3, 24)
    assert res.n_pool == len(y) - 8 and res.n_targets == int(mask.sum())
    table = res.summary().set_index("acquisition")
    assert table.loc["greedy", "dy"] > 3 * table.loc["random", "dy"]
    assert table.loc["greedy", "rohr_ef"] > 3
    assert table.loc["greedy", "daf_1"] > table.loc["random", "daf_1"]
    assert table.loc["random", "seconds"] == 0.0


def test_same_seed_same_runs(toy_pool):
    X, formulas, y = toy_pool
    mask = y >= np.quantile(y, 0.9)
    kw = dict(
        acquisitions=("ei",),
        n_seeds=2,
        n_initial=6,
        batch_size=3,
        budget=9,
        model_factory=small_forest,
    )
    a = benchmark(X, formulas, y, mask, **kw)
    b = benchmark(X, formulas, y, mask, **kw)
    np.testing.assert_array_equal(a.hits["ei"], b.hits["ei"])


def test_initial_sets_hold_no_target_and_errors(toy_pool):
    X, formulas, y = toy_pool
    with pytest.raises(CampaignError, match="at least one target"):
        benchmark(X, formulas, y, np.zeros(len(y), bool), n_seeds=1)
    with pytest.raises(CampaignError, match="repeated compositions"):
        benchmark(
            X[:3], [formulas[0]] * 3, y[:3], np.array([True, False, False]), n_initial=1, n_seeds=1
        )
    with pytest.raises(RegistryKeyError, match="transform"):
        benchmark(X, formulas, y, y > 1, transform="sqrt", n_seeds=1)


def test_real_case_quick(shared_datasets):
    from mi.active.cases import format_table, run_discovery_case

    out = run_discovery_case("curie_tc", quick=True, n_seeds=1, acquisitions=("greedy", "random"))
    rec = out["record"]
    # top decile of the audited Curie labels of the Dy/Tb-free pool
    assert rec["protocol"]["n_targets"] > 250 and rec["dataset"] == "curie_tc"
    assert {r["acquisition"] for r in rec["results"]} == {"greedy", "random"}
    assert "curie_tc" in format_table([out])
    with pytest.raises(RegistryKeyError, match="Did you mean 'supercon'"):
        run_discovery_case("supercn")


def test_cli_benchmark_discovery_quick(shared_datasets, capsys):
    import json

    from mi.cli import main

    assert main(["benchmark", "discovery", "--quick", "--case", "curie_tc", "--seeds", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "shared, loaded machine" in lines[0]
    record = json.loads(lines[-1])
    assert record["case"] == "curie_tc" and record["protocol"]["quick"] is True
    assert {r["acquisition"] for r in record["results"]} == {"ei", "greedy", "random"}


def test_cli_benchmark_discovery_worker_processes_match_serial(shared_datasets, tmp_path):
    """``--n-jobs 2`` runs the (acquisition, seed) tasks in spawned worker processes (not forked
    from a parent whose xgboost OpenMP threads are running): same figures as one process, and a
    clean exit (no "terminate called ..." from a forked OpenMP runtime)."""
    import json
    import os
    import subprocess
    import sys

    def run(n_jobs: int) -> tuple[dict, str]:
        code = "import sys; from mi.cli import main; sys.exit(main(sys.argv[1:]))"
        cmd = [sys.executable, "-c", code, "benchmark", "discovery", "--quick"]
        cmd += ["--case", "curie_tc", "--seeds", "2", "--n-jobs", str(n_jobs)]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr

    serial, _ = run(1)
    parallel, stderr = run(2)
    assert "terminate called" not in stderr
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in serial["results"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in parallel["results"]]

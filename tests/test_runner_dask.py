"""A real Dask scheduler on loopback: results must equal the local executor's."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from mi.runner.executors import make_executor
from mi.runner.progress import Progress
from mi.runner.spec import load_spec
from mi.runner.workflow import run_workflow

pytestmark = pytest.mark.dask
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        env={"OMP_NUM_THREADS": "1", "MI_N_JOBS": "1"},
        silence_logs=logging.ERROR,
    ) as lc:
        yield lc


def _spec():
    spec = load_spec(REPO / "workflows" / "superconductor_low_criticality.toml")
    over = {
        "candidates.max_candidates": 1200,
        "execution.chunk_size": 200,
        "outputs.top_n": 20,
        "outputs.keep_per_chunk": 50,
        "outputs.report": False,
        "targets.0.max_rows": 300,
        "targets.0.cv": {"enabled": False},
        "targets.0.model_params": {"n_members": 3, "n_estimators": 25, "n_jobs": 1},
    }
    return spec.with_overrides(**over)


@pytest.fixture(scope="module")
def local(tmp_path_factory, shared_datasets):
    """The small screen on the in-process executor (the reference)."""
    from mi.config import get_settings

    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MI_DATA_DIR", str(shared_datasets))
        mp.setenv("MI_OFFLINE", "true")
        mp.setenv("MI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        get_settings(refresh=True)
        result = run_workflow(_spec(), out, progress=Progress(quiet=True))
    get_settings(refresh=True)
    return result


def test_dask_scheduler_results_equal_local(cluster, local, tmp_path):
    spec = _spec()
    with make_executor(scheduler=cluster.scheduler_address) as handle:
        assert handle.kind == "dask" and handle.n_workers == 2
        remote = run_workflow(spec, tmp_path / "dask", handle, progress=Progress(quiet=True))
    assert "dask scheduler tcp://127.0.0.1" in remote.summary.executor
    n_chunks = len(list((local.out_dir / "chunks").glob("*.json")))
    assert n_chunks >= 6
    assert len(list((tmp_path / "dask" / "chunks").glob("*.json"))) == n_chunks
    pd.testing.assert_frame_equal(local.candidates, remote.candidates, check_exact=True)
    assert local.summary.counts == remote.summary.counts


def test_process_pool_results_equal_local(local, tmp_path):
    spec = _spec().with_overrides(**{"execution.executor": "process", "execution.n_jobs": 2})
    pooled = run_workflow(spec, tmp_path / "pool", progress=Progress(quiet=True))
    assert pooled.summary.executor.startswith("process pool")
    pd.testing.assert_frame_equal(local.candidates, pooled.candidates, check_exact=True)


def test_cli_run_on_scheduler(cluster, tmp_path, shared_datasets, capsys):
    from mi.cli import main

    wf = tmp_path / "wf.toml"
    wf.write_text((REPO / "workflows" / "metal_screen.toml").read_text())
    code = main(
        [
            "run",
            str(wf),
            "--out",
            str(tmp_path / "o"),
            "--max-candidates",
            "600",
            "--chunk-size",
            "300",
            "--no-report",
            "--scheduler",
            cluster.scheduler_address,
            "--check",
        ]
    )
    assert code == 0
    assert "valid workflow 'metal_screen'" in capsys.readouterr().out

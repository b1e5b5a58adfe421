"""Runner machinery on its own: spec parsing/errors, executors, checkpoints, progress."""

from __future__ import annotations

import copy
import io
import math

import pandas as pd
import pytest

from mi.exceptions import SchedulerError, SpecError
from mi.runner.checkpoint import Checkpoint
from mi.runner.executors import (
    SerialExecutor,
    check_scheduler_address,
    make_executor,
    run_chunks,
)
from mi.runner.progress import Progress
from mi.runner.spec import parse_spec

BASE = {
    "version": 1,
    "name": "t",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
}


def _spec(mutate):
    data = copy.deepcopy(BASE)
    mutate(data)
    return parse_spec(data, "wf.toml")


def test_minimal_spec_has_defaults():
    spec = _spec(lambda d: None)
    assert spec.targets[0].preset == "magpie"
    assert spec.execution.chunk_size == 100_000
    assert len(spec.digest()) == 16
    assert spec.digest() == _spec(lambda d: None).digest()
    assert spec.with_overrides(**{"execution.chunk_size": 10}).digest() != spec.digest()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["targets"][0].update(presett="magpie"),
            ["unknown key 'targets[0].presett'", "Did you mean 'preset'?", "dataset"],
        ),
        (lambda d: d.update(outptus={}), ["unknown key 'outptus'", "Did you mean 'outputs'?"]),
        (
            lambda d: d["targets"][0].update(model="xgb_ensembel"),
            ["'xgb_ensembel'", "xgb_ensemble, random_forest", "Did you mean 'xgb_ensemble'?"],
        ),
        (
            lambda d: d["candidates"].update(max_candidates="many"),
            ["candidates.max_candidates", "valid integer", "'many'"],
        ),
        (
            lambda d: d.update(
                constraints=[{"kind": "max_mass_fractoin", "elements": ["Dy"], "limit": 0.01}]
            ),
            ["constraints[0].kind", "Did you mean 'max_mass_fraction'?"],
        ),
        (
            lambda d: d.update(
                constraints=[
                    {"kind": "max_mass_fraction", "elements": ["Dy"], "limit": 0.01, "limt": 1}
                ]
            ),
            ["unknown key 'constraints[0].limt'", "Did you mean 'limit'?"],
        ),
        (lambda d: d.update(version=7), ["version = 7 is not supported"]),
        (lambda d: d.pop("version"), ["missing required key 'version'"]),
        (
            lambda d: d.update(execution={"cluster": {"walltme": "1:00:00"}}),
            ["execution.cluster.walltme", "Did you mean 'walltime'?"],
        ),
        (lambda d: d.update(acquisition={"target": "Tk"}), ["'Tk'", "Did you mean 'Tc'?"]),
    ],
)
def test_bad_spec_one_message_with_key_choices_and_closest(mutate, expected):
    with pytest.raises(SpecError) as info:
        _spec(mutate)
    message = str(info.value)
    assert message.startswith("Invalid workflow wf.toml")
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_serial_executor_stores_exceptions():
    with SerialExecutor() as ex:
        assert ex.submit(math.sqrt, 16).result() == 4.0
        fut = ex.submit(math.sqrt, -1)
        assert isinstance(fut.exception(), ValueError)
    with pytest.raises(RuntimeError):
        ex.submit(math.sqrt, 1)


def _square(i, offset):
    return i * i + offset


def test_run_chunks_bounded_and_complete():
    with make_executor("local") as handle:
        out = dict(run_chunks(handle, _square, range(10), 1, max_in_flight=3))
    assert out == {i: i * i + 1 for i in range(10)}


def test_process_pool_matches_local():
    with make_executor("process", n_jobs=2) as handle:
        assert handle.kind == "process"
        out = dict(run_chunks(handle, _square, range(6), 0))
    assert out == {i: i * i for i in range(6)}


@pytest.mark.parametrize(
    ("address", "part"),
    [
        ("localhost:8786", "no scheme"),
        ("tpc://localhost:8786", "Did you mean 'tcp'?"),
        ("tcp://localhost", "HOST:PORT"),
    ],
)
def test_bad_scheduler_address(address, part):
    with pytest.raises(SchedulerError, match=part):
        check_scheduler_address(address)


def test_unreachable_scheduler_fails_fast():
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SchedulerError, match=f"tcp://127.0.0.1:{port}"):
        make_executor(scheduler=f"tcp://127.0.0.1:{port}", timeout=2)


def test_cluster_needs_submit_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SchedulerError, match="sbatch"):
        make_executor(cluster="slurm")
    with pytest.raises(SpecError, match="Did you mean 'slurm'"):
        make_executor(cluster="slrum")


def test_jobqueue_script_carries_resources():
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue (extra 'cluster') not installed")
    from mi.runner.executors import jobqueue_cluster
    from mi.runner.spec import ClusterSpec

    spec = ClusterSpec(cores=4, memory="8GB", walltime="02:00:00", queue="short", jobs=2)
    cluster = jobqueue_cluster("slurm", spec, scheduler_options={"host": "127.0.0.1"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script
    assert "#SBATCH -t 02:00:00" in script
    assert "--nthreads 4" in script or "--nworkers 1" in script
    assert "OMP_NUM_THREADS=1" in script


def test_checkpoint_steps_and_chunks(tmp_path):
    cp = Checkpoint(tmp_path, "abc", {"x": 1}, workflow="w1")
    assert not cp.is_done("load")
    cp.write_table("load", "train", pd.DataFrame({"a": [1, 2]}))
    cp.mark_done("load", 1.5, "k1", rows=2)
    assert cp.use_chunk_key("s1") == 0
    cp.write_chunk(3, pd.DataFrame({"b": [1.0]}), {"n": 1})
    again = Checkpoint(tmp_path, "abc", workflow="w1")
    assert again.is_done("load", "k1") and not again.is_done("load", "k2")
    assert again.info("load")["rows"] == 2
    assert again.read_table("load", "train")["a"].tolist() == [1, 2]
    assert again.use_chunk_key("s1") == 1 and again.done_chunks() == {3}
    df, meta = again.read_chunk(3)
    assert meta == {"n": 1} and df["b"].tolist() == [1.0]
    assert again.use_chunk_key("s2") == 0  # chunks of another screen are discarded
    with pytest.raises(SpecError, match="holds a run of workflow 'w1'"):
        Checkpoint(tmp_path, "abc", workflow="w2")
    fresh = Checkpoint(tmp_path, "abc", resume=False, workflow="w1")
    assert not fresh.is_done("load") and fresh.done_chunks() == set()


def test_progress_plain_lines_and_summary():
    stream = io.StringIO()
    progress = Progress(stream=stream, tty=False, interval=0.0)
    with progress.stage("screen", total=4, unit="candidates") as st:
        st.update(2)
        st.update(2)
    with progress.stage("rank"):
        pass
    text = stream.getvalue()
    assert "screen: started (4 candidates)" in text
    assert "screen: 2/4 candidates (50%)" in text
    assert "screen: finished" in text
    summary = progress.summary()
    assert "screen" in summary and "rank" in summary and "total" in summary
    assert set(progress.timings()) == {"screen", "rank"}


def test_progress_bar_in_terminal():
    stream = io.StringIO()
    progress = Progress(stream=stream, tty=True)
    with progress.stage("screen", total=5, unit="candidates") as st:
        st.update(5)
    assert "5/5" in stream.getvalue()
    assert "started" not in stream.getvalue()


def test_library_layers_never_import_dask():
    import subprocess
    import sys

    code = (
        "import sys, mi.chem, mi.data, mi.features, mi.models, mi.candidates, mi.criticality, "
        "mi.active, mi.runner, mi.runner.workflow, mi.runner.screen, mi.runner.executors; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

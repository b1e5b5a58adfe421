"""Screening on a real SLURM cluster (tests/conftest.py ``slurm_cluster``): Dask workers as batch
jobs, the job-array pattern, and jobs cancelled mid-screen. Results must equal the local run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from mi.cli import main

pytestmark = pytest.mark.slurm

N_CHUNKS = 30
WORKFLOW = f"""
version = 1
name = "slurm_small"
description = "quick Nd-Fe-B screen for the SLURM tests"
seed = 0

[[targets]]
name = "Tc"
dataset = "curie_tc"
column = "Tc"
preset = "magpie"
model = "xgb_ensemble"
objective = "maximize"
min_value = 1.0
max_rows = 400
model_params = {{ n_members = 3, n_estimators = 30, n_jobs = 1 }}
cv = {{ enabled = false }}

[[candidates.templates]]
family = "(Nd,Pr,Ce,Dy)2(Fe,Co)14B"
formula = "(Nd{{1-p-c-d}}Pr{{p}}Ce{{c}}Dy{{d}})2(Fe{{1-z}}Co{{z}})14B"
[candidates.templates.ranges]
p = [0.0, 0.4, 0.025]
c = [0.0, 0.2, 0.04]
d = [0.0, 0.1, 0.02]
z = [0.0, 0.3, 0.01]

[[constraints]]
kind = "max_mass_fraction"
elements = ["Dy", "Tb"]
limit = 0.03

[acquisition]
name = "ehvi"

[candidates]
max_candidates = {N_CHUNKS * 600}

[outputs]
top_n = 20
keep_per_chunk = 40
report = false

[execution]
chunk_size = 600

[execution.cluster]
cores = 1
memory = "1GB"
walltime = "00:15:00"
jobs = 2
interface = "lo"
"""


def _wait(predicate, what: str, seconds: float = 240.0, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")


def _states(slurm, job_id: str) -> dict[str, str]:
    """``{"12_0": "RUNNING", ...}`` for a job or array (tasks expanded), any state."""
    out = slurm.run(
        "squeue", "-h", "-r", "-t", "all", "-j", str(job_id), "-o", "%i %T", check=False
    )
    return dict(line.split() for line in out.splitlines() if line.strip())


def _queue_empty(slurm) -> bool:
    return slurm.job_ids() == []


def _done(out: Path, task: int | None = None, n_tasks: int = 1) -> int:
    ids = [int(p.stem.split("_")[1]) for p in (out / "chunks").glob("chunk_*.json")]
    return sum(1 for i in ids if task is None or i % n_tasks == task)


def _assert_same_results(reference: Path, other: Path) -> None:
    ref = pd.read_parquet(reference / "results.parquet")
    got = pd.read_parquet(other / "results.parquet")
    pd.testing.assert_frame_equal(ref, got, check_exact=True)
    assert got["key"].is_unique  # 0 duplicated
    assert len(list((other / "chunks").glob("chunk_*.json"))) == N_CHUNKS  # 0 lost
    assert _summary(reference)["counts"] == _summary(other)["counts"]


def _summary(out: Path) -> dict:
    import json

    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wf") / "slurm_small.toml"
    path.write_text(WORKFLOW)
    return path


@pytest.fixture(scope="module")
def local_run(workflow, tmp_path_factory, shared_datasets) -> Path:
    """The reference: the same workflow in this process."""
    from mi.config import get_settings

    out = tmp_path_factory.mktemp("local") / "out"
    with pytest.MonkeyPatch.context() as mp:  # module scope: set up before the autouse fixture
        mp.setenv("MI_DATA_DIR", str(shared_datasets))
        mp.setenv("MI_OFFLINE", "true")
        mp.setenv("MI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        get_settings(refresh=True)
        assert main(["run", str(workflow), "--out", str(out), "--quiet"]) == 0
    get_settings(refresh=True)
    assert _summary(out)["counts"]["generated"] == N_CHUNKS * 600
    return out


def test_mi_run_cluster_slurm_equals_local(slurm_cluster, workflow, local_run, tmp_path, capsys):
    out = tmp_path / "dask"
    assert main(["run", str(workflow), "--out", str(out), "--cluster", "slurm", "--quiet"]) == 0
    assert "slurm via dask-jobqueue: 2 job(s) x 1 cores" in _summary(out)["executor"]
    _assert_same_results(local_run, out)
    # the workers were SLURM jobs, logged under OUT/logs, and cancelled when the run closed
    logs = sorted((out / "logs").glob("dask-worker-*.err"))
    assert len(logs) == 2
    job_ids = [p.stem.rsplit("-", 1)[1] for p in logs]
    _wait(lambda: _queue_empty(slurm_cluster), "the worker jobs to leave the queue")
    finished = {r["JobId"]: r for r in slurm_cluster.finished_jobs()}
    assert all(finished[j]["Name"] == "dask-worker" for j in job_ids)
    assert all(finished[j]["JobState"] == "CANCELLED" for j in job_ids)
    assert all("Registered to:" in p.read_text() for p in logs)


def test_job_array_equals_local(slurm_cluster, workflow, local_run, tmp_path, capsys):
    out = tmp_path / "array"
    assert main(["submit", str(workflow), "--out", str(out), "--array", "2"]) == 0
    printed = capsys.readouterr().out
    merge = printed.split("merge:   job ")[1].split()[0]
    _wait(lambda: (out / "results.parquet").is_file() and _queue_empty(slurm_cluster), "merge")
    _assert_same_results(local_run, out)
    jobs = __import__("json").loads((out / "slurm" / "jobs.json").read_text())[0]
    assert jobs["tasks"] == [0, 1] and jobs["merge"] == merge
    for job in (jobs["prepare"], jobs["screen"], merge):
        record = _wait(
            lambda job=job: [r for r in slurm_cluster.finished_jobs() if r["JobId"] == job],
            f"job {job} in the completion log",
        )[0]
        assert record["JobState"] == "COMPLETED", record
    for task in range(2):
        log = out / "logs" / f"screen-{jobs['screen']}_{task}.out"
        assert f"shard {task}/2: " in log.read_text()
    script = (out / "slurm" / "screen.sbatch").read_text()
    assert "#SBATCH --array=0-1" in script and "#SBATCH --mem=954M" in script
    assert '--task "$SLURM_ARRAY_TASK_ID" --tasks 2' in script


def test_array_tasks_cancelled_then_resubmitted(
    slurm_cluster, workflow, local_run, tmp_path, capsys
):
    """Four cancel points over two submissions (task 0 during start-up, then after one more
    chunk; task 1 after 3 chunks, then after 2 more); each resubmission names the cancelled
    tasks with their logs and runs only what is missing. Same results, 0 lost, 0 twice."""
    out = tmp_path / "cancelled"
    n = 2
    rounds = [{0: 0, 1: 3}, {0: 1, 1: 2}]  # task -> chunks it adds before it is cancelled
    cancelled: list[str] = []
    for plan in rounds:
        assert main(["submit", str(workflow), "--out", str(out), "--array", str(n)]) == 0
        printed = capsys.readouterr().out
        _assert_reported(printed, cancelled[-2:], out)
        array = printed.split("array job ")[1].split(",")[0]
        cancelled += _cancel_at(slurm_cluster, out, array, plan, n)
        _wait(lambda: _queue_empty(slurm_cluster), "the queue to drain")
        # scancel races the task's last chunks: a task may finish its shard before the cancel
        # lands. At least one task per round must have stopped short, so chunks are missing.
        short = [
            tid for tid in cancelled[-2:] if _done(out, int(tid.split("_")[1]), n) < N_CHUNKS // n
        ]
        assert short, f"{cancelled[-2:]} both finished their shards before the cancel"
        assert not (out / "results.parquet").exists()  # the merge never ran on missing chunks
    assert len(cancelled) == 4
    missing = N_CHUNKS - _done(out)
    assert missing > 0
    assert main(["submit", str(workflow), "--out", str(out), "--array", str(n)]) == 0
    printed = capsys.readouterr().out
    assert "prepare: job" not in printed  # the surrogate is trained once
    _assert_reported(printed, cancelled[-2:], out)
    _wait(lambda: (out / "results.parquet").is_file() and _queue_empty(slurm_cluster), "merge")
    _assert_same_results(local_run, out)
    for tid in cancelled:
        assert "CANCELLED AT" in (out / "logs" / f"screen-{tid}.out").read_text()
    history = __import__("json").loads((out / "slurm" / "jobs.json").read_text())
    assert len(history) == 3 and history[0]["prepare"] and not history[1]["prepare"]


def _cancel_at(slurm, out: Path, array: str, plan: dict[int, int], n: int) -> list[str]:
    """Cancel each array task of ``plan`` once it runs and has added ``plan[task]`` chunks."""
    before = {task: _done(out, task, n) for task in plan}
    pending = dict(plan)
    cancelled = []
    deadline = time.monotonic() + 240
    while pending and time.monotonic() < deadline:
        states = _states(slurm, array)
        for task, extra in list(pending.items()):
            tid = f"{array}_{task}"
            started = (out / "logs" / f"screen-{tid}.out").is_file()  # the script runs
            if (
                started
                and states.get(tid) == "RUNNING"
                and _done(out, task, n) >= before[task] + extra
            ):
                slurm.run("scancel", tid)
                cancelled.append(tid)
                del pending[task]
            elif states.get(tid, "PENDING") not in ("PENDING", "CONFIGURING", "RUNNING"):
                raise AssertionError(f"{tid} ended ({states[tid]}) before its cancel point")
        time.sleep(0.1)
    assert not pending, f"tasks {sorted(pending)} never reached their cancel point"
    return cancelled


def _assert_reported(printed: str, jobs: list[str], out: Path) -> None:
    """Each cancelled array task is named with its state and log on resubmission."""
    for tid in jobs:
        log = out.resolve() / "logs" / f"screen-{tid}.out"
        line = f"earlier screen job {tid} did not finish (CANCELLED); its log: {log}"
        assert line in printed, printed


def test_dask_worker_jobs_cancelled_mid_screen(
    slurm_cluster, workflow, local_run, tmp_path, capsys
):
    """Three cancel points: a running worker job after 2 chunks and another after 8 are reported
    and replaced; a third after 14 is more than the 2 replacements allowed here, so the run stops
    naming the job and its log, and rerunning `mi run` resumes. Same results, 0 lost, 0 twice."""
    from mi.exceptions import SchedulerError
    from mi.runner.executors import make_executor
    from mi.runner.progress import Progress
    from mi.runner.spec import load_spec
    from mi.runner.workflow import run_workflow

    spec = load_spec(workflow)
    out = tmp_path / "dask-cancel"
    messages: list[str] = []
    cancelled: list[str] = []
    handle = make_executor(
        cluster="slurm",
        cluster_spec=spec.execution.cluster,
        log_directory=out / "logs",
        notify=messages.append,
    )
    handle.poll_seconds = 0.5
    handle.watch.max_replacements = 2

    def cancel_workers() -> None:
        for after in (2, 8, 14):
            _wait(lambda a=after: _done(out) >= a, f"{after} chunks")
            # a replacement job may still be pending: wait for a running one (not an index error)
            running = _wait(
                lambda: [
                    j
                    for j in handle.watch.job_ids()
                    if j not in cancelled and _states(slurm_cluster, j).get(j) == "RUNNING"
                ],
                "a running worker job",
                every=0.1,
            )
            slurm_cluster.run("scancel", running[0])
            cancelled.append(running[0])

    killer = threading.Thread(target=cancel_workers, daemon=True)
    with handle:
        killer.start()
        with pytest.raises(SchedulerError) as stopped:
            run_workflow(spec, out, handle, progress=Progress(quiet=True))
    killer.join(timeout=60)
    assert len(cancelled) == 3
    on_disk = _done(out)
    assert on_disk < N_CHUNKS
    message = str(stopped.value)
    assert f"Dask worker job {cancelled[2]} ended (CANCELLED)" in message
    assert f"{out / 'logs' / f'dask-worker-{cancelled[2]}.err'}" in message
    assert "rerun the same command to resume" in message
    for job_id in cancelled[:2]:
        line = next(m for m in messages if f"Dask worker job {job_id} ended" in m)
        assert "CANCELLED" in line and "replacement job submitted" in line
        log = Path(line.split("its log: ")[1].split(";")[0])
        assert log.is_file() and log.parent == out / "logs"
        assert f"JOB {job_id} ON" in log.read_text() and "CANCELLED" in log.read_text()
    _wait(lambda: _queue_empty(slurm_cluster), "the worker jobs to leave the queue")

    capsys.readouterr()
    assert main(["run", str(workflow), "--out", str(out), "--cluster", "slurm"]) == 0
    assert f"resumed: {on_disk} chunks from checkpoint" in capsys.readouterr().err
    _assert_same_results(local_run, out)
    _wait(lambda: _queue_empty(slurm_cluster), "the worker jobs to leave the queue")

"""The project's own single-node SLURM cluster: up, loopback only, runs jobs, stops cleanly."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mi._testing.localslurm import LocalSlurm, LocalSlurmError, missing_binaries

pytestmark = pytest.mark.slurm


def _wait_until(predicate, what: str, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen")


def test_cluster_is_up_on_loopback_only(slurm_cluster):
    import psutil

    assert slurm_cluster.run("sinfo", "-h", "-o", "%P %a %T").split() == ["debug*", "up", "idle"]
    pids = json.loads((slurm_cluster.root / "pids.json").read_text())
    assert sorted(pids) == ["munged", "slurmctld", "slurmd"]
    assert all(_alive(pid) for pid in pids.values())
    assert "SLURM_CONF" in os.environ and os.environ["SLURM_CONF"] == str(slurm_cluster.conf)
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
        and c.laddr.port in (slurm_cluster.ctl_port, slurm_cluster.node_port)
    }
    assert listening == {
        ("127.0.0.1", slurm_cluster.ctl_port),
        ("127.0.0.1", slurm_cluster.node_port),
    }


def test_batch_job_runs_and_is_recorded(slurm_cluster, tmp_path):
    out = tmp_path / "hello.out"
    submitted = slurm_cluster.run(
        "sbatch", "--parsable", "-o", str(out), "--wrap", "echo hello from $SLURM_JOB_ID"
    )
    job_id = submitted.strip().split(";")[0]
    _wait_until(lambda: job_id not in slurm_cluster.job_ids(), f"job {job_id} to finish")
    record = _wait_until(
        lambda: [r for r in slurm_cluster.finished_jobs() if r["JobId"] == job_id],
        f"job {job_id} in the completion log",
    )[0]
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0"
    assert out.read_text().strip() == f"hello from {job_id}"


@pytest.mark.skipif(bool(missing_binaries()), reason="needs SLURM and munge installed")
def test_stop_cancels_jobs_and_leaves_nothing_running():
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="mi-slurm-stop-"))
    cluster = LocalSlurm(root).start()
    try:
        job_id = cluster.run("sbatch", "--parsable", "-o", "/dev/null", "--wrap", "sleep 600")
        job_id = job_id.strip()
        _wait_until(
            lambda: "RUNNING" in cluster.run("squeue", "-h", "-j", job_id, "-o", "%T"),
            f"job {job_id} to start",
        )
        daemons = [p.pid for p in cluster._procs.values()]
        steps = _wait_until(cluster._job_processes, "the job's processes to appear")
    finally:
        cluster.stop()
    for pid in [*daemons, *steps]:
        assert not _alive(pid), f"process {pid} still running after stop()"
    assert cluster._job_processes() == []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_start_reports_a_taken_port(tmp_path):
    import socket

    if missing_binaries():
        pytest.skip("needs SLURM and munge installed")
    cluster = LocalSlurm(tmp_path / "s")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        cluster._write_config = _pinned_config(cluster, taken)  # type: ignore[method-assign]
        with pytest.raises(LocalSlurmError, match=f"port {taken} on 127.0.0.1 is already in use"):
            cluster.start()
    assert cluster._procs == {}


def _pinned_config(cluster: LocalSlurm, port: int):
    original = cluster._write_config

    def write() -> None:
        original()
        cluster.ctl_port = port

    return write


def test_without_slurm_start_says_what_to_install(tmp_path, monkeypatch):
    import mi._testing.localslurm as localslurm

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(localslurm, "_SBIN", str(tmp_path))
    assert missing_binaries() == list(localslurm.REQUIRED_BINARIES)
    with pytest.raises(LocalSlurmError, match="apt-get install slurmctld slurmd slurm-client"):
        LocalSlurm(tmp_path / "s").start()
    assert not (tmp_path / "s").exists()

"""What the runner needs from a SLURM batch system: job preambles, job states, lost workers.

Only the standard client commands are used (``squeue``, ``scontrol``), so this works on any
SLURM site; the site's specifics (partition, account, modules, environment) come from the
workflow's ``[execution.cluster]`` table or the command line, never from here.
"""

from __future__ import annotations

import math
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from mi.exceptions import SchedulerError

__all__ = [
    "job_prologue",
    "slurm_memory",
    "job_states",
    "job_record",
    "log_path",
    "SlurmWorkerWatch",
    "ALIVE_STATES",
]

#: SLURM job states of a job that is queued or still running.
ALIVE_STATES = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "RESIZING", "SUSPENDED", "REQUEUED"}
)


def job_prologue(cluster_spec: Any) -> list[str]:
    """Shell lines every job runs before ``mi``: modules, environment, one thread per core.

    Parameters
    ----------
    cluster_spec : ClusterSpec
        ``modules`` and ``env`` of the workflow's ``[execution.cluster]`` table.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from mi.runner.spec import ClusterSpec
    >>> for line in job_prologue(ClusterSpec(modules=["python/3.11"], env={"MI_DATA_DIR": "/d"})):
    ...     print(line)
    module load python/3.11
    export MI_DATA_DIR=/d
    export OMP_NUM_THREADS=1 MI_N_JOBS=1
    """
    lines = [f"module load {shlex.quote(name)}" for name in cluster_spec.modules]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in cluster_spec.env.items()]
    # one thread per Dask worker thread / task: xgboost must not oversubscribe the job's cores
    lines.append("export OMP_NUM_THREADS=1 MI_N_JOBS=1")
    return lines


def slurm_memory(memory: str) -> str:
    """Convert a Dask-style size (``"4GB"``, ``"1.5GiB"``) to ``sbatch --mem`` (``"3815M"``).

    Examples
    --------
    >>> slurm_memory("1GB")
    '954M'
    """
    from dask.utils import parse_bytes

    return f"{math.ceil(parse_bytes(memory) / 2**20)}M"


def _run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(args[0])
    if exe is None:
        raise SchedulerError(f"`{args[0]}` is not on PATH: run mi on the cluster's login node.")
    try:
        return subprocess.run(
            [exe, *args[1:]], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"`{' '.join(args)}` did not answer within {timeout:g}s") from None


def job_states(job_ids: Iterable[str]) -> dict[str, str]:
    """Return the state of each job (``RUNNING``, ``CANCELLED`` ...), from ``squeue``.

    Jobs the controller no longer knows are left out.

    Parameters
    ----------
    job_ids : iterable of str
        Job ids (array tasks as ``123_4``).

    Returns
    -------
    dict of str to str
    """
    ids = [str(j) for j in job_ids]
    if not ids:
        return {}
    proc = _run(["squeue", "-h", "-t", "all", "-o", "%i %T", "-j", ",".join(ids)])
    states = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            states[parts[0]] = parts[1]
    return states


def job_record(job_id: str) -> dict[str, str]:
    """``scontrol show job`` of one job as a dict (``JobState``, ``StdErr``, ``StdOut`` ...).

    Empty when the controller no longer knows the job.
    """
    proc = _run(["scontrol", "show", "job", "-o", str(job_id)])
    if proc.returncode != 0:
        return {}
    record: dict[str, str] = {}
    for token in proc.stdout.split():
        if "=" in token:
            key, value = token.split("=", 1)
            record.setdefault(key, value)
    return record


def log_path(record: dict[str, str]) -> str | None:
    """Return the job's stderr file from its :func:`job_record`, ``%j`` patterns filled in.

    Examples
    --------
    >>> log_path({"JobId": "17", "JobName": "w", "StdErr": "/logs/%x-%J.err"})
    '/logs/w-17.err'
    """
    path = record.get("StdErr") or record.get("StdOut")
    if not path:
        return None
    job_id = record.get("JobId", "")
    values = {
        "j": job_id,
        "J": job_id,
        "A": record.get("ArrayJobId", job_id),
        "a": record.get("ArrayTaskId", ""),
        "x": record.get("JobName", ""),
        "u": record.get("UserId", "").split("(")[0],
        "%": "%",
    }
    out, i = [], 0
    while i < len(path):
        if path[i] == "%" and i + 1 < len(path) and path[i + 1] in values:
            out.append(values[path[i + 1]])
            i += 2
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def _stderr_line(text: str) -> None:
    print(f"[mi {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class SlurmWorkerWatch:
    """Notice Dask worker jobs that ended under a running screen; report and replace them.

    Called by :func:`mi.runner.executors.run_chunks` every few seconds while chunks are in
    flight. A worker job that left the running states (cancelled, timed out, failed, node
    failure) is reported once, with its SLURM job id, state and log file, and a replacement job
    is submitted; Dask reschedules the lost worker's chunks on the others. After
    ``max_replacements`` the run stops with a :class:`~mi.exceptions.SchedulerError` (the
    chunks finished so far are on disk; rerunning the command resumes).

    Parameters
    ----------
    cluster : dask_jobqueue.SLURMCluster
        The cluster whose jobs are watched.
    jobs : int
        Jobs to keep running.
    notify : callable, optional
        Receives each message (default: a line on stderr).
    max_replacements : int, optional
        Default ``2 * jobs + 2``.
    """

    def __init__(
        self,
        cluster: Any,
        jobs: int,
        notify: Callable[[str], None] | None = None,
        max_replacements: int | None = None,
    ) -> None:
        self.cluster = cluster
        self.jobs = jobs
        self.notify = notify or _stderr_line
        self.max_replacements = 2 * jobs + 2 if max_replacements is None else max_replacements
        self.known: dict[str, str] = {}  # job id -> worker (job) name
        self.lost: list[dict[str, str]] = []

    def job_ids(self) -> list[str]:
        """Ids of every worker job this cluster submitted so far."""
        self._refresh()
        return list(self.known)

    def _refresh(self) -> None:
        for name, job in list(self.cluster.workers.items()):
            job_id = getattr(job, "job_id", None)
            if job_id:
                self.known.setdefault(str(job_id), str(name))

    def __call__(self) -> None:
        """Check the worker jobs once; report and replace those that ended."""
        self._refresh()
        reported = {e["job_id"] for e in self.lost}
        watch = [j for j in self.known if j not in reported]
        if not watch:
            return
        states = job_states(watch)
        for job_id in watch:
            state = states.get(job_id, "GONE")
            if state in ALIVE_STATES:
                continue
            record = job_record(job_id)
            state = record.get("JobState", state)
            log = log_path(record) or "(unknown: the job is purged)"
            name = self.known[job_id]
            self.lost.append({"job_id": job_id, "name": name, "state": state, "log": log})
            message = f"Dask worker job {job_id} ended ({state}) during the screen; its log: {log}"
            if len(self.lost) > self.max_replacements:
                raise SchedulerError(
                    f"{message}. {len(self.lost)} worker jobs lost, more than the "
                    f"{self.max_replacements} replaced automatically: stopping. The chunks "
                    "finished so far are saved; rerun the same command to resume."
                )
            self.cluster.sync(self.cluster.scale_down, [name])
            self.cluster.scale(jobs=self.jobs)
            self.notify(f"{message}; its chunks are rescheduled and a replacement job submitted")

"""Executors for the chunked screen, all behind :class:`concurrent.futures.Executor`.

- ``local``: in this process, one chunk after the other (:class:`SerialExecutor`);
- ``process``: a :class:`~concurrent.futures.ProcessPoolExecutor` sized to the CPU quota, each
  worker limited to one OpenMP thread (no oversubscription);
- ``--scheduler tcp://host:port``: a real :class:`distributed.Client` connected to a running Dask
  scheduler (its ``get_executor()``);
- ``--cluster slurm|pbs``: a dask-jobqueue cluster whose jobs get cores, memory, walltime and
  queue from the workflow's ``[execution.cluster]`` table.

Dask is imported only inside the functions that need it: nothing below the runner imports it.
Connection problems raise :class:`~mi.exceptions.SchedulerError` before any work starts.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mi._spec import choice_message
from mi.exceptions import MissingDependencyError, SchedulerError, SpecError, did_you_mean

__all__ = [
    "SerialExecutor",
    "ExecutorHandle",
    "make_executor",
    "check_scheduler_address",
    "jobqueue_cluster",
    "run_chunks",
    "CLUSTER_KINDS",
]

#: Batch systems supported through dask-jobqueue.
CLUSTER_KINDS = ("slurm", "pbs")
_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
_SUBMIT_COMMAND = {"slurm": "sbatch", "pbs": "qsub"}


class SerialExecutor(cf.Executor):
    """Run every submitted call immediately, in the calling thread.

    The returned futures are already finished; exceptions are stored in them, as a pool would.

    Examples
    --------
    >>> with SerialExecutor() as ex:
    ...     ex.submit(pow, 2, 5).result()
    32
    """

    def __init__(self) -> None:
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Call ``fn(*args, **kwargs)`` now and return a finished future."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        fut: cf.Future[Any] = cf.Future()
        fut.set_running_or_notify_cancel()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - stored in the future, like a pool does
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further submissions."""
        with self._lock:
            self._shutdown = True


def _shared_value(obj: Any) -> Any:
    """Return ``obj`` (a task that holds a shared object on a worker)."""
    return obj


def _limit_threads() -> None:
    """Limit a pool worker to one OpenMP/BLAS thread (pool initializer)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["MI_N_JOBS"] = "1"


@dataclass
class ExecutorHandle:
    """An executor plus what the runner needs to know about it.

    Attributes
    ----------
    executor : concurrent.futures.Executor
        Where chunks are submitted.
    kind : str
        ``"local"``, ``"process"``, ``"dask"`` or ``"slurm"``/``"pbs"``.
    description : str
        One line for logs, e.g. ``"dask scheduler tcp://10.0.0.1:8786 (4 workers)"``.
    n_workers : int
        Parallel slots (used to bound the chunks in flight).
    client : object, optional
        The ``distributed.Client`` for Dask executors.
    watch : callable, optional
        Called every ``poll_seconds`` while chunks are in flight (batch clusters: notices,
        reports and replaces worker jobs that ended; may raise to stop the run).
    poll_seconds : float, default 5
        Interval of ``watch``.
    recompute_shared : bool, default False
        Share objects as a task the scheduler can rerun (workers that come and go, as batch
        jobs do) instead of scattering them.
    """

    executor: cf.Executor
    kind: str
    description: str
    n_workers: int
    client: Any = None
    watch: Callable[[], None] | None = None
    poll_seconds: float = 5.0
    recompute_shared: bool = False
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def share(self, obj: Any) -> Any:
        """Make a large read-only object available to every task.

        With Dask the object is scattered once to all workers and a future stands in for it
        in every task; elsewhere it is returned unchanged. On batch clusters it is held by a
        task instead, which the scheduler recomputes when every worker holding it was lost.
        """
        if self.client is not None and self.recompute_shared:
            import warnings

            with warnings.catch_warnings():  # the models travel once, inside this one task
                warnings.filterwarnings("ignore", message="Sending large graph")
                return self.client.submit(_shared_value, obj, pure=False)
        if self.client is not None:
            return self.client.scatter(obj, broadcast=True, hash=False)
        return obj

    def workers_memory(self) -> int:
        """Sum of the workers' resident memory in bytes (0 where unknown)."""
        if self.client is None:
            return 0
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except TypeError:  # older distributed
            info = self.client.scheduler_info()
        except Exception:  # noqa: BLE001 - a monitoring read must never fail a run
            return 0
        return int(
            sum(w.get("metrics", {}).get("memory", 0) for w in info.get("workers", {}).values())
        )

    def close(self) -> None:
        """Shut the executor (and the Dask client / cluster) down."""
        self.executor.shutdown(wait=True)
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing must not mask the run's own error
                pass
        self._closers.clear()

    def __enter__(self) -> ExecutorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_scheduler_address(address: str) -> str:
    """Validate the shape of a Dask scheduler address before connecting.

    Parameters
    ----------
    address : str
        e.g. ``"tcp://10.0.0.5:8786"``.

    Returns
    -------
    str
        The address.

    Raises
    ------
    SchedulerError
        Unknown scheme (with the closest match) or missing port.
    """
    if "://" not in address:
        raise SchedulerError(
            f"Scheduler address {address!r} has no scheme. Use tcp://HOST:PORT, "
            f"e.g. tcp://{address}:8786 if {address!r} is the host."
        )
    scheme, rest = address.split("://", 1)
    if scheme not in _SCHEMES:
        hint = did_you_mean(scheme, _SCHEMES)
        raise SchedulerError(
            f"Scheduler address {address!r}: scheme {scheme!r} is not one of "
            f"{', '.join(_SCHEMES)}.{hint}"
        )
    if scheme in {"tcp", "tls", "ws", "wss"}:
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise SchedulerError(
                f"Scheduler address {address!r} needs HOST:PORT after '{scheme}://' "
                "(Dask's default port is 8786)."
            )
    return address


def _probe(address: str, timeout: float) -> None:
    """Open (and close) a TCP connection to a tcp:// scheduler address, failing fast."""
    import socket

    scheme, rest = address.split("://", 1)
    if scheme != "tcp":
        return
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 5.0)):
            pass
    except OSError as exc:
        raise SchedulerError(
            f"Cannot reach the Dask scheduler at {address!r} ({exc.strerror or exc}). Check that "
            "`dask scheduler` runs there and the port is open, or leave out --scheduler to run "
            "locally."
        ) from None


def _client_or_fail(address: Any, timeout: float, what: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a core dependency
        raise MissingDependencyError(
            "Running on a Dask scheduler needs 'distributed': pip install 'dask[distributed]'."
        ) from exc
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(
            f"Cannot reach the Dask scheduler at {what} within {timeout:g}s ({exc}). Check that "
            "`dask scheduler` runs there and the port is open, or leave out --scheduler to run "
            "locally."
        ) from None


def jobqueue_cluster(kind: str, cluster_spec: Any, **overrides: Any) -> Any:
    """Create (without starting jobs) a dask-jobqueue cluster for ``kind``.

    Parameters
    ----------
    kind : {"slurm", "pbs"}
        The batch system.
    cluster_spec : ClusterSpec
        Cores, memory, walltime, queue, account and extra directives per job.
    **overrides
        Passed to the cluster class (e.g. ``scheduler_options``).

    Returns
    -------
    dask_jobqueue.SLURMCluster or dask_jobqueue.PBSCluster
        Call ``.job_script()`` to see the batch script, ``.scale(jobs=n)`` to submit jobs.

    Examples
    --------
    A workflow's table (defaults shown) and the job it produces:

    .. code-block:: toml

        [execution.cluster]
        cores = 2
        memory = "4GB"
        walltime = "01:00:00"
        queue = "short"
        jobs = 4
        interface = "ib0"              # network of the compute nodes
        modules = ["python/3.11"]      # `module load` lines
        env = { MI_DATA_DIR = "/scratch/me/mi-data" }
    """
    if kind not in CLUSTER_KINDS:
        hint = did_you_mean(kind, CLUSTER_KINDS)
        raise SpecError(f"--cluster {kind!r} is not one of: {', '.join(CLUSTER_KINDS)}.{hint}")
    try:
        import dask_jobqueue
    except ImportError as exc:
        raise MissingDependencyError(
            f"--cluster {kind} needs dask-jobqueue: pip install 'mi-workbench[cluster]'."
        ) from exc
    from mi.runner.batch import job_prologue

    cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
    kwargs: dict[str, Any] = {
        "cores": cluster_spec.cores,
        "memory": cluster_spec.memory,
        "walltime": cluster_spec.walltime,
        "processes": cluster_spec.processes,
        "job_extra_directives": list(cluster_spec.job_extra_directives),
        # modules, environment, and one thread per Dask worker thread (no oversubscription)
        "job_script_prologue": job_prologue(cluster_spec),
    }
    for key in ("queue", "account", "interface"):  # set only when the workflow names one
        if getattr(cluster_spec, key):
            kwargs[key] = getattr(cluster_spec, key)
    kwargs.update(overrides)
    return cls(**kwargs)


def make_executor(
    kind: str = "local",
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
    cluster_spec: Any = None,
    n_jobs: int | None = None,
    timeout: float = 10.0,
    log_directory: str | os.PathLike[str] | None = None,
    notify: Callable[[str], None] | None = None,
) -> ExecutorHandle:
    """Create the executor for a run; fail fast when it cannot be had.

    Parameters
    ----------
    kind : {"local", "process"}
        Used when neither ``scheduler`` nor ``cluster`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    cluster : {"slurm", "pbs"}, optional
        Start Dask workers as batch jobs through dask-jobqueue.
    cluster_spec : ClusterSpec, optional
        Job resources for ``cluster`` (default: :class:`~mi.runner.spec.ClusterSpec()`).
    n_jobs : int, optional
        Process-pool size (default: the CPU quota).
    timeout : float, default 10
        Seconds to wait for a scheduler.
    log_directory : path, optional
        Where the batch jobs of ``cluster`` write their logs (default: the batch system's,
        e.g. ``slurm-<jobid>.out`` in the current folder).
    notify : callable, optional
        Receives messages about worker jobs lost during the run (default: stderr lines).

    Returns
    -------
    ExecutorHandle
        Use as a context manager to close it.

    Raises
    ------
    SchedulerError
        The scheduler is unreachable, the address is malformed, or the batch system's submit
        command is missing.
    """
    if scheduler and cluster:
        raise SpecError("Give either --scheduler or --cluster, not both.")
    if scheduler:
        check_scheduler_address(scheduler)
        _probe(scheduler, timeout)
        client = _client_or_fail(scheduler, timeout, repr(scheduler))
        n = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        handle = ExecutorHandle(
            executor=client.get_executor(),
            kind="dask",
            description=f"dask scheduler {scheduler} ({n} worker threads)",
            n_workers=n,
            client=client,
        )
        handle._closers.append(client.close)
        return handle
    if cluster:
        from mi.runner.spec import ClusterSpec

        cs = cluster_spec if cluster_spec is not None else ClusterSpec()
        command = _SUBMIT_COMMAND.get(cluster)
        if cluster in CLUSTER_KINDS and shutil.which(command or "") is None:
            raise SchedulerError(
                f"--cluster {cluster} submits jobs with `{command}`, which is not on PATH here. "
                f"Run mi on the cluster's login node, or use --scheduler tcp://HOST:PORT."
            )
        extra = {} if log_directory is None else {"log_directory": str(log_directory)}
        jq = jobqueue_cluster(cluster, cs, **extra)
        jq.scale(jobs=cs.jobs)
        client = _client_or_fail(jq, timeout, f"the {cluster} cluster")
        watch = None
        if cluster == "slurm":
            from mi.runner.batch import SlurmWorkerWatch

            watch = SlurmWorkerWatch(jq, cs.jobs, notify=notify)
        handle = ExecutorHandle(
            executor=client.get_executor(),
            kind=cluster,
            description=(
                f"{cluster} via dask-jobqueue: {cs.jobs} job(s) x {cs.cores} cores, "
                f"{cs.memory}, walltime {cs.walltime}, queue {cs.queue or '(default)'}"
            ),
            n_workers=cs.jobs * cs.processes,
            client=client,
            watch=watch,
            recompute_shared=True,
        )
        handle._closers += [jq.close, client.close]
        return handle
    if kind == "local":
        return ExecutorHandle(SerialExecutor(), "local", "in this process", 1)
    if kind == "process":
        import multiprocessing

        from mi.config import resolve_n_jobs

        n = resolve_n_jobs(n_jobs)
        pool = cf.ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_threads,
        )
        return ExecutorHandle(pool, "process", f"process pool ({n} workers)", n)
    raise SpecError(choice_message("execution.executor", kind, ["local", "process"]))


def run_chunks(
    handle: ExecutorHandle,
    fn: Callable[..., Any],
    items: Iterable[Any],
    *args: Any,
    max_in_flight: int | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Submit ``fn(item, *args)`` for each item, at most ``max_in_flight`` at a time.

    Results are yielded as ``(item, result)`` in completion order, so the caller can checkpoint
    each one as soon as it finishes. Memory stays bounded: new chunks are submitted only as
    earlier ones complete. The first exception cancels what is still queued and is re-raised.

    Parameters
    ----------
    handle : ExecutorHandle
        Where to run.
    fn : callable
        ``fn(item, *args)``; must be importable by workers (a module-level function).
    items : iterable
        One per chunk, e.g. chunk indices.
    *args
        Passed after the item (use :meth:`ExecutorHandle.share` for large objects).
    max_in_flight : int, optional
        Default ``2 * handle.n_workers``.

    Yields
    ------
    tuple
        ``(item, result)``.
    """
    limit = max_in_flight or max(1, 2 * handle.n_workers)
    pending: dict[cf.Future[Any], Any] = {}
    it = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[handle.executor.submit(fn, item, *args)] = item
            if not pending:
                return
            done, _ = cf.wait(
                list(pending),
                timeout=handle.poll_seconds if handle.watch else None,
                return_when=cf.FIRST_COMPLETED,
            )
            if handle.watch is not None:
                handle.watch()
            for fut in done:
                item = pending.pop(fut)
                yield item, fut.result()
    finally:
        for fut in pending:
            fut.cancel()

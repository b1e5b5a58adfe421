"""A real single-node SLURM cluster on 127.0.0.1, in a temporary folder, for tests and benchmarks.

Starts ``munged`` (its own key, socket, pid and seed files), ``slurmctld`` and ``slurmd`` from the
Debian packages (``apt-get install slurmctld slurmd slurm-client munge``), all bound to loopback
on two free ports, with every state, spool and log file under one folder. Nothing is read from
or written to ``/etc``. :meth:`LocalSlurm.stop` cancels every job, waits until the queue is
empty, stops the three daemons it started by PID, and ends any job step process still running
for this cluster, so nothing is left behind.

Clients (``sbatch``, ``squeue``, ``scancel``, dask-jobqueue) need ``SLURM_CONF`` pointing at the
generated ``slurm.conf``: use :attr:`LocalSlurm.env`, or :meth:`LocalSlurm.export` to set it in
this process's environment.

Command line (for a shell, or CI)::

    python -m mi._testing.localslurm start /tmp/slurm   # prints: export SLURM_CONF=...
    python -m mi._testing.localslurm status /tmp/slurm
    python -m mi._testing.localslurm stop /tmp/slurm
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["LocalSlurm", "LocalSlurmError", "missing_binaries", "REQUIRED_BINARIES"]

#: Programs the cluster needs: the three daemons and the clients the runner calls.
REQUIRED_BINARIES = (
    "munged",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scancel",
    "scontrol",
    "sinfo",
)
_SBIN = "/usr/sbin:/sbin:/usr/local/sbin"


class LocalSlurmError(RuntimeError):
    """The local cluster could not be started (the message quotes the daemon's log)."""


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=_SBIN)


def missing_binaries() -> list[str]:
    """Return the SLURM/munge programs that are not installed here (empty when all are).

    Examples
    --------
    >>> isinstance(missing_binaries(), list)
    True
    """
    return [name for name in REQUIRED_BINARIES if _which(name) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _node_resources() -> tuple[str, int, int]:
    """Node name, CPUs and RealMemory (MB) as ``slurmd -C`` reports them."""
    slurmd = _which("slurmd") or "slurmd"
    out = subprocess.run(
        [slurmd, "-C"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    fields = dict(part.split("=", 1) for part in out.split() if "=" in part)
    name = socket.gethostname().split(".")[0]
    cpus = int(fields.get("CPUs", os.cpu_count() or 1))
    memory = int(fields.get("RealMemory", 2048))
    return name, cpus, memory


def _tail(path: Path, n: int = 12) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


class LocalSlurm:
    """A single-node SLURM cluster on loopback, living in ``root``.

    Parameters
    ----------
    root : path
        Folder for the configuration, munge key and socket, state, spool and logs (created).
    def_mem_per_cpu : int, default 512
        Memory (MB) a job gets per CPU when it does not ask (``DefMemPerCPU``); without it a job
        would take the whole node.

    Examples
    --------
    >>> with LocalSlurm("/tmp/s") as slurm:  # doctest: +SKIP
    ...     slurm.run("sbatch", "--wrap", "hostname")
    """

    def __init__(self, root: str | Path, def_mem_per_cpu: int = 512) -> None:
        self.root = Path(root).resolve()
        self.def_mem_per_cpu = def_mem_per_cpu
        self.conf = self.root / "slurm.conf"
        self.logs = self.root / "log"
        self.node, self.cpus, self.real_memory = "", 0, 0
        self.ctl_port = self.node_port = 0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # ---- environment ------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """Return this process's environment plus ``SLURM_CONF`` (for client subprocesses)."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def export(self) -> None:
        """Set ``SLURM_CONF`` in this process's environment (dask-jobqueue inherits it)."""
        os.environ["SLURM_CONF"] = str(self.conf)

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        """Run a SLURM client command against this cluster and return its stdout.

        Raises
        ------
        LocalSlurmError
            The command failed (``check``) or timed out.
        """
        exe = _which(args[0]) or args[0]
        try:
            proc = subprocess.run(
                [exe, *args[1:]],
                capture_output=True,
                text=True,
                env=self.env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LocalSlurmError(
                f"`{' '.join(args)}` did not answer within {timeout:g}s"
            ) from None
        if check and proc.returncode != 0:
            raise LocalSlurmError(
                f"`{' '.join(args)}` failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc.stdout

    def job_ids(self) -> list[str]:
        """Ids of every job in the queue (array tasks as ``123_4``)."""
        out = self.run("squeue", "-h", "-o", "%i", check=False)
        return [line.strip() for line in out.splitlines() if line.strip()]

    def finished_jobs(self) -> list[dict[str, str]]:
        """Finished jobs from the job-completion log (``sacct`` needs a database; this does not).

        Returns
        -------
        list of dict
            ``JobId``, ``JobName``, ``JobState``, ``ExitCode``, ``StartTime``, ``EndTime`` ...
        """
        path = self.logs / "jobcomp.log"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            rows.append(dict(p.split("=", 1) for p in line.split() if "=" in p))
        return rows

    # ---- start ------------------------------------------------------------------------
    def _write_config(self) -> None:
        user = getpass.getuser()
        self.node, self.cpus, self.real_memory = _node_resources()
        self.ctl_port, self.node_port = _free_port(), _free_port()
        while self.node_port == self.ctl_port:
            self.node_port = _free_port()
        for sub in ("state", "spool", "log", "munge"):
            (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root / "munge", 0o700)
        r = self.root
        memory = max(256, self.real_memory - 512)
        lines = [
            "# written by mi._testing.localslurm: a single-node cluster on 127.0.0.1",
            "ClusterName=milocal",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={self.ctl_port}",
            f"SlurmdPort={self.node_port}",
            f"SlurmUser={user}",
            f"SlurmdUser={user}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={r / 'munge' / 'munge.socket'}",
            "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny",
            f"StateSaveLocation={r / 'state'}",
            f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'slurmctld.pid'}",
            f"SlurmdPidFile={r / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.logs / 'slurmctld.log'}",
            f"SlurmdLogFile={self.logs / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={self.logs / 'jobcomp.log'}",
            "MpiDefault=none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=sched_interval=2,bf_interval=2",
            "KillWait=5",
            "MinJobAge=600",
            f"DefMemPerCPU={self.def_mem_per_cpu}",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={memory} State=UNKNOWN",
            f"PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        key = r / "munge" / "munge.key"
        if not key.exists():
            key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)

    def _spawn(self, name: str, args: list[str]) -> None:
        exe = _which(args[0])
        if exe is None:
            raise LocalSlurmError(f"{args[0]} is not installed")
        log = open(self.logs / f"{name}.stdout", "ab")  # noqa: SIM115 - owned by the child
        self._procs[name] = subprocess.Popen(
            [exe, *args[1:]],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )
        log.close()

    def _wait(self, what: str, ready: Any, timeout: float, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise LocalSlurmError(
                        f"{name} exited ({proc.returncode}) while waiting for {what}; log "
                        f"{log}:\n{_tail(log)}\n{_tail(self.logs / f'{name}.stdout')}"
                    )
            if ready():
                return
            time.sleep(0.2)
        raise LocalSlurmError(f"{what} not ready within {timeout:g}s; log {log}:\n{_tail(log)}")

    def _ctl_up(self) -> bool:
        if not _port_in_use(self.ctl_port):
            return False
        try:
            return "UP" in self.run("scontrol", "ping", check=False, timeout=5)
        except LocalSlurmError:
            return False

    def _node_idle(self) -> bool:
        try:
            state = self.run("sinfo", "-h", "-N", "-o", "%T", check=False, timeout=5)
        except LocalSlurmError:
            return False
        return state.strip().startswith("idle")

    def start(self, timeout: float = 60.0) -> LocalSlurm:
        """Write the configuration, start the three daemons and wait until the node is idle.

        Parameters
        ----------
        timeout : float, default 60
            Seconds to wait for each daemon.

        Returns
        -------
        LocalSlurm
            ``self``.

        Raises
        ------
        LocalSlurmError
            A program is missing, a port is taken, or a daemon did not come up (the message
            quotes its log). Whatever was started is stopped again.
        """
        missing = missing_binaries()
        if missing:
            raise LocalSlurmError(
                f"SLURM is not installed here (missing: {', '.join(missing)}); on Debian: "
                "apt-get install slurmctld slurmd slurm-client munge"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_config()
        for port in (self.ctl_port, self.node_port):
            if _port_in_use(port):
                raise LocalSlurmError(f"port {port} on 127.0.0.1 is already in use")
        m = self.root / "munge"
        try:
            self._spawn(
                "munged",
                [
                    "munged",
                    "--foreground",
                    "--force",
                    f"--key-file={m / 'munge.key'}",
                    f"--socket={m / 'munge.socket'}",
                    f"--pid-file={m / 'munged.pid'}",
                    f"--seed-file={m / 'munged.seed'}",
                    f"--log-file={self.logs / 'munged.log'}",
                ],
            )
            self._wait(
                "munged",
                (m / "munge.socket").exists,
                timeout,
                self.logs / "munged.log",
            )
            self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
            self._wait("slurmctld", self._ctl_up, timeout, self.logs / "slurmctld.log")
            self._spawn("slurmd", ["slurmd", "-D", "-N", self.node, "-f", str(self.conf)])
            self._wait("slurmd", self._node_idle, timeout, self.logs / "slurmd.log")
        except BaseException:
            self.stop()
            raise
        (self.root / "pids.json").write_text(
            json.dumps({name: p.pid for name, p in self._procs.items()})
        )
        return self

    # ---- stop -------------------------------------------------------------------------
    def _cancel_all(self, timeout: float) -> None:
        ids = self.job_ids()
        if not ids:
            return
        self.run("scancel", *ids, check=False)
        deadline = time.monotonic() + timeout
        while self.job_ids() and time.monotonic() < deadline:
            time.sleep(0.3)

    def _job_processes(self) -> list[int]:
        """PIDs of job steps of this cluster still running (their environment names our conf)."""
        marker = f"SLURM_CONF={self.conf}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if marker in environ and (
                comm == "slurmstepd" or any(v.startswith(b"SLURM_JOB_ID=") for v in environ)
            ):
                found.append(int(entry.name))
        return found

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel every job, stop the daemons this object started, end leftover job steps."""
        ctl = self._procs.get("slurmctld")
        if ctl is not None and ctl.poll() is None:
            with contextlib.suppress(LocalSlurmError):
                self._cancel_all(timeout)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for pid in self._job_processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_by_pid_file(root: Path) -> None:
    """Stop a cluster started by another process (the ``stop`` command)."""
    slurm = LocalSlurm(root)
    pids = json.loads((slurm.root / "pids.json").read_text())
    if _which("scancel") and _port_in_use(_ctl_port_of(slurm.conf)):
        with contextlib.suppress(LocalSlurmError):
            slurm._cancel_all(30)
    for name in ("slurmd", "slurmctld", "munged"):
        pid = pids.get(name)
        if pid is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for pid in slurm._job_processes():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    (slurm.root / "pids.json").unlink()


def _ctl_port_of(conf: Path) -> int:
    for line in conf.read_text().splitlines():
        if line.startswith("SlurmctldPort="):
            return int(line.split("=", 1)[1])
    return 6817


def main(argv: list[str] | None = None) -> int:
    """``python -m mi._testing.localslurm start|stop|status FOLDER``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("start", "stop", "status"):
        print(__doc__.split("Command line")[1].strip(), file=sys.stderr)
        return 2
    command, folder = args
    if command == "start":
        slurm = LocalSlurm(folder).start()
        # the daemons run in their own sessions and outlive this command; `stop` ends them
        slurm._procs.clear()
        print(f"export SLURM_CONF={slurm.conf}")
        return 0
    if command == "stop":
        _stop_by_pid_file(Path(folder))
        return 0
    slurm = LocalSlurm(folder)
    print(slurm.run("sinfo"), end="")
    print(slurm.run("squeue"), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

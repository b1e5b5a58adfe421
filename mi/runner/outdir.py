"""One writer per output folder: a lock file in ``--out`` held for the whole run.

``OUT/.mi-run.lock`` is created with ``O_CREAT | O_EXCL`` (atomic, also on NFS) and holds the
owner's pid, host name, start time and command line as JSON. A second run into the same folder
fails at once with a message naming that process. A lock left by a process that died (same
host, pid no longer running) is stale and is taken over; a lock from another host is never
broken automatically, since its pid cannot be checked from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mi.exceptions import MIError

__all__ = ["LOCK_NAME", "OutDirBusyError", "OutDirLock", "lock_out_dir"]

#: File name of the lock inside the output folder.
LOCK_NAME = ".mi-run.lock"


class OutDirBusyError(MIError, RuntimeError):
    """Another process is writing into the same output folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


class OutDirLock:
    """Exclusive ownership of an output folder (a context manager).

    Parameters
    ----------
    out_dir : path
        The folder (created when missing).

    Raises
    ------
    OutDirBusyError
        On entering, when a live process (or one on another host) holds the folder.

    Examples
    --------
    >>> with OutDirLock(tmp) as lock:  # doctest: +SKIP
    ...     ...  # write into tmp
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_NAME
        self.info: dict[str, Any] = {}
        self._held = False

    def _owner_text(self) -> str:
        self.info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "token": secrets.token_hex(8),
            "command": " ".join(sys.argv)[:500],
        }
        return json.dumps(self.info)

    def acquire(self) -> OutDirLock:
        """Take the lock (see the class); idempotent per object."""
        if self._held:
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        text = self._owner_text()
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                seen = self._read()
                if seen is None:  # vanished or half-written: look again
                    time.sleep(0.05)
                    continue
                raw, owner = seen
                if owner.get("host") == socket.gethostname() and not _pid_alive(
                    int(owner.get("pid", -1))
                ):
                    self._break_stale(raw)
                    continue
                raise OutDirBusyError(self._busy_message(owner)) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            self._held = True
            return self
        raise OutDirBusyError(  # pragma: no cover - lock churned five times in a row
            f"Output folder {self.out_dir} is being locked and unlocked by other processes; "
            "use another --out."
        )

    def _read(self) -> tuple[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_text()
            owner = json.loads(raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            try:  # half-written by a process that died between open and write
                age = time.time() - self.path.stat().st_mtime
            except OSError:
                return None
            if age < 5:
                return None
            return "", {"pid": -1, "host": socket.gethostname(), "started": "?"}
        return (raw, owner) if isinstance(owner, dict) else ("", {"pid": -1})

    def _break_stale(self, seen: str) -> None:
        """Remove a stale lock without removing a fresh one taken in the meantime."""
        grave = self.path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            os.rename(self.path, grave)
        except FileNotFoundError:
            return  # another process broke it first
        try:
            if seen and grave.read_text() != seen:
                # we moved a live lock taken after our look: put it back if the place is free
                with contextlib.suppress(FileExistsError):
                    os.link(grave, self.path)
        finally:
            grave.unlink(missing_ok=True)

    def _busy_message(self, owner: dict[str, Any]) -> str:
        pid, host = owner.get("pid", "?"), owner.get("host", "?")
        where = "this host" if host == socket.gethostname() else f"host {host}"
        return (
            f"Output folder {self.out_dir} is in use by another mi run (pid {pid} on {where}, "
            f"started {owner.get('started', '?')}); wait for it to finish or use another --out. "
            f"If that process is gone, delete {self.path}."
        )

    def release(self) -> None:
        """Give the folder back (removes the lock file if it is still ours)."""
        if not self._held:
            return
        self._held = False
        try:
            owner = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if owner.get("token") == self.info.get("token"):
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> OutDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def lock_out_dir(out_dir: str | os.PathLike[str]) -> Iterator[OutDirLock]:
    """Hold :class:`OutDirLock` on ``out_dir`` for the ``with`` block."""
    with OutDirLock(out_dir) as lock:
        yield lock

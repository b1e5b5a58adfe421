"""One atomic file writer for the whole package.

A temporary file with a per-process, per-call name in the target's folder (``.<name>.<pid>.
<random>.tmp``), written, flushed and fsynced, renamed over the target with :func:`os.replace`,
then the folder fsynced. A reader, or a process resumed after SIGKILL, sees the old file or the
new one, never a torn one; two processes writing the same path never share a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "TMP_SUFFIX",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_dir",
    "tmp_name",
]

#: Suffix of every temporary file (stale ones can be recognised and removed).
TMP_SUFFIX = ".tmp"

_UMASK = os.umask(0)
os.umask(_UMASK)


def tmp_name(path: Path) -> Path:
    """Return a temporary path beside ``path``, unique to this process and call.

    Parameters
    ----------
    path : Path
        The final file.

    Returns
    -------
    Path
        ``.<name>.<pid>.<8 hex>.tmp`` in the same folder.
    """
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk (after a rename); a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write a file atomically through a callback that writes to a temporary path.

    Parameters
    ----------
    path : path
        The final file (its folder is created).
    write : callable
        Called with the temporary path; writes the whole file there (e.g.
        ``lambda p: df.to_parquet(p, index=False)``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (mode from the umask, like ``open``).

    Parameters
    ----------
    path : path
        The final file.
    data : bytes
        Its whole content.

    Returns
    -------
    Path
    """

    def write(tmp: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    return atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))

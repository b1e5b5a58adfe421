"""Atomic file writes: temporary file in the same folder, flush + fsync, ``os.replace``, fsync dir.

A reader (or a process resumed after SIGKILL) sees either the old file or the new one, never a
torn one.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_parquet", "dir_lock"]

TMP_SUFFIX = ".tmp"


def _fsync_dir(folder: Path) -> None:
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


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (tmp file, fsync, rename, fsync folder)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: str | os.PathLike[str], df: pd.DataFrame) -> Path:
    """Write ``df`` to Parquet atomically (pyarrow, index dropped)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow")
    return atomic_write_bytes(path, buf.getvalue())


@contextlib.contextmanager
def dir_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (released by the OS if the process dies)."""
    import fcntl

    fd = os.open(Path(folder) / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

"""Find, download and verify dataset files.

A file ``N`` of dataset folder ``F`` is looked for, in order, at

1. ``$MI_DATA_DIR/F/N`` (a read-only mirror is fine, e.g. ``../shared/datasets``),
2. ``<cache_dir>/datasets/F/N`` (where downloads go),

and otherwise downloaded from its canonical URL (pinned to a commit) into the cache, unless
the ``offline`` setting is on, in which case :class:`~mi.exceptions.DataUnavailableError`
says which file to put where. The sha256 is checked every time a file is used (memoised per
path, size and modification time); a mismatch raises
:class:`~mi.exceptions.ChecksumError` and the file is not used.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from mi.config import get_settings
from mi.data.manifest import FileSpec
from mi.exceptions import ChecksumError, DataUnavailableError

__all__ = ["candidate_paths", "locate", "fetch", "verify"]

_VERIFIED: dict[tuple[str, int, int, int, int], str] = {}


def candidate_paths(folder: str, name: str) -> list[Path]:
    """Where a file is looked for, in order (mirror first, then the cache)."""
    settings = get_settings()
    paths = []
    if settings.data_dir is not None:
        paths.append(Path(settings.data_dir) / folder / name)
    paths.append(Path(settings.cache_dir) / "datasets" / folder / name)
    return paths


def locate(folder: str, name: str) -> Path | None:
    """Return the first existing candidate path, or None."""
    for path in candidate_paths(folder, name):
        if path.is_file():
            return path
    return None


def verify(path: Path, sha256: str) -> None:
    """Check a file's sha256; raise :class:`ChecksumError` on mismatch.

    Parameters
    ----------
    path : Path
        The file.
    sha256 : str
        Expected hex digest.
    """
    stat = path.stat()
    # ctime and inode cannot be set back by a user, unlike the mtime
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    digest = _VERIFIED.get(key)
    if digest is None:
        from mi.data.tables import sha256_file  # (imports pandas: only when checking)

        digest = sha256_file(path)
        _VERIFIED[key] = digest
    if digest != sha256:
        raise ChecksumError(
            f"Checksum mismatch for {path}: expected sha256 {sha256}, got {digest}. The file "
            "was not used. Delete or replace it with the original (the manifest names the source)."
        )


def _download(url: str, target: Path, sha256: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        verify(tmp, sha256)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(folder: str, spec: FileSpec, dataset: str = "") -> Path:
    """Return a verified local path of a dataset file, downloading it when needed.

    Parameters
    ----------
    folder : str
        Dataset folder name (e.g. ``"supercon_stanev2018"``).
    spec : FileSpec
        File name, sha256 and canonical URL.
    dataset : str, optional
        Dataset name, for messages.

    Returns
    -------
    Path

    Raises
    ------
    ChecksumError
        The local or downloaded file does not match the manifest's sha256.
    DataUnavailableError
        Offline (or the download failed) and the file is not present; says where to put it.
    """
    found = locate(folder, spec.name)
    if found is not None:
        verify(found, spec.sha256)
        return found
    settings = get_settings()
    places = " or ".join(str(p) for p in candidate_paths(folder, spec.name))
    label = f"Dataset {dataset!r} needs" if dataset else "Need"
    if settings.offline:
        raise DataUnavailableError(
            f"{label} {folder}/{spec.name} (sha256 {spec.sha256}) and mi is offline "
            f"(MI_OFFLINE). Download {spec.download_url} and put it at {places}, or set "
            "MI_DATA_DIR to a folder laid out as <dataset folder>/<file>."
        )
    target = candidate_paths(folder, spec.name)[-1]
    try:
        _download(spec.download_url, target, spec.sha256)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataUnavailableError(
            f"{label} {folder}/{spec.name}; downloading {spec.download_url} failed ({exc}). "
            f"Put the file at {places}."
        ) from exc
    return target

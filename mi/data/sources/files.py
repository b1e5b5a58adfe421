"""Datasets made of files pinned to a commit (found in the mirror/cache or downloaded)."""

from __future__ import annotations

from pathlib import PurePosixPath

from mi.data.cache import fetch
from mi.data.cleaning import SourceFrame
from mi.data.manifest import Manifest
from mi.data.tables import read_raw_table

__all__ = ["load_files"]


def load_files(manifest: Manifest) -> tuple[list[SourceFrame], dict[str, str]]:
    """Fetch, verify and read every file of a ``kind = "files"`` manifest.

    Parameters
    ----------
    manifest : Manifest
        The dataset manifest.

    Returns
    -------
    frames : list of SourceFrame
        One raw table per file, with ``split`` as a constant column where the file has one.
    sha256 : dict of str to str
        File name to verified sha256.
    """
    assert manifest.folder is not None  # guaranteed by the manifest validator
    frames = []
    for spec in manifest.files:
        path = fetch(manifest.folder, spec, dataset=manifest.name)
        df = read_raw_table(path, format=spec.format, read_options=spec.read_options)
        constants: dict[str, object] = {"split": spec.split} if spec.split else {}
        frames.append(SourceFrame(str(PurePosixPath(manifest.folder, spec.name)), df, constants))
    return frames, {spec.name: spec.sha256 for spec in manifest.files}

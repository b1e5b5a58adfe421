"""Published fixed splits of registered datasets: JARVIS-Leaderboard and Matbench v0.1.

Scores on these splits can be compared with the public leaderboards, provided the protocol is
followed exactly (train only on the training rows, tune only inside them, score every test row):

- :func:`jarvis_split`: a train/test id split shipped as a file (``datasets/splits/<name>.toml``
  pins it by sha256); ids are 0-based data rows of the dataset's source file;
- :func:`matbench_folds`: Matbench v0.1's five folds, regenerated exactly as matbench does
  (``KFold`` / ``StratifiedKFold``, ``n_splits=5``, ``shuffle=True``,
  ``random_state=18012019`` on the rows in ``mbid`` order).
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from mi.config import definition_dirs
from mi.data.cache import fetch
from mi.data.manifest import FileSpec
from mi.exceptions import DataError, SpecError

__all__ = ["JarvisSplit", "jarvis_split", "matbench_folds", "MATBENCH_SEED", "source_rows"]

#: ``random_state`` of matbench v0.1's fold generator (``mvb01_generate_validation.py``).
MATBENCH_SEED = 18012019


class _SplitManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    dataset: str
    folder: str
    protocol: str
    leaderboard: str
    citation: str
    licence: str
    file: FileSpec


@dataclass(frozen=True)
class JarvisSplit:
    """A JARVIS-Leaderboard train/test split.

    Attributes
    ----------
    name, dataset, protocol, leaderboard : str
        From the split's definition file.
    train_ids, test_ids : ndarray of int
        0-based data rows of the dataset's source file.
    train_values, test_values : ndarray of float
        The targets the leaderboard stores for those ids.
    sha256 : str
        Verified checksum of the split file.
    """

    name: str
    dataset: str
    protocol: str
    leaderboard: str
    train_ids: np.ndarray
    test_ids: np.ndarray
    train_values: np.ndarray
    test_values: np.ndarray
    sha256: str


def _split_manifest(name: str) -> _SplitManifest:
    for folder in definition_dirs("datasets"):
        path = folder / "splits" / f"{name}.toml"
        if path.is_file():
            try:
                return _SplitManifest(**tomllib.loads(path.read_text()))
            except (tomllib.TOMLDecodeError, ValidationError) as exc:
                raise SpecError(f"{path}: not a valid split definition: {exc}") from None
    raise SpecError(f"No published split named {name!r} (looked for datasets/splits/{name}.toml).")


def jarvis_split(name: str = "jarvis_supercon_chem") -> JarvisSplit:
    """Read a JARVIS-Leaderboard split (file fetched and sha256-verified like any dataset file).

    Parameters
    ----------
    name : str, default "jarvis_supercon_chem"
        Split definition in ``datasets/splits/``.

    Returns
    -------
    JarvisSplit

    Raises
    ------
    DataError
        When the file is not ``{"train": {id: value}, "test": {id: value}}`` with integer ids.
    """
    spec = _split_manifest(name)
    path = fetch(spec.folder, spec.file, dataset=spec.name)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith(".json")]
            if len(members) != 1:
                raise DataError(f"{path}: expected one .json file inside, found {members}.")
            data = json.loads(archive.read(members[0]))
        parts = {
            k: (np.array([int(i) for i in data[k]]), np.array(list(data[k].values()), float))
            for k in ("train", "test")
        }
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a JARVIS split file ({exc!r}).") from None
    if np.intersect1d(parts["train"][0], parts["test"][0]).size:
        raise DataError(f"{path}: ids appear in both train and test.")
    return JarvisSplit(
        name=spec.name,
        dataset=spec.dataset,
        protocol=spec.protocol,
        leaderboard=spec.leaderboard,
        train_ids=parts["train"][0],
        test_ids=parts["test"][0],
        train_values=parts["train"][1],
        test_values=parts["test"][1],
        sha256=spec.file.sha256,
    )


def source_rows(report: Any, n_input: int) -> np.ndarray:
    """0-based source rows of the accepted rows of an unmerged single-file dataset.

    Parameters
    ----------
    report : ValidationReport
        ``Dataset.report`` of a dataset loaded with ``merge="none"``.
    n_input : int
        Rows of the source file.

    Returns
    -------
    ndarray of int
        Source row of each accepted row, in the dataset's row order.
    """
    rejected = report.rejected
    dropped = set() if rejected is None or len(rejected) == 0 else set(rejected["row"].astype(int))
    return np.array([i for i in range(n_input) if i not in dropped], dtype=np.int64)


def matbench_folds(y: Any, classification: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Matbench v0.1's five official folds of rows in ``mbid`` order.

    Parameters
    ----------
    y : array-like of shape (n,)
        Targets in ``mbid`` order (only their count matters for regression; the classes are
        stratified for classification).
    classification : bool, default False
        ``StratifiedKFold`` (``matbench_expt_is_metal``) instead of ``KFold``.

    Returns
    -------
    list of (train_index, test_index)

    Examples
    --------
    >>> folds = matbench_folds(np.zeros(4604))
    >>> [len(test) for _, test in folds]
    [921, 921, 921, 921, 920]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    y = np.asarray(y)
    splitter: Any = (
        StratifiedKFold(n_splits=5, shuffle=True, random_state=MATBENCH_SEED)
        if classification
        else KFold(n_splits=5, shuffle=True, random_state=MATBENCH_SEED)
    )
    return [(train, test) for train, test in splitter.split(np.zeros((y.size, 1)), y)]

"""Datasets published through matminer (e.g. ``matbench_expt_gap``), read safely.

The file is the one matminer downloads (``<cache_dir>/matminer/<name>.json.gz``, URL and
sha256 from matminer's packaged ``dataset_metadata.json``). mi checks its sha256 on every load
(not only after a download, as matminer does) and decodes it as plain JSON: a ``@module`` /
``@class`` object is accepted only when it names a pymatgen class on :data:`ALLOWED_CLASSES`,
which mi imports itself. matminer's ``MontyDecoder`` would import any module named in the data.
"""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd

from mi.config import get_settings
from mi.data.cleaning import SourceFrame
from mi.data.manifest import Manifest
from mi.exceptions import ChecksumError, DataError, DataUnavailableError

__all__ = ["ALLOWED_CLASSES", "load_matminer", "matminer_data_home", "read_matminer_json"]

#: ``(@module, @class)`` pairs a matminer JSON file may contain; decoded with ``from_dict``.
ALLOWED_CLASSES: dict[tuple[str, str], tuple[str, str]] = {
    ("pymatgen.core.structure", "Structure"): ("pymatgen.core", "Structure"),
    ("pymatgen.core.structure", "IStructure"): ("pymatgen.core", "IStructure"),
    ("pymatgen.core.composition", "Composition"): ("pymatgen.core", "Composition"),
}
#: Helper objects allowed inside those (kept as dicts; their owner's ``from_dict`` reads them).
_INNER_CLASSES = {
    ("pymatgen.core.lattice", "Lattice"),
    ("pymatgen.core.sites", "PeriodicSite"),
    ("pymatgen.core.sites", "Site"),
    ("pymatgen.core.periodic_table", "Element"),
    ("pymatgen.core.periodic_table", "Species"),
    ("pymatgen.core.periodic_table", "Specie"),
}


def matminer_data_home() -> Path:
    """Folder where matminer's files are kept: ``<cache_dir>/matminer``."""
    return Path(get_settings().cache_dir) / "matminer"


def _open(path: Path) -> Any:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return path.open("rb")


def read_matminer_json(path: str | Path) -> pd.DataFrame:
    """Read a matminer dataset file (JSON, ``.gz``/``.bz2``) without importing anything.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    pandas.DataFrame
        Cells holding an allow-listed pymatgen object are decoded with its ``from_dict``.

    Raises
    ------
    DataError
        The file is not JSON, not a table, or names a class that is not allowed.
    """
    path = Path(path)

    def hook(obj: dict[str, Any]) -> dict[str, Any]:
        if "@module" in obj or "@class" in obj:
            key = (str(obj.get("@module")), str(obj.get("@class")))
            if key not in ALLOWED_CLASSES and key not in _INNER_CLASSES:
                raise DataError(
                    f"{path}: refusing object @module={key[0]!r} @class={key[1]!r}; a dataset "
                    "file may only hold pymatgen Structures and Compositions."
                )
        return obj

    try:
        with _open(path) as fh:
            data = json.load(fh, object_hook=hook)
    except DataError:
        raise
    except (OSError, EOFError, ValueError, RecursionError) as exc:
        raise DataError(f"{path}: not a readable matminer JSON file ({exc}).") from None
    if isinstance(data, dict) and set(data) == {"data", "columns", "index"}:
        df = pd.DataFrame(data["data"], columns=data["columns"], index=data["index"])
    elif isinstance(data, list | dict):
        df = pd.DataFrame(data)
    else:
        raise DataError(f"{path}: a matminer file holds a table, got {type(data).__name__}.")
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = [_decode(v, path) for v in df[col]]
    return df


def _decode(value: Any, path: Path) -> Any:
    if not isinstance(value, dict) or "@class" not in value:
        return value
    import importlib

    module, name = ALLOWED_CLASSES[(str(value.get("@module")), str(value["@class"]))]
    cls = getattr(importlib.import_module(module), name)  # a fixed, allow-listed pymatgen class
    try:
        return cls.from_dict(value)
    except Exception as exc:  # pymatgen raises many types for a malformed dict
        raise DataError(f"{path}: cannot decode a {name}: {type(exc).__name__}: {exc}.") from None


def load_matminer(manifest: Manifest) -> tuple[list[SourceFrame], dict[str, str]]:
    """Load a matminer dataset (e.g. ``matbench_expt_gap``) as a raw frame.

    Parameters
    ----------
    manifest : Manifest
        A ``kind = "matminer"`` manifest.

    Returns
    -------
    frames, sha256
        One raw frame; the file's sha256 (checked against matminer's metadata).

    Raises
    ------
    ChecksumError
        The cached file's sha256 differs from matminer's metadata; the file was not read.
    DataUnavailableError
        Not cached and offline, or the download failed.
    """
    assert manifest.matminer is not None
    from matminer.datasets import get_dataset_attribute

    from mi.data.tables import sha256_file

    name = manifest.matminer.dataset
    home = matminer_data_home()
    try:
        expected = str(get_dataset_attribute(name, "hash"))
        url = str(get_dataset_attribute(name, "url"))
    except (KeyError, ValueError, AttributeError) as exc:
        raise DataUnavailableError(f"matminer has no dataset {name!r} ({exc}).") from None
    file = home / f"{name}.json.gz"
    if not file.is_file():
        if get_settings().offline:
            raise DataUnavailableError(
                f"Dataset {manifest.name!r} comes from matminer's {name!r}, which is not cached "
                f"at {file} and mi is offline (MI_OFFLINE). Run once online, or put matminer's "
                f"{name}.json.gz there."
            )
        from matminer.datasets.utils import _validate_dataset

        home.mkdir(parents=True, exist_ok=True)
        try:  # matminer downloads and checks the hash of what it downloaded
            _validate_dataset(str(file), url, expected, download_if_missing=True)
        except (OSError, ValueError, UserWarning) as exc:
            raise DataUnavailableError(
                f"matminer could not download {name!r} into {home}: {exc}. Check the network, "
                f"or put {name}.json.gz there."
            ) from exc
    digest = sha256_file(file)  # on every load, not only after a download
    if digest != expected:
        raise ChecksumError(
            f"Checksum mismatch for {file}: expected sha256 {expected} (matminer's metadata), "
            f"got {digest}. The file was not used. Delete it to download it again."
        )
    df = read_matminer_json(file)
    return [SourceFrame(f"matminer:{name}", df.reset_index(drop=True))], {f"{name}.json.gz": digest}

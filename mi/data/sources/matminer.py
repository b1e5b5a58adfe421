"""Datasets delegated to matminer's own ``load_dataset`` (it downloads and checks sha256)."""

from __future__ import annotations

from pathlib import Path

from mi.config import get_settings
from mi.data.cleaning import SourceFrame
from mi.data.manifest import Manifest
from mi.exceptions import DataUnavailableError

__all__ = ["load_matminer", "matminer_data_home"]


def matminer_data_home() -> Path:
    """Folder where matminer's files are kept: ``<cache_dir>/matminer``."""
    return Path(get_settings().cache_dir) / "matminer"


def load_matminer(manifest: Manifest) -> tuple[list[SourceFrame], dict[str, str]]:
    """Load a matminer dataset (e.g. ``matbench_expt_gap``) as a raw frame.

    Parameters
    ----------
    manifest : Manifest
        A ``kind = "matminer"`` manifest.

    Returns
    -------
    frames, sha256
        One raw frame; the sha256 recorded in matminer's metadata.
    """
    assert manifest.matminer is not None
    from matminer.datasets import get_dataset_attribute, load_dataset

    name = manifest.matminer.dataset
    home = matminer_data_home()
    file = home / f"{name}.json.gz"
    if get_settings().offline and not file.is_file():
        raise DataUnavailableError(
            f"Dataset {manifest.name!r} comes from matminer's {name!r}, which is not cached at "
            f"{file} and mi is offline (MI_OFFLINE). Run once online, or put matminer's "
            f"{name}.json.gz there."
        )
    home.mkdir(parents=True, exist_ok=True)
    try:
        df = load_dataset(name, data_home=str(home))
    except (OSError, ValueError) as exc:
        raise DataUnavailableError(
            f"matminer could not load {name!r} into {home}: {exc}. Check the network, or put "
            f"{name}.json.gz there."
        ) from exc
    digest = str(get_dataset_attribute(name, "hash"))
    return [SourceFrame(f"matminer:{name}", df.reset_index(drop=True))], {f"{name}.json.gz": digest}

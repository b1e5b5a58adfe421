"""Parquet feature cache: features of a composition are computed once per preset and version.

Layout: ``<cache_dir>/features/<preset>-<backend>-<fingerprint>/part-*.parquet``, each part a
table with a ``key`` column (:meth:`mi.chem.CompositionMatrix.exact_keys`) and the float64
feature columns. The fingerprint hashes the preset content, its version and the mi and
matminer versions, so changing any of them starts a fresh cache.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from mi.features.presets import Preset

__all__ = ["FeatureCache"]


class FeatureCache:
    """Feature cache of one preset and backend.

    Parameters
    ----------
    preset : Preset
        The preset (its fingerprint is part of the folder name).
    backend : str
        ``"fast"`` or ``"matminer"`` (kept apart so one can never hide the other).
    root : Path, optional
        Cache root; default the ``cache_dir`` setting.
    """

    def __init__(self, preset: Preset, backend: str, root: Path | None = None) -> None:
        if root is None:
            from mi.config import get_settings

            root = get_settings().cache_dir
        self.preset = preset
        self.backend = backend
        self.labels = preset.feature_labels()
        self.path = Path(root) / "features" / f"{preset.name}-{backend}-{preset.fingerprint()[:16]}"

    def _parts(self) -> list[Path]:
        return sorted(self.path.glob("part-*.parquet")) if self.path.is_dir() else []

    def lookup(self, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Find cached rows.

        Parameters
        ----------
        keys : list of str
            Composition keys.

        Returns
        -------
        found : numpy.ndarray of bool
            True where the key is cached.
        values : numpy.ndarray
            ``(len(keys), n_features)`` float64; NaN where not found.
        """
        values = np.full((len(keys), len(self.labels)), np.nan)
        found = np.zeros(len(keys), dtype=bool)
        parts = self._parts()
        if not parts or not keys:
            return found, values
        table = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        table = table.drop_duplicates("key", keep="last")
        pos = pd.Index(table["key"]).get_indexer(keys)
        found = pos >= 0
        if found.any():
            values[found] = table[self.labels].to_numpy(dtype=np.float64)[pos[found]]
        return found, values

    def store(self, keys: list[str], values: np.ndarray) -> Path | None:
        """Append rows (written atomically as a new part file).

        Parameters
        ----------
        keys : list of str
        values : numpy.ndarray
            ``(len(keys), n_features)``.

        Returns
        -------
        Path or None
            The part file written (None when there was nothing to store).
        """
        if not keys:
            return None
        self.path.mkdir(parents=True, exist_ok=True)
        df = pd.DataFrame(np.asarray(values, dtype=np.float64), columns=self.labels)
        df.insert(0, "key", keys)
        target = self.path / f"part-{uuid.uuid4().hex}.parquet"
        tmp = target.with_suffix(".tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, target)
        return target

    def clear(self) -> None:
        """Delete this preset's cached parts."""
        for p in self._parts():
            p.unlink()

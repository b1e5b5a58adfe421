"""Featurization by preset name: matminer featurizers, and a fast exact array backend.

Examples
--------
>>> from mi.features import featurize, list_presets
>>> df = featurize(["Fe2O3", "(Nd0.8Dy0.2)2Fe14B"], preset="magpie")  # doctest: +SKIP
>>> df.shape  # doctest: +SKIP
(2, 132)
"""

from __future__ import annotations

from mi.features.core import DEFAULT_CHUNK_ROWS, featurize, featurize_to_parquet
from mi.features.presets import FeaturizerSpec, Preset, get_preset, list_presets

__all__ = [
    "featurize",
    "featurize_to_parquet",
    "list_presets",
    "get_preset",
    "Preset",
    "FeaturizerSpec",
    "DEFAULT_CHUNK_ROWS",
]

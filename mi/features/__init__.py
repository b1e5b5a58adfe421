"""Featurization by preset name: matminer featurizers, and a fast exact array backend.

Presets live in ``featurizers/*.toml`` (plus folders on the ``search_path`` setting) and name
matminer featurizers with their parameters: ``magpie`` (132 features), ``magnet``,
``conductor`` and ``structure_basic``. Columns are exactly matminer's labels.

``backend="matminer"`` runs matminer's ``featurize`` row by row in one process (matminer's own
multiprocessing pool is slower than one process on small containers). ``backend="fast"``
computes the same numbers as numpy array operations over a
:class:`~mi.chem.CompositionMatrix`, reading element data through matminer's own data-source
objects, so matminer's behaviour is reproduced, including:

* missing element data: matminer 0.10.1 defaults to ``impute_nan=True`` and fills a missing
  value with the mean of the property over all elements that have it (e.g. Magpie
  ``MeltingT`` of He and Fr, ``Electronegativity`` of the noble gases);
  :func:`mi.features.element_data.imputed_elements` lists them. A preset can set
  ``impute_nan = false`` to get NaN instead;
* ``mode``: weights are the raw amounts, entries with ``np.isclose(w, w.max())`` tie and the
  smallest property value among them wins;
* summation order: elements in formula order and numpy's own summation order, which makes the
  ``magpie`` preset bit-identical to matminer (measured on 6,000 compositions).

A featurizer without an array version runs through matminer inside the fast backend, with a
:class:`~mi.exceptions.FallbackWarning`.

Examples
--------
>>> from mi.features import featurize, list_presets
>>> df = featurize(["Fe2O3", "(Nd0.8Dy0.2)2Fe14B"], preset="magpie")  # doctest: +SKIP
>>> df.shape  # doctest: +SKIP
(2, 132)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mi.features.presets import FeaturizerSpec, Preset, get_preset, list_presets

if TYPE_CHECKING:  # imported lazily at run time (see __getattr__), typed for checkers
    from mi.features.core import DEFAULT_CHUNK_ROWS, featurize, featurize_to_parquet

__all__ = [
    "featurize",
    "featurize_to_parquet",
    "list_presets",
    "get_preset",
    "Preset",
    "FeaturizerSpec",
    "DEFAULT_CHUNK_ROWS",
]


def __getattr__(name: str) -> object:
    # The featurization engine pulls in pandas and scipy: listing presets must not (<1 s).
    if name in {"featurize", "featurize_to_parquet", "DEFAULT_CHUNK_ROWS"}:
        from mi.features import core

        return getattr(core, name)
    raise AttributeError(f"module 'mi.features' has no attribute {name!r}")

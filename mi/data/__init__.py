"""Data in: structure files, property tables and the dataset registry.

Every reader accounts for every input row: accepted, or rejected with file, row, column, value
and reason (``dataset.report``). Registered datasets are described by manifests in
``datasets/*.toml`` and loaded with :func:`load_dataset`.

Examples
--------
>>> from mi.data import load_dataset  # doctest: +SKIP
>>> ds = load_dataset("supercon")  # doctest: +SKIP
>>> print(ds.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily at run time (see __getattr__), typed for checkers
    from mi.data.dataset import Dataset, DatasetMeta
    from mi.data.registry import get_manifest, list_datasets, load_dataset
    from mi.data.report import ValidationReport
    from mi.data.structures import StructureCollection, read_structures
    from mi.data.tables import read_raw_table, read_table

__all__ = [
    "Dataset",
    "DatasetMeta",
    "ValidationReport",
    "read_table",
    "read_raw_table",
    "read_structures",
    "StructureCollection",
    "load_dataset",
    "list_datasets",
    "get_manifest",
]


def __getattr__(name: str) -> object:
    # Tables pull in pandas, structures pymatgen, the registry the sources: import on first use
    # (so that listing the catalogue, mi.data.catalog, stays light).
    if name in {"Dataset", "DatasetMeta"}:
        from mi.data import dataset

        return getattr(dataset, name)
    if name == "ValidationReport":
        from mi.data import report

        return report.ValidationReport
    if name in {"read_table", "read_raw_table"}:
        from mi.data import tables

        return getattr(tables, name)
    if name in {"read_structures", "StructureCollection"}:
        from mi.data import structures

        return getattr(structures, name)
    if name in {"load_dataset", "list_datasets", "get_manifest"}:
        from mi.data import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'mi.data' has no attribute {name!r}")

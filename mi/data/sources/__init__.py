"""Where a registered dataset's raw tables come from, one module per kind of source.

Each source function takes a :class:`~mi.data.manifest.Manifest` plus options and returns
``(frames, sha256)``: the raw tables as :class:`~mi.data.cleaning.SourceFrame` objects and
the checksums of the files read (empty for network queries).
"""

from __future__ import annotations

from collections.abc import Callable

from mi.data.cleaning import SourceFrame

__all__ = ["SOURCE_OPTIONS", "get_source"]

SourceFn = Callable[..., tuple[list[SourceFrame], dict[str, str]]]

#: Options ``load_dataset`` passes to each kind of source.
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "files": (),
    "matminer": (),
    "materials_project": ("criteria", "fields"),
    "optimade": ("filter", "max_results", "base_url"),
}


def get_source(kind: str) -> SourceFn:
    """Return the loader function of a source kind."""
    if kind == "files":
        from mi.data.sources.files import load_files

        return load_files
    if kind == "matminer":
        from mi.data.sources.matminer import load_matminer

        return load_matminer
    if kind == "materials_project":
        from mi.data.sources.materials_project import load_materials_project

        return load_materials_project
    from mi.data.sources.optimade import load_optimade

    return load_optimade

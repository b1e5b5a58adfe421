"""The catalogue of registered datasets, read from the manifests alone (no pandas, no data).

``mi datasets list`` and :func:`mi.data.list_datasets` use it: listing reads the TOML manifests
and checks which files are present, without importing the table machinery, so it answers in a
fraction of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mi.config import definition_dirs, get_settings
from mi.data.cache import locate
from mi.data.manifest import Manifest, read_manifest
from mi.exceptions import SpecError

__all__ = ["manifests", "availability", "catalog_rows", "CATALOG_COLUMNS"]

#: Columns of :func:`catalog_rows` (and of :func:`mi.data.list_datasets`).
CATALOG_COLUMNS = ("name", "kind", "title", "targets", "rows", "available", "licence", "source")

_MANIFESTS: dict[tuple[tuple[str, int], ...], dict[str, Manifest]] = {}


def manifests() -> dict[str, Manifest]:
    """All registered manifests by name (user ``search_path`` folders win over built-ins).

    Returns
    -------
    dict of str to Manifest
    """
    files: list[Path] = []
    for folder in definition_dirs("datasets"):
        files.extend(sorted(folder.glob("*.toml")))
    stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    cached = _MANIFESTS.get(stamp)
    if cached is not None:
        return cached
    found: dict[str, Manifest] = {}
    for path in files:
        manifest = read_manifest(path)
        if manifest.name != path.stem:
            raise SpecError(
                f"Dataset manifest {path} declares name {manifest.name!r}; the file must be "
                f"named {manifest.name}.toml."
            )
        found.setdefault(manifest.name, manifest)
    _MANIFESTS.clear()
    _MANIFESTS[stamp] = found
    return found


def availability(m: Manifest) -> str:
    """Where a dataset's files are: ``local``, ``download``, ``missing (offline)``, ``network``.

    Parameters
    ----------
    m : Manifest

    Returns
    -------
    str
    """
    if m.kind != "files":
        return "network" if m.kind != "matminer" else "matminer (network)"
    assert m.folder is not None
    if all(locate(m.folder, f.name) is not None for f in m.files):
        return "local"
    return "missing (offline)" if get_settings().offline else "download"


def catalog_rows() -> list[dict[str, Any]]:
    """One row per registered dataset, with the columns :data:`CATALOG_COLUMNS`.

    Returns
    -------
    list of dict
        ``rows`` is the number of input rows in the source files (None for network sources).
    """
    rows = []
    for name, m in sorted(manifests().items()):
        n_rows = sum(f.rows or 0 for f in m.files) if m.kind == "files" else None
        rows.append(
            {
                "name": name,
                "kind": m.kind,
                "title": m.title,
                "targets": ", ".join(
                    f"{t.name} [{t.unit or 'unit not stated'}]" for t in m.table.targets
                ),
                "rows": n_rows,
                "available": availability(m),
                "licence": m.licence,
                "source": m.source,
            }
        )
    return rows

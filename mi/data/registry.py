"""The dataset registry: manifests in ``datasets/*.toml`` (plus user folders), loaded by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from mi.data.cache import locate
from mi.data.catalog import CATALOG_COLUMNS, catalog_rows, manifests
from mi.data.cleaning import clean_frames
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.manifest import Manifest
from mi.data.sources import SOURCE_OPTIONS, get_source
from mi.data.spec import TableSpec
from mi.exceptions import DataError, DatasetNotFoundError, RegistryKeyError, SpecError

__all__ = ["list_datasets", "load_dataset", "get_manifest", "manifests"]

_LOADED: dict[tuple[object, ...], Dataset] = {}
_TABLE_OPTIONS = ("merge", "audit")


def get_manifest(name: str) -> Manifest:
    """Return one dataset's manifest.

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"supercon"``.

    Returns
    -------
    Manifest

    Raises
    ------
    DatasetNotFoundError
        Listing the registered names and the closest one.
    """
    registry = manifests()
    if name not in registry:
        err = RegistryKeyError("dataset", name, registry)
        raise DatasetNotFoundError(str(err))
    return registry[name]


def list_datasets() -> pd.DataFrame:
    """Table of registered datasets.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, title, targets, rows, available, licence, source``; ``rows`` is
        the number of input rows in the source files (None for network sources);
        ``available`` is ``local`` (files present), ``download``, ``missing (offline)``,
        ``matminer (network)`` or ``network``.
    """
    return pd.DataFrame(catalog_rows(), columns=list(CATALOG_COLUMNS))


def _stamp(m: Manifest) -> tuple[object, ...]:
    """Return what a cached load depends on: the manifest file and the located data files."""
    parts: list[object] = [m.path, Path(m.path).stat().st_mtime_ns if m.path else 0]
    if m.kind == "files" and m.folder:
        for f in m.files:
            p = locate(m.folder, f.name)
            if p is None:
                return ()
            st = p.stat()
            parts.append((str(p), st.st_size, st.st_mtime_ns))
    else:
        return ()  # network sources are not memoised
    return tuple(parts)


def _switch_audit(spec: TableSpec, on: bool) -> TableSpec:
    """Return the table spec with every target's label audit switched on or off."""
    targets = tuple(
        t
        if t.audit is None
        else t.model_copy(update={"audit": t.audit.model_copy(update={"enabled": on})})
        for t in spec.targets
    )
    return spec.model_copy(update={"targets": targets})


def load_dataset(name: str, **options: Any) -> Dataset:
    """Load a registered dataset: find or download its files, verify, parse, clean.

    Parameters
    ----------
    name : str
        Registered name (``mi datasets list``), e.g. ``"supercon"``, ``"expt_gap"``.
    **options
        ``merge`` ("median", "mean", "none") and ``audit`` (bool: the manifest's label audit
        on or off, default as the manifest says) for every dataset; ``criteria``/``fields``
        for Materials Project; ``filter``/``max_results``/``base_url`` for OPTIMADE.

    Returns
    -------
    Dataset
        ``composition`` plus targets (with ``_n``/``_std``), flags and kept columns;
        ``.report`` accounts for every input row.

    Raises
    ------
    DatasetNotFoundError
        Unknown name (with the closest registered one).
    DataUnavailableError
        File absent and offline / download failed (says which file to put where).
    ChecksumError
        A file does not match its sha256.

    Examples
    --------
    >>> ds = load_dataset("supercon")  # doctest: +SKIP
    >>> ds.report.n_input == ds.report.n_accepted + ds.report.n_rejected  # doctest: +SKIP
    True
    """
    manifest = get_manifest(name)
    allowed = _TABLE_OPTIONS + SOURCE_OPTIONS[manifest.kind]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DataError(
            f"load_dataset({name!r}) got unknown options {unknown}; allowed: {list(allowed)}."
        )
    stamp = _stamp(manifest)  # the located files (path, size, mtime): settings are implied
    memo_key = (name, stamp, json.dumps(options, sort_keys=True, default=str))
    if stamp and memo_key in _LOADED:
        return _LOADED[memo_key].copy()

    source_options = {k: v for k, v in options.items() if k not in _TABLE_OPTIONS}
    frames, sha = get_source(manifest.kind)(manifest, **source_options)
    spec = manifest.table
    if "merge" in options:
        spec = spec.model_copy(update={"merge": options["merge"]})
        spec = type(spec).model_validate(spec.model_dump())
    if "audit" in options:
        spec = _switch_audit(spec, bool(options["audit"]))
    meta = DatasetMeta(
        name=manifest.name,
        description=" ".join(manifest.description.split()),
        source=manifest.source,
        licence=manifest.licence,
        citation=manifest.citation,
        sha256=sha,
        notes=list(manifest.notes),
    )
    try:
        dataset = clean_frames(frames, spec, meta)
    except SpecError:
        raise
    if stamp:
        _LOADED[memo_key] = dataset.copy()
    return dataset

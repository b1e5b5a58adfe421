"""Materials Project queries through ``mp-api`` (the user's key from ``MP_API_KEY``)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from mi.config import get_settings
from mi.data.cleaning import SourceFrame
from mi.data.manifest import Manifest
from mi.exceptions import DataUnavailableError, MissingDependencyError

__all__ = ["load_materials_project"]


def load_materials_project(
    manifest: Manifest,
    criteria: dict[str, Any] | None = None,
    fields: list[str] | None = None,
) -> tuple[list[SourceFrame], dict[str, str]]:
    """Query the Materials Project summary endpoint.

    Parameters
    ----------
    manifest : Manifest
        A ``kind = "materials_project"`` manifest (default fields and criteria).
    criteria : dict, optional
        Replaces the manifest's search criteria (``mp-api`` keyword arguments).
    fields : list of str, optional
        Replaces the manifest's fields.

    Returns
    -------
    frames, sha256
        One raw frame (one row per material); no checksums (live data).
    """
    mp = manifest.materials_project
    assert mp is not None
    if get_settings().offline:
        raise DataUnavailableError(
            f"Dataset {manifest.name!r} queries the Materials Project and mi is offline "
            "(MI_OFFLINE). Unset MI_OFFLINE to query it."
        )
    key = os.environ.get(mp.api_key_env)
    if not key:
        raise DataUnavailableError(
            f"Dataset {manifest.name!r} needs a Materials Project API key in ${mp.api_key_env} "
            "(get one at https://materialsproject.org/api)."
        )
    try:
        from mp_api.client import MPRester
    except ImportError as exc:
        raise MissingDependencyError(
            "The Materials Project source needs mp-api: pip install 'mi-workbench[network]'."
        ) from exc
    use_fields = list(fields or mp.fields)
    with MPRester(key) as rester:
        docs = rester.materials.summary.search(fields=use_fields, **(criteria or mp.criteria))
    rows = [{f: getattr(doc, f, None) for f in use_fields} for doc in docs]
    df = pd.DataFrame(rows, columns=use_fields)
    return [SourceFrame(f"materials_project:{mp.endpoint}", df)], {}

"""OPTIMADE providers: the ``/v1/structures`` endpoint queried with a filter (plain HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pandas as pd

from mi.config import get_settings
from mi.data.cleaning import SourceFrame
from mi.data.manifest import Manifest
from mi.exceptions import DataUnavailableError

__all__ = ["load_optimade", "optimade_structure"]


def optimade_structure(attributes: dict[str, Any]) -> Any:
    """Build a pymatgen ``Structure`` from OPTIMADE structure attributes (ordered sites).

    Parameters
    ----------
    attributes : dict
        Needs ``lattice_vectors``, ``cartesian_site_positions``, ``species_at_sites`` and,
        when species names are not element symbols, ``species``.

    Returns
    -------
    pymatgen.core.Structure or None
        None when the attributes are incomplete or the sites are disordered.
    """
    from pymatgen.core import Lattice, Structure

    try:
        symbols = {
            s["name"]: s["chemical_symbols"][0]
            for s in attributes.get("species") or []
            if len(s.get("chemical_symbols", [])) == 1
        }
        species = [symbols.get(n, n) for n in attributes["species_at_sites"]]
        return Structure(
            Lattice(attributes["lattice_vectors"]),
            species,
            attributes["cartesian_site_positions"],
            coords_are_cartesian=True,
        )
    except (KeyError, TypeError, ValueError):
        return None


def _get(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.api+json"})
    with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
        return json.loads(resp.read().decode())


def load_optimade(
    manifest: Manifest,
    filter: str | None = None,  # noqa: A002 - OPTIMADE's own term
    max_results: int | None = None,
    base_url: str | None = None,
) -> tuple[list[SourceFrame], dict[str, str]]:
    """Query an OPTIMADE provider and return one raw frame (one row per structure).

    Parameters
    ----------
    manifest : Manifest
        A ``kind = "optimade"`` manifest.
    filter : str, optional
        OPTIMADE filter replacing the manifest's, e.g. ``'elements HAS ALL "Fe","B"'``.
    max_results : int, optional
        Stop after this many entries.
    base_url : str, optional
        Another provider's base URL.

    Returns
    -------
    frames, sha256
        Columns ``id``, the response fields, and ``structure`` when requested.
    """
    opt = manifest.optimade
    assert opt is not None
    if get_settings().offline:
        raise DataUnavailableError(
            f"Dataset {manifest.name!r} queries OPTIMADE ({base_url or opt.base_url}) and mi is "
            "offline (MI_OFFLINE). Unset MI_OFFLINE to query it."
        )
    limit = max_results or opt.max_results
    fields = list(opt.response_fields)
    if opt.structures:
        fields += ["lattice_vectors", "cartesian_site_positions", "species_at_sites", "species"]
    query = urllib.parse.urlencode(
        {
            "filter": filter or opt.filter,
            "page_limit": min(opt.page_limit, limit),
            "response_fields": ",".join(dict.fromkeys(fields)),
        }
    )
    url: str | None = f"{(base_url or opt.base_url).rstrip('/')}/v1/structures?{query}"
    rows: list[dict[str, Any]] = []
    while url and len(rows) < limit:
        try:
            page = _get(url)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DataUnavailableError(f"OPTIMADE query {url} failed: {exc}") from exc
        for entry in page.get("data", []):
            attrs = entry.get("attributes", {})
            row = {"id": entry.get("id"), **{f: attrs.get(f) for f in opt.response_fields}}
            if opt.structures:
                row["structure"] = optimade_structure(attrs)
            rows.append(row)
        nxt = (page.get("links") or {}).get("next")
        url = nxt.get("href") if isinstance(nxt, dict) else nxt
    df = pd.DataFrame(rows[:limit])
    return [SourceFrame(f"optimade:{base_url or opt.base_url}", df)], {}

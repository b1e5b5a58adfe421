"""Element property tables (one value per element H..Lr) taken from matminer's data sources.

The values are read through the very data-source objects a matminer featurizer holds
(``MagpieData``, ``DemlData``, ``PymatgenData`` ...), element by element, so whatever matminer
does with missing data is reproduced exactly. In matminer 0.10.1 every data source defaults to
``impute_nan=True``: a missing value is replaced by the mean of that property over the elements
that have it (the "all-element mean"), e.g. the Magpie melting point of He becomes 1296.47 K
and the Magpie electronegativity of the noble gases 1.715. :func:`imputed_elements` lists
which elements were filled for a property.
"""

from __future__ import annotations

import threading
import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from mi.chem import ELEMENTS

__all__ = ["property_table", "imputed_elements"]

_LOCK = threading.Lock()
_CACHE: dict[tuple[int, str], np.ndarray] = {}


@lru_cache(maxsize=1)
def _elements() -> list[Any]:
    from pymatgen.core import Element

    return [Element(sym) for sym in ELEMENTS]


def property_table(data_source: Any, prop: str) -> np.ndarray:
    """Values of one property for H..Lr as the data source returns them.

    Parameters
    ----------
    data_source : matminer.utils.data.AbstractData
        The data source object (e.g. a featurizer's ``.data_source``).
    prop : str
        Property name, e.g. ``"MeltingT"``.

    Returns
    -------
    numpy.ndarray
        Float64 array of length 103 (read-only); NaN where the source has no value.
    """
    key = (id(data_source), prop)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    values = []
    with warnings.catch_warnings():
        # PymatgenData warns "No Pauling electronegativity for Ne" while imputing; matminer noise
        warnings.simplefilter("ignore", UserWarning)
        for el in _elements():
            value = data_source.get_elemental_property(el, prop)
            values.append(np.nan if value is None else float(value))
    table = np.asarray(values, dtype=np.float64)
    table.setflags(write=False)
    with _LOCK:
        _CACHE[key] = table
        _KEEP.append(data_source)  # keep id() stable while cached
    return table


_KEEP: list[Any] = []


def imputed_elements(source: str, prop: str) -> list[str]:
    """Elements whose value of ``prop`` matminer fills with the all-element mean.

    Parameters
    ----------
    source : {"magpie", "deml", "pymatgen"}
        matminer data source.
    prop : str
        Property name.

    Returns
    -------
    list of str
        Symbols (H..Lr) that have no value without imputation.

    Examples
    --------
    >>> imputed_elements("magpie", "MeltingT")  # doctest: +SKIP
    ['He', 'Fr']
    """
    from matminer.utils import data

    classes = {"magpie": data.MagpieData, "deml": data.DemlData, "pymatgen": data.PymatgenData}
    raw = classes[source](impute_nan=False)
    table = property_table(raw, prop)
    return [ELEMENTS[i] for i in np.flatnonzero(np.isnan(table))]

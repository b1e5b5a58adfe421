"""Registry of acquisition functions: ``get_acquisition(name, **kw)``, ``list_acquisitions()``.

The registry imports no acquisition: each acquisition module decorates its classes with
:func:`register_acquisition`, so adding one is a new module (imported by ``mi.active``) and
its test.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pandas as pd

from mi.active.base import Acquisition
from mi.exceptions import RegistryKeyError

__all__ = ["ACQUISITIONS", "get_acquisition", "list_acquisitions", "register_acquisition"]

#: Name -> acquisition class. Each acquisition module registers its classes with
#: :func:`register_acquisition` when it is imported (``mi.active`` imports the built-in ones).
ACQUISITIONS: dict[str, type[Acquisition]] = {}


_A = TypeVar("_A", bound=type[Acquisition])


def register_acquisition(cls: _A) -> _A:
    """Add an acquisition class under ``cls.name`` (usable as a decorator)."""
    ACQUISITIONS[cls.name] = cls
    return cls


def get_acquisition(name: str, **params: Any) -> Acquisition:
    """Build an acquisition by name.

    Parameters
    ----------
    name : str
        One of :func:`list_acquisitions` (``"ei"``, ``"ucb"``, ``"ehvi"`` ...).
    **params
        Constructor arguments, e.g. ``maximize=False``, ``beta=1.0``.

    Raises
    ------
    RegistryKeyError
        Unknown name (lists the choices and the closest one).
    TypeError
        A parameter the acquisition does not take.

    Examples
    --------
    >>> get_acquisition("ucb", beta=1.0).beta
    1.0
    """
    try:
        cls = ACQUISITIONS[name]
    except KeyError:
        raise RegistryKeyError("acquisition", name, ACQUISITIONS) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise TypeError(f"Invalid parameters for acquisition {name!r}: {exc}") from None


def list_acquisitions() -> pd.DataFrame:
    """Return a table of the registered acquisitions: name, class, first docstring line."""
    rows = []
    for name, cls in sorted(ACQUISITIONS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()
        rows.append({"name": name, "class": cls.__name__, "summary": doc[0] if doc else ""})
    return pd.DataFrame(rows)

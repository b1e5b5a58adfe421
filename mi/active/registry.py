"""Registry of acquisition functions: ``get_acquisition(name, **kw)``, ``list_acquisitions()``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mi.active.analytic import (
    ExpectedImprovement,
    GreedyMean,
    MaxStd,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from mi.active.base import Acquisition
from mi.active.constrained import Constrained, PenalizedScalarization
from mi.active.pareto import ExpectedHypervolumeImprovement
from mi.active.sampling import RandomSearch, ThompsonSampling
from mi.exceptions import RegistryKeyError

__all__ = ["ACQUISITIONS", "get_acquisition", "list_acquisitions", "register_acquisition"]

ACQUISITIONS: dict[str, type[Acquisition]] = {
    cls.name: cls
    for cls in (
        GreedyMean,
        UpperConfidenceBound,
        ExpectedImprovement,
        ProbabilityOfImprovement,
        MaxStd,
        ThompsonSampling,
        RandomSearch,
        Constrained,
        PenalizedScalarization,
        ExpectedHypervolumeImprovement,
    )
}


def register_acquisition(cls: type[Acquisition]) -> type[Acquisition]:
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

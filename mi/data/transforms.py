"""Target transforms (``log10``, ``ln``, ``reciprocal``) and their inverses.

A dataset may hold a target transformed (a conductivity spanning ten decades is learned as
``log10``). Every prediction and interval ``mi`` reports is transformed back with
:func:`inverse`; an interval's ends are transformed separately and put in order (the reciprocal
reverses them).

Examples
--------
>>> import numpy as np
>>> forward("log10", np.array([1.0, 100.0])).tolist()
[0.0, 2.0]
>>> inverse("log10", np.array([0.0, 2.0])).tolist()
[1.0, 100.0]
>>> interval("reciprocal", np.array([0.5]), np.array([0.1]), z=1.0)
(array([1.66666667]), array([2.5]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mi.exceptions import DataError, did_you_mean

__all__ = ["Transform", "TRANSFORMS", "get_transform", "forward", "inverse", "interval", "reported"]

#: z of a central 95 % normal interval.
Z95 = 1.959964


@dataclass(frozen=True)
class Transform:
    """A monotone map of target values and its inverse.

    Attributes
    ----------
    name : str
    forward, inverse : callable
        Element-wise numpy functions.
    domain : str
        What the forward map accepts (for error messages).
    positive_only : bool
        The forward map needs values > 0.
    decreasing : bool
        The map reverses order (maximizing the property minimizes the transformed value).
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    domain: str
    positive_only: bool
    decreasing: bool = False

    def valid(self, x: float) -> bool:
        """Whether one value lies in the forward map's domain."""
        return bool(np.isfinite(x)) and (x > 0 if self.positive_only else x != 0)


def _reciprocal(x: np.ndarray) -> np.ndarray:
    return 1.0 / x


TRANSFORMS: dict[str, Transform] = {
    "log10": Transform("log10", np.log10, lambda x: np.power(10.0, x), "values > 0", True),
    "ln": Transform("ln", np.log, np.exp, "values > 0", True),
    "reciprocal": Transform("reciprocal", _reciprocal, _reciprocal, "values > 0", True, True),
}


def get_transform(name: str) -> Transform:
    """Return a transform by name.

    Raises
    ------
    DataError
        Unknown name (listing the known ones).
    """
    if name not in TRANSFORMS:
        raise DataError(
            f"Unknown transform {name!r}; use one of {', '.join(TRANSFORMS)}."
            f"{did_you_mean(name, TRANSFORMS)}"
        )
    return TRANSFORMS[name]


def forward(name: str | None, values: np.ndarray) -> np.ndarray:
    """Apply a transform (``None``: identity)."""
    values = np.asarray(values, dtype=np.float64)
    return values if name is None else get_transform(name).forward(values)


def inverse(name: str | None, values: np.ndarray) -> np.ndarray:
    """Map transformed values back to the property's own unit (``None``: identity)."""
    values = np.asarray(values, dtype=np.float64)
    if name is None:
        return values
    with np.errstate(over="ignore", divide="ignore"):
        return get_transform(name).inverse(values)


def interval(
    name: str | None, mean: np.ndarray, std: np.ndarray, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of ``mean +- z * std`` (model space) in the property's unit.

    Parameters
    ----------
    name : str or None
        Transform of the model's target.
    mean, std : numpy.ndarray
        Prediction in the transformed space.
    z : float, default 1.96
        Half-width in standard deviations (1.96: a central 95 % interval for a normal).

    Returns
    -------
    lo, hi : numpy.ndarray
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    a = inverse(name, mean - z * std)
    b = inverse(name, mean + z * std)
    return np.minimum(a, b), np.maximum(a, b)


def reported(name: str | None, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
    """Return a model-space prediction as reported, in the property's own unit.

    ``mean`` transformed back, ``lo``/``hi`` the 95 % interval's ends transformed back, and
    ``std`` the model's std without a transform, else a quarter of that interval's width (a
    normal-equivalent spread).
    """
    lo, hi = interval(name, mean, std)
    spread = np.asarray(std, dtype=np.float64) if name is None else (hi - lo) / (2 * Z95)
    return {"mean": inverse(name, mean), "std": spread, "lo": lo, "hi": hi}

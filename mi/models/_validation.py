"""Parameter checks with scikit-learn's message shape ("The 'alpha' parameter of X must be ...")."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["check_number", "check_choice"]


def check_number(
    owner: object,
    name: str,
    value: Any,
    *,
    kind: type = numbers.Real,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is a number of ``kind`` inside the range.

    Parameters
    ----------
    owner : object
        Estimator whose parameter is checked (its class name goes into the message).
    name : str
        Parameter name.
    value : object
        Value to check.
    kind : type, default numbers.Real
        ``numbers.Integral`` or ``numbers.Real``.
    low, high : float, optional
        Range ends.
    low_open, high_open : bool
        Whether the ends are excluded.
    allow_none : bool
        Whether ``None`` is allowed.
    """
    if value is None and allow_none:
        return
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return
    what = "an int" if kind is numbers.Integral else "a float"
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    rng = f"{left}{lo}, {hi}{right}"
    none = " or None" if allow_none else ""
    raise ValueError(
        f"The {name!r} parameter of {type(owner).__name__} must be {what} in the range {rng}"
        f"{none}. Got {value!r} instead."
    )


def check_choice(owner: object, name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value in choices:
        return
    raise ValueError(
        f"The {name!r} parameter of {type(owner).__name__} must be one of "
        f"{', '.join(repr(c) for c in choices)}. Got {value!r} instead."
    )

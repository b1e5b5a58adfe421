"""Parsing of target cells: numbers, censored bounds, arrays and booleans, with reasons."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from mi.data.formulas import MISSING_STRINGS
from mi.data.spec import TargetSpec

__all__ = ["ParsedValue", "TransformDomainError", "parse_target_cell"]

_CENSOR = re.compile(r"^\s*(<=|>=|<|>)\s*(.+)$")
_ARRAY_SPLIT = re.compile(r"[\s,;]+")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class ParsedValue:
    """A parsed target cell: its values (one, or several for arrays) and censoring."""

    values: np.ndarray
    censored: bool = False
    reported: bool = True


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and math.isnan(float(value)):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(value, str) and value.strip() in MISSING_STRINGS


def _number(value: object) -> float:
    """One finite number from a cell or raise ValueError with the reason."""
    if isinstance(value, bool | np.bool_):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            raise ValueError("not a number") from None
    else:
        raise ValueError(f"not a number ({type(value).__name__})")
    if math.isnan(x):
        raise ValueError("missing value (NaN)")
    if not math.isfinite(x):
        raise ValueError("not finite")
    return x


def _array(value: object) -> np.ndarray:
    if isinstance(value, list | tuple | np.ndarray):
        items = list(np.asarray(value, dtype=object).ravel())
    elif isinstance(value, str):
        body = value.strip()
        if not (body.startswith("[") and body.endswith("]")):
            items = [body]
        else:
            items = [t for t in _ARRAY_SPLIT.split(body[1:-1].strip()) if t]
    else:
        items = [value]
    if not items:
        raise ValueError("empty array")
    return np.array([_number(item) for item in items], dtype=np.float64)


def _bool(value: object) -> float:
    if isinstance(value, bool | np.bool_):
        return float(bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        if float(value) in (0.0, 1.0):
            return float(value)
        raise ValueError("not a boolean (expected 0/1, true/false)")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
    raise ValueError("not a boolean (expected 0/1, true/false)")


class TransformDomainError(ValueError):
    """A value outside the domain of the target's transform (log10 of 0)."""


def _transformed(values: np.ndarray, name: str) -> np.ndarray:
    from mi.data.transforms import get_transform

    tr = get_transform(name)
    if not all(tr.valid(float(v)) for v in values):
        raise TransformDomainError(f"not in the domain of {name} ({tr.domain})")
    return np.asarray(tr.forward(values), dtype=np.float64)


def _scalar(x: float, censored: bool, spec: TargetSpec) -> ParsedValue:
    """Scale, decode the missing code, transform and range-check one number."""
    x = x * spec.scale
    if not math.isfinite(x):
        raise ValueError(f"not finite after scaling by {spec.scale}")
    if spec.missing_value is not None and not censored and x == spec.missing_value:
        # the source's code for "not reported": kept and flagged, not transformed
        return ParsedValue(np.array([x]), censored=False, reported=False)
    if spec.transform is not None:
        x = float(_transformed(np.array([x]), spec.transform)[0])
    if spec.min_value is not None and x < spec.min_value:
        raise ValueError(f"below the valid minimum {spec.min_value}")
    if spec.max_value is not None and x > spec.max_value:
        raise ValueError(f"above the valid maximum {spec.max_value}")
    return ParsedValue(np.array([x]), censored)


def parse_target_cell(value: object, spec: TargetSpec) -> ParsedValue:
    """Parse one target cell according to its spec.

    Parameters
    ----------
    value : object
        The raw cell.
    spec : TargetSpec
        Kind, censoring, scale, transform and valid range.

    Returns
    -------
    ParsedValue

    Raises
    ------
    ValueError
        With the reason (the caller records it with file, row, column and value).

    Examples
    --------
    >>> from mi.data.spec import TargetSpec
    >>> spec = TargetSpec(name="log10_sigma", transform="log10")
    >>> parse_target_cell("<1E-10", spec)
    ParsedValue(values=array([-10.]), censored=True, reported=True)
    """
    if _is_missing(value):
        if not spec.required:
            return ParsedValue(np.array([], dtype=np.float64))
        raise ValueError("missing value")
    censored = False
    if spec.kind == "bool":
        values = np.array([_bool(value)])
    else:
        if isinstance(value, str) and spec.censored is not False:
            m = _CENSOR.match(value)
            if m:
                censored = True
                value = m.group(2)
        if spec.kind == "float":
            return _scalar(_number(value), censored, spec)
        values = _array(value)
        if spec.array_index is not None:
            if values.size <= spec.array_index:
                raise ValueError(
                    f"array of {values.size} value(s) has no entry {spec.array_index} (array_index)"
                )
            values = values[spec.array_index : spec.array_index + 1]
        if censored and values.size != 1:
            raise ValueError("a censored value must be a single number")
        values = values * spec.scale
        if not np.all(np.isfinite(values)):
            raise ValueError(f"not finite after scaling by {spec.scale}")
        if spec.transform is not None:
            values = _transformed(values, spec.transform)
        # an array cell is one measurement summarised by its median: the range applies to it
        mid = float(np.median(values))
        if spec.min_value is not None and mid < spec.min_value:
            raise ValueError(
                f"below the valid minimum {spec.min_value:g} (median {mid:g} of {values.size})"
            )
        if spec.max_value is not None and mid > spec.max_value:
            raise ValueError(
                f"above the valid maximum {spec.max_value:g} (median {mid:g} of {values.size})"
            )
    return ParsedValue(values, censored)

"""The rows of a dataset that can train one target, and why the others cannot.

A regression target trains on the rows with a finite value that is a measurement (not
censored) inside the optional ``[min_value, max_value]`` window; a classification target on
the rows where its label is known, the label being a boolean column or a row filter of
:mod:`mi.data.where` (``"Eg == 0"``). Every row left out is counted under its reason, so the
run report can say what the surrogate did not see.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"Tc": [585.0, None, 1200.0, 40.0]})
>>> rows = target_rows(df, "Tc", min_value=100.0)
>>> rows.keep.tolist(), rows.excluded
([True, False, True, False], {'target missing': 1, 'Tc < 100': 1})
>>> target_rows(pd.DataFrame({"Eg": [0.0, 1.1, None]}), "Eg", positive="Eg == 0").y.tolist()
[1, 0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.data.where import parse_where
from mi.exceptions import DataError

__all__ = ["TargetRows", "target_rows"]


@dataclass(frozen=True)
class TargetRows:
    """Labels of every row and which rows train the target.

    Attributes
    ----------
    y : numpy.ndarray
        One label per row of the table (float values, or 0/1 for a classification).
    keep : numpy.ndarray of bool
        Rows that train the target.
    excluded : dict of str to int
        Rows left out, by reason (reasons that excluded nothing are not listed).
    """

    y: np.ndarray
    keep: np.ndarray
    excluded: dict[str, int] = field(default_factory=dict)


def target_rows(
    df: pd.DataFrame,
    column: str,
    *,
    positive: str | None = None,
    classification: bool | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
) -> TargetRows:
    """Select the rows of ``df`` that train the target ``column``.

    Parameters
    ----------
    df : pandas.DataFrame
        A cleaned dataset table.
    column : str
        The target column.
    positive : str, optional
        Classification label: a boolean column, or a row filter such as ``"Eg == 0"``
        (:func:`mi.data.where.parse_where`). Rows where a column of the rule is empty have no
        label and are left out.
    classification : bool, optional
        Default: True when ``positive`` is given. A classification without ``positive`` needs
        a boolean ``column``.
    min_value, max_value : float, optional
        Regression: values outside ``[min_value, max_value]`` are left out.

    Returns
    -------
    TargetRows

    Raises
    ------
    DataError
        A classification on a non-boolean column without a ``positive`` rule, or a rule that
        names a column the table lacks (naming the closest one).
    """
    if classification is None:
        classification = positive is not None
    if classification:
        return _classification_rows(df, column, positive)
    excluded: dict[str, int] = {}
    y = df[column].to_numpy(dtype=np.float64)
    keep = np.isfinite(y)
    excluded["target missing"] = int((~keep).sum())
    censored = f"{column}_censored"
    if censored in df.columns:
        cens = df[censored].eq(True).to_numpy(dtype=bool)  # empty: not censored
        excluded["censored value (not a measurement)"] = int((keep & cens).sum())
        keep &= ~cens
    if min_value is not None:
        low = keep & (y < min_value)
        excluded[f"{column} < {min_value:g}"] = int(low.sum())
        keep &= ~low
    if max_value is not None:
        high = keep & (y > max_value)
        excluded[f"{column} > {max_value:g}"] = int(high.sum())
        keep &= ~high
    return TargetRows(y, keep, {k: v for k, v in excluded.items() if v})


def _classification_rows(df: pd.DataFrame, column: str, positive: str | None) -> TargetRows:
    rule = positive or column
    if rule in df.columns:
        values = df[rule]
        if positive is None and values.dtype != bool:
            raise DataError(
                f"target {column!r} is a classification on non-boolean column {column!r}; "
                "set positive = '<column> == <value>' or name a boolean column."
            )
        y = values.astype(bool).to_numpy()
        used = [rule]
    else:
        where = parse_where(rule)
        y = where.mask(df, file=f"positive = {rule!r}")
        used = sorted(where.columns)
    keep = np.ones(len(df), dtype=bool)
    excluded: dict[str, int] = {}
    for col in used:
        if df[col].dtype != bool:
            known = df[col].notna().to_numpy()
            excluded[f"{col} missing (no label)"] = int((keep & ~known).sum())
            keep &= known
    return TargetRows(y.astype(np.int64), keep, {k: v for k, v in excluded.items() if v})

"""Compositions given as one column per element (wt % or at %), turned into formulas.

Weight percent is converted exactly: the amount of element ``i`` is ``w_i / M_i`` (atomic masses
of :mod:`mi.chem.elements`); the amounts are normalised to 100 and written with 10 significant
digits, so the formula is the alloy's atomic percent composition (``Cu99.4Ag0.06...``).

Examples
--------
>>> import pandas as pd
>>> from mi.data.spec import ElementColumnsSpec
>>> df = pd.DataFrame({"Cu": [50.0], "Ni": [50.0], "HV": [100]})
>>> spec = ElementColumnsSpec(basis="at%")
>>> element_formulas(df, spec, "t.csv").formulas
['Cu50Ni50']
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.chem.elements import ATOMIC_MASSES, ELEMENTS
from mi.data.spec import ElementColumnsSpec
from mi.exceptions import TableError

__all__ = ["ElementFormulas", "element_columns", "element_formulas"]

_INDEX = {sym: i for i, sym in enumerate(ELEMENTS)}


@dataclass
class ElementFormulas:
    """Formulas made from element columns, and the rows that could not be converted.

    Attributes
    ----------
    formulas : list of str or None
        One formula per row (None for a rejected row).
    columns : list of str
        The element columns used.
    problems : dict of int to tuple of (column, value, reason)
        Rows that could not be converted.
    """

    formulas: list[str | None]
    columns: list[str]

    @property
    def span(self) -> str:
        """How the element columns are named in reports: ``first..last``."""
        return (
            self.columns[0] if len(self.columns) == 1 else f"{self.columns[0]}..{self.columns[-1]}"
        )

    problems: dict[int, tuple[str, object, str]] = field(default_factory=dict)


def element_columns(columns: list[str], spec: ElementColumnsSpec, file: str) -> list[str]:
    """Return the element columns: every element-symbol header, or the declared list.

    Raises
    ------
    TableError
        A declared column is missing from the table or its header is not an element symbol.
    """
    if spec.columns == "auto":
        found = [c for c in columns if c in _INDEX]
        if not found:
            raise TableError(
                f"{file}: elements.columns = 'auto' found no column named by an element symbol "
                f"(columns: {columns}). List the element columns."
            )
        return found
    for col in spec.columns:
        if col not in columns:
            raise TableError(f"{file}: element column {col!r} is not in the table ({columns}).")
        if col not in _INDEX:
            hint = ""
            if col.capitalize() in _INDEX:
                hint = f" Did you mean {col.capitalize()!r}?"
            raise TableError(
                f"{file}: column {col!r} is listed in elements.columns but its header is not "
                f"an element symbol.{hint} Rename the column or leave it out."
            )
    return list(spec.columns)


def _format(amounts: np.ndarray, symbols: list[str]) -> str:
    parts = []
    for sym, x in zip(symbols, amounts, strict=True):
        if x > 0:
            parts.append(f"{sym}{float(f'{x:.10g}'):.10g}")
    return "".join(parts)


def element_formulas(
    df: pd.DataFrame, spec: ElementColumnsSpec, file: str, skip: Set[int] = frozenset()
) -> ElementFormulas:
    """Convert element columns into formulas in atomic percent.

    Parameters
    ----------
    df : pandas.DataFrame
        The raw table.
    spec : ElementColumnsSpec
        Columns, basis (wt % or at %), sum tolerance, what to do with a bad row.
    file : str
        Named in errors and problems.
    skip : set of int
        Rows a filter removed (not checked).

    Returns
    -------
    ElementFormulas

    Raises
    ------
    TableError
        A header is not an element, or (``on_bad_sum = "error"``) the first row that does not
        sum to 100 within the tolerance, or has a negative or non-numeric amount.
    """
    columns = element_columns([str(c) for c in df.columns], spec, file)
    raw = df[columns]
    values = raw.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    blank = raw.isna().to_numpy()
    values = np.where(blank, 0.0, values)  # an empty element cell means none of it
    problems: dict[int, tuple[str, object, str]] = {}
    bad_number = np.isnan(values) & ~blank
    for row, j in zip(*np.nonzero(bad_number), strict=True):
        problems.setdefault(int(row), (columns[j], raw.iat[row, j], "not a number"))
    for row, j in zip(*np.nonzero(values < 0), strict=True):
        problems.setdefault(int(row), (columns[j], raw.iat[row, j], "negative amount"))
    span = columns[0] if len(columns) == 1 else f"{columns[0]}..{columns[-1]}"
    totals = np.nansum(values, axis=1)
    off = np.abs(totals - 100.0) > spec.sum_tolerance
    for row in np.flatnonzero(off):
        problems.setdefault(
            int(row),
            (
                span,
                f"{totals[row]:.6g}",
                f"{spec.basis} amounts do not sum to 100 +- {spec.sum_tolerance:g}",
            ),
        )
    problems = {r: p for r, p in problems.items() if r not in skip}
    if problems and spec.on_bad_sum == "error":
        row = min(problems)
        col, value, reason = problems[row]
        raise TableError(
            f"{file}: row {row}, column {col}: {reason} (value {value}). Fix the row, or reject "
            "such rows with their reason (elements.on_bad_sum = 'reject', mi ingest --on-bad-sum "
            "reject)."
        )
    if spec.basis == "wt%":
        masses = np.array([ATOMIC_MASSES[_INDEX[c]] for c in columns])
        amounts = values / masses
    else:
        amounts = values.copy()
    sums = amounts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        amounts = 100.0 * amounts / sums
    formulas: list[str | None] = []
    for row in range(len(df)):
        if row in problems or not np.isfinite(amounts[row]).all() or sums[row, 0] <= 0:
            if row not in problems:
                problems[row] = (span, "0", "no element present")
            formulas.append(None)
        else:
            formulas.append(_format(amounts[row], columns))
    return ElementFormulas(formulas, columns, problems)

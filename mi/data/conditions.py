"""Condition columns (temperature, pressure, processing) read as numbers with their units.

A condition is a model input next to the composition features and a merge key: rows merge
only when composition **and** conditions agree. Units are checked before any work:

- the declared ``unit`` is required (:class:`~mi.data.spec.ConditionSpec`);
- a header that states a unit in parentheses (``"Tag (K)"``) must state the declared one;
- a cell that carries a unit (``"300 K"``, ``"27 C"``) must carry the declared one.

Each of these stops with one :class:`~mi.exceptions.TableError` naming file, row and column.

Examples
--------
>>> import pandas as pd
>>> from mi.data.spec import ConditionSpec
>>> df = pd.DataFrame({"T (K)": ["300 K", 350, None]})
>>> spec = ConditionSpec(name="T_K", column="T (K)", unit="K", missing=293.0)
>>> read_conditions(df, [spec], "t.csv").values["T_K"].tolist()
[300.0, 350.0, 293.0]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.data.spec import ConditionSpec
from mi.exceptions import TableError, did_you_mean

__all__ = ["ConditionValues", "read_conditions", "header_unit", "TRUE_WORDS", "FALSE_WORDS"]

TRUE_WORDS = frozenset({"y", "yes", "true", "t", "1", "1.0"})
FALSE_WORDS = frozenset({"n", "no", "false", "f", "0", "0.0"})
_HEADER_UNIT = re.compile(r"\(([^()]+)\)\s*$|\[([^\[\]]+)\]\s*$")
_CELL = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$")


def header_unit(column: str) -> str | None:
    """Return the unit a header states in parentheses or brackets (``"Tag (K)"``: ``K``)."""
    m = _HEADER_UNIT.search(column)
    if m is None:
        return None
    return (m.group(1) or m.group(2)).strip()


def _same_unit(a: str, b: str) -> bool:
    norm = {"°c": "c", "degc": "c", "℃": "c", "pct": "%", "percent": "%", "hr": "h", "hours": "h"}
    x, y = a.strip().lower(), b.strip().lower()
    return norm.get(x, x) == norm.get(y, y)


@dataclass
class ConditionValues:
    """Numeric condition values per row, and the rows whose cells could not be read.

    Attributes
    ----------
    values : dict of str to numpy.ndarray
        Condition name to float values (NaN where ``missing = "keep"``).
    problems : dict of int to tuple of (column, value, reason)
        Rows to reject.
    filled : dict of str to int
        Per condition, how many empty cells were filled with the declared number.
    """

    values: dict[str, np.ndarray]
    problems: dict[int, tuple[str, object, str]] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)


def _flag(cell: object) -> float:
    word = str(cell).strip().lower()
    if word in TRUE_WORDS:
        return 1.0
    if word in FALSE_WORDS:
        return 0.0
    raise ValueError("not a yes/no flag (expected Y/N, yes/no, true/false, 1/0)")


def _number(cell: object, spec: ConditionSpec, file: str, row: int) -> float:
    if isinstance(cell, bool | np.bool_):
        raise ValueError("a boolean is not a number")
    if isinstance(cell, int | float | np.integer | np.floating):
        return float(cell)
    m = _CELL.match(str(cell))
    if m is None:
        raise ValueError("not a number")
    unit = m.group(2)
    if unit is not None and not _same_unit(unit, spec.unit):
        raise TableError(
            f"{file}: row {row}, column {spec.source!r}: value {str(cell)!r} is in {unit!r} but "
            f"the condition {spec.name!r} is declared in {spec.unit!r}; units are mixed. Convert "
            "the column to one unit first."
        )
    return float(m.group(1))


def _missing(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and cell.strip() in {"", "nan", "NaN", "NA", "N/A", "-", "null"}


def read_conditions(df: pd.DataFrame, specs: Sequence[ConditionSpec], file: str) -> ConditionValues:
    """Read the condition columns of a raw table.

    Parameters
    ----------
    df : pandas.DataFrame
    specs : sequence of ConditionSpec
    file : str
        Named in errors and problems.

    Returns
    -------
    ConditionValues

    Raises
    ------
    TableError
        A column is missing, or its units are missing, contradict the header, or are mixed.
    """
    out = ConditionValues(values={})
    columns = [str(c) for c in df.columns]
    for spec in specs:
        if spec.source not in columns:
            hint = did_you_mean(spec.source, columns)
            raise TableError(
                f"{file}: condition column {spec.source!r} is not in the table "
                f"(columns: {columns}).{hint}"
            )
        stated = header_unit(spec.source)
        if spec.kind == "number" and stated is not None and not _same_unit(stated, spec.unit):
            raise TableError(
                f"{file}: column {spec.source!r} states unit {stated!r} in its header but the "
                f"condition {spec.name!r} is declared with unit {spec.unit!r}. Fix the unit."
            )
        cells = df[spec.source].tolist()
        values = np.full(len(cells), np.nan)
        n_filled = 0
        for row, cell in enumerate(cells):
            if _missing(cell):
                if spec.missing == "reject":
                    out.problems.setdefault(row, (spec.source, cell, "missing condition value"))
                elif spec.missing != "keep":
                    values[row] = float(spec.missing)
                    n_filled += 1
                continue
            try:
                values[row] = _flag(cell) if spec.kind == "flag" else _number(cell, spec, file, row)
            except TableError:
                raise
            except ValueError as exc:
                out.problems.setdefault(row, (spec.source, cell, f"condition: {exc}"))
        out.values[spec.name] = values
        if n_filled:
            out.filled[spec.name] = n_filled
    return out

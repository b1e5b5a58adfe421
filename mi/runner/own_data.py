"""What a run needs for a user's own table: its dataset, condition inputs and transforms.

A workflow target names a registered dataset (``dataset = "..."``) or a table file
(``[targets.table]``, :class:`mi.data.table_file.TableFile`). Either may carry condition
columns (temperature, processing), which become model inputs next to the composition features,
and a target transform whose inverse is applied to every reported prediction.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi.exceptions import SpecError

__all__ = [
    "target_dataset",
    "dataset_label",
    "with_conditions",
    "condition_grid",
    "resolve_tables",
]


def target_dataset(target: Any) -> Any:
    """Load the :class:`~mi.data.Dataset` of a workflow target (registered name or table file)."""
    if getattr(target, "table", None) is not None:
        from mi.data.table_file import load_table_file

        return load_table_file(target.table)
    from mi.data import load_dataset

    audit = getattr(target, "label_audit", None)
    return (
        load_dataset(target.dataset) if audit is None else load_dataset(target.dataset, audit=audit)
    )


def dataset_label(target: Any) -> str:
    """Short name of a target's data: the registered name or the table's name / file stem."""
    if getattr(target, "table", None) is not None:
        return str(target.table.dataset_name)
    return str(target.dataset)


def with_conditions(X: pd.DataFrame, table: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Append condition columns (model inputs) to a composition feature matrix.

    Parameters
    ----------
    X : pandas.DataFrame
        Composition features, one row per training row.
    table : pandas.DataFrame
        The training table holding the condition columns.
    conditions : list of str
        Condition names.

    Returns
    -------
    pandas.DataFrame
    """
    if not conditions:
        return X
    clash = [c for c in conditions if c in X.columns]
    if clash:
        raise SpecError(f"condition names {clash} clash with feature names; rename them.")
    extra = table[conditions].astype(np.float64).reset_index(drop=True)
    return pd.concat([X.reset_index(drop=True), extra.astype(X.dtypes.iloc[0])], axis=1)


def condition_grid(values: dict[str, list[float]], needed: list[str]) -> pd.DataFrame | None:
    """Every combination of the candidates' condition values (None when no model needs any).

    Parameters
    ----------
    values : dict of str to list of float
        ``[candidates.conditions]`` of the workflow.
    needed : list of str
        Conditions the surrogates were trained with.

    Returns
    -------
    pandas.DataFrame or None

    Raises
    ------
    SpecError
        A surrogate needs a condition the candidates do not set (or the reverse).
    """
    missing = [c for c in needed if c not in values]
    if missing:
        raise SpecError(
            f"candidates.conditions: the surrogates use the conditions {needed}; give values "
            f"for {missing}, e.g. {missing[0]} = [value, ...]."
        )
    unused = [c for c in values if c not in needed]
    if unused:
        raise SpecError(
            f"candidates.conditions {unused} are not inputs of any surrogate (inputs: "
            f"{needed or 'none'}); remove them."
        )
    if not needed:
        return None
    rows = list(itertools.product(*(values[c] for c in needed)))
    return pd.DataFrame(rows, columns=needed, dtype=np.float64)


def resolve_tables(spec: Any, base: Path) -> Any:
    """Resolve table-file paths of a spec relative to the workflow file's folder."""
    over = {}
    for i, t in enumerate(spec.targets):
        if t.table is not None:
            over[f"targets.{i}.table"] = t.table.resolved(base).model_dump()
    return spec.with_overrides(**over) if over else spec

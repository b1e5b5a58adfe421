"""Monotone constraints named by feature column: shared by the tree models."""

from __future__ import annotations

from typing import Any

__all__ = ["column_names", "monotone_constraints"]


def column_names(X: Any) -> list[str]:
    """Column names of a table (empty for an array)."""
    return [str(c) for c in getattr(X, "columns", [])]


def monotone_constraints(spec: str, names: list[str], n_features: int) -> tuple[int, ...]:
    """Return the constraint per feature: +1 for the columns named by ``spec``, else 0.

    Parameters
    ----------
    spec : str
        Starts of column names separated by ``";"``; each must match exactly one column.
    names : list of str
        The training table's column names (empty when it was an array).
    n_features : int
        Number of features.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        No column names, or a start matching no column or several.

    Examples
    --------
    >>> monotone_constraints("Co share", ["Fe share", "Co share"], 2)
    (0, 1)
    """
    if len(names) != n_features:
        raise ValueError(
            "monotone_increasing names feature columns: fit needs a DataFrame with column names."
        )
    out = [0] * n_features
    for start in (s.strip() for s in spec.split(";")):
        if not start:
            continue
        hits = [i for i, c in enumerate(names) if c.startswith(start)]
        if len(hits) != 1:
            raise ValueError(
                f"monotone_increasing: {start!r} must match exactly one feature column by its "
                f"start; matched {len(hits)} of {n_features}."
            )
        out[hits[0]] = 1
    return tuple(out)

"""Shared helpers of :mod:`mi.plots`: new figures without pyplot, input checks, styling.

Figures are built with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state), so
library code never opens a window, never leaks figures in long jobs, and a figure returned as
the last expression of a notebook cell is shown exactly once by the inline backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.exceptions import DataError

__all__ = ["new_axes", "as_1d", "require_columns", "PALETTE"]

#: Colour cycle (colour-blind safe, Okabe-Ito) used for strategies / models.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the given axes and its figure, or a fresh single-axes figure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes to draw into; ``None`` makes a new figure of size ``figsize``.
    figsize : tuple of float
        Width and height in inches of a new figure.

    Returns
    -------
    tuple of (Figure, Axes)
    """
    if ax is not None:
        fig = ax.get_figure()
        if not isinstance(fig, Figure):  # a SubFigure: walk up to the root figure
            fig = fig.get_figure(root=True)  # type: ignore[union-attr]
        return fig, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def as_1d(values: Any, name: str, n: int | None = None) -> np.ndarray:
    """Convert ``values`` to a 1-D float array and check its length.

    Parameters
    ----------
    values : array-like
        Numbers (list, numpy array, pandas Series ...).
    name : str
        Argument name quoted in the error message.
    n : int, optional
        Required length.

    Returns
    -------
    numpy.ndarray
        1-D float64 array.

    Raises
    ------
    DataError
        When the values are not 1-D numbers or have the wrong length.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numbers; got {type(values).__name__}: {exc}") from exc
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional; got shape {arr.shape}. Pass one column.")
    if n is not None and arr.shape[0] != n:
        raise DataError(
            f"{name} has {arr.shape[0]} values but {n} were expected (one per point). "
            "Pass arrays of equal length."
        )
    return arr


def require_columns(df: Any, columns: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` naming the missing columns of ``df`` and those it has.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to check.
    columns : sequence of str
        Column names that must be present.
    what : str
        Name of the argument or table, quoted in the message.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {missing}; it has {list(df.columns)}. "
            "Pass the column names as keyword arguments."
        )

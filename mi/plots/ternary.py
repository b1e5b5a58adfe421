"""Composition maps of ternary families (e.g. Fe-Co-Ni, Nd-Pr-Dy) on a triangle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.tri import Triangulation

from mi.exceptions import DataError
from mi.plots._base import as_1d, new_axes, require_columns

__all__ = ["ternary_map", "ternary_xy"]

_H = np.sqrt(3.0) / 2.0
_TOL = 1e-9  # negative amounts closer to zero than this are rounding noise


def ternary_xy(fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map rows ``(a, b, c)`` (normalised to sum 1) to Cartesian triangle coordinates.

    Corner ``a`` is bottom-left ``(0, 0)``, ``b`` bottom-right ``(1, 0)`` and ``c`` the top
    ``(0.5, sqrt(3)/2)``.

    Parameters
    ----------
    fractions : numpy.ndarray of shape (n, 3)
        Non-negative amounts (values above -1e-9 count as zero); each row is divided by its
        sum.

    Returns
    -------
    tuple of numpy.ndarray
        ``x`` and ``y`` coordinates.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = ternary_xy(np.array([[0, 0, 2.0]]))
    >>> float(x[0]), round(float(y[0]), 3)
    (0.5, 0.866)
    """
    f = np.asarray(fractions, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != 3:
        raise DataError(f"ternary fractions must have shape (n, 3); got {f.shape}")
    f = np.where((f < 0) & (f > -_TOL), 0.0, f)  # float noise such as 1 - 0.8 - 0.2
    bad = ~np.isfinite(f).all(axis=1) | (f < 0).any(axis=1) | (f.sum(axis=1) <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"ternary row {row} has amounts {f[row].tolist()}: they must be finite, "
            "non-negative and not all zero"
        )
    f = f / f.sum(axis=1, keepdims=True)
    return f[:, 1] + 0.5 * f[:, 2], _H * f[:, 2]


def ternary_map(
    fractions: pd.DataFrame,
    value: str | Any | None = None,
    *,
    components: Sequence[str] | None = None,
    kind: str = "scatter",
    highlight: str | Any | None = None,
    cmap: str = "viridis",
    label: str | None = None,
    grid_step: float = 0.2,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw compositions of a three-component family on a triangle, coloured by a value.

    Parameters
    ----------
    fractions : pandas.DataFrame
        One row per composition with the three component amounts as columns (atomic or
        mass fractions of the family's end members; rows are renormalised to sum 1 for
        drawing only).
    value : str or array-like, optional
        Column name or values (e.g. predicted property) used for the colour.
    components : sequence of 3 str, optional
        The component columns; default: the three columns of ``fractions`` other than
        ``value`` / ``highlight``.
    kind : {"scatter", "contour"}, default "scatter"
        Points, or filled contours over a triangulation of the points (needs a value and at
        least 6 points).
    highlight : str or array of bool, optional
        Column name or mask of compositions to mark with a star (e.g. observed or suggested).
    cmap : str, default "viridis"
        Colormap.
    label : str, optional
        Colour-bar label (default: the value column name).
    grid_step : float, default 0.2
        Spacing of the guide lines (0 for none).
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from mi.plots import ternary_map
    >>> df = pd.DataFrame({"Fe": [1, 0, 0, .4], "Co": [0, 1, 0, .3], "Ni": [0, 0, 1, .3],
    ...                    "Ms": [2.1, 1.8, 0.6, 1.9]})
    >>> fig = ternary_map(df, "Ms", components=["Fe", "Co", "Ni"])
    """
    if kind not in ("scatter", "contour"):
        raise ValueError(f"kind must be 'scatter' or 'contour'; got {kind!r}")
    skip = {c for c in (value, highlight) if isinstance(c, str)}
    if components is None:
        components = [c for c in fractions.columns if c not in skip]
    components = list(components)
    if len(components) != 3:
        raise DataError(
            f"a ternary map needs exactly 3 component columns; got {components}. "
            "Pass components=[a, b, c]."
        )
    require_columns(fractions, components + sorted(skip), "fractions")
    x, y = ternary_xy(fractions[components].to_numpy(dtype=np.float64))
    n = len(x)
    vals = None
    if value is not None:
        vals = as_1d(fractions[value] if isinstance(value, str) else value, "value", n)

    fig, ax = new_axes(ax, (5.4, 4.8))
    ax.plot([0, 1, 0.5, 0], [0, 0, _H, 0], color="0.2", lw=1.0, zorder=4)
    if grid_step and 0 < grid_step < 1:
        for t in np.arange(grid_step, 1.0 - 1e-9, grid_step):
            # lines of constant a, b and c
            for p, q in (
                ((1 - t, 0), (0.5 * (1 - t), _H * (1 - t))),
                ((t, 0), (0.5 + 0.5 * t, _H * (1 - t))),
                ((0.5 * t, _H * t), (1 - 0.5 * t, _H * t)),
            ):
                ax.plot([p[0], q[0]], [p[1], q[1]], color="0.85", lw=0.6, zorder=0)
    artist: Any = None
    if vals is not None and kind == "contour":
        if n < 6:
            raise DataError(f"kind='contour' needs at least 6 compositions; got {n}")
        artist = ax.tricontourf(Triangulation(x, y), vals, levels=12, cmap=cmap, zorder=1)
        ax.scatter(x, y, s=3, color="k", alpha=0.3, zorder=2)
    elif vals is not None:
        artist = ax.scatter(x, y, c=vals, cmap=cmap, s=22, lw=0, zorder=2)
    else:
        ax.scatter(x, y, s=22, color="#0072B2", lw=0, zorder=2)
    if artist is not None:
        cb = fig.colorbar(artist, ax=ax, shrink=0.8)
        cb.set_label(label or (value if isinstance(value, str) else "value"))
    if highlight is not None:
        mask = np.asarray(fractions[highlight] if isinstance(highlight, str) else highlight)
        if mask.shape != (n,):
            raise DataError(f"highlight mask must have {n} values; got shape {mask.shape}")
        mask = mask.astype(bool)
        ax.scatter(
            x[mask],
            y[mask],
            marker="*",
            s=120,
            color="#D55E00",
            edgecolors="k",
            lw=0.5,
            zorder=5,
            label=highlight if isinstance(highlight, str) else None,
        )
        if isinstance(highlight, str):
            ax.legend(loc="upper right", fontsize=8, frameon=False)
    a, b, c = components
    ax.text(-0.03, -0.04, a, ha="right", va="top", fontsize=11, fontweight="bold")
    ax.text(1.03, -0.04, b, ha="left", va="top", fontsize=11, fontweight="bold")
    ax.text(0.5, _H + 0.04, c, ha="center", va="bottom", fontsize=11, fontweight="bold")
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.1, _H + 0.12)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig

"""Periodic-table heatmaps: one value per element (criticality, feature importance ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from mi.exceptions import DataError, did_you_mean
from mi.plots._base import new_axes, require_columns

__all__ = [
    "periodic_table_heatmap",
    "element_criticality_heatmap",
    "feature_importance_heatmap",
    "element_position",
]

# Last atomic number of each period (1..7).
_PERIOD_ENDS = (2, 10, 18, 36, 54, 86, 118)


def element_position(z: int) -> tuple[int, int]:
    """Return the (row, column) of element ``z`` in the usual 18-column layout.

    Rows 1-7 are the periods; the lanthanides (Z 57-71) and actinides (Z 89-103) go to rows
    9 and 10 in columns 3-17, under a gap row 8. Columns are the groups 1-18.

    Parameters
    ----------
    z : int
        Atomic number, 1 to 118.

    Returns
    -------
    tuple of int
        ``(row, column)``, both 1-based.

    Examples
    --------
    >>> element_position(26)  # Fe
    (4, 8)
    >>> element_position(66)  # Dy, lanthanide row
    (9, 12)
    """
    if not 1 <= z <= 118:
        raise ValueError(f"atomic number must be in 1..118; got {z}")
    if 57 <= z <= 71:
        return 9, z - 57 + 3
    if 89 <= z <= 103:
        return 10, z - 89 + 3
    period = next(i + 1 for i, end in enumerate(_PERIOD_ENDS) if z <= end)
    start = 1 if period == 1 else _PERIOD_ENDS[period - 2] + 1
    k = z - start  # 0-based position within the period
    if period == 1:
        return 1, 1 if z == 1 else 18
    if period in (2, 3):
        return period, k + 1 if k < 2 else k + 11
    if period in (4, 5):
        return period, k + 1
    # periods 6 and 7: s-block, then (after the f-block) groups 4..18
    if k < 2:
        return period, k + 1
    return period, k - 13  # skip the 15 f-block elements: Hf (k=17) is group 4


def periodic_table_heatmap(
    values: Mapping[str, float] | pd.Series,
    *,
    label: str | None = None,
    cmap: str = "viridis",
    log: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    show_values: bool = True,
    fmt: str = "{:.2g}",
    missing_color: str = "#efefef",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw a periodic table with each element's tile coloured by its value.

    Elements without a value (absent, or NaN) are drawn in ``missing_color`` with their symbol
    only. The values are drawn as given: nothing is computed here.

    Parameters
    ----------
    values : mapping of str to float or pandas.Series
        Element symbol to value, e.g. ``{"Dy": 0.95, "Fe": 0.1}``.
    label : str, optional
        Colour-bar label.
    cmap : str, default "viridis"
        Matplotlib colormap name.
    log : bool, default False
        Logarithmic colour scale (values must be positive).
    vmin, vmax : float, optional
        Colour-scale limits (default: the data range).
    show_values : bool, default True
        Print each value under the element symbol.
    fmt : str, default "{:.2g}"
        Format of the printed values.
    missing_color : str
        Tile colour for elements without a value.
    title : str, optional
        Figure title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        If a key is not an element symbol (the message suggests the closest symbol).

    Examples
    --------
    >>> from mi.plots import periodic_table_heatmap
    >>> fig = periodic_table_heatmap({"Dy": 0.95, "Tb": 0.97, "Fe": 0.1}, label="supply risk")
    """
    from mi.chem import ELEMENTS

    z_of = {s: i + 1 for i, s in enumerate(ELEMENTS)}
    data: dict[str, float] = {}
    for key, val in dict(values).items():
        sym = str(key).strip()
        if sym not in z_of:
            hint = did_you_mean(sym, ELEMENTS)
            raise DataError(f"{sym!r} is not an element symbol (Z 1-103).{hint}")
        try:
            data[sym] = float(val)
        except (TypeError, ValueError) as exc:
            raise DataError(f"value for {sym!r} is not a number: {val!r}") from exc

    finite = np.array([v for v in data.values() if np.isfinite(v)])
    if log:
        finite = finite[finite > 0]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    norm: Normalize = LogNorm(lo, hi) if log else Normalize(lo, hi)
    cm = colormaps[cmap]

    fig, ax = new_axes(ax, (10.0, 5.6))
    for sym, z in z_of.items():
        row, col = element_position(z)
        val = data.get(sym, np.nan)
        has = np.isfinite(val) and (not log or val > 0)
        face = cm(norm(val)) if has else missing_color
        ax.add_patch(
            Rectangle((col - 0.5, row - 0.5), 0.94, 0.94, facecolor=face, edgecolor="white", lw=0.5)
        )
        tcolor = ("white" if _is_dark(face) else "0.1") if has else "0.55"
        ax.text(
            col - 0.03,
            row - 0.12,
            sym,
            ha="center",
            va="center",
            fontsize=8.5,
            fontweight="bold" if has else "normal",
            color=tcolor,
        )
        if has and show_values:
            ax.text(
                col - 0.03,
                row + 0.22,
                fmt.format(val),
                ha="center",
                va="center",
                fontsize=5.5,
                color=tcolor,
            )
    ax.text(3 - 0.03, 6 - 0.05, "57-71", ha="center", va="center", fontsize=6, color="0.5")
    ax.text(3 - 0.03, 7 - 0.05, "89-103", ha="center", va="center", fontsize=6, color="0.5")
    ax.set_xlim(0.4, 18.6)
    ax.set_ylim(10.6, 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    cbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cm),
        ax=ax,
        orientation="horizontal",
        fraction=0.04,
        pad=0.02,
        shrink=0.5,
    )
    if label:
        cbar.set_label(label)
    if title:
        ax.set_title(title)
    return fig


def _is_dark(rgba: Any) -> bool:
    r, g, b = rgba[:3]
    return bool(0.299 * r + 0.587 * g + 0.114 * b < 0.5)


def element_criticality_heatmap(
    table: pd.DataFrame,
    column: str = "supply_risk",
    *,
    element_col: str | None = "element",
    label: str | None = None,
    **kwargs: Any,
) -> Figure:
    """Periodic-table heatmap of one column of an element criticality table.

    Parameters
    ----------
    table : pandas.DataFrame
        Element table, e.g. :func:`mi.criticality.get_table`; one row per element.
    column : str, default "supply_risk"
        Column to colour by.
    element_col : str or None, default "element"
        Column with the element symbols; ``None`` (or absent) uses the index.
    label : str, optional
        Colour-bar label (default: the column name).
    **kwargs
        Passed to :func:`periodic_table_heatmap` (``cmap``, ``log``, ``title`` ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, [column], "criticality table")
    if element_col and element_col in table.columns:
        series = pd.Series(table[column].to_numpy(), index=table[element_col].astype(str))
    else:
        series = table[column]
    kwargs.setdefault("cmap", "YlOrRd")
    return periodic_table_heatmap(series, label=label or column.replace("_", " "), **kwargs)


def feature_importance_heatmap(
    importances: Mapping[str, float] | pd.Series,
    *,
    label: str = "feature importance",
    **kwargs: Any,
) -> Figure:
    """Periodic-table heatmap of per-element feature importances.

    Parameters
    ----------
    importances : mapping or pandas.Series
        Importance per element. Keys may be bare symbols (matminer's ``ElementFraction``
        labels, ``"Fe"``) or feature names ending in a symbol (``"frac Fe"``,
        ``"ElementFraction Fe"``); other features (e.g. Magpie statistics, which mix all
        elements) are ignored, since they belong to no single element.
    label : str, default "feature importance"
        Colour-bar label.
    **kwargs
        Passed to :func:`periodic_table_heatmap`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from mi.chem import ELEMENTS

    known = set(ELEMENTS)
    per_element: dict[str, float] = {}
    for key, val in dict(importances).items():
        last = str(key).split()[-1] if str(key).split() else ""
        if last in known:
            per_element[last] = per_element.get(last, 0.0) + float(val)
    if not per_element:
        raise DataError(
            "no per-element feature found in the importances (expected names like 'Fe' or "
            f"'frac Fe'); got e.g. {list(dict(importances))[:3]}"
        )
    kwargs.setdefault("cmap", "Blues")
    return periodic_table_heatmap(per_element, label=label, **kwargs)

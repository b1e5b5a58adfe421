"""Pareto front of a property against supply risk, coloured by heavy-rare-earth content."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.exceptions import DataError
from mi.plots._base import as_1d, new_axes, require_columns

__all__ = ["pareto_front"]


def pareto_front(
    candidates: pd.DataFrame,
    y: str,
    *,
    x: str = "supply_risk",
    color: str | None = "dytb_mass_fraction",
    front: str | np.ndarray | None = None,
    y_std: str | None = None,
    highlight: str | np.ndarray | None = None,
    label_col: str | None = None,
    n_labels: int = 6,
    maximize: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    color_label: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Scatter a property against supply risk; draw the given Pareto front as a step line.

    The front itself is an input (a boolean column or mask computed by :mod:`mi.active`);
    nothing is computed here. Colour shows the Dy+Tb mass fraction by default, so the
    trade-off "performance against heavy rare earths" is visible at a glance.

    Parameters
    ----------
    candidates : pandas.DataFrame
        One row per candidate with at least the columns ``x`` and ``y``.
    y : str
        Column of the property (predicted mean), e.g. ``"Ms"``.
    x : str, default "supply_risk"
        Column of the risk objective (lower is better).
    color : str or None, default "dytb_mass_fraction"
        Column used for the colour scale; ``None`` for a single colour.
    front : str or array of bool, optional
        Column name or mask marking the non-dominated candidates; they are ringed and joined.
    y_std : str, optional
        Column of predictive standard deviations, drawn as error bars on the front points.
    highlight : str or array of bool, optional
        Column name or mask of candidates to mark with a star (e.g. the suggested batch).
    label_col : str, optional
        Column with text (e.g. formulas) written next to up to ``n_labels`` front points.
    n_labels : int, default 6
        Maximum number of front points labelled.
    maximize : bool, default True
        Whether larger ``y`` is better (sets the step direction of the front line).
    xlabel, ylabel, color_label, title : str, optional
        Axis, colour-bar and title texts (default: the column names).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from mi.plots import pareto_front
    >>> df = pd.DataFrame({"Ms": [1.2, 1.4, 1.0], "supply_risk": [0.3, 0.5, 0.2],
    ...                    "dytb_mass_fraction": [0.0, 0.05, 0.0],
    ...                    "on_front": [True, True, True]})
    >>> fig = pareto_front(df, "Ms", front="on_front")
    """
    cols = [x, y] + [c for c in (color, y_std, label_col) if c]
    cols += [c for c in (front, highlight) if isinstance(c, str)]
    require_columns(candidates, cols, "candidates")
    n = len(candidates)
    xs = as_1d(candidates[x], x)
    ys = as_1d(candidates[y], y)
    fig, ax = new_axes(ax, (6.2, 4.4))
    cs = as_1d(candidates[color], color) if color else None
    finite = cs[np.isfinite(cs)] if cs is not None else np.array([])
    if cs is not None and finite.size and np.ptp(finite) > 0:
        sc = ax.scatter(xs, ys, c=cs, cmap="plasma", s=14, alpha=0.8, lw=0, zorder=2)
        cb = fig.colorbar(sc, ax=ax)
        cb.set_label(color_label or str(color).replace("_", " "))
    elif cs is not None:  # one value for all: a colour bar would say nothing
        same = f"{finite[0]:g}" if finite.size else "unknown"
        label = f"{color_label or str(color).replace('_', ' ')} = {same} for all"
        ax.scatter(xs, ys, color="#0072B2", s=14, alpha=0.6, lw=0, zorder=2, label=label)
    else:
        ax.scatter(xs, ys, color="#0072B2", s=14, alpha=0.6, lw=0, zorder=2)

    mask = _mask(candidates, front, n, "front")
    if mask is not None and mask.any():
        order = np.argsort(xs[mask])
        fx, fy = xs[mask][order], ys[mask][order]
        ax.step(
            fx,
            fy,
            where="post" if maximize else "pre",
            color="0.15",
            lw=1.2,
            zorder=3,
            label="Pareto front",
        )
        ax.scatter(fx, fy, s=40, facecolors="none", edgecolors="0.1", lw=1.0, zorder=4)
        if y_std:
            fs = as_1d(candidates[y_std], y_std)[mask][order]
            ax.errorbar(fx, fy, yerr=fs, fmt="none", ecolor="0.2", elinewidth=0.8, zorder=3)
        if label_col:
            texts = candidates[label_col].to_numpy()[mask][order]
            step = max(1, len(fx) // max(1, n_labels))
            for i in range(0, len(fx), step)[:n_labels]:
                ax.annotate(
                    str(texts[i]),
                    (fx[i], fy[i]),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=7,
                    color="0.15",
                )
    hmask = _mask(candidates, highlight, n, "highlight")
    if hmask is not None and hmask.any():
        ax.scatter(
            xs[hmask],
            ys[hmask],
            marker="*",
            s=110,
            color="#009E73",
            edgecolors="k",
            lw=0.5,
            zorder=5,
            label="selected",
        )
    ax.set_xlabel(xlabel or f"{x.replace('_', ' ')} (lower is better)")
    ax.set_ylabel(ylabel or y)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def _mask(df: pd.DataFrame, spec: str | np.ndarray | None, n: int, name: str) -> Any:
    if spec is None:
        return None
    values = df[spec].to_numpy() if isinstance(spec, str) else np.asarray(spec)
    if values.shape != (n,):
        raise DataError(f"{name} mask must have one value per candidate ({n}); got {values.shape}")
    if values.dtype != bool:
        try:
            values = values.astype(bool)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name} must be booleans; got dtype {values.dtype}") from exc
    return values

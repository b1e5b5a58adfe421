"""Bar chart of the largest feature importances."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.plots._base import PALETTE, new_axes

__all__ = ["feature_importance_bar"]


def feature_importance_bar(
    importances: Mapping[str, float] | pd.Series,
    *,
    top: int = 15,
    xlabel: str = "importance",
    title: str | None = "Most important features",
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars of the ``top`` largest importances, largest on top.

    Parameters
    ----------
    importances : mapping of str to float or pandas.Series
        Feature name to importance (e.g. a fitted model's ``feature_importances_`` as a
        Series indexed by the feature columns).
    top : int, default 15
        How many features to show.
    xlabel : str, default "importance"
        X-axis label.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mi.plots import feature_importance_bar
    >>> fig = feature_importance_bar({"MagpieData mean Number": 0.4, "frac Fe": 0.1})
    """
    series = pd.Series(dict(importances), dtype=np.float64)
    series = series[np.isfinite(series)].sort_values(ascending=False).head(top)[::-1]
    fig, ax = new_axes(ax, (6.4, 0.28 * max(len(series), 3) + 1.0))
    ax.barh(range(len(series)), series.to_numpy(), color=PALETTE[0])
    ax.set_yticks(range(len(series)), [str(s) for s in series.index], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig

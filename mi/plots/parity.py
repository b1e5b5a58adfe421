"""Parity plot: predicted against observed values, with the predictive standard deviation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.plots._base import PALETTE, as_1d, new_axes

__all__ = ["parity"]


def parity(
    y_true: Any,
    y_pred: Any,
    y_std: Any = None,
    *,
    label: str = "target",
    units: str | None = None,
    metrics: Mapping[str, float] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot predicted against observed values with ±1 standard-deviation error bars.

    Nothing is computed here: pass the out-of-fold predictions and, optionally, the metrics
    already computed by :func:`mi.models.evaluate` to print them in the corner.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,) or Prediction
        Predicted means, or a :class:`mi.models.Prediction` (its ``mean`` and ``std`` are used
        unless ``y_std`` is given).
    y_std : array-like of shape (n,), optional
        Predictive standard deviations, drawn as vertical error bars (±1 std).
    label : str, default "target"
        Name of the property, used in the axis labels.
    units : str, optional
        Units appended to the axis labels, e.g. ``"K"``.
    metrics : mapping of str to float, optional
        Figures to print in the upper-left corner, e.g. ``{"MAE": 9.1, "R2": 0.91}``.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mi.plots import parity
    >>> fig = parity([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], [0.1, 0.2, 0.1], label="Tc", units="K")
    >>> fig.axes[0].get_xlabel()
    'observed Tc (K)'
    """
    if not callable(getattr(y_pred, "mean", np.mean)) and hasattr(y_pred, "std"):
        # a Prediction (mean/std are arrays), not an array or Series (mean/std are methods)
        if y_std is None:
            y_std = y_pred.std
        y_pred = y_pred.mean
    yt = as_1d(y_true, "y_true")
    yp = as_1d(y_pred, "y_pred", len(yt))
    ys = None if y_std is None else as_1d(y_std, "y_std", len(yt))

    fig, ax = new_axes(ax, (4.8, 4.6))
    color = PALETTE[0]
    if ys is not None:
        ax.errorbar(
            yt,
            yp,
            yerr=ys,
            fmt="none",
            ecolor=color,
            elinewidth=0.6,
            alpha=0.25 if len(yt) > 200 else 0.5,
            zorder=1,
        )
    ax.scatter(yt, yp, s=9 if len(yt) > 500 else 16, color=color, alpha=0.6, lw=0, zorder=2)
    finite = np.isfinite(yt) & np.isfinite(yp)
    if finite.any():
        lo = float(min(yt[finite].min(), yp[finite].min()))
        hi = float(max(yt[finite].max(), yp[finite].max()))
        pad = 0.04 * (hi - lo or 1.0)
        lims = (lo - pad, hi + pad)
        ax.plot(lims, lims, color="0.3", lw=1, ls="--", zorder=3, label="y = x")
        ax.set_xlim(lims)
        ax.set_ylim(lims)
    ax.set_aspect("equal", adjustable="box")
    unit = f" ({units})" if units else ""
    ax.set_xlabel(f"observed {label}{unit}")
    ax.set_ylabel(f"predicted {label}{unit}" + (" ± 1σ" if ys is not None else ""))
    if metrics:
        text = "\n".join(f"{k} = {_fmt(v)}" for k, v in metrics.items())
        text += f"\nn = {len(yt)}"
        ax.text(
            0.03,
            0.97,
            text,
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=9,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.9},
        )
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def _fmt(value: Any) -> str:
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)

"""Calibration plot: nominal (expected) against observed coverage of prediction intervals."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.plots._base import PALETTE, as_1d, new_axes, require_columns

__all__ = ["calibration"]


def calibration(
    expected: Any,
    observed: Any = None,
    *,
    by: str | None = None,
    label: str | None = None,
    expected_col: str = "expected",
    observed_col: str = "observed",
    title: str | None = "Uncertainty calibration",
    ax: Axes | None = None,
) -> Figure:
    """Plot observed against expected coverage of central prediction intervals.

    A calibrated model lies on the diagonal: for a nominal 90 % interval, 90 % of held-out
    observations fall inside it. Points below the diagonal mean the model is over-confident
    (intervals too narrow). The coverages are computed elsewhere (e.g. from out-of-fold
    predictions by :mod:`mi.models`); this function only draws them.

    Parameters
    ----------
    expected : array-like of shape (k,) or pandas.DataFrame
        Nominal coverage levels in [0, 1]; or a table with columns ``expected_col`` and
        ``observed_col`` (and optionally ``by`` to draw one curve per group).
    observed : array-like of shape (k,), optional
        Observed coverage at each level; required when ``expected`` is not a DataFrame.
    by : str, optional
        Column of the table naming the curve (e.g. ``"model"``), one line per value.
    label : str, optional
        Legend label for a single curve.
    expected_col, observed_col : str
        Column names used when ``expected`` is a DataFrame.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mi.plots import calibration
    >>> fig = calibration([0.5, 0.9], [0.42, 0.85], label="xgb-ensemble")
    """
    curves: list[tuple[str | None, Any, Any]] = []
    if isinstance(expected, pd.DataFrame):
        table = expected
        require_columns(table, [expected_col, observed_col] + ([by] if by else []), "calibration")
        if by:
            for name, group in table.groupby(by, sort=False):
                group = group.sort_values(expected_col)
                curves.append((str(name), group[expected_col], group[observed_col]))
        else:
            table = table.sort_values(expected_col)
            curves.append((label, table[expected_col], table[observed_col]))
    else:
        if observed is None:
            raise TypeError("calibration() needs `observed` when `expected` is not a DataFrame")
        curves.append((label, expected, observed))

    fig, ax = new_axes(ax, (4.4, 4.2))
    ax.plot([0, 1], [0, 1], color="0.3", ls="--", lw=1, label="ideal")
    for i, (name, exp, obs) in enumerate(curves):
        e = as_1d(exp, "expected")
        o = as_1d(obs, "observed", len(e))
        color = PALETTE[i % len(PALETTE)]
        ax.plot(e, o, marker="o", ms=4, color=color, label=name)
        ax.fill_between(e, e, o, color=color, alpha=0.12, lw=0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("expected coverage (nominal interval)")
    ax.set_ylabel("observed coverage")
    ax.text(
        0.97, 0.03, "over-confident", transform=ax.transAxes, ha="right", fontsize=8, color="0.4"
    )
    ax.text(
        0.03, 0.93, "under-confident", transform=ax.transAxes, ha="left", fontsize=8, color="0.4"
    )
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.9), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return fig

"""Figures from ``mi`` results (matplotlib). Every function draws; none computes.

Each function takes plain inputs that the other modules produce (arrays, a
:class:`mi.models.Prediction`, DataFrames from :mod:`mi.active` / :mod:`mi.criticality` /
:mod:`mi.runner`) and returns a :class:`matplotlib.figure.Figure`. Pass ``ax=`` to draw into
an existing axes. Figures are made without ``pyplot``, so a figure returned as the last
expression of a notebook cell is displayed once, and scripts can call ``fig.savefig(path)``.

- :func:`parity`: predicted vs observed with ±1σ error bars;
- :func:`calibration`: expected vs observed coverage of prediction intervals;
- :func:`discovery_curves`: campaign strategies vs random, median and spread over seeds
  (:func:`benchmark_history` reshapes a :class:`mi.active.BenchmarkResult` for it);
- :func:`pareto_front`: property vs supply risk, coloured by Dy+Tb content;
- :func:`periodic_table_heatmap`: one value per element on the periodic table, with
  :func:`element_criticality_heatmap` (a column of an element table) and
  :func:`feature_importance_heatmap` (per-element feature importances);
- :func:`feature_importance_bar`: the largest feature importances;
- :func:`ternary_map`: a three-component composition family on a triangle.
"""

from __future__ import annotations

import sys

from mi.plots.calibration import calibration
from mi.plots.discovery import benchmark_history, discovery_curves
from mi.plots.importance import feature_importance_bar
from mi.plots.pareto import pareto_front
from mi.plots.parity import parity
from mi.plots.periodic import (
    element_criticality_heatmap,
    element_position,
    feature_importance_heatmap,
    periodic_table_heatmap,
)
from mi.plots.ternary import ternary_map, ternary_xy

__all__ = [
    "parity",
    "calibration",
    "discovery_curves",
    "benchmark_history",
    "pareto_front",
    "periodic_table_heatmap",
    "element_criticality_heatmap",
    "feature_importance_heatmap",
    "feature_importance_bar",
    "element_position",
    "ternary_map",
    "ternary_xy",
]


def _register_notebook_display() -> None:
    """Show :class:`~matplotlib.figure.Figure` objects as PNG in IPython / Jupyter.

    The inline backend registers its formatter only once ``pyplot`` is imported; the figures
    made here never touch ``pyplot``, so register a PNG formatter for ``Figure`` when running
    inside IPython and none is registered yet (``%matplotlib ...`` later takes over).
    """
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return
    try:
        ip = ipython_mod.get_ipython()
    except Exception:  # pragma: no cover - defensive: never break import
        return
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    from matplotlib.figure import Figure

    png = ip.display_formatter.formatters.get("image/png")
    if png is None:  # pragma: no cover
        return
    try:
        png.lookup_by_type(Figure)
        return  # already registered (inline backend active)
    except KeyError:
        pass

    def _to_png(fig: Figure) -> bytes:
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
        return buf.getvalue()

    png.for_type(Figure, _to_png)


_register_notebook_display()

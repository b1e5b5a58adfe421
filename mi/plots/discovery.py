"""Discovery curves: how fast a campaign finds good materials, against random selection."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mi.plots._base import PALETTE, new_axes, require_columns

__all__ = ["discovery_curves", "benchmark_history"]

_RANDOM_NAMES = ("random", "Random", "random_search")


def benchmark_history(result: Any) -> pd.DataFrame:
    """Reshape a benchmark's hit sequences into the long table :func:`discovery_curves` draws.

    Parameters
    ----------
    result : mi.active.BenchmarkResult
        Anything with ``hits``: a mapping of strategy name to a boolean array of shape
        (n_seeds, budget), True where the i-th evaluation found a target.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``seed``, ``n_evaluated`` (1 ... budget) and ``found`` (targets
        found so far: the running count of hits).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(hits={"ei": np.array([[False, True, True]])})
    >>> benchmark_history(r)["found"].tolist()
    [0, 1, 2]
    """
    hits = getattr(result, "hits", None)
    if not isinstance(hits, dict):
        raise TypeError(
            "benchmark_history() needs a result with a `hits` dict (mi.active.BenchmarkResult); "
            f"got {type(result).__name__}"
        )
    frames = []
    for name, arr in hits.items():
        a = np.atleast_2d(np.asarray(arr, dtype=bool))
        n_seeds, budget = a.shape
        frames.append(
            pd.DataFrame(
                {
                    "strategy": name,
                    "seed": np.repeat(np.arange(n_seeds), budget),
                    "n_evaluated": np.tile(np.arange(1, budget + 1), n_seeds),
                    "found": np.cumsum(a, axis=1).ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def discovery_curves(
    history: Any,
    *,
    x: str = "n_evaluated",
    y: str = "best",
    strategy: str = "strategy",
    seed: str = "seed",
    band: tuple[float, float] = (0.1, 0.9),
    show_seeds: bool = False,
    ylabel: str | None = None,
    target_line: float | None = None,
    title: str | None = "Discovery curves",
    ax: Axes | None = None,
) -> Figure:
    """Plot the median discovery curve of each strategy with its spread over seeds.

    Each row of ``history`` is one point of one run: after ``x`` evaluations, strategy
    ``strategy`` with random seed ``seed`` had reached ``y`` (best value found so far, number
    of top candidates found ...; whatever the benchmark recorded). The line is the median over
    seeds at each ``x``, the shaded band spans the ``band`` quantiles over seeds. The random
    baseline (strategy named ``"random"``) is drawn in grey and dashed.

    Parameters
    ----------
    history : pandas.DataFrame or mi.active.BenchmarkResult
        Long table with columns ``x``, ``y``, ``strategy`` and ``seed``; or a benchmark result,
        drawn as targets found against evaluations (see :func:`benchmark_history`), with the
        number of targets as reference line.
    x, y, strategy, seed : str
        Column names.
    band : tuple of float, default (0.1, 0.9)
        Lower and upper quantiles over seeds for the shaded band.
    show_seeds : bool, default False
        Also draw every seed's curve as a thin line.
    ylabel : str, optional
        Y-axis label (default: the ``y`` column name).
    target_line : float, optional
        Draw a horizontal reference line at this value (e.g. the best value in the pool).
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
    >>> from mi.plots import discovery_curves
    >>> h = pd.DataFrame({"strategy": ["ei"] * 4 + ["random"] * 4, "seed": [0, 0, 1, 1] * 2,
    ...                   "n_evaluated": [10, 20] * 4, "best": [1, 3, 2, 3, 1, 1, 1, 2]})
    >>> fig = discovery_curves(h)
    """
    if not isinstance(history, pd.DataFrame) and hasattr(history, "hits"):
        n_targets = getattr(history, "n_targets", None)
        history = benchmark_history(history)
        x, y, strategy, seed = "n_evaluated", "found", "strategy", "seed"
        ylabel = ylabel or "targets found"
        if target_line is None and n_targets is not None:
            target_line = float(n_targets)
            target_label = f"all {int(n_targets)} targets"
        else:
            target_label = "reference"
    else:
        target_label = "best in pool"
    require_columns(history, [x, y, strategy, seed], "history")
    lo_q, hi_q = band
    if not 0.0 <= lo_q <= hi_q <= 1.0:
        raise ValueError(f"band must be two quantiles 0 <= lo <= hi <= 1; got {band!r}")
    fig, ax = new_axes(ax, (6.0, 4.0))
    names = list(dict.fromkeys(history[strategy].astype(str)))
    # random last, so it is drawn under the campaign curves' legend entries
    names.sort(key=lambda s: s in _RANDOM_NAMES)
    color_i = 0
    for name in names:
        part = history[history[strategy].astype(str) == name]
        is_random = name in _RANDOM_NAMES
        if is_random:
            color, ls = "0.45", "--"
        else:
            color, ls = PALETTE[color_i % len(PALETTE)], "-"
            color_i += 1
        wide = part.pivot_table(index=x, columns=seed, values=y, aggfunc="last").sort_index()
        if show_seeds:
            for col in wide.columns:
                ax.plot(wide.index, wide[col], color=color, lw=0.5, alpha=0.35, ls=ls)
        med = wide.median(axis=1)
        n_seeds = wide.shape[1]
        ax.plot(med.index, med.values, color=color, lw=2, ls=ls, label=f"{name} (n={n_seeds})")
        if n_seeds > 1:
            ax.fill_between(
                wide.index,
                wide.quantile(lo_q, axis=1),
                wide.quantile(hi_q, axis=1),
                color=color,
                alpha=0.18,
                lw=0,
            )
    if target_line is not None:
        ax.axhline(target_line, color="0.2", lw=0.8, ls=":", label=target_label)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(ylabel or y.replace("_", " "))
    ax.legend(fontsize=8, frameon=False, title=_band_title(band), title_fontsize=8)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def _band_title(band: tuple[float, float]) -> str:
    lo, hi = (round(100 * q) for q in band)
    return f"median over seeds, band {lo}-{hi} %"

"""The ``k`` best candidates of a screened chunk by acquisition value.

Pareto ranks over several objectives (the retained pool's order) are
:func:`mi.active.multi.pareto_ranks`, the one non-dominated sort of the package.
"""

from __future__ import annotations

import numpy as np

from mi.active.multi import pareto_ranks

__all__ = ["pareto_ranks", "top_k_indices"]


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the indices of the ``k`` largest scores, best first (NaN last; ties keep input order).

    Parameters
    ----------
    scores : ndarray
        One score per row (higher is better; ``-inf`` allowed).
    k : int
        How many.

    Returns
    -------
    ndarray of int
    """
    s = np.asarray(scores, dtype=np.float64)
    s = np.where(np.isnan(s), -np.inf, s)
    k = min(k, s.size)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < s.size:
        part = np.argpartition(-s, k - 1)[:k]
    else:
        part = np.arange(s.size)
    order = np.lexsort((part, -s[part]))
    return part[order]

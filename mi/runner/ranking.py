"""Non-dominated sorting over several objectives (used to rank the retained candidates).

:func:`mi.active.pareto_front` handles the two-objective case (property vs risk) used by the
acquisition; a workflow with several targets (Curie temperature *and* magnetization *and*
supply risk) needs Pareto ranks in more dimensions, computed here on the retained pool.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_ranks", "top_k_indices"]


def _dominated_by_any(points: np.ndarray, candidates: np.ndarray, block: int = 2048) -> np.ndarray:
    """Mask of ``points`` dominated by at least one of ``candidates`` (all maximized)."""
    out = np.zeros(points.shape[0], dtype=bool)
    for start in range(0, points.shape[0], block):
        p = points[start : start + block, None, :]
        c = candidates[None, :, :]
        geq = np.all(c >= p, axis=2)
        gt = np.any(c > p, axis=2)
        out[start : start + block] = np.any(geq & gt, axis=1)
    return out


def _dominated(points: np.ndarray, block: int = 2048) -> np.ndarray:
    """Mask of ``points`` dominated by another point (all maximized), in O(n * front size).

    Points are visited in decreasing order of the first objective, so a point's dominators
    come before it (or tie with it); each block is compared with the non-dominated points found
    so far and with itself. Ties split across blocks are settled by a last comparison of the
    front with itself (a dominator chain always ends on the front).
    """
    n = points.shape[0]
    order = np.argsort(-points[:, 0], kind="stable")
    sorted_pts = points[order]
    front = np.zeros(n, dtype=bool)
    archive = np.empty((0, points.shape[1]))
    for start in range(0, n, block):
        blk = sorted_pts[start : start + block]
        dom = _dominated_by_any(blk, np.vstack([archive, blk]))
        front[start : start + block] = ~dom
        archive = np.vstack([archive, blk[~dom]])
    idx = np.flatnonzero(front)
    front[idx[_dominated_by_any(sorted_pts[idx], sorted_pts[idx])]] = False
    out = np.ones(n, dtype=bool)
    out[order[front]] = False
    return out


def pareto_ranks(
    objectives: np.ndarray, max_rank: int | None = None, min_ranked: int | None = None
) -> np.ndarray:
    """Pareto rank of each row (1 = non-dominated), every column maximized.

    Parameters
    ----------
    objectives : ndarray of shape (n, k)
        One column per objective, oriented so that larger is better (negate minimized ones).
    max_rank : int, optional
        Stop peeling fronts after this rank; rows left get ``max_rank + 1``.
    min_ranked : int, optional
        Stop peeling once at least this many rows have a rank; rows left share the next rank.

    Returns
    -------
    ndarray of int
        Rank per row; rows with NaN in any objective get the largest rank + 1.

    Examples
    --------
    >>> pareto_ranks(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.0, 0.0]])).tolist()
    [1, 1, 1, 2]
    """
    obj = np.asarray(objectives, dtype=np.float64)
    if obj.ndim != 2:
        raise ValueError(f"objectives must be 2-D (n, k); got shape {obj.shape}")
    n = obj.shape[0]
    ranks = np.zeros(n, dtype=np.int64)
    valid = ~np.isnan(obj).any(axis=1)
    remaining = np.flatnonzero(valid)
    rank = 0
    while remaining.size:
        rank += 1
        if max_rank is not None and rank > max_rank:
            ranks[remaining] = rank
            break
        pts = obj[remaining]
        dominated = _dominated(pts)
        ranks[remaining[~dominated]] = rank
        remaining = remaining[dominated]
        if min_ranked is not None and remaining.size and valid.sum() - remaining.size >= min_ranked:
            ranks[remaining] = rank + 1
            break
    ranks[~valid] = (ranks[valid].max() if valid.any() else 0) + 1
    return ranks


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

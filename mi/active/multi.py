"""Multi-objective acquisition: Monte Carlo EI of random Chebyshev scalarisations (qParEGO).

A campaign with several objectives (e.g. maximise Tc, Js and the anisotropy field, minimise the
supply risk) has one surrogate per measured property; known per-candidate columns (criticality
scores) enter with zero uncertainty. Each slot of a batch draws a weight vector ``w`` uniformly
from the simplex and scores candidates by the expected improvement of the augmented Chebyshev
scalarisation (Knowles 2006, ParEGO; the Monte Carlo form is qParEGO of Daulton et al. 2020)

``g_w(y) = min_j w_j u_j(y_j) + rho * sum_j w_j u_j(y_j)``,

where ``u_j`` maps objective ``j`` to [0, 1] over the observed range, oriented so that larger is
better. ``EI_w(x) = E[max(g_w(Y(x)) - max_i g_w(y_i), 0)]`` is estimated from ``n_samples``
draws of independent Gaussian predictive distributions (common random numbers across
candidates). Different weights per slot spread the batch along the Pareto front; candidates are
also kept ``min_distance`` apart in composition. Every maximiser of ``g_w`` with ``w > 0`` is
Pareto-optimal, so the acquisition never prefers a dominated point when the predictions are
exact.

:func:`pareto_mask` (a campaign's observed front) and :func:`pareto_ranks` (the order of a
workflow's retained pool, over every target and the supply risk) share one non-dominated sort.

Examples
--------
>>> import numpy as np
>>> mean = np.array([[1.0, 0.0], [0.0, 1.0], [0.4, 0.4]])
>>> observed = np.array([[0.5, 0.5]])
>>> pareto_mask(np.vstack([observed, mean]), [True, True]).tolist()
[True, True, True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mi.active.batch import composition_distance
from mi.exceptions import CampaignError

__all__ = ["pareto_mask", "pareto_ranks", "ChebyshevEI", "select_pareto_batch"]

#: Weight of the linear term of the augmented Chebyshev scalarisation (ParEGO's value).
RHO = 0.05

#: Monte Carlo cells (samples x candidates x objectives) evaluated at once (about 32 MB).
_BLOCK_CELLS = 4_000_000


def pareto_mask(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Return True for the rows of ``values`` that no other row dominates.

    Parameters
    ----------
    values : array of shape (n, m)
        Objective values.
    maximize : sequence of m bool
        Direction of each objective.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        Rows with NaN are never on the front.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != len(maximize):
        raise CampaignError(f"values of shape {v.shape} do not match {len(maximize)} objectives.")
    s = v * np.where(np.asarray(maximize, dtype=bool), 1.0, -1.0)
    ok = np.flatnonzero(np.isfinite(s).all(axis=1))
    front = np.zeros(len(s), dtype=bool)
    front[ok[~_dominated(s[ok])]] = True
    return front


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


@dataclass
class ChebyshevEI:
    """Monte Carlo EI of an augmented Chebyshev scalarisation (see the module docstring).

    Parameters
    ----------
    weights : array of shape (m,)
        Non-negative weights summing to 1.
    maximize : sequence of m bool
        Direction of each objective.
    lower, upper : arrays of shape (m,)
        Range of each objective used for the [0, 1] scaling (the observed range).
    n_samples : int, default 128
        Monte Carlo draws.
    """

    weights: np.ndarray
    maximize: Sequence[bool]
    lower: np.ndarray
    upper: np.ndarray
    n_samples: int = 128

    def _utility(self, y: np.ndarray) -> np.ndarray:
        span = np.where(self.upper > self.lower, self.upper - self.lower, 1.0)
        u = (y - self.lower) / span
        return np.where(np.asarray(self.maximize, dtype=bool), u, 1.0 - u)

    def scalarize(self, y: np.ndarray) -> np.ndarray:
        """Return ``g_w(y)`` for objective values ``y`` of shape (..., m)."""
        weighted = self.weights * self._utility(y)
        return np.min(weighted, axis=-1) + RHO * np.sum(weighted, axis=-1)

    def __call__(
        self,
        mean: np.ndarray,
        std: np.ndarray,
        observed: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Return the expected improvement of ``g_w`` over the best observed ``g_w``.

        Parameters
        ----------
        mean, std : arrays of shape (n, m)
            Predictive mean and standard deviation of every objective (std 0 = known).
        observed : array of shape (k, m)
            Objective values already measured.
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray of shape (n,)
        """
        best = float(np.max(self.scalarize(observed))) if len(observed) else -np.inf
        z = rng.standard_normal((self.n_samples, 1, mean.shape[1]))
        out = np.empty(mean.shape[0], dtype=np.float64)
        # blocks of rows keep the draws at n_samples x block x m (a pool may have millions)
        block = max(1, _BLOCK_CELLS // (self.n_samples * max(mean.shape[1], 1)))
        for start in range(0, mean.shape[0], block):
            stop = start + block
            draws = mean[None, start:stop, :] + np.maximum(std[start:stop], 0.0)[None, :, :] * z
            gain = self.scalarize(draws) - best
            out[start:stop] = np.mean(np.maximum(gain, 0.0), axis=0)
        return out


def select_pareto_batch(
    mean: np.ndarray,
    std: np.ndarray,
    observed: np.ndarray,
    maximize: Sequence[bool],
    q: int,
    rng: np.random.Generator,
    fractions: np.ndarray | None = None,
    min_distance: float = 0.0,
    n_samples: int = 128,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose ``q`` candidates, one random Chebyshev weight vector per slot.

    Parameters
    ----------
    mean, std : arrays of shape (n, m)
        Predictions of every objective for the available candidates.
    observed : array of shape (k, m)
        Measured objective values (their range scales the objectives).
    maximize : sequence of m bool
    q : int
        Batch size.
    rng : numpy.random.Generator
        Source of the weights and the Monte Carlo draws (advanced in place).
    fractions : array of shape (n, n_elements), optional
        Atomic fractions; a chosen candidate blocks those closer than ``min_distance``
        (:func:`mi.active.composition_distance`).
    min_distance : float, default 0
    n_samples : int, default 128

    Returns
    -------
    indices : numpy.ndarray of int
        Chosen rows, in order (fewer than ``q`` when every other row is blocked).
    values : numpy.ndarray of float
        The acquisition value of each chosen row under its slot's weights.
    weights : numpy.ndarray of shape (len(indices), m)
        The weight vector of each slot.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    n, m = mean.shape
    both = np.vstack([observed, mean]) if len(observed) else mean
    lower = np.nanmin(both, axis=0)
    upper = np.nanmax(both, axis=0)
    ok = np.isfinite(mean).all(axis=1)
    chosen: list[int] = []
    values: list[float] = []
    weights: list[np.ndarray] = []
    for _ in range(q):
        if not ok.any():
            break
        w = rng.dirichlet(np.ones(m))
        acq = ChebyshevEI(w, maximize, lower, upper, n_samples)
        scores = np.where(ok, acq(mean, std, observed, rng), -np.inf)
        if not np.isfinite(scores).any():
            break
        if np.max(scores) <= 0.0:  # no expected gain anywhere: take the best mean scalarisation
            scores = np.where(ok, acq.scalarize(mean), -np.inf)
        j = int(np.argmax(scores))
        chosen.append(j)
        values.append(float(scores[j]))
        weights.append(w)
        ok[j] = False
        if fractions is not None and min_distance > 0:
            ok &= composition_distance(fractions, fractions[j]) >= min_distance
    return (
        np.asarray(chosen, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        np.asarray(weights, dtype=np.float64).reshape(len(chosen), m),
    )

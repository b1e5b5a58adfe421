"""Two objectives, property vs known risk: Pareto front and closed-form expected hypervolume.

The property ``y`` is predicted, ``Y ~ N(mu, sigma^2)``; the risk ``r`` (supply risk, Dy+Tb mass
fraction ...) is known exactly and minimized. With ``r`` exact the hypervolume improvement of a
candidate is a piecewise-linear function of ``y`` alone, so its expectation is a sum of
one-dimensional expected improvements (closed form, no Monte Carlo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.active.analytic import expected_improvement
from mi.active.base import Acquisition, AcquisitionContext, as_arrays
from mi.active.registry import register_acquisition
from mi.exceptions import CampaignError

__all__ = [
    "pareto_front",
    "hypervolume_2d",
    "hypervolume_improvement",
    "ExpectedHypervolumeImprovement",
]


def pareto_front(y: np.ndarray, risk: np.ndarray, *, maximize: bool = True) -> np.ndarray:
    """Return the mask of non-dominated points for (property, risk), risk minimized.

    Point ``i`` is dominated when some ``j`` has ``s y_j >= s y_i`` and ``r_j <= r_i`` with at
    least one strict. Ties (identical points) are all kept. NaN rows are never on the front.

    Examples
    --------
    >>> pareto_front(np.array([1.0, 2.0, 1.5]), np.array([0.1, 0.5, 0.6])).tolist()
    [True, True, False]
    """
    s = 1.0 if maximize else -1.0
    y = s * np.asarray(y, dtype=np.float64).ravel()
    r = np.asarray(risk, dtype=np.float64).ravel()
    ok = ~(np.isnan(y) | np.isnan(r))
    mask = np.zeros(y.size, dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return mask
    # sort by risk ascending, then y descending: a point is on the front iff its y beats the
    # running maximum of all points with lower (or equal, earlier) risk
    order = idx[np.lexsort((-y[idx], r[idx]))]
    best = -np.inf
    best_r = np.nan
    for i in order:
        if y[i] > best or (y[i] == best and r[i] == best_r):
            mask[i] = True
            best, best_r = y[i], r[i]
    return mask


def _front_steps(
    y_obs: np.ndarray, r_obs: np.ndarray, ref: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the front's risk breakpoints and heights clipped to the reference box."""
    y_ref, r_ref = ref
    keep = (y_obs > y_ref) & (r_obs < r_ref)
    y_obs, r_obs = y_obs[keep], r_obs[keep]
    if y_obs.size == 0:
        return np.empty(0), np.empty(0)
    front = pareto_front(y_obs, r_obs, maximize=True)
    order = np.argsort(r_obs[front], kind="stable")
    rf, yf = r_obs[front][order], y_obs[front][order]
    # drop exact duplicates of risk (keep the highest y, which is last for equal r after front)
    uniq = np.r_[rf[1:] != rf[:-1], True]
    return rf[uniq], yf[uniq]


def hypervolume_2d(
    y: np.ndarray, risk: np.ndarray, ref: tuple[float, float], *, maximize: bool = True
) -> float:
    """Area dominated by the points and bounded by ``ref = (y_ref, r_ref)``.

    The region is ``{(y', r'): y_ref <= y' <= s y_i, r_i <= r' <= r_ref for some i}`` in the
    maximization frame (``y_ref`` is given in that frame too, i.e. ``s * y_ref_original``).
    """
    s = 1.0 if maximize else -1.0
    rf, yf = _front_steps(s * np.asarray(y, float), np.asarray(risk, float), ref)
    if rf.size == 0:
        return 0.0
    edges = np.r_[rf, ref[1]]
    return float(np.sum(np.diff(edges) * (yf - ref[0])))


def _segments(
    risk: np.ndarray, rf: np.ndarray, yf: np.ndarray, ref: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Widths (n, k+1) and heights (k+1,) of the front's steps above each candidate's risk."""
    y_ref, r_ref = ref
    lo = np.r_[-np.inf, rf]
    hi = np.r_[rf, r_ref]
    heights = np.r_[y_ref, yf]
    start = np.maximum(risk[:, None], lo[None, :])
    widths = np.clip(hi[None, :] - start, 0.0, None)
    return widths, heights


def hypervolume_improvement(
    y: np.ndarray,
    risk: np.ndarray,
    y_observed: np.ndarray,
    risk_observed: np.ndarray,
    ref: tuple[float, float],
) -> np.ndarray:
    """Exact hypervolume improvement of adding each point ``(y, r)`` (maximization frame).

    ``HVI(y, r) = sum_k w_k(r) max(y - h_k, 0)`` where the front's attainment function above
    risk ``r`` is the step function with heights ``h_k`` on risk intervals of width ``w_k(r)``
    (``h_0 = y_ref`` below the lowest-risk front point).
    """
    rf, yf = _front_steps(np.asarray(y_observed, float), np.asarray(risk_observed, float), ref)
    widths, heights = _segments(np.asarray(risk, float), rf, yf, ref)
    return np.sum(widths * np.maximum(np.asarray(y, float)[:, None] - heights[None, :], 0.0), 1)


@register_acquisition
@dataclass
class ExpectedHypervolumeImprovement(Acquisition):
    """Closed-form EHVI for (predicted property, known risk), risk minimized.

    In the maximization frame (``y -> s y``), with the observed points' Pareto front giving a step
    attainment function of heights ``h_0 = y_ref < h_1 < ... < h_k`` on risk intervals
    ``[r_j, r_{j+1})`` (``r_{k+1} = r_ref``), the improvement of a candidate with known risk ``r``
    is ``HVI(Y) = sum_j w_j(r) max(Y - h_j, 0)`` with ``w_j(r) = max(0, r_{j+1} - max(r, r_j))``.
    Taking the expectation over ``Y ~ N(s mu, sigma^2)`` term by term:

    ``EHVI(x) = sum_j w_j(r) [ (s mu - h_j) Phi(z_j) + sigma phi(z_j) ]``,
    ``z_j = (s mu - h_j) / sigma``.

    Parameters
    ----------
    maximize : bool, default True
        Direction of the property (risk is always minimized).
    ref_point : tuple of float, optional
        ``(y_ref, r_ref)`` in the property's own units. Default: ``y_ref`` = worst observed value
        minus 10 % of the observed range (or 1), ``r_ref`` = 1.0 (supply risk lies in [0, 1]);
        risks at or above ``r_ref`` score 0.

    Context: ``risk`` (candidates), ``y_observed``, ``risk_observed``.
    """

    ref_point: tuple[float, float] | None = None
    name = "ehvi"
    needs_incumbent = True

    def reference(self, y_observed: np.ndarray) -> tuple[float, float]:
        """Return ``(y_ref, r_ref)`` in the maximization frame."""
        if self.ref_point is not None:
            return self.sign * float(self.ref_point[0]), float(self.ref_point[1])
        ys = self.sign * np.asarray(y_observed, float)
        if ys.size == 0:
            return 0.0, 1.0
        span = float(np.ptp(ys)) or 1.0
        return float(np.min(ys)) - 0.1 * span, 1.0

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        mean, std, _ = as_arrays(prediction)
        if context.risk is None:
            raise CampaignError(
                "ehvi needs risk=<array> (and y_observed, risk_observed) in the context."
            )
        risk = np.asarray(context.risk, float).ravel()
        y_obs = np.asarray([] if context.y_observed is None else context.y_observed, float).ravel()
        r_obs = np.asarray(
            [] if context.risk_observed is None else context.risk_observed, float
        ).ravel()
        if risk.size != mean.size or y_obs.size != r_obs.size:
            raise CampaignError(
                "ehvi: risk must have one value per candidate and risk_observed one per "
                "observation."
            )
        ref = self.reference(y_obs)
        rf, yf = _front_steps(self.sign * y_obs, r_obs, ref)
        widths, heights = _segments(risk, rf, yf, ref)
        ei = expected_improvement((self.sign * mean)[:, None], std[:, None], heights[None, :])
        return np.sum(widths * ei, axis=1)

    def front(self, y_observed: np.ndarray, risk_observed: np.ndarray) -> np.ndarray:
        """Return the indices of the observed points on the Pareto front, sorted by risk."""
        y = np.asarray(y_observed, float)
        r = np.asarray(risk_observed, float)
        idx = np.flatnonzero(pareto_front(y, r, maximize=self.maximize))
        return idx[np.argsort(r[idx], kind="stable")]

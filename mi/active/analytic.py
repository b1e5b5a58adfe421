"""Analytic acquisitions on the Gaussian ``N(mu, sigma^2)``: greedy, UCB, EI, PI, max-std.

Notation: ``mu`` and ``sigma`` are the surrogate's predicted mean and standard deviation,
``s = +1`` when maximizing and ``-1`` when minimizing, ``f*`` the incumbent (best observed value),
``phi`` and ``Phi`` the standard normal density and distribution function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from mi.active.base import Acquisition, AcquisitionContext, as_arrays
from mi.active.registry import register_acquisition

__all__ = [
    "GreedyMean",
    "UpperConfidenceBound",
    "ExpectedImprovement",
    "ProbabilityOfImprovement",
    "MaxStd",
    "expected_improvement",
]

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def _phi(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / _SQRT_2PI


def expected_improvement(mean: ArrayLike, std: ArrayLike, threshold: ArrayLike) -> np.ndarray:
    """Return ``E[max(Y - t, 0)]`` for ``Y ~ N(mean, std^2)`` (maximization form).

    ``EI = (mu - t) Phi(z) + sigma phi(z)`` with ``z = (mu - t) / sigma``; where ``sigma = 0`` it
    is ``max(mu - t, 0)``. Arrays broadcast.

    Examples
    --------
    >>> float(expected_improvement(np.array([0.0]), np.array([1.0]), np.array([0.0]))[0])
    0.3989422804014327
    """
    mean, std, threshold = np.broadcast_arrays(
        np.asarray(mean, float), np.asarray(std, float), np.asarray(threshold, float)
    )
    diff = mean - threshold
    out = np.maximum(diff, 0.0).astype(np.float64)
    pos = std > 0
    if pos.any():
        z = diff[pos] / std[pos]
        out[pos] = diff[pos] * ndtr(z) + std[pos] * _phi(z)
    return out


@register_acquisition
@dataclass
class GreedyMean(Acquisition):
    """Pure exploitation: ``a(x) = s * mu(x)``."""

    name = "greedy"

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        mean, _, _ = as_arrays(prediction)
        return self.sign * mean


@register_acquisition
@dataclass
class UpperConfidenceBound(Acquisition):
    """Optimism under uncertainty: ``a(x) = s * mu(x) + beta * sigma(x)``.

    For minimization this is the negated lower confidence bound ``-(mu - beta sigma)``.

    Parameters
    ----------
    maximize : bool, default True
    beta : float, default 2.0
        Width of the bound in standard deviations (>= 0).
    """

    beta: float = 2.0
    name = "ucb"
    #: +1: the bound above the mean (optimism); a subclass with -1 scores the bound below it.
    side = 1.0

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        if self.beta < 0:
            raise ValueError(
                f"The 'beta' parameter of {self.name} must be >= 0. Got {self.beta} instead."
            )
        mean, std, _ = as_arrays(prediction)
        return self.sign * mean + self.side * self.beta * std


@register_acquisition
@dataclass
class ExpectedImprovement(Acquisition):
    """Expected improvement over the incumbent ``f*`` (Jones et al. 1998).

    ``a(x) = E[max(s (Y - f*) - xi, 0)] = d Phi(d / sigma) + sigma phi(d / sigma)``,
    with ``d = s (mu - f*) - xi``; where ``sigma = 0``, ``a = max(d, 0)``.

    Parameters
    ----------
    maximize : bool, default True
    xi : float, default 0.0
        Minimum improvement that counts (in property units, >= 0).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> p = SimpleNamespace(mean=np.array([1.0]), std=np.array([1.0]))
    >>> round(float(ExpectedImprovement()(p, best=1.0)[0]), 6)   # sigma * phi(0)
    0.398942
    """

    xi: float = 0.0
    name = "ei"
    needs_incumbent = True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        mean, std, _ = as_arrays(prediction)
        best = context.incumbent(self.maximize)
        return expected_improvement(self.sign * mean, std, self.sign * best + self.xi)


@register_acquisition
@dataclass
class ProbabilityOfImprovement(Acquisition):
    """Probability of improving on the incumbent by at least ``xi`` (Kushner 1964).

    ``a(x) = P(s (Y - f*) > xi) = Phi((s (mu - f*) - xi) / sigma)``; where ``sigma = 0`` it is
    1 if ``s (mu - f*) > xi`` else 0.

    Parameters
    ----------
    maximize : bool, default True
    xi : float, default 0.0
    """

    xi: float = 0.0
    name = "pi"
    needs_incumbent = True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        mean, std, _ = as_arrays(prediction)
        best = context.incumbent(self.maximize)
        diff = self.sign * (mean - best) - self.xi
        out = (diff > 0).astype(np.float64)
        pos = std > 0
        out[pos] = ndtr(diff[pos] / std[pos])
        return out


@register_acquisition
@dataclass
class MaxStd(Acquisition):
    """Pure exploration: ``a(x) = sigma(x)`` (the direction does not matter)."""

    name = "max_std"

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        _, std, _ = as_arrays(prediction)
        return std.copy()

"""Stochastic acquisitions: Thompson sampling from ensemble members, and random search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.active.base import Acquisition, AcquisitionContext, as_arrays
from mi.active.registry import register_acquisition

__all__ = ["ThompsonSampling", "RandomSearch"]


@register_acquisition
@dataclass
class ThompsonSampling(Acquisition):
    """Thompson sampling: score with one posterior draw, ``a(x) = s * f~(x)``.

    With ensemble members (``prediction.members``, shape ``(m, n)``), the draw ``f~`` is the
    prediction of one member ``k ~ Uniform{0..m-1}`` (a joint sample over all candidates). Without
    members it falls back to independent draws ``f~(x) ~ N(mu(x), sigma(x)^2)``.
    The context may fix the member (``member``) (batch Thompson uses distinct members).
    """

    name = "thompson"
    stochastic = True

    @property
    def needs_members(self) -> bool:
        """True: a draw is one member's prediction (a joint sample over the candidates)."""
        return True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        mean, std, members = as_arrays(prediction)
        rng = context.generator()
        if members is not None and members.shape[0] > 0:
            k = context.member
            k = int(rng.integers(members.shape[0])) if k is None else int(k) % members.shape[0]
            return self.sign * members[k]
        return self.sign * (mean + std * rng.standard_normal(mean.size))


@register_acquisition
@dataclass
class RandomSearch(Acquisition):
    """Random search: ``a(x) ~ Uniform(0, 1)`` independently; the baseline of every benchmark."""

    name = "random"
    stochastic = True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        return context.generator().random(np.asarray(prediction.mean).size)

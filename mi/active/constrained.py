"""Criticality-aware single-objective acquisitions: constrained and penalized scalarization.

Supply risk (or a Dy+Tb mass fraction, or any per-candidate cost) is computed exactly from the
composition, so it enters the formulas as a known number ``r(x)``, not as a prediction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mi.active.base import Acquisition, AcquisitionContext, as_arrays
from mi.active.registry import register_acquisition
from mi.exceptions import CampaignError

__all__ = ["Constrained", "PenalizedScalarization"]


class _OnBase(Acquisition):
    """An acquisition that scores through a base one (``base``, ``base_params``)."""

    base: str | Acquisition
    base_params: dict[str, Any]

    def _inner(self, maximize: bool | None = None) -> Acquisition:
        if isinstance(self.base, Acquisition):
            return self.base
        from mi.active.registry import get_acquisition

        direction = self.maximize if maximize is None else maximize
        return get_acquisition(self.base, maximize=direction, **self.base_params)

    @property
    def needs_members(self) -> bool:
        """Whether the base acquisition needs the ensemble members."""
        return self._inner().needs_members


@register_acquisition
@dataclass
class Constrained(_OnBase):
    """A base acquisition restricted to feasible candidates.

    ``a(x) = a_base(x)`` if ``x`` is feasible, else ``-inf``. Feasible means
    ``context.feasible[x]`` when given, otherwise ``r(x) <= max_risk`` (e.g. supply risk, or the
    Dy+Tb mass fraction when the campaign passes that as ``risk``). Because ``r`` is known exactly,
    the probability of feasibility is 0 or 1 and the constrained EI of Gardner et al. (2014)
    reduces to this mask.

    Parameters
    ----------
    maximize : bool, default True
    base : str or Acquisition, default "ei"
    max_risk : float, optional
        Budget on ``risk``; needed when no ``feasible`` mask is passed.
    base_params : dict
        Keyword arguments for the base acquisition.
    """

    base: str | Acquisition = "ei"
    max_risk: float | None = None
    base_params: dict[str, Any] = field(default_factory=dict)
    name = "constrained"
    needs_incumbent = True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better, infeasible ones get ``-inf``."""
        mean, _, _ = as_arrays(prediction)
        scores = np.asarray(self._inner().score(prediction, context), dtype=np.float64).copy()
        feasible = context.feasible
        if feasible is None:
            if self.max_risk is None:
                raise CampaignError(
                    "constrained needs either feasible=<bool mask> in the context or max_risk=."
                )
            feasible = context.cost(mean.size) <= self.max_risk
        feasible = np.asarray(feasible, dtype=bool).ravel()
        if feasible.size != mean.size:
            raise CampaignError(
                f"feasible has {feasible.size} values for {mean.size} candidates; they must match."
            )
        scores[~feasible] = -np.inf
        return scores


@dataclass
class _ShiftedPrediction:
    mean: np.ndarray
    std: np.ndarray
    members: np.ndarray | None = None


@register_acquisition
@dataclass
class PenalizedScalarization(_OnBase):
    """A base acquisition on the scalarized objective ``g(x) = s y(x) - lam * scale * r(x)``.

    Since ``r(x)`` is known, ``g(x) ~ N(s mu(x) - lam scale r(x), sigma(x)^2)``, and the base
    acquisition (EI, UCB, greedy ...) is applied to ``g`` maximized, with the incumbent
    ``g* = max_i (s y_i - lam scale r_i)`` over the observations. ``scale`` makes ``lam``
    dimensionless: by default the standard deviation of the observed ``y`` (1 if fewer than two
    observations), so ``lam = 1`` trades one spread of the property for a unit of risk.

    Parameters
    ----------
    maximize : bool, default True
    weight : float, default 1.0
        ``lam`` >= 0.
    base : str or Acquisition, default "ei"
    scale : float, optional
        Fixed scale in property units (overrides the observed spread).
    base_params : dict

    Context: ``risk`` (candidates), and for incumbent-based bases ``y_observed`` and
    ``risk_observed``.
    """

    weight: float = 1.0
    base: str | Acquisition = "ei"
    scale: float | None = None
    base_params: dict[str, Any] = field(default_factory=dict)
    name = "penalized"
    needs_incumbent = True

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:
        """Score each candidate; higher is better."""
        if self.weight < 0:
            raise ValueError(
                f"The 'weight' parameter of penalized must be >= 0. Got {self.weight} instead."
            )
        mean, std, members = as_arrays(prediction)
        risk = context.cost(mean.size)
        y_obs = context.y_observed
        scale = self.scale
        if scale is None:
            scale = float(np.std(y_obs)) if y_obs is not None and len(y_obs) > 1 else 1.0
            scale = scale if scale > 0 else 1.0
        pen = self.weight * scale
        shifted = _ShiftedPrediction(
            self.sign * mean - pen * risk,
            std,
            None if members is None else self.sign * members - pen * risk[None, :],
        )
        inner = context.replace(best=None)
        if y_obs is not None and len(y_obs) > 0:
            r_obs = context.risk_observed
            if r_obs is None:
                raise CampaignError("penalized needs risk_observed=<array> beside y_observed.")
            g_obs = self.sign * np.asarray(y_obs, float) - pen * np.asarray(r_obs, float)
            inner = inner.replace(y_observed=g_obs, best=float(np.max(g_obs)))
        base = dataclasses.replace(self._inner(True), maximize=True)
        return np.asarray(base.score(shifted, inner), dtype=np.float64)

"""The acquisition-function protocol shared by every family.

An acquisition turns a surrogate's :class:`mi.models.Prediction` (``mean``, ``std`` and optionally
``members``) into one score per candidate. Scores are always "higher is better": a campaign picks
the candidates with the largest scores, whatever the direction of the property
(``maximize=False`` flips the property inside the formula, never the ranking).

An :class:`AcquisitionContext` carries what a formula needs beyond the prediction; callers
pass it, or its fields as keywords (``acq(prediction, best=1.0)``: an unknown keyword is a
``TypeError``, never silently ignored). Subclasses implement :meth:`Acquisition.score`.

``best``
    incumbent: the best observed property value (max if ``maximize`` else min);
``y_observed``
    all observed property values (used when ``best`` is absent, and by the multi-objective
    acquisitions);
``risk`` / ``risk_observed``
    a known, exact per-candidate cost such as supply risk in [0, 1] (lower is better);
``feasible``
    boolean mask of candidates that satisfy the constraints;
``rng``
    a :class:`numpy.random.Generator` (or a seed) for the stochastic acquisitions;
``member``
    the ensemble member a Thompson draw uses (batch Thompson gives each pick its own).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.exceptions import CampaignError

__all__ = ["Acquisition", "AcquisitionContext", "as_arrays"]


def as_arrays(prediction: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a prediction and return ``(mean, std, members)`` as float arrays.

    Parameters
    ----------
    prediction : Prediction
        Any object with ``mean`` and ``std`` (same length) and an optional ``members``
        attribute of shape ``(n_members, n)``.

    Returns
    -------
    tuple
        ``mean`` (n,), ``std`` (n,) clipped at 0, ``members`` (m, n) or None.

    Raises
    ------
    CampaignError
        If shapes disagree or the mean holds NaN.
    """
    mean = np.asarray(prediction.mean, dtype=np.float64).ravel()
    std = np.asarray(prediction.std, dtype=np.float64).ravel()
    if mean.shape != std.shape:
        raise CampaignError(
            f"Prediction mean has {mean.size} values but std has {std.size}; they must match."
        )
    if np.isnan(mean).any():
        bad = np.flatnonzero(np.isnan(mean))[:5].tolist()
        raise CampaignError(f"Prediction mean holds NaN at positions {bad}; check the surrogate.")
    std = np.nan_to_num(np.clip(std, 0.0, None), nan=0.0)
    members = getattr(prediction, "members", None)
    if members is not None:
        members = np.asarray(members, dtype=np.float64)
        if members.ndim != 2 or members.shape[1] != mean.size:
            raise CampaignError(
                f"Prediction members must have shape (n_members, {mean.size}); got {members.shape}."
            )
    return mean, std, members


@dataclass(frozen=True)
class AcquisitionContext:
    """What an acquisition may need besides the prediction (see the module docstring).

    Examples
    --------
    >>> ctx = AcquisitionContext(y_observed=np.array([1.0, 3.0]))
    >>> ctx.incumbent(maximize=True), ctx.incumbent(maximize=False)
    (3.0, 1.0)
    """

    best: float | None = None
    y_observed: Any = None
    risk: Any = None
    risk_observed: Any = None
    feasible: Any = None
    rng: np.random.Generator | int | None = None
    member: int | None = None

    def incumbent(self, maximize: bool) -> float:
        """Return ``best``, else the best of ``y_observed``.

        Raises
        ------
        CampaignError
            If neither ``best`` nor a non-empty ``y_observed`` is given.
        """
        if self.best is not None:
            return float(self.best)
        if self.y_observed is None or len(self.y_observed) == 0:
            raise CampaignError(
                "This acquisition needs the incumbent: pass best=<value> or y_observed=<array>."
            )
        y_obs = np.asarray(self.y_observed, dtype=np.float64)
        return float(np.nanmax(y_obs) if maximize else np.nanmin(y_obs))

    def generator(self) -> np.random.Generator:
        """Return ``rng`` as a Generator (an int seeds a new one; default seed 0)."""
        if isinstance(self.rng, np.random.Generator):
            return self.rng
        return np.random.default_rng(0 if self.rng is None else self.rng)

    def cost(self, n: int) -> np.ndarray:
        """Return ``risk`` as a float array of the ``n`` candidates.

        Raises
        ------
        CampaignError
            If ``risk`` is missing or has another length.
        """
        if self.risk is None:
            raise CampaignError(
                f"This acquisition needs the known per-candidate cost: pass risk=<array of {n}>."
            )
        risk = np.asarray(self.risk, dtype=np.float64).ravel()
        if risk.size != n:
            raise CampaignError(f"risk has {risk.size} values for {n} candidates; they must match.")
        return risk

    def replace(self, **changes: Any) -> AcquisitionContext:
        """Return a copy with ``changes`` (a misspelt field is a ``TypeError``)."""
        return dataclasses.replace(self, **changes)


@dataclass
class Acquisition:
    """Base class: ``maximize`` says the direction of the property; scores are higher-is-better.

    Subclasses implement :meth:`score` and set the class attribute ``name`` (the registry key).
    """

    maximize: bool = True

    name = "base"
    #: Whether the acquisition needs ``best`` / ``y_observed`` in its context.
    needs_incumbent = False
    #: Whether the score depends on a random draw (``rng`` in the context).
    stochastic = False

    @property
    def needs_members(self) -> bool:
        """Whether the score uses the ensemble members' predictions (``prediction.members``).

        The scoring path asks the surrogate for members only when this is True (it doubles
        the prediction cost); composite acquisitions answer for their base.
        """
        return False

    def __call__(
        self,
        prediction: Any,
        context: AcquisitionContext | None = None,
        *,
        best: float | None = None,
        y_observed: Any = None,
        risk: Any = None,
        risk_observed: Any = None,
        feasible: Any = None,
        rng: np.random.Generator | int | None = None,
        member: int | None = None,
    ) -> np.ndarray:
        """Score each candidate; higher is better.

        The context is ``context``, with the fields given as keywords replacing its own.
        """
        given = {
            "best": best,
            "y_observed": y_observed,
            "risk": risk,
            "risk_observed": risk_observed,
            "feasible": feasible,
            "rng": rng,
            "member": member,
        }
        ctx = (context or AcquisitionContext()).replace(
            **{k: v for k, v in given.items() if v is not None}
        )
        return self.score(prediction, ctx)

    def score(self, prediction: Any, context: AcquisitionContext) -> np.ndarray:  # pragma: no cover
        """Score each candidate with the context; higher is better (subclasses implement it)."""
        raise NotImplementedError

    @property
    def sign(self) -> float:
        """``+1`` when maximizing the property, ``-1`` when minimizing."""
        return 1.0 if self.maximize else -1.0

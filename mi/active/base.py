"""The acquisition-function protocol shared by every family.

An acquisition turns a surrogate's :class:`mi.models.Prediction` (``mean``, ``std`` and optionally
``members``) into one score per candidate. Scores are always "higher is better": a campaign picks
the candidates with the largest scores, whatever the direction of the property
(``maximize=False`` flips the property inside the formula, never the ranking).

Context keywords (``**ctx``) carry what a formula needs beyond the prediction:

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
    a :class:`numpy.random.Generator` for the stochastic acquisitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.exceptions import CampaignError

__all__ = ["Acquisition", "as_arrays", "incumbent", "get_rng"]


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


def incumbent(maximize: bool, ctx: dict[str, Any]) -> float:
    """Return the incumbent ``best`` from ``ctx`` (or from ``y_observed``).

    Raises
    ------
    CampaignError
        If neither ``best`` nor a non-empty ``y_observed`` is given.
    """
    best = ctx.get("best")
    if best is not None:
        return float(best)
    y_obs = ctx.get("y_observed")
    if y_obs is None or len(y_obs) == 0:
        raise CampaignError(
            "This acquisition needs the incumbent: pass best=<value> or y_observed=<array>."
        )
    y_obs = np.asarray(y_obs, dtype=np.float64)
    return float(np.nanmax(y_obs) if maximize else np.nanmin(y_obs))


def get_rng(ctx: dict[str, Any]) -> np.random.Generator:
    """Return ``ctx['rng']`` as a Generator (an int seeds a new one; default seed 0)."""
    rng = ctx.get("rng")
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


@dataclass
class Acquisition:
    """Base class: ``maximize`` says the direction of the property; scores are higher-is-better.

    Subclasses implement :meth:`__call__` and set the class attribute ``name`` (the registry key).
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

    def __call__(self, prediction: Any, **ctx: Any) -> np.ndarray:  # pragma: no cover
        """Score each candidate; higher is better."""
        raise NotImplementedError

    @property
    def sign(self) -> float:
        """``+1`` when maximizing the property, ``-1`` when minimizing."""
        return 1.0 if self.maximize else -1.0

"""The one scoring path of active learning: fit -> predict with uncertainty -> acquire -> batch.

:meth:`mi.active.Campaign.suggest` and the retrospective discovery benchmark
(:func:`mi.active.retrospective.run_one`) both call :func:`propose`, so the benchmark measures the
code users run. The acquisition object decides whether the ensemble members are needed
(:attr:`mi.active.Acquisition.needs_members`); a surrogate of ``None`` means no model (random
search).

Examples
--------
>>> import numpy as np
>>> from mi.active import get_acquisition
>>> from mi.models import GPRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(size=(30, 2)); y = X.sum(axis=1)
>>> out = propose(GPRegressor(), X[:10], y[:10], X[10:], get_acquisition("ucb"), 3, rng=0)
>>> len(out.selection.indices), out.prediction.mean.shape
(3, (20,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.active.base import Acquisition, AcquisitionContext
from mi.active.batch import BatchSelection, select_batch

__all__ = ["Proposal", "propose"]


@dataclass(frozen=True)
class Proposal:
    """What :func:`propose` chose, and the predictions it chose from.

    Attributes
    ----------
    selection : BatchSelection
        Chosen positions among the available candidates, with their acquisition values.
    prediction : Any
        Mean, std (and members when the acquisition needed them) for every available
        candidate; NaN without a surrogate.
    """

    selection: BatchSelection
    prediction: Any


@dataclass(frozen=True)
class _NoModel:
    """Prediction stand-in without a surrogate (random search): NaN mean and std."""

    mean: np.ndarray
    std: np.ndarray
    members: None = None


def propose(
    model: Any,
    X_observed: np.ndarray,
    y_observed: np.ndarray,
    X_available: np.ndarray,
    acquisition: Acquisition,
    n: int,
    *,
    fractions: np.ndarray | None = None,
    method: str = "local_penalization",
    min_distance: float = 0.02,
    length_scale: float = 0.1,
    rng: Any = None,
    context: AcquisitionContext | None = None,
) -> Proposal:
    """Fit the surrogate on the observations and choose ``n`` of the available candidates.

    Parameters
    ----------
    model : estimator or None
        Unfitted regressor whose ``predict`` accepts ``return_std=True``; None for no model.
    X_observed, y_observed : arrays
        Features and (transformed) labels of the measured candidates.
    X_available : array
        Features of the candidates that may be chosen.
    acquisition : Acquisition
    n : int
        Batch size.
    fractions : array, optional
        Atomic fractions of the available candidates (batch diversity).
    method, min_distance, length_scale
        Batch selection (:func:`mi.active.select_batch`).
    rng : int or numpy.random.Generator, optional
        Source of randomness (advanced in place when a Generator).
    context : AcquisitionContext, optional
        Acquisition context (``risk``, ``feasible``, ``risk_observed`` ...); its
        ``y_observed`` defaults to ``y_observed``.

    Returns
    -------
    Proposal
    """
    from mi.models import predict_distribution

    n_available = int(np.asarray(X_available).shape[0])
    prediction: Any
    if model is None:
        prediction = _NoModel(np.full(n_available, np.nan), np.full(n_available, np.nan))
    else:
        model.fit(X_observed, y_observed)
        prediction = predict_distribution(model, X_available, members=acquisition.needs_members)
    ctx = context or AcquisitionContext()
    if ctx.y_observed is None:
        ctx = ctx.replace(y_observed=np.asarray(y_observed, dtype=np.float64))
    selection = select_batch(
        acquisition,
        prediction,
        n,
        fractions=fractions,
        method=method,
        min_distance=min_distance,
        length_scale=length_scale,
        rng=rng,
        context=ctx,
    )
    return Proposal(selection, prediction)

"""Batch selection of ``q`` candidates with diversity: no near-duplicate compositions in a batch.

Distances between candidates are total-variation distances between their atomic-fraction
vectors, ``d(a, b) = 0.5 * sum_e |x_a,e - x_b,e|`` in [0, 1] (0.02 = two atomic percent moved).

Methods
-------
``"greedy"``
    the ``q`` best scores, skipping any candidate within ``min_distance`` of one already chosen;
``"local_penalization"``
    after each pick ``j`` the remaining scores are multiplied by
    ``1 - exp(-d(x, x_j)^2 / (2 l^2))`` (scores are first shifted to be positive), which steers the
    next picks away from ``x_j``; a distance-based simplification of Gonzalez et al. (2016);
``"thompson"``
    slot ``k`` is scored with a separate Thompson draw (ensemble member ``k``, members taken in a
    random order), then the best not-yet-chosen, non-near-duplicate candidate is taken.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from mi.active.base import Acquisition, AcquisitionContext
from mi.exceptions import MIWarning, RegistryKeyError

__all__ = ["BatchSelection", "select_batch", "BATCH_METHODS", "composition_distance"]

BATCH_METHODS = ("greedy", "local_penalization", "thompson")


def composition_distance(fractions: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Total-variation distance of every row of ``fractions`` to ``row`` (atomic fractions)."""
    return 0.5 * np.abs(fractions - row[None, :]).sum(axis=1)


@dataclass(frozen=True)
class BatchSelection:
    """Result of :func:`select_batch`: chosen positions and their acquisition values (in order)."""

    indices: np.ndarray
    values: np.ndarray


def select_batch(
    acquisition: Acquisition,
    prediction: Any,
    n: int,
    *,
    fractions: np.ndarray | None = None,
    method: str = "local_penalization",
    min_distance: float = 0.02,
    length_scale: float = 0.1,
    available: np.ndarray | None = None,
    context: AcquisitionContext | None = None,
    rng: np.random.Generator | int | None = None,
) -> BatchSelection:
    """Choose ``n`` diverse candidates by ``acquisition``.

    Parameters
    ----------
    acquisition : Acquisition
    prediction : Prediction
        Surrogate output for all candidates.
    n : int
        Batch size ``q`` (>= 1).
    fractions : ndarray, optional
        Atomic fractions (n_candidates, n_elements) for the diversity rule; without it no
        diversity is enforced (each candidate is still picked at most once).
    method : {"greedy", "local_penalization", "thompson"}
    min_distance : float, default 0.02
        Candidates closer than this (total variation of atomic fractions) to a chosen one are
        near-duplicates and never enter the same batch.
    length_scale : float, default 0.1
        ``l`` of the local penalization.
    available : ndarray of bool, optional
        Candidates that may be chosen (e.g. not yet observed nor pending).
    context : AcquisitionContext, optional
        What the acquisition needs besides the prediction (``best``, ``risk`` ...).
    rng : int or numpy.random.Generator, optional
        Source of randomness (replaces the context's; a Generator is advanced in place).

    Returns
    -------
    BatchSelection
        Fewer than ``n`` indices (with a :class:`MIWarning`) when fewer candidates are available;
        candidates scored ``-inf`` (infeasible) are never chosen.
    """
    if method not in BATCH_METHODS:
        raise RegistryKeyError("batch method", method, BATCH_METHODS)
    if n < 1:
        raise ValueError(f"The batch size must be >= 1. Got {n} instead.")
    ctx = context or AcquisitionContext()
    generator = (ctx if rng is None else ctx.replace(rng=rng)).generator()
    ctx = ctx.replace(rng=generator)  # one generator for every draw of the batch
    n_cand = np.asarray(prediction.mean).size
    ok = np.ones(n_cand, bool) if available is None else np.asarray(available, bool).copy()
    frac = None if fractions is None else np.asarray(fractions, dtype=np.float64)

    def block(j: int) -> None:
        ok[j] = False
        if frac is not None and min_distance > 0:
            ok[composition_distance(frac, frac[j]) < min_distance] = False

    chosen: list[int] = []
    values: list[float] = []
    if method == "thompson":
        members = getattr(prediction, "members", None)
        n_members = 0 if members is None else np.asarray(members).shape[0]
        order = generator.permutation(n_members) if n_members else None
        for k in range(n):
            if not ok.any():
                break
            member = None if order is None else int(order[k % n_members])
            scores = np.asarray(acquisition(prediction, ctx, member=member), dtype=np.float64)
            scores = np.where(ok & np.isfinite(scores), scores, -np.inf)
            j = int(np.argmax(scores))
            if not np.isfinite(scores[j]):
                break
            chosen.append(j)
            values.append(float(scores[j]))
            block(j)
    else:
        scores = np.asarray(acquisition(prediction, ctx), dtype=np.float64).copy()
        base = scores.copy()
        ok &= np.isfinite(scores)
        if method == "local_penalization":
            finite = scores[np.isfinite(scores)]
            low = float(finite.min()) if finite.size else 0.0
            span = float(np.ptp(finite)) if finite.size else 1.0
            work = np.where(np.isfinite(scores), scores - low + 1e-9 * (span or 1.0), 0.0)
        else:
            work = scores
        for _ in range(n):
            if not ok.any():
                break
            masked = np.where(ok, work, -np.inf)
            j = int(np.argmax(masked))
            chosen.append(j)
            values.append(float(base[j]))
            block(j)
            if method == "local_penalization" and frac is not None:
                d = composition_distance(frac, frac[j])
                work = work * (1.0 - np.exp(-(d * d) / (2.0 * length_scale**2)))
    if len(chosen) < n:
        warnings.warn(
            f"Only {len(chosen)} of the {n} requested candidates could be chosen (the rest are "
            "infeasible, already used, or near-duplicates); lower min_distance or widen the pool.",
            MIWarning,
            stacklevel=2,
        )
    return BatchSelection(np.asarray(chosen, dtype=np.int64), np.asarray(values))

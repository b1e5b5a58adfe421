"""Discovery metrics of retrospective active-learning runs (Rohr 2020, Liang 2021, Borg 2023).

Every metric is computed from the *hit sequence* of one run: ``hits[i]`` is True when the
``(i+1)``-th evaluated candidate (after the initial training set, counted one by one, candidates of
a batch in rank order) belongs to the target set. Notation:

- ``N``: candidates in the pool at the start (the initial training set excluded),
- ``M``: target candidates in that pool (e.g. the top 1 % by the property),
- ``F(i)``: targets found among the first ``i`` evaluations, ``i = 1..B`` (budget ``B``),
- ``i(k)``: evaluations needed to find ``k`` targets (``inf`` when not reached within ``B``).

Random search without replacement has exact expectations (hypergeometric / negative
hypergeometric): ``E[F_rand(i)] = i M / N`` and ``E[i_rand(k)] = k (N + 1) / (M + 1)``. All
"factors" below divide by these exact expectations; an empirical random baseline is run beside
them as a check (its factors should be about 1).

Definitions (as implemented here)
---------------------------------
Rohr et al., Chem. Sci. 11, 2696 (2020):
  ``AF_f = E[i_rand(k)] / i(k)`` with ``k = ceil(f M)`` (acceleration to find a fraction ``f`` of
  the targets, ``f = 0.5`` by default), per run, then mean and standard deviation over seeds;
  runs that do not reach ``k`` within the budget use ``i(k) = B + 1``, which *overstates* their
  AF (the true ``i(k)`` is larger): the summary then flags the AF as an upper bound and reports
  how many seeds reached the milestone.
  ``EF(i) = F(i) / E[F_rand(i)] = F(i) N / (i M)`` (enhancement at a fixed budget), reported at
  ``i = B``.
Liang et al., npj Comput. Mater. 7, 188 (2021), on the ``Top%(i) = F(i) / M`` curve:
  ``EF_Liang = mean over i = 1..B of Top%(i) / Top%_rand(i)`` (the EF curve summarized by its
  mean) and ``AF_Liang = mean over a in {0.1, 0.2, ...} with i(a M) <= B of
  E[i_rand(ceil(a M))] / i(ceil(a M))`` (the AF curve summarized by its mean; NaN if the run
  never reaches Top% = 0.1).
Borg et al., Digital Discovery 2, 327 (2023):
  discovery yield ``DY(i) = F(i) / M``; discovery probability ``DP(i) = F(i) / i`` (the chance
  that an evaluation is a discovery; random's is ``M / N``); discovery acceleration factor
  ``DAF_n = E[i_rand(n)] / mean_seeds i(n)`` (a ratio of means over seeds, random = 1 by
  construction); unreached runs count as ``B + 1`` (then DAF is an upper bound, flagged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "expected_random_draws",
    "expected_random_found",
    "iterations_to_find",
    "rohr_acceleration",
    "rohr_enhancement",
    "liang_enhancement",
    "liang_acceleration",
    "discovery_yield",
    "discovery_probability",
    "discovery_acceleration",
]


def expected_random_draws(k: int | np.ndarray, n_pool: int, n_targets: int) -> np.ndarray:
    """``E[i_rand(k)] = k (N + 1) / (M + 1)``: draws without replacement to find ``k`` targets.

    Examples
    --------
    >>> float(expected_random_draws(1, 99, 9))
    10.0
    """
    return np.asarray(k, dtype=np.float64) * (n_pool + 1) / (n_targets + 1)


def expected_random_found(i: int | np.ndarray, n_pool: int, n_targets: int) -> np.ndarray:
    """``E[F_rand(i)] = i M / N``: targets found by ``i`` random draws without replacement."""
    return np.asarray(i, dtype=np.float64) * n_targets / n_pool


def iterations_to_find(hits: Sequence[bool] | np.ndarray, k: int) -> float:
    """Return ``i(k)``, the 1-based evaluation at which the ``k``-th target was found (inf if not).

    Examples
    --------
    >>> iterations_to_find([False, True, False, True], 2)
    4.0
    """
    if k <= 0:
        return 0.0
    cum = np.cumsum(np.asarray(hits, dtype=bool))
    pos = np.flatnonzero(cum >= k)
    return float(pos[0] + 1) if pos.size else math.inf


def _censored(hits: np.ndarray, k: int) -> float:
    i = iterations_to_find(hits, k)
    return float(len(hits) + 1) if math.isinf(i) else i


def rohr_acceleration(
    hits: np.ndarray, n_pool: int, n_targets: int, fraction: float = 0.5
) -> tuple[float, bool]:
    """Rohr's ``AF_f = E[i_rand(ceil(f M))] / i(ceil(f M))`` for one run.

    Returns
    -------
    tuple
        ``(AF, reached)``; when the milestone is not reached within the budget ``B``,
        ``i = B + 1`` is used and ``reached`` is False (AF is then an upper bound).
    """
    k = max(1, math.ceil(fraction * n_targets))
    i = _censored(np.asarray(hits, dtype=bool), k)
    return float(expected_random_draws(k, n_pool, n_targets) / i), i <= len(hits)


def rohr_enhancement(hits: np.ndarray, n_pool: int, n_targets: int, at: int | None = None) -> float:
    """Rohr's ``EF(i) = F(i) / (i M / N)`` at ``i = at`` (default: the whole budget)."""
    hits = np.asarray(hits, dtype=bool)
    i = len(hits) if at is None else int(at)
    return float(hits[:i].sum() / expected_random_found(i, n_pool, n_targets))


def liang_enhancement(hits: np.ndarray, n_pool: int, n_targets: int) -> float:
    """Liang's EF curve ``Top%(i) / Top%_rand(i)`` averaged over ``i = 1..B``."""
    hits = np.asarray(hits, dtype=bool)
    i = np.arange(1, len(hits) + 1)
    return float(np.mean(np.cumsum(hits) / expected_random_found(i, n_pool, n_targets)))


def liang_acceleration(hits: np.ndarray, n_pool: int, n_targets: int, step: float = 0.1) -> float:
    """Liang's AF curve ``E[i_rand(ceil(a M))] / i(ceil(a M))`` averaged over reached levels ``a``.

    Levels are ``a = step, 2 step, ... <= 1``; only levels reached within the budget count;
    NaN when none is reached.
    """
    values = []
    for a in np.arange(step, 1.0 + 1e-9, step):
        k = max(1, math.ceil(a * n_targets))
        i = iterations_to_find(hits, k)
        if math.isinf(i):
            break
        values.append(float(expected_random_draws(k, n_pool, n_targets)) / i)
    return float(np.mean(values)) if values else math.nan


def discovery_yield(hits: np.ndarray, n_targets: int, at: int | None = None) -> float:
    """Borg's ``DY(i) = F(i) / M`` (default ``i = B``)."""
    hits = np.asarray(hits, dtype=bool)
    i = len(hits) if at is None else int(at)
    return float(hits[:i].sum() / n_targets)


def discovery_probability(hits: np.ndarray, at: int | None = None) -> float:
    """Borg's ``DP(i) = F(i) / i`` (default ``i = B``)."""
    hits = np.asarray(hits, dtype=bool)
    i = len(hits) if at is None else int(at)
    return float(hits[:i].sum() / i) if i else math.nan


def discovery_acceleration(
    runs: Sequence[np.ndarray], n_pool: int, n_targets: int, n: int = 1
) -> tuple[float, int]:
    """Borg's ``DAF_n = E[i_rand(n)] / mean over runs of i(n)``.

    Returns
    -------
    tuple
        ``(DAF_n, n_unreached)``; unreached runs count as ``B + 1`` evaluations.
    """
    its = [_censored(np.asarray(h, dtype=bool), n) for h in runs]
    unreached = sum(1 for h, i in zip(runs, its, strict=True) if i > len(h))
    return float(expected_random_draws(n, n_pool, n_targets) / np.mean(its)), unreached

"""Pareto ranks: the fast sweep agrees with the all-pairs definition, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from mi.runner.ranking import pareto_ranks


def _brute_ranks(obj: np.ndarray, max_rank: int) -> np.ndarray:
    ranks = np.full(len(obj), max_rank + 1, dtype=np.int64)
    left = np.arange(len(obj))
    rank = 0
    while left.size and rank < max_rank:
        rank += 1
        pts = obj[left]
        geq = np.all(pts[None, :, :] >= pts[:, None, :], axis=2)
        gt = np.any(pts[None, :, :] > pts[:, None, :], axis=2)
        dominated = np.any(geq & gt, axis=1)
        ranks[left[~dominated]] = rank
        left = left[dominated]
    return ranks


@pytest.mark.parametrize(("n", "k", "decimals"), [(300, 2, None), (2300, 3, 1), (2300, 2, 0)])
def test_fast_ranks_match_the_definition(n: int, k: int, decimals: int | None) -> None:
    obj = np.random.default_rng(n).normal(size=(n, k))
    if decimals is not None:  # many ties, also across the sweep's blocks
        obj = np.round(obj, decimals)
    assert (pareto_ranks(obj, max_rank=4) == _brute_ranks(obj, 4)).all()

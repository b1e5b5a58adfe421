"""Discovery metrics (Rohr, Liang, Borg) on hand-made hit sequences and against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mi.active import metrics as M


def test_expected_random_draws_matches_simulation():
    rng = np.random.default_rng(0)
    N, Mt = 60, 6
    draws = {1: [], 3: []}
    found = []
    for _ in range(20000):
        hits = rng.permutation(np.r_[np.ones(Mt, bool), np.zeros(N - Mt, bool)])
        for k in draws:
            draws[k].append(M.iterations_to_find(hits, k))
        found.append(hits[:10].sum())
    for k in draws:
        assert np.mean(draws[k]) == pytest.approx(M.expected_random_draws(k, N, Mt), rel=0.02)
    assert np.mean(found) == pytest.approx(M.expected_random_found(10, N, Mt), rel=0.02)


def test_hand_computed_factors():
    # N = 99 candidates, M = 9 targets: random needs (N+1)/(M+1) = 10 draws per target found
    hits = np.array([False, True, True, False, True, False, False, False, False, False])
    N, Mt = 99, 9
    assert M.iterations_to_find(hits, 1) == 2
    assert M.iterations_to_find(hits, 4) == math.inf
    # AF_0.5: k = ceil(4.5) = 5, not reached in B = 10 -> i = 11, upper bound 50/11
    af, reached = M.rohr_acceleration(hits, N, Mt, 0.5)
    assert (af, reached) == (pytest.approx(50 / 11), False)
    af, reached = M.rohr_acceleration(hits, N, Mt, 0.3)  # k = 3, i = 5 -> 30 / 5
    assert (af, reached) == (pytest.approx(6.0), True)
    # EF(B) = F(B) / (B M / N) = 3 / (10 * 9 / 99)
    assert M.rohr_enhancement(hits, N, Mt) == pytest.approx(3 / (90 / 99))
    assert M.rohr_enhancement(hits, N, Mt, at=2) == pytest.approx(1 / (18 / 99))
    assert M.discovery_yield(hits, Mt) == pytest.approx(3 / 9)
    assert M.discovery_probability(hits) == pytest.approx(0.3)
    assert M.discovery_probability(hits, at=3) == pytest.approx(2 / 3)
    # DAF_1 over two runs: i(1) = 2 and 5 -> 10 / 3.5
    other = np.array([False] * 4 + [True] + [False] * 5)
    daf, unreached = M.discovery_acceleration([hits, other], N, Mt, 1)
    assert (daf, unreached) == (pytest.approx(10 / 3.5), 0)
    daf, unreached = M.discovery_acceleration([hits, other], N, Mt, 2)  # 20 / mean(3, 11)
    assert (daf, unreached) == (pytest.approx(20 / 7), 1)
    # Liang: EF curve mean, AF over Top% levels 0.1.. reached (k = 1, 2, 3 at i = 2, 3, 5)
    i = np.arange(1, 11)
    expected_ef = np.mean(np.cumsum(hits) / (i * Mt / N))
    assert M.liang_enhancement(hits, N, Mt) == pytest.approx(expected_ef)
    expected_af = np.mean([10 / 2, 20 / 3, 30 / 5])  # a = 0.1, 0.2, 0.3 -> k = 1, 2, 3
    assert M.liang_acceleration(hits, N, Mt) == pytest.approx(expected_af)
    assert math.isnan(M.liang_acceleration(np.zeros(5, bool), N, Mt))


def test_random_search_factors_are_about_one():
    rng = np.random.default_rng(1)
    N, Mt = 200, 20
    runs = [
        rng.permutation(np.r_[np.ones(Mt, bool), np.zeros(N - Mt, bool)])[:N] for _ in range(3000)
    ]
    daf, _ = M.discovery_acceleration(runs, N, Mt, 1)
    assert daf == pytest.approx(1.0, abs=0.05)
    ef = np.mean([M.rohr_enhancement(h, N, Mt, at=50) for h in runs])
    assert ef == pytest.approx(1.0, abs=0.03)

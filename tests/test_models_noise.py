"""Label-noise estimates recover a known noise level and refuse what they cannot measure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mi.exceptions import ModelError
from mi.models.noise import near_duplicate_noise, replicate_noise


def test_replicates_recover_gaussian_noise():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 100, size=3000)
    groups = np.repeat(np.arange(3000), 3)
    y = np.repeat(truth, 3) + rng.normal(0, 5.0, size=9000)
    est = replicate_noise(y, groups)
    assert est.n_groups == 3000 and est.n_pairs == 9000
    assert est.label_rmse == pytest.approx(5.0, rel=0.04)
    # E|e| of N(0, 5) is 5 * sqrt(2 / pi)
    assert est.label_mae_gaussian == pytest.approx(5.0 * math.sqrt(2 / math.pi), rel=0.04)
    assert est.label_mae_low < 5.0 * math.sqrt(2 / math.pi)


def test_mae_lower_bound_holds_for_rare_large_errors():
    rng = np.random.default_rng(1)
    n = 4000
    truth = rng.uniform(0, 1000, size=n)
    err = np.where(rng.random((n, 2)) < 0.1, rng.choice([-300.0, 300.0], size=(n, 2)), 0.0)
    y = (truth[:, None] + err).ravel()
    est = replicate_noise(y, np.repeat(np.arange(n), 2))
    true_mae = np.abs(err).mean()  # about 30
    assert est.label_mae_low <= true_mae * 1.05
    assert est.label_mae_gaussian > true_mae  # the Gaussian reading overstates outlier noise


def test_sources_are_reduced_to_one_median_each():
    # compound a: paper p1 twice (10, 14 -> median 12), paper p2 once (20); b: one paper only
    y = [10.0, 14.0, 20.0, 5.0, 7.0]
    groups = ["a", "a", "a", "b", "b"]
    sources = ["p1", "p1", "p2", "p3", "p3"]
    est = replicate_noise(y, groups, sources=sources)
    assert (est.n_groups, est.n_pairs) == (1, 1)
    assert est.mae_pair == 8.0
    assert "per source" in est.method
    with pytest.raises(ModelError, match="no pair"):
        replicate_noise([1.0, 2.0], ["a", "a"], sources=["p", "p"])


def test_each_group_counts_once():
    # a heavily replicated item does not outweigh a pair
    y = [0.0] * 50 + [10.0, 10.0] + [0.0, 4.0]
    groups = ["big"] * 50 + ["big"] * 2 + ["small", "small"]
    est = replicate_noise(y, groups)
    big = np.abs(np.subtract.outer(np.array(y[:52]), np.array(y[:52])))[np.triu_indices(52, 1)]
    assert est.mae_pair == pytest.approx((big.mean() + 4.0) / 2)


def test_near_duplicates_pairs_each_close_pair_once():
    rng = np.random.default_rng(2)
    centres = rng.uniform(0, 100, size=(500, 3))
    X = np.vstack([centres, centres + 1e-4])  # 500 near-duplicate pairs
    truth = centres.sum(axis=1)
    y = np.concatenate([truth, truth]) + rng.normal(0, 2.0, size=1000)
    est = near_duplicate_noise(X, y, max_distance=0.01)
    assert est.n_pairs == 500
    assert est.label_rmse == pytest.approx(2.0, rel=0.1)
    # exact duplicates (distance 0) are paired too, and far rows are not
    est = near_duplicate_noise([[0.0], [0.0], [3.0]], [1.0, 2.0, 9.0], max_distance=0.5)
    assert (est.n_pairs, est.mae_pair) == (1, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: replicate_noise([1.0, 2.0], ["a"]), "groups has 1 entries"),
        (lambda: replicate_noise([1.0, 2.0], ["a", "b"]), "no pair"),
        (lambda: replicate_noise([1.0, 2.0], ["a", "a"], sources=["p"]), "sources has 1"),
        (lambda: near_duplicate_noise([[0.0], [1.0]], [1.0], 0.1), "shape"),
        (lambda: near_duplicate_noise([[0.0], [1.0]], [1.0, 2.0], 0.0), "positive"),
        (lambda: near_duplicate_noise([[0.0], [5.0]], [1.0, 2.0], 0.1), "no pair"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ModelError, match=message):
        call()

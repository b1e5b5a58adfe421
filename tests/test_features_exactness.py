"""Fast backend == matminer on real compositions from the shared datasets plus random ones.

matminer runs at ~250-300 compositions/s on one core, so each preset uses a fixed subset:
5,000 real + 1,000 random compositions for every composition preset (magpie, magnet, conductor).
``benchmarks/featurize.py --exactness`` runs larger sets.
"""

from __future__ import annotations

import numpy as np
import pytest

from mi.features import featurize
from mi.features.validation import compare_features, random_formulas, real_formulas

SIZES = {"magpie": (5_000, 1_000), "magnet": (5_000, 1_000), "conductor": (5_000, 1_000)}


@pytest.fixture(scope="module")
def real(shared_datasets):
    return real_formulas(shared_datasets)


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(SIZES))
def test_fast_equals_matminer(real, preset):
    n_real, n_random = SIZES[preset]
    rng = np.random.default_rng(0)
    picked = [real[i] for i in rng.choice(len(real), size=n_real, replace=False)]
    formulas = picked + random_formulas(n_random, seed=1)
    fast = featurize(formulas, preset=preset, backend="fast")
    slow = featurize(formulas, preset=preset, backend="matminer")
    result = compare_features(fast, slow)
    assert result["nan_mismatch"] == 0, result
    assert result["max_rel_diff"] <= 1e-9, result
    assert len(formulas) == n_real + n_random

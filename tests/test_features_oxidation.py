"""OxidationStateBalance: charge balance from oxidation states, both backends."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition

from mi.features import featurize
from mi.features.oxidation import OxidationStateBalance

FORMULAS = ["Al2O3", "NaCl", "Fe3Al", "Ag0.5GePb1.75S4", "Cu", "YBa2Cu3O7", "Mg2Si", "He"]


def _ox(frame):
    return frame[[c for c in frame.columns if c.startswith("ox ")]]


def test_fast_backend_equals_per_row_featurizer():
    fast = _ox(featurize(FORMULAS, preset="band_gap"))
    slow = _ox(featurize(FORMULAS, preset="band_gap", backend="matminer"))
    assert list(fast.columns) == OxidationStateBalance().feature_labels()
    np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-12, equal_nan=True)


def test_valence_compounds_balance_and_intermetallics_do_not():
    f = OxidationStateBalance()
    labels = f.feature_labels()
    al2o3 = dict(zip(labels, f.featurize(Composition("Al2O3")), strict=True))
    assert al2o3["ox common balanced"] == 1.0
    assert al2o3["ox common anion fraction"] == pytest.approx(0.6)
    fe3al = dict(zip(labels, f.featurize(Composition("Fe3Al")), strict=True))
    assert fe3al["ox common balanced"] == 0.0
    assert fe3al["ox common leftover charge per atom"] > 1.0
    doped = dict(zip(labels, f.featurize(Composition("Ag0.5GePb1.75S4")), strict=True))
    assert doped["ox integer formula"] == 0.0 and doped["ox common balanced"] == 1.0

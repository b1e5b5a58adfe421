"""Oracles: lookup by canonical composition, and checks on users' own evaluators."""

from __future__ import annotations

import numpy as np
import pytest

from mi.active import CallableOracle, LookupOracle, get_oracle
from mi.exceptions import CampaignError, DataError, RegistryKeyError


def test_lookup_by_canonical_composition():
    oracle = LookupOracle(["Fe2O3", "NiO", "Nd2Fe14B"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(oracle(["O3Fe2", "Fe4O6", "B(Fe7Nd)2"]), [1.0, 1.0, 3.0])
    with pytest.raises(CampaignError, match="no label for composition 'CoO'"):
        oracle(["CoO"])
    with pytest.raises(DataError, match="appears twice"):
        LookupOracle(["Fe2O3", "Fe4O6"], [1.0, 2.0])
    assert len(LookupOracle(["Fe2O3", "Fe4O6"], [1.0, 1.0])) == 1


def test_callable_oracle_checks_its_output():
    assert get_oracle("callable", lambda fs: [1.0] * len(fs))(["NiO"]).tolist() == [1.0]
    with pytest.raises(CampaignError, match="returned 1 values for 2 formulas"):
        CallableOracle(lambda fs: [1.0], name="dft")(["NiO", "CoO"])
    with pytest.raises(CampaignError, match="non-finite values for 'CoO'"):
        CallableOracle(lambda fs: [1.0, float("nan")], name="dft")(["NiO", "CoO"])
    with pytest.raises(RegistryKeyError, match="Did you mean 'lookup'"):
        get_oracle("lokup")

"""The NOVAMAG anisotropy dataset: K1 is the first entry of '[K1, K2]' (array_index)."""

from __future__ import annotations

import numpy as np
import pytest

from mi.data.spec import TargetSpec
from mi.data.values import parse_target_cell


def test_array_index_takes_one_entry() -> None:
    spec = TargetSpec(name="K1", kind="array", array_index=0)
    assert parse_target_cell("[1.51, 0.0]", spec).values.tolist() == [1.51]
    with pytest.raises(ValueError, match="no entry 1"):
        parse_target_cell("[1.51]", TargetSpec(name="K2", kind="array", array_index=1))
    with pytest.raises(ValueError, match="array_index needs kind"):
        TargetSpec(name="K1", array_index=0)


def test_novamag_anisotropy_loads_k1(shared_datasets) -> None:
    from mi.data import load_dataset

    ds = load_dataset("novamag_anisotropy")
    df = ds.df.set_index("composition")
    assert ds.targets == ["K1"]
    assert len(df) > 500 and np.isfinite(df["K1"]).all()
    assert df.loc["Ni3Pt", "K1"] == pytest.approx(2.18183)  # cell '[2.18183, 0.0]'
    # rows without anisotropy constants are rejected with the reason, not dropped silently
    reasons = set(ds.report.rejected["reason"])
    assert "missing value" in reasons

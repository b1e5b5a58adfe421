"""Published fixed splits: JARVIS supercon_chem ids map onto SuperCon rows; Matbench folds."""

from __future__ import annotations

import numpy as np
import pytest

from mi.data import load_dataset
from mi.data.public_splits import jarvis_split, matbench_folds, source_rows
from mi.exceptions import SpecError


def test_jarvis_supercon_chem_ids_are_supercon_rows():
    split = jarvis_split("jarvis_supercon_chem")
    assert (split.train_ids.size, split.test_ids.size) == (13131, 3283)
    ds = load_dataset(split.dataset, merge="none")
    rows = source_rows(ds.report, ds.report.n_input)
    assert rows.size == len(ds.df)
    values = dict(
        zip(
            np.r_[split.train_ids, split.test_ids],
            np.r_[split.train_values, split.test_values],
            strict=True,
        )
    )
    np.testing.assert_allclose([values[r] for r in rows], ds.df["Tc"].to_numpy())
    assert np.intersect1d(split.train_ids, split.test_ids).size == 0


def test_unknown_split_names_the_folder():
    with pytest.raises(SpecError, match="datasets/splits/nope.toml"):
        jarvis_split("nope")


def test_matbench_folds_are_the_official_ones():
    ds = load_dataset("matbench_v01_expt_gap")
    assert ds.df["mbid"].is_monotonic_increasing and len(ds.df) == 4604
    folds = matbench_folds(ds.df["Eg"].to_numpy())
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tests), np.arange(4604))
    # regression pin of KFold(5, shuffle=True, random_state=18012019) on the rows in mbid order
    first = list(ds.df["mbid"].iloc[np.sort(folds[0][1])[:3]])
    assert first == ["mb-expt-gap-0008", "mb-expt-gap-0010", "mb-expt-gap-0019"]
    metal = load_dataset("matbench_v01_expt_is_metal")
    strat = matbench_folds(metal.df["is_metal"].to_numpy(), classification=True)
    share = [metal.df["is_metal"].to_numpy()[test].mean() for _, test in strat]
    assert max(share) - min(share) < 0.01

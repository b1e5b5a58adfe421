"""Runner defects of issue 18 that fail after work: campaign seeding with duplicates (D12)."""

from __future__ import annotations

import pandas as pd

from mi.runner.campaign_seed import seed_campaign
from mi.runner.spec import parse_spec


def test_campaign_seeding_merges_duplicate_known_compositions(tmp_path):
    spec = parse_spec(
        {
            "version": 1,
            "name": "dup",
            "targets": [
                {
                    "name": "sigma",
                    "dataset": "obelix",
                    "preset": "magpie",
                    "model_params": {"n_estimators": 5, "n_members": 2, "n_jobs": 1},
                }
            ],
            "candidates": {"templates": [{"formula": "Li{x}La{3-x}Zr2O12"}]},
            "acquisition": {"name": "ei"},
            "outputs": {"campaign_pool": 3},
        }
    )
    # the same composition in a dataset's train and test splits, and written differently
    table = pd.DataFrame(
        {
            "composition": ["Li7La3Zr2O12", "Li7La3Zr2O12", "Li14La6Zr4O24", "Li6.5La3Zr2O12"],
            "y": [-4.0, -3.0, -5.0, -2.0],
        }
    )
    pool = pd.DataFrame({"key": ["Li6La3Zr2O12", "Li5La3Zr2O12", "Li4La3Zr2O12"]})
    state = seed_campaign(spec, pool, table, tmp_path / "campaign")
    assert state is not None and (state / "state.json").is_file()
    known = pd.read_csv(tmp_path / "campaign" / "known.csv")
    assert len(known) == 2  # every row kept as a measurement: 3 merged into one median
    assert sorted(known["sigma"].tolist()) == [-4.0, -2.0]

"""Campaign as an in-memory object: same steps as a folder campaign, JSON round trip, save."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_campaign import make_spec, toy_property  # tests/ is on sys.path

from mi.active import CallableOracle, Campaign, run_loop
from mi.exceptions import CampaignError, StateVersionError


def _measure(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(Ms=toy_property(table["composition"]))


def test_in_memory_campaign_writes_nothing_and_matches_the_folder_campaign(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    memory = Campaign.create(make_spec())
    assert memory.directory is None
    folder = Campaign.init(tmp_path / "c", make_spec())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # create wrote nothing
    for campaign in (memory, folder):
        run_loop(campaign, CallableOracle(toy_property), iterations=3, batch_size=3)
    a, b = memory.suggest(4), folder.suggest(4)
    cols = ["key", "predicted_mean", "predicted_std", "acquisition", "feasible"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert memory.status()["n_observed"] == folder.status()["n_observed"] == 9


def test_json_round_trip_continues_exactly(tmp_path):
    original = Campaign.create(make_spec())
    run_loop(original, CallableOracle(toy_property), iterations=2, batch_size=3)
    pending = original.suggest(2)  # a batch waiting for the lab travels with the JSON
    text = json.dumps(original.to_json(), allow_nan=False)
    copy = Campaign.from_json(json.loads(text))
    assert copy.campaign_id == original.campaign_id
    pd.testing.assert_frame_equal(copy.observations, original.observations)
    pd.testing.assert_frame_equal(copy.pool, original.pool)
    assert copy.pending["key"].tolist() == pending["key"].tolist()
    for campaign in (original, copy):
        campaign.observe(_measure(pending))
    pd.testing.assert_frame_equal(original.suggest(3), copy.suggest(3))


def test_save_makes_a_folder_campaign_that_resumes(tmp_path):
    memory = Campaign.create(make_spec())
    run_loop(memory, CallableOracle(toy_property), iterations=2, batch_size=3)
    stored = memory.save(tmp_path / "c")
    reopened = Campaign(tmp_path / "c")
    assert reopened.directory == tmp_path / "c" and stored.campaign_id == memory.campaign_id
    pd.testing.assert_frame_equal(reopened.observations, memory.observations)
    pd.testing.assert_frame_equal(reopened.suggest(3), memory.suggest(3))
    with pytest.raises(CampaignError, match="already holds a campaign"):
        memory.save(tmp_path / "c")


def test_failed_step_leaves_the_in_memory_state_untouched():
    campaign = Campaign.create(make_spec())
    table = campaign.suggest(2)
    before = campaign.to_json()
    with pytest.raises(Exception, match="non-numeric"):
        campaign.observe(table.assign(Ms=["x", np.nan]))
    assert campaign.to_json() == before


def test_from_json_refuses_foreign_or_newer_data():
    data = Campaign.create(make_spec()).to_json()
    with pytest.raises(CampaignError, match="not mi campaign JSON"):
        Campaign.from_json({"format": "something else"})
    with pytest.raises(StateVersionError):
        Campaign.from_json({**data, "version": 99})

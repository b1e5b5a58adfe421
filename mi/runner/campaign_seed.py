"""``OUT/campaign``: an :mod:`mi.active` campaign seeded from a finished screen.

The best-ranked candidates become the campaign's pool and the acquisition target's training
data its known results, so ``mi campaign suggest OUT/campaign/state`` continues where the
screen stopped, with the workflow's surrogate, acquisition, batch and constraint settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mi._atomic import atomic_write, atomic_write_text
from mi.active import Campaign
from mi.chem import parse_formulas
from mi.runner.screening import primary_index
from mi.runner.spec import RunSpec

__all__ = ["seed_campaign", "merge_known"]


def merge_known(table: pd.DataFrame) -> pd.DataFrame:
    """One row per reduced composition (median ``y``), as a campaign's known results need.

    A dataset may keep the same composition twice on purpose (e.g. in its train and test
    splits); the campaign would refuse the duplicates at the very end of the run.
    """
    keys = parse_formulas(table["composition"].astype(str).tolist()).canonical_keys()
    frame = table.assign(_key=keys)
    if not frame["_key"].duplicated().any():
        return table
    first = frame.groupby("_key", sort=False)["composition"].first()
    y = frame.groupby("_key", sort=False)["y"].median()
    return pd.DataFrame({"composition": first.to_numpy(), "y": y.loc[first.index].to_numpy()})


def seed_campaign(
    spec: RunSpec, pool: pd.DataFrame, table: pd.DataFrame, folder: Path
) -> Path | None:
    """Create ``folder``: the best-ranked candidates as pool, training data as known results.

    Parameters
    ----------
    spec : RunSpec
        The workflow (``outputs.campaign_pool`` candidates are kept).
    pool : pandas.DataFrame
        The ranked candidates (column ``key``).
    table : pandas.DataFrame
        The acquisition target's training table (``composition``, ``y``).
    folder : Path
        Where the campaign's files go; its state is ``folder / "state"``.

    Returns
    -------
    Path or None
        The campaign's state folder; None when there is nothing to seed (no pool, or a
        classification target).
    """
    n = spec.outputs.campaign_pool
    target = spec.targets[primary_index(spec)]
    if not n or target.task != "regression" or len(pool) == 0:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    head = pool.head(n)[["key"]].rename(columns={"key": "composition"})
    atomic_write(folder / "pool.csv", lambda tmp: head.to_csv(tmp, index=False))
    known = merge_known(table).rename(columns={"y": target.name})
    atomic_write(folder / "known.csv", lambda tmp: known.to_csv(tmp, index=False))
    cspec = {
        "name": f"{spec.name}-campaign",
        "target": target.name,
        "maximize": target.objective == "maximize",
        "seed": spec.seed,
        "candidates": {"file": "pool.csv", "composition_col": "composition"},
        "initial": {"file": "known.csv", "composition_col": "composition"},
        "features": {"preset": target.preset},
        "model": {
            "name": target.model,
            "params": {k: v for k, v in target.model_params.items() if k != "n_jobs"},
        },
        "acquisition": {"name": spec.acquisition.name, "params": dict(spec.acquisition.params)},
        "batch": {"method": spec.outputs.batch_method, "min_distance": spec.outputs.min_distance},
        "constraints": {
            "risk": spec.criticality.objective,
            "rules": [c.model_dump(mode="json") for c in spec.constraints],
        },
        "base_dir": str(folder.resolve()),
    }
    atomic_write_text(folder / "campaign.json", json.dumps(cspec, indent=2))
    Campaign.init(folder / "state", folder / "campaign.json", overwrite=True)
    return folder / "state"

"""``CampaignState``: everything that changes during a campaign, and its on-disk form.

Layout of a campaign directory::

    campaign.json                 spec, campaign id, versions (written once by init)
    pool.parquet                  candidates: key, composition, criticality columns, feasible
    features.parquet              the pool's features (computed once by init)
    state.json                    the commit point: iteration, RNG state, pending suggestions,
                                  history, and the name of the current observations file
    observations-<step>.parquet   all results so far (a new file per step that adds results)

Every step holds an exclusive lock on the folder (:func:`dir_lock`). It writes the new
observations file first (atomically: temporary file, fsync, rename, fsync of the folder), then
``state.json`` (atomically); ``state.json`` names the observations file it belongs to. A process
killed at any instant therefore leaves either the old or the new state, never a mixture; files
that no state refers to are removed by the next step.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._atomic import TMP_SUFFIX, atomic_write, atomic_write_bytes
from mi.exceptions import CampaignError, StateVersionError

__all__ = [
    "CampaignState",
    "STATE_VERSION",
    "STATE_FILE",
    "dir_lock",
    "read_state",
    "remove_orphans",
    "write_campaign",
    "write_state",
]

STATE_VERSION = 1
STATE_FILE = "state.json"
CAMPAIGN_FILE = "campaign.json"
POOL_FILE = "pool.parquet"
FEATURES_FILE = "features.parquet"
OBS_PREFIX = "observations-"


#: The fields of :class:`CampaignState` stored as they are in ``state.json``.
_JSON_FIELDS = "campaign_id target step iteration rng_state pending history version".split()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class CampaignState:
    """Mutable state of a campaign (see the module docstring for the files).

    Attributes
    ----------
    campaign_id : str
    step : int
        Number of committed steps (init is step 0).
    iteration : int
        Number of ``suggest`` calls committed.
    rng_state : dict
        ``numpy.random.PCG64`` state; the campaign's only source of randomness.
    pending : list of dict
        Suggestions not yet observed (key, composition, iteration, rank, predictions).
    history : list of dict
        One entry per step: action, step, iteration, keys, time.
    observations : DataFrame
        key, composition, <target>, iteration, step, source.
    observations_file : str
    """

    campaign_id: str
    target: str
    step: int = 0
    iteration: int = 0
    rng_state: dict[str, Any] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    observations: pd.DataFrame = field(default_factory=pd.DataFrame)
    observations_file: str = ""
    version: int = STATE_VERSION

    def rng(self) -> np.random.Generator:
        """Return a Generator positioned at the stored state."""
        bitgen = np.random.PCG64()
        bitgen.state = dict(self.rng_state)  # type: ignore[assignment]
        return np.random.Generator(bitgen)

    def to_json(self) -> dict[str, Any]:
        """JSON form of everything except the observations table."""
        from mi import __version__

        return {
            "format": "mi-campaign-state",
            "mi_version": __version__,
            **{name: getattr(self, name) for name in _JSON_FIELDS},
            "observations_file": self.observations_file,
            "n_observations": len(self.observations),
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], observations: pd.DataFrame, observations_file: str = ""
    ) -> CampaignState:
        """Rebuild a state from :meth:`to_json` data and its observations table."""
        fields = {name: data[name] for name in _JSON_FIELDS}
        return cls(**fields, observations=observations, observations_file=observations_file)

    def add_history(self, action: str, **info: Any) -> None:
        """Append a history entry for the step about to be committed."""
        self.history.append(
            {"action": action, "step": self.step, "iteration": self.iteration, "time": _now()}
            | info
        )


def empty_observations(target: str, *more_targets: str) -> pd.DataFrame:
    """Return the empty observations table with its columns and dtypes.

    Parameters
    ----------
    target : str
        The (first) measured property.
    *more_targets : str
        Further measured properties of a multi-objective campaign.
    """
    return pd.DataFrame(
        {
            "key": pd.Series(dtype=str),
            "composition": pd.Series(dtype=str),
            target: pd.Series(dtype=np.float64),
            **{t: pd.Series(dtype=np.float64) for t in more_targets},
            "iteration": pd.Series(dtype=np.int64),
            "step": pd.Series(dtype=np.int64),
            "source": pd.Series(dtype=str),
        }
    )


def read_state(directory: Path) -> CampaignState:
    """Load ``state.json`` and its observations file.

    Raises
    ------
    CampaignError
        No campaign in the folder.
    StateVersionError
        The state was written by an incompatible version.
    """
    path = directory / STATE_FILE
    if not path.is_file():
        raise CampaignError(
            f"No campaign in {str(directory)!r} (no {STATE_FILE}); create one with "
            "`mi campaign init DIR --spec FILE`."
        )
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise CampaignError(f"{path} is not valid JSON ({exc}).") from None
    if data.get("format") != "mi-campaign-state":
        raise CampaignError(f"{path} is not an mi campaign state file.")
    if data.get("version") != STATE_VERSION:
        raise StateVersionError(
            f"{path} has state version {data.get('version')!r}, written by mi "
            f"{data.get('mi_version')!r}; this mi reads version {STATE_VERSION}. Use that mi "
            "version, or start a new campaign."
        )
    obs_file = data["observations_file"]
    obs = pd.read_parquet(directory / obs_file)
    if len(obs) != data["n_observations"]:
        raise CampaignError(
            f"{obs_file} holds {len(obs)} observations but {STATE_FILE} expects "
            f"{data['n_observations']}; the campaign folder was edited by hand."
        )
    return CampaignState.from_json(data, obs, obs_file)


def write_state(directory: Path, state: CampaignState, *, observations_changed: bool) -> None:
    """Commit ``state`` (observations file first, then ``state.json``), then tidy up."""
    previous = state.observations_file
    if observations_changed or not previous:
        state.observations_file = f"{OBS_PREFIX}{state.step:06d}.parquet"
        _write_parquet(directory / state.observations_file, state.observations)
    _write_json(directory / STATE_FILE, state.to_json())
    remove_orphans(directory, state.observations_file)


def remove_orphans(directory: Path, current: str) -> None:
    """Delete temporary files and observation files the committed state does not name."""
    for path in directory.iterdir():
        name = path.name
        stale_obs = name.startswith(OBS_PREFIX) and name.endswith(".parquet") and name != current
        if stale_obs or (name.startswith(".") and name.endswith(TMP_SUFFIX)):
            path.unlink(missing_ok=True)


def write_campaign(
    directory: Path,
    meta: dict[str, Any],
    pool: pd.DataFrame,
    features: pd.DataFrame,
    state: CampaignState,
) -> None:
    """Write a whole campaign into ``directory`` (the caller holds :func:`dir_lock`).

    The old state is removed first and the new one written last (the commit point), so a
    process killed in between leaves no campaign rather than a mixture.
    """
    (directory / STATE_FILE).unlink(missing_ok=True)
    _write_parquet(directory / POOL_FILE, pool)
    _write_parquet(directory / FEATURES_FILE, features)
    _write_json(directory / CAMPAIGN_FILE, meta)
    state.observations_file = ""
    write_state(directory, state, observations_changed=True)


def _write_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def _write_parquet(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow"))


@contextlib.contextmanager
def dir_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (released by the OS if the process dies).

    A second process waits for the lock (a CLI step while a loop runs), unlike the fail-fast
    lock of ``mi run --out`` (:mod:`mi.runner.outdir`).
    """
    import fcntl

    fd = os.open(Path(folder) / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

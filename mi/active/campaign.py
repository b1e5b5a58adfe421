"""``Campaign``: a directory-backed active-learning loop that survives being killed.

>>> campaign = Campaign.init("runs/ndfeb", "ndfeb.toml")     # doctest: +SKIP
>>> batch = campaign.suggest(8)                                # doctest: +SKIP
>>> campaign.observe("lab_results.csv")                        # doctest: +SKIP
>>> campaign.status()                                          # doctest: +SKIP

Every mutating step takes an exclusive lock on the folder, computes, then commits atomically
(see :mod:`mi.active.state`). Suggestions are recorded as *pending* in the same commit, so a
resumed campaign never suggests them again; :func:`run_loop` first evaluates what is pending.
All randomness comes from the RNG state stored in ``state.json``: the same spec and the same
results give the same suggestions, whether or not the process was interrupted.
"""

from __future__ import annotations

import copy
import json
import uuid
import warnings
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._csv import csv_source
from mi.active._io import atomic_write_json, atomic_write_parquet, dir_lock
from mi.active.base import Acquisition, AcquisitionContext
from mi.active.loop import propose
from mi.active.oracles import Oracle
from mi.active.registry import get_acquisition
from mi.active.sampling import RandomSearch
from mi.active.spec import CampaignSpec, load_spec, spec_hash
from mi.active.state import (
    STATE_FILE,
    STATE_VERSION,
    CampaignState,
    empty_observations,
    read_state,
    write_state,
)
from mi.candidates.constraint_spec import feasible_mask
from mi.chem.display import display_formulas
from mi.exceptions import (
    CampaignError,
    DataWarning,
    MIWarning,
    ObservationError,
    SpecError,
    StateVersionError,
)

__all__ = ["Campaign", "run_loop", "CRITICALITY_COLUMNS"]

CAMPAIGN_FILE = "campaign.json"
POOL_FILE = "pool.parquet"
FEATURES_FILE = "features.parquet"

#: Criticality columns copied into every suggestion table.
CRITICALITY_COLUMNS = (
    "supply_risk",
    "dytb_mass_fraction",
    "hree_mass_fraction",
    "eu_critical_mass_fraction",
    "hhi_production_mass",
    "cost_per_kg",
)

_MAX_LISTED = 10


def _shortfall_reason(
    n: int,
    n_chosen: int,
    *,
    n_available: int,
    n_observed: int,
    min_observations: int,
    min_distance: float,
) -> str:
    """One line saying why a batch has fewer than ``n`` suggestions.

    Parameters
    ----------
    n, n_chosen : int
        Requested and chosen batch sizes.
    n_available : int
        Feasible candidates neither measured nor pending.
    n_observed, min_observations : int
        Results so far, and the count below which the batch is a random diverse draw.
    min_distance : float
        The spec's ``[batch] min_distance``.

    Returns
    -------
    str
    """
    head = f"Only {n_chosen} of the {n} requested suggestions: "
    if n_available <= n_chosen:
        return head + (
            f"only {n_available} feasible candidate{'s are' if n_available != 1 else ' is'} "
            "neither measured nor pending; "
            "widen the pool or relax [constraints]."
        )
    phase = (
        f" (this batch is a random diverse draw: {n_observed} results, the surrogate takes over "
        f"at {min_observations})"
        if n_observed < min_observations
        else ""
    )
    return head + (
        f"the other {n_available - n_chosen} available candidates lie within [batch] "
        f"min_distance = {min_distance:g} of a chosen one, or scored -inf{phase}; lower "
        "min_distance in the spec for a larger batch."
    )


def _rows(rows: Any, offset: int) -> str:
    shown = ", ".join(str(int(r) + offset) for r in list(rows)[:_MAX_LISTED])
    more = f" (+{len(rows) - _MAX_LISTED} more)" if len(rows) > _MAX_LISTED else ""
    return shown + more


def _fractions_features(fractions: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(fractions, columns=[f"fraction {c}" for c in columns])


class Campaign:
    """An active-learning campaign: DataFrames in and out, in memory or stored in a folder.

    - ``Campaign.create(spec)`` builds one in memory (no file is written);
      :meth:`to_json` / :meth:`from_json` round-trip it through plain JSON, and
      :meth:`save` writes it to a folder.
    - ``Campaign.init(directory, spec)`` creates one in a folder; ``Campaign(directory)``
      opens it. A folder-backed campaign takes an exclusive lock for every step, re-reads the
      committed state and commits atomically (see :mod:`mi.active.state`), so a killed job
      resumes without loss or duplicate suggestions.

    Both kinds run the same :meth:`suggest`, :meth:`observe` and :meth:`status`.

    Parameters
    ----------
    directory : str or Path
        Folder of an existing campaign.

    Raises
    ------
    CampaignError
        The folder holds no campaign.
    StateVersionError
        The folder was written by an incompatible version of ``mi``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory: Path | None = Path(directory)
        meta_path = self.directory / CAMPAIGN_FILE
        if not (self.directory / STATE_FILE).is_file() or not meta_path.is_file():
            raise CampaignError(
                f"No campaign in {str(self.directory)!r}; create one with "
                "`mi campaign init DIR --spec FILE`."
            )
        self._setup(json.loads(meta_path.read_text()))
        read_state(self.directory)  # fail early on a broken or foreign state

    def _setup(self, meta: dict[str, Any]) -> None:
        self.campaign_id: str = meta["campaign_id"]
        self.spec: CampaignSpec = load_spec(meta["spec"])
        self._meta = meta
        self._pool: pd.DataFrame | None = None
        self._feature_frame: pd.DataFrame | None = None
        self._features: np.ndarray | None = None
        self._fractions: np.ndarray | None = None
        self._index: dict[str, int] | None = None
        self._memory_state: CampaignState | None = None

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(cls, spec: CampaignSpec | dict[str, Any] | str | Path) -> Campaign:
        """Build a campaign in memory: the pool, its scores and features, initial results.

        Parameters
        ----------
        spec : CampaignSpec, dict, or path to a TOML/JSON file

        Returns
        -------
        Campaign
            Not stored anywhere until :meth:`save`.

        Raises
        ------
        SpecError, FormulaError, ObservationError
            Invalid spec, candidate formulas or initial results (rows named).
        """
        spec = load_spec(spec)
        spec.model.check()
        formulas = _candidate_formulas(spec)
        initial = _read_initial(spec)
        pool, fractions, elements = _build_pool(spec, formulas, initial)
        unknown = [o.column for o in spec.objectives if o.column and o.column not in pool]
        if unknown:
            known = [c for c in pool.columns if c in CRITICALITY_COLUMNS]
            raise SpecError(
                f"objectives name pool column(s) {unknown} that do not exist; known columns "
                f"are {known}."
            )
        features = _featurize(spec, pool, fractions, elements)
        campaign_id = f"{spec.name}-{uuid.uuid4().hex[:8]}"
        meta = {
            "format": "mi-campaign",
            "campaign_id": campaign_id,
            "spec": spec.model_dump(mode="json"),
            "spec_hash": spec_hash(spec),
            "constraint_report": pool.attrs.get("constraint_report", []),
            "initial_report": None if initial is None else initial.attrs.get("report"),
        }
        obs = empty_observations(*spec.targets)
        if initial is not None:
            obs = pd.DataFrame(
                {
                    "key": initial["key"],
                    "composition": initial["composition"],
                    **{t: initial[t].astype(np.float64) for t in spec.targets},
                    "iteration": np.zeros(len(initial), np.int64),
                    "step": np.zeros(len(initial), np.int64),
                    "source": "initial",
                }
            )
        state = CampaignState(
            campaign_id=campaign_id,
            target=spec.target,
            rng_state=dict(np.random.PCG64(spec.seed).state),
            observations=obs,
        )
        state.add_history("init", n_pool=int(len(pool)), n_initial=int(len(obs)))
        return cls._in_memory(meta, pool, features, state)

    @classmethod
    def _in_memory(
        cls, meta: dict[str, Any], pool: pd.DataFrame, features: pd.DataFrame, state: CampaignState
    ) -> Campaign:
        obj = cls.__new__(cls)
        obj.directory = None
        obj._setup(meta)
        obj._pool = pool
        obj._index = {k: i for i, k in enumerate(pool["key"])}
        obj._feature_frame = features
        obj._memory_state = state
        return obj

    @classmethod
    def init(
        cls,
        directory: str | Path,
        spec: CampaignSpec | dict[str, Any] | str | Path,
        *,
        overwrite: bool = False,
    ) -> Campaign:
        """Create a campaign in a folder: build, score and featurize the pool, record results.

        Parameters
        ----------
        directory : str or Path
            Folder to create (or an empty / partially initialized one).
        spec : CampaignSpec, dict, or path to a TOML/JSON file
        overwrite : bool, default False
            Replace an existing campaign in ``directory``.

        Raises
        ------
        CampaignError
            ``directory`` already holds a campaign and ``overwrite`` is False.
        SpecError, FormulaError, ObservationError
            Invalid spec, candidate formulas or initial results (rows named).
        """
        spec = load_spec(spec)
        directory = Path(directory)
        if (directory / STATE_FILE).exists() and not overwrite:
            raise CampaignError(
                f"{str(directory)!r} already holds a campaign; open it, or pass overwrite=True "
                "(CLI: --overwrite) to start again."
            )
        directory.mkdir(parents=True, exist_ok=True)
        with dir_lock(directory):
            (directory / STATE_FILE).unlink(missing_ok=True)  # uncommit first when overwriting
            cls.create(spec)._write(directory)
        return cls(directory)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Campaign:
        """Store this campaign in a folder and return it opened from there.

        Parameters
        ----------
        directory : str or Path
        overwrite : bool, default False
            Replace an existing campaign in ``directory``.

        Returns
        -------
        Campaign
            The folder-backed campaign (every later step is committed to the folder).
        """
        directory = Path(directory)
        if (directory / STATE_FILE).exists() and not overwrite:
            raise CampaignError(
                f"{str(directory)!r} already holds a campaign; pass overwrite=True to replace it."
            )
        directory.mkdir(parents=True, exist_ok=True)
        with dir_lock(directory):
            (directory / STATE_FILE).unlink(missing_ok=True)
            self._write(directory)
        return type(self)(directory)

    def _write(self, directory: Path) -> None:
        """Write pool, features, metadata, then the state (the commit point)."""
        atomic_write_parquet(directory / POOL_FILE, self.pool)
        atomic_write_parquet(directory / FEATURES_FILE, self._feature_table())
        atomic_write_json(directory / CAMPAIGN_FILE, self._meta)
        state = self.state
        state.observations_file = ""
        write_state(directory, state, observations_changed=True)

    # ------------------------------------------------------------------ JSON round trip
    def to_json(self) -> dict[str, Any]:
        """Return the whole campaign as plain JSON data (spec, pool, features, state).

        Meant for small campaigns (notebooks, services); a folder (:meth:`save`) stores large
        pools efficiently. ``Campaign.from_json(json.loads(json.dumps(c.to_json())))`` continues
        exactly where ``c`` stands.
        """
        state = self.state
        return {
            "format": "mi-campaign-json",
            "version": STATE_VERSION,
            "meta": self._meta,
            "pool": _frame_to_json(self.pool),
            "features": _frame_to_json(self._feature_table()),
            "state": state.to_json() | {"observations": _frame_to_json(state.observations)},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Campaign:
        """Rebuild an in-memory campaign from :meth:`to_json` data.

        Raises
        ------
        CampaignError
            Not campaign data.
        StateVersionError
            Written by an incompatible version of ``mi``.
        """
        if not isinstance(data, dict) or data.get("format") != "mi-campaign-json":
            raise CampaignError(
                "This is not mi campaign JSON (expected format 'mi-campaign-json')."
            )
        if data.get("version") != STATE_VERSION:
            raise StateVersionError(
                f"Campaign JSON version {data.get('version')!r}; this mi reads {STATE_VERSION}."
            )
        raw = data["state"]
        pool = _frame_from_json(data["pool"])
        pool.attrs["constraint_report"] = data["meta"].get("constraint_report", [])
        state = CampaignState.from_json(raw, _frame_from_json(raw["observations"]))
        return cls._in_memory(data["meta"], pool, _frame_from_json(data["features"]), state)

    # ------------------------------------------------------------------ data views
    @property
    def pool(self) -> pd.DataFrame:
        """The candidates: key, composition, in_candidates, feasible, criticality columns."""
        if self._pool is None:
            assert self.directory is not None
            self._pool = pd.read_parquet(self.directory / POOL_FILE)
            self._index = {k: i for i, k in enumerate(self._pool["key"])}
        return self._pool

    def _pool_index(self) -> dict[str, int]:
        _ = self.pool
        assert self._index is not None
        return self._index

    def _feature_table(self) -> pd.DataFrame:
        if self._feature_frame is None:
            assert self.directory is not None
            self._feature_frame = pd.read_parquet(self.directory / FEATURES_FILE)
        return self._feature_frame

    def _feature_matrix(self) -> np.ndarray:
        if self._features is None:
            self._features = self._feature_table().to_numpy(np.float64)
        return self._features

    def _fraction_matrix(self) -> np.ndarray:
        if self._fractions is None:
            from mi.chem import parse_formulas

            self._fractions = _matrix(parse_formulas(self.pool["key"].tolist())).fractions()
        return self._fractions

    @property
    def state(self) -> CampaignState:
        """The committed state (read fresh from disk for a folder; a copy in memory)."""
        if self.directory is None:
            assert self._memory_state is not None
            return copy.deepcopy(self._memory_state)
        return read_state(self.directory)

    @property
    def observations(self) -> pd.DataFrame:
        """All results so far."""
        return self.state.observations

    @property
    def pending(self) -> pd.DataFrame:
        """Suggestions waiting for results."""
        return pd.DataFrame(self.state.pending)

    def _lock(self) -> AbstractContextManager[Any]:
        """Exclusive lock on the folder for one step (nothing to lock in memory)."""
        return nullcontext() if self.directory is None else dir_lock(self.directory)

    def _commit(self, state: CampaignState, *, observations_changed: bool) -> None:
        """Make ``state`` the committed state (atomically in a folder)."""
        if self.directory is None:
            self._memory_state = state
        else:
            write_state(self.directory, state, observations_changed=observations_changed)

    # ------------------------------------------------------------------ steps
    def suggest(self, n: int = 8) -> pd.DataFrame:
        """Suggest ``n`` candidates to measure next and record them as pending.

        Below ``spec.min_observations`` results the batch is a random diverse feasible draw;
        otherwise the surrogate is refitted on all results and the spec's acquisition and batch
        method choose. Pending and measured candidates are never suggested again.

        Returns
        -------
        DataFrame
            campaign_id, iteration, rank, composition, key, predicted_mean, predicted_std,
            acquisition, an empty column named after the target (for the lab), feasible and
            the criticality columns.
        """
        if n < 1:
            raise CampaignError(f"The number of suggestions must be >= 1. Got {n} instead.")
        with self._lock():
            state = self.state
            table = self._suggest(state, n)
            state.pending.extend(
                {
                    "key": r.key,
                    "composition": r.composition,
                    "iteration": int(r.iteration),
                    "rank": int(r.rank),
                    "predicted_mean": float(r.predicted_mean),
                    "predicted_std": float(r.predicted_std),
                    "acquisition": float(r.acquisition),
                }
                for r in table.itertuples()
            )
            state.step += 1
            state.iteration += 1
            state.add_history("suggest", keys=table["key"].tolist())
            self._commit(state, observations_changed=False)
        return table

    def _suggest(self, state: CampaignState, n: int) -> pd.DataFrame:
        spec = self.spec
        pool = self.pool
        index = self._pool_index()
        rng = state.rng()
        taken = np.zeros(len(pool), bool)
        obs_rows = np.array([index[k] for k in state.observations["key"]], dtype=np.int64)
        taken[obs_rows] = True
        taken[[index[p["key"]] for p in state.pending]] = True
        feasible = pool["feasible"].to_numpy(bool)
        available = feasible & ~taken & pool["in_candidates"].to_numpy(bool)
        if not available.any():
            raise CampaignError(
                "No candidate left to suggest: every feasible candidate is measured or pending."
            )
        avail_idx = np.flatnonzero(available)
        fractions = self._fraction_matrix()[avail_idx]
        risk_col = spec.constraints.risk
        risk_all = pool[risk_col].to_numpy(np.float64) if risk_col in pool else np.zeros(len(pool))
        risk_all = np.nan_to_num(risk_all, nan=1.0)
        y_obs = state.observations[spec.target].to_numpy(np.float64)
        model_seed = int(rng.integers(2**31 - 1))
        X = self._feature_matrix()
        model: Any = None
        acq: Acquisition
        ctx = AcquisitionContext()
        if len(obs_rows) < max(spec.min_observations, 2):
            acq = RandomSearch()
        elif spec.objectives:
            table = self._suggest_pareto(state, n, rng, obs_rows, avail_idx, model_seed)
            return self._with_shortfall(table, n, len(avail_idx), len(obs_rows))
        else:
            model = spec.model.build(random_state=model_seed, n_observations=len(obs_rows))
            acq = get_acquisition(
                spec.acquisition.name, maximize=spec.maximize, **spec.acquisition.params
            )
            feas_obs = feasible[obs_rows]
            ctx = AcquisitionContext(
                y_observed=y_obs[feas_obs] if feas_obs.any() else y_obs,
                risk=risk_all[avail_idx],
                risk_observed=(
                    risk_all[obs_rows][feas_obs] if feas_obs.any() else risk_all[obs_rows]
                ),
                feasible=np.ones(len(avail_idx), bool),
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            proposal = propose(
                model,
                X[obs_rows],
                y_obs,
                X[avail_idx],
                acq,
                n,
                fractions=fractions,
                method=spec.batch.method,
                min_distance=spec.batch.min_distance,
                length_scale=spec.batch.length_scale,
                rng=rng,
                context=ctx,
            )
        selection, prediction = proposal.selection, proposal.prediction
        # the generator advanced: store its new position with the commit
        state.rng_state = dict(rng.bit_generator.state)
        if len(selection.indices) == 0:
            raise CampaignError("No candidate could be chosen (all scored -inf).")
        rows = avail_idx[selection.indices]
        mean = np.asarray(prediction.mean, float)[selection.indices]
        std = np.asarray(prediction.std, float)[selection.indices]
        table = self._suggestion_table(state, rows, mean, std, selection.values, {})
        return self._with_shortfall(table, n, len(avail_idx), len(obs_rows))

    def _suggestion_table(
        self,
        state: CampaignState,
        rows: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        acquisition: np.ndarray,
        extra: dict[str, Any],
    ) -> pd.DataFrame:
        """Build the suggestion table of pool ``rows``: predictions, empty lab columns, risk."""
        pool = self.pool
        out = pd.DataFrame(
            {
                "campaign_id": self.campaign_id,
                "iteration": state.iteration + 1,
                "rank": np.arange(1, len(rows) + 1),
                "composition": display_formulas(pool["composition"].to_numpy()[rows]),
                "key": pool["key"].to_numpy()[rows],
                "predicted_mean": mean,
                "predicted_std": std,
                "acquisition": acquisition,
                **extra,
                **{t: np.nan for t in self.spec.targets},
                "feasible": pool["feasible"].to_numpy(bool)[rows],
            }
        )
        for col in CRITICALITY_COLUMNS:
            if col in pool:
                out[col] = pool[col].to_numpy()[rows]
        return out

    def _with_shortfall(
        self, table: pd.DataFrame, n: int, n_available: int, n_observed: int
    ) -> pd.DataFrame:
        """Say in one line (a warning and ``table.attrs['shortfall']``) why fewer than ``n``."""
        if len(table) < n:
            note = _shortfall_reason(
                n,
                len(table),
                n_available=n_available,
                n_observed=n_observed,
                min_observations=max(self.spec.min_observations, 2),
                min_distance=self.spec.batch.min_distance,
            )
            table.attrs["shortfall"] = note
            warnings.warn(note, MIWarning, stacklevel=4)
        return table

    def _objective_values(self, rows: np.ndarray) -> np.ndarray:
        """Known objective columns of pool ``rows`` (NaN for measured objectives)."""
        pool = self.pool
        out = np.full((len(rows), len(self.spec.objectives)), np.nan)
        for j, objective in enumerate(self.spec.objectives):
            if objective.column is not None:
                out[:, j] = pool[objective.column].to_numpy(np.float64)[rows]
        return out

    def _suggest_pareto(
        self,
        state: CampaignState,
        n: int,
        rng: np.random.Generator,
        obs_rows: np.ndarray,
        avail_idx: np.ndarray,
        model_seed: int,
    ) -> pd.DataFrame:
        """Multi-objective batch: one surrogate per measured objective, qParEGO selection."""
        from mi.active.multi import select_pareto_batch
        from mi.models import predict_distribution

        spec = self.spec
        pool = self.pool
        X = self._feature_matrix()
        obs = state.observations
        mean = self._objective_values(avail_idx)
        std = np.zeros_like(mean)
        observed = self._objective_values(obs_rows)
        for j, objective in enumerate(spec.objectives):
            if objective.target is None:
                continue
            y = obs[objective.target].to_numpy(np.float64)
            model = spec.model.build(random_state=model_seed + j, n_observations=len(obs_rows))
            model.fit(X[obs_rows], y)
            prediction = predict_distribution(model, X[avail_idx], members=False)
            mean[:, j] = prediction.mean
            std[:, j] = prediction.std
            observed[:, j] = y
        feasible_obs = pool["feasible"].to_numpy(bool)[obs_rows]
        reference = observed[feasible_obs] if feasible_obs.any() else observed
        chosen, values, weights = select_pareto_batch(
            mean,
            std,
            reference,
            [o.maximize for o in spec.objectives],
            n,
            rng,
            fractions=self._fraction_matrix()[avail_idx],
            min_distance=spec.batch.min_distance,
        )
        state.rng_state = dict(rng.bit_generator.state)
        if len(chosen) == 0:
            raise CampaignError("No candidate could be chosen (no finite objective values).")
        rows = avail_idx[chosen]
        first = next(j for j, o in enumerate(spec.objectives) if o.target == spec.target)
        extra: dict[str, Any] = {
            "weights": [
                ", ".join(f"{o.label} {w:.2f}" for o, w in zip(spec.objectives, ws, strict=True))
                for ws in weights
            ]
        }
        for j, objective in enumerate(spec.objectives):
            if objective.target is not None:
                extra[f"{objective.target}_mean"] = mean[chosen, j]
                extra[f"{objective.target}_std"] = std[chosen, j]
        return self._suggestion_table(
            state, rows, mean[chosen, first], std[chosen, first], values, extra
        )

    def _observed_front(self, obs: pd.DataFrame) -> list[dict[str, Any]]:
        """Feasible observations that no other feasible observation dominates (all objectives)."""
        from mi.active.multi import pareto_mask

        spec = self.spec
        index = self._pool_index()
        rows = np.array([index[k] for k in obs["key"]], dtype=np.int64)
        values = self._objective_values(rows)
        for j, objective in enumerate(spec.objectives):
            if objective.target is not None:
                values[:, j] = obs[objective.target].to_numpy(np.float64)
        feasible = self.pool["feasible"].to_numpy(bool)[rows]
        mask = np.zeros(len(rows), bool)
        mask[feasible] = pareto_mask(values[feasible], [o.maximize for o in spec.objectives])
        return [
            {
                "composition": obs["composition"].iloc[i],
                **{o.label: float(values[i, j]) for j, o in enumerate(spec.objectives)},
            }
            for i in np.flatnonzero(mask)
        ]

    def observe(self, results: pd.DataFrame | str | Path) -> pd.DataFrame:
        """Record measured results; all-or-nothing.

        Parameters
        ----------
        results : DataFrame or path to CSV
            Columns ``composition`` (or ``key``) and the target; ``campaign_id`` optional but
            checked when present (e.g. the filled-in suggestion table).

        Returns
        -------
        DataFrame
            The accepted rows as stored.

        Raises
        ------
        ObservationError
            Missing columns, a file for another campaign, unparsable or unknown compositions,
            duplicate rows, compositions already measured, or missing / non-numeric /
            non-finite values; the message names the rows (CSV line numbers for a file) and
            the state is left untouched.
        """
        source = "observe"
        offset = 0
        if isinstance(results, str | Path):
            path = Path(results)
            if not path.is_file():
                raise ObservationError(f"Results file {str(path)!r} does not exist.")
            try:
                results = pd.read_csv(csv_source(path), dtype=str, keep_default_na=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise ObservationError(f"Cannot read results file {str(path)!r}: {exc}") from None
            source = path.name
            offset = 2  # header is line 1
        with self._lock():
            state = self.state
            accepted = self._validate(results, state, where=source, offset=offset)
            accepted["iteration"] = state.iteration
            accepted["step"] = state.step + 1
            accepted["source"] = source
            state.observations = (
                pd.concat(
                    [state.observations, accepted[state.observations.columns]], ignore_index=True
                )
                if len(state.observations)
                else accepted[list(state.observations.columns)]
            )
            got = set(accepted["key"])
            state.pending = [p for p in state.pending if p["key"] not in got]
            state.step += 1
            state.add_history("observe", keys=accepted["key"].tolist())
            self._commit(state, observations_changed=True)
        return accepted

    def _validate(
        self, df: pd.DataFrame, state: CampaignState, *, where: str, offset: int
    ) -> pd.DataFrame:
        from mi.chem import parse_formulas

        targets = self.spec.targets
        label = "line" if offset else "row"
        if len(df) == 0:
            raise ObservationError(f"{where}: no results in the table.")
        comp_col = "composition" if "composition" in df else ("key" if "key" in df else None)
        missing = [c for c in ("composition", *targets) if c not in df]
        if comp_col is None or any(t not in df for t in targets):
            expected = " and ".join(repr(c) for c in ("composition", *targets))
            raise ObservationError(
                f"{where}: missing column(s) {missing}; expected {expected} "
                f"(found {list(df.columns)})."
            )
        problems: list[str] = []
        if "campaign_id" in df:
            ids = df["campaign_id"].astype(str).str.strip()
            foreign = np.flatnonzero((ids != self.campaign_id).to_numpy())
            if foreign.size:
                other = sorted(set(ids.iloc[foreign]))[:3]
                raise ObservationError(
                    f"{where}: {label}s {_rows(foreign, offset)} belong to campaign(s) {other}, "
                    f"not {self.campaign_id!r}; nothing was recorded."
                )
        formulas = df[comp_col].astype(str).str.strip().tolist()
        parsed = _report(parse_formulas(formulas, on_error="report"))
        valid = np.asarray(parsed.valid, bool)
        if not valid.all():
            bad = np.flatnonzero(~valid)
            problems.append(
                f"unparsable compositions at {label}s {_rows(bad, offset)} "
                f"(e.g. {formulas[bad[0]]!r})"
            )
        keys = np.array(parsed.matrix.canonical_keys(), dtype=object)
        index = self._pool_index()
        unknown = [i for i in np.flatnonzero(valid) if keys[i] not in index]
        if unknown:
            problems.append(
                f"compositions not in this campaign's pool at {label}s {_rows(unknown, offset)} "
                f"(e.g. {formulas[unknown[0]]!r})"
            )
        ser = pd.Series(keys)
        dup = np.flatnonzero((ser.duplicated(keep=False) & valid).to_numpy())
        if dup.size:
            problems.append(f"duplicate compositions at {label}s {_rows(dup, offset)}")
        seen = set(state.observations["key"])
        again = [i for i in np.flatnonzero(valid) if keys[i] in seen]
        if again:
            problems.append(
                f"already measured at {label}s {_rows(again, offset)} (e.g. {formulas[again[0]]!r})"
            )
        values: dict[str, np.ndarray] = {}
        for target in targets:
            raw = df[target]
            numbers = pd.to_numeric(
                raw.astype(str).str.strip().replace("", np.nan), errors="coerce"
            )
            values[target] = numbers.to_numpy(np.float64)
            bad_val = np.flatnonzero(~np.isfinite(values[target]))
            if bad_val.size:
                problems.append(
                    f"missing or non-numeric {target!r} at {label}s {_rows(bad_val, offset)} "
                    f"(e.g. {str(raw.iloc[bad_val[0]])!r})"
                )
        if problems:
            raise ObservationError(
                f"{where}: " + "; ".join(problems) + ". Nothing was recorded; fix the table and "
                "observe it again."
            )
        pool = self.pool
        rows = [index[k] for k in keys]
        return pd.DataFrame(
            {
                "key": keys.astype(str),
                "composition": pool["composition"].to_numpy()[rows],
                **values,
            }
        )

    # ------------------------------------------------------------------ summary
    def status(self) -> dict[str, Any]:
        """Return counts, best results, the observed Pareto front and the last steps.

        ``best`` / ``best_feasible``: the best result overall and among feasible candidates;
        ``pareto_front``: observed points not dominated in (property, the spec's risk column),
        sorted by risk.
        """
        state = self.state
        pool = self.pool
        obs = state.observations
        spec = self.spec
        out: dict[str, Any] = {
            "campaign_id": self.campaign_id,
            "name": spec.name,
            "target": spec.target,
            "direction": "maximize" if spec.maximize else "minimize",
            "acquisition": spec.acquisition.name,
            "iteration": state.iteration,
            "step": state.step,
            "n_pool": int(pool["in_candidates"].sum()),
            "n_feasible": int(pool["feasible"].sum()),
            "n_observed": int(len(obs)),
            "n_pending": len(state.pending),
            "constraints": self._meta.get("constraint_report", []),
        }
        if self._meta.get("initial_report"):
            out["initial_report"] = self._meta["initial_report"]
        if len(obs):
            index = self._pool_index()
            feas = pool["feasible"].to_numpy(bool)[[index[k] for k in obs["key"]]]
            for label, sub in (("best", obs), ("best_feasible", obs[feas])):
                if len(sub):
                    j = sub[spec.target].idxmax() if spec.maximize else sub[spec.target].idxmin()
                    out[label] = {
                        "composition": sub.at[j, "composition"],
                        spec.target: float(sub.at[j, spec.target]),
                        "iteration": int(sub.at[j, "iteration"]),
                    }
            risk_col = spec.constraints.risk
            if risk_col in pool:
                from mi.active.pareto import pareto_front

                rows = [index[k] for k in obs["key"]]
                risk = pool[risk_col].to_numpy(np.float64)[rows]
                yv = obs[spec.target].to_numpy(np.float64)
                front = np.flatnonzero(pareto_front(yv, risk, maximize=spec.maximize))
                front = front[np.argsort(risk[front], kind="stable")]
                out["pareto_front"] = [
                    {
                        "composition": obs["composition"].iloc[i],
                        spec.target: float(yv[i]),
                        risk_col: float(risk[i]),
                    }
                    for i in front
                ]
        if spec.objectives and len(obs):
            out["objectives"] = [
                {"name": o.label, "direction": "maximize" if o.maximize else "minimize"}
                for o in spec.objectives
            ]
            out["pareto_front"] = self._observed_front(obs)
        out["last_steps"] = [
            {k: h[k] for k in ("action", "step", "iteration", "time")} for h in state.history[-5:]
        ]
        return out


def _frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """Return a DataFrame as plain JSON data: columns, dtypes, values (NaN as null)."""
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "data": {
            str(c): [None if isinstance(v, float) and v != v else v for v in frame[c].tolist()]
            for c in frame.columns
        },
    }


def _frame_from_json(data: dict[str, Any]) -> pd.DataFrame:
    """Inverse of :func:`_frame_to_json`."""
    frame = pd.DataFrame({c: data["data"][c] for c in data["columns"]}, columns=data["columns"])
    for column, dtype in zip(data["columns"], data["dtypes"], strict=True):
        if dtype.startswith(("float", "int", "bool")):
            frame[column] = frame[column].astype("float64" if dtype.startswith("float") else dtype)
    return frame


def _matrix(obj: Any) -> Any:
    """Narrow ``parse_formulas(...)`` (on_error="raise") to a CompositionMatrix for mypy."""
    from mi.chem import CompositionMatrix

    assert isinstance(obj, CompositionMatrix)
    return obj


def _report(obj: Any) -> Any:
    """Narrow ``parse_formulas(..., on_error="report")`` to its ParseResult for mypy."""
    from mi.chem import CompositionMatrix

    assert not isinstance(obj, CompositionMatrix)
    return obj


# ---------------------------------------------------------------------- init helpers
def _candidate_formulas(spec: CampaignSpec) -> list[str]:
    c = spec.candidates
    if c.formulas is not None:
        return [str(f) for f in c.formulas]
    if c.file is not None:
        path = spec.resolve(c.file)
        assert path is not None
        if not path.is_file():
            raise SpecError(f"candidates.file {str(path)!r} does not exist.")
        df = pd.read_csv(csv_source(path), dtype=str, keep_default_na=False)
        if c.composition_col not in df:
            raise SpecError(
                f"candidates.file {str(path)!r} has no column {c.composition_col!r} "
                f"(columns: {list(df.columns)}); set candidates.composition_col."
            )
        return df[c.composition_col].str.strip().tolist()
    try:
        templates = [t.build() for t in c.all_templates()]
    except (ValueError, TypeError) as exc:
        raise SpecError(f"candidates: {exc}") from None
    size = sum(int(t.size) for t in templates)
    if size > c.max_size:
        raise SpecError(
            f"The candidate templates generate {size} candidates, more than "
            f"candidates.max_size = {c.max_size}; coarsen the steps or raise max_size."
        )
    out: list[str] = []
    for template in templates:
        for chunk in template.iter_chunks(65536):
            out.extend(chunk.formulas())
    return out


def _read_initial(spec: CampaignSpec) -> pd.DataFrame | None:
    if spec.initial is None:
        return None
    from mi.chem import parse_formulas

    init = spec.initial
    path = spec.resolve(init.file)
    assert path is not None
    if not path.is_file():
        raise SpecError(f"initial.file {str(path)!r} does not exist.")
    if not init.strict_csv:
        return _read_initial_table(spec, path)
    df = pd.read_csv(csv_source(path), dtype=str, keep_default_na=False)
    # the file's column of each measured target (target_col renames a single target)
    columns = {spec.target: init.target_col or spec.target} | {t: t for t in spec.targets[1:]}
    needed = [init.composition_col, *columns.values()]
    if any(c not in df for c in needed):
        raise ObservationError(f"{path.name}: needs columns {needed} (found {list(df.columns)}).")
    formulas = df[init.composition_col].str.strip().tolist()
    parsed = _report(parse_formulas(formulas, on_error="report"))
    values = {
        t: pd.to_numeric(df[c].str.strip().replace("", np.nan), errors="coerce").to_numpy(
            np.float64
        )
        for t, c in columns.items()
    }
    problems = []
    bad = np.flatnonzero(~np.asarray(parsed.valid, bool))
    if bad.size:
        problems.append(f"unparsable compositions at lines {_rows(bad, 2)}")
    for t, column in columns.items():
        bad = np.flatnonzero(~np.isfinite(values[t]))
        if bad.size:
            problems.append(f"missing or non-numeric {column!r} at lines {_rows(bad, 2)}")
    keys = pd.Series(parsed.matrix.canonical_keys())
    dup = np.flatnonzero(keys.duplicated(keep=False).to_numpy() & np.asarray(parsed.valid, bool))
    if dup.size:
        problems.append(f"duplicate compositions at lines {_rows(dup, 2)} (merge them first)")
    if problems:
        raise ObservationError(f"{path.name}: " + "; ".join(problems) + ".")
    return pd.DataFrame({"key": keys, "composition": formulas, **values})


def _read_initial_table(spec: CampaignSpec, path: Path) -> pd.DataFrame:
    """Read initial results from any table file with :func:`mi.data.read_table` (row accounting).

    The returned frame carries ``attrs["report"]``: input, accepted, filtered, rejected and
    merged counts with the reasons, kept in the campaign's metadata.
    """
    from mi.chem import parse_formulas
    from mi.data import read_table

    init = spec.initial
    assert init is not None
    columns = {spec.target: init.target_col or spec.target} | {t: t for t in spec.targets[1:]}
    ds = read_table(
        path,
        composition_col=init.composition_col,
        targets=columns,
        where=init.where,
        elements=init.elements,
        read_options=init.read_options or None,
        sheet=init.sheet,
        name=path.stem,
    )
    df = ds.df.dropna(subset=list(columns)).reset_index(drop=True)
    if len(df) == 0:
        raise ObservationError(
            f"{path.name}: no usable results ({ds.report.n_input} rows read, "
            f"{ds.report.n_rejected} rejected, {ds.report.n_filtered} filtered)."
        )
    keys = _matrix(parse_formulas(df["composition"].astype(str).tolist())).canonical_keys()
    out = pd.DataFrame(
        {
            "key": keys,
            "composition": df["composition"].astype(str).to_numpy(),
            **{t: df[t].to_numpy(np.float64) for t in columns},
        }
    )
    report = ds.report
    reasons = (
        report.rejected["reason"].value_counts().to_dict()
        if len(report.rejected) and "reason" in report.rejected
        else {}
    )
    out.attrs["report"] = {
        "file": path.name,
        "n_input": int(report.n_input),
        "n_accepted": int(report.n_accepted),
        "n_filtered": int(report.n_filtered),
        "n_rejected": int(report.n_rejected),
        "n_merged_groups": int(report.n_merged_groups),
        "n_results": int(len(out)),
        "rejected_reasons": {str(k): int(v) for k, v in reasons.items()},
    }
    return out


def _build_pool(
    spec: CampaignSpec, formulas: list[str], initial: pd.DataFrame | None
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    from mi.chem import ELEMENTS, parse_formulas
    from mi.criticality import exclude_elements, score

    parsed = _report(parse_formulas(formulas, on_error="report"))
    valid = np.asarray(parsed.valid, bool)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        raise SpecError(
            f"{(~valid).sum()} candidate formulas cannot be parsed, at rows {_rows(bad, 0)} "
            f"(e.g. {formulas[bad[0]]!r}); fix or remove them."
        )
    keys = parsed.matrix.canonical_keys()
    frame = pd.DataFrame({"key": keys, "composition": formulas, "in_candidates": True})
    dup = frame["key"].duplicated()
    if dup.any():
        warnings.warn(
            f"{int(dup.sum())} candidates repeat an earlier composition (same reduced formula) "
            f"and were merged into it, e.g. {formulas[int(np.flatnonzero(dup)[0])]!r}.",
            DataWarning,
            stacklevel=3,
        )
        frame = frame[~dup]
    if initial is not None:
        extra = initial[~initial["key"].isin(set(frame["key"]))]
        frame = pd.concat(
            [frame, extra[["key", "composition"]].assign(in_candidates=False)], ignore_index=True
        )
    frame = frame.reset_index(drop=True)
    matrix = _matrix(parse_formulas(frame["key"].tolist()))
    crit = score(matrix, include_composition=False)
    for col in crit.columns:
        if col in ("missing_elements",):
            frame[col] = crit[col].astype(str).to_numpy()
        else:
            frame[col] = crit[col].to_numpy()
    feasible = np.ones(len(frame), bool)
    report = []
    c = spec.constraints
    rules: list[tuple[str, np.ndarray]] = []
    if c.max_dytb_mass_fraction is not None:
        rules.append(
            (
                f"Dy+Tb mass fraction <= {c.max_dytb_mass_fraction}",
                frame["dytb_mass_fraction"].to_numpy() <= c.max_dytb_mass_fraction,
            )
        )
    if c.max_hree_mass_fraction is not None:
        rules.append(
            (
                f"HREE mass fraction <= {c.max_hree_mass_fraction}",
                frame["hree_mass_fraction"].to_numpy() <= c.max_hree_mass_fraction,
            )
        )
    if c.max_supply_risk is not None:
        rules.append(
            (
                f"supply risk <= {c.max_supply_risk} (unknown risk is infeasible)",
                np.nan_to_num(frame["supply_risk"].to_numpy(float), nan=np.inf)
                <= c.max_supply_risk,
            )
        )
    if c.exclude_elements:
        rule = exclude_elements(c.exclude_elements)
        rules.append((rule.description, np.asarray(rule(matrix), bool)))
    if c.rules:
        risk_values = frame[c.risk if c.risk in frame else "supply_risk"].to_numpy(np.float64)
        for rule_spec in c.rules:
            ok_rule, _ = feasible_mask([rule_spec], matrix, risk_values)
            rules.append((rule_spec.describe(), ok_rule))
    for desc, ok in rules:
        removed = int((feasible & ~ok).sum())
        feasible &= ok
        report.append({"constraint": desc, "removed": removed})
    frame["feasible"] = feasible
    frame.attrs["constraint_report"] = report
    fractions = matrix.fractions()
    present = np.flatnonzero(fractions.any(axis=0))
    return frame, fractions[:, present], [ELEMENTS[j] for j in present]


def _featurize(
    spec: CampaignSpec, pool: pd.DataFrame, fractions: np.ndarray, elements: list[str]
) -> pd.DataFrame:
    if spec.features.preset == "fractions":
        return _fractions_features(fractions, elements)
    from mi.features import featurize

    feats = featurize(
        pool["key"].tolist(),
        preset=spec.features.preset,
        backend=spec.features.backend,  # type: ignore[arg-type]
    )
    return feats.reset_index(drop=True).astype(np.float64)


# ---------------------------------------------------------------------- loop
def run_loop(
    campaign: Campaign,
    oracle: Oracle | Mapping[str, Oracle],
    *,
    iterations: int,
    batch_size: int = 8,
) -> Campaign:
    """Run ``suggest -> oracle -> observe`` until ``iterations`` suggest steps are observed.

    Resumable: pending suggestions (from a run that was interrupted after suggesting) are
    evaluated before anything new is suggested, so calling this again after a crash continues
    exactly where the committed state stands.

    Parameters
    ----------
    campaign : Campaign
    oracle : Oracle, or mapping of target name to Oracle
        What measures the suggestions; a multi-objective campaign needs one per target.
    iterations : int
        Suggest steps to reach.
    batch_size : int, default 8
    """
    oracles = dict(oracle) if isinstance(oracle, Mapping) else {campaign.spec.target: oracle}
    missing = [t for t in campaign.spec.targets if t not in oracles]
    if missing:
        raise CampaignError(f"run_loop needs an oracle for every target; missing {missing}.")
    while True:
        state = campaign.state
        if state.pending:
            formulas = [p["composition"] for p in state.pending]
            campaign.observe(
                pd.DataFrame(
                    {
                        "campaign_id": campaign.campaign_id,
                        "composition": formulas,
                        **{t: oracles[t](formulas) for t in campaign.spec.targets},
                    }
                )
            )
            continue
        if state.iteration >= iterations:
            return campaign
        campaign.suggest(batch_size)

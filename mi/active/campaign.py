"""``Campaign``: an active-learning loop, DataFrames in and out, in memory or in a folder.

>>> campaign = Campaign.init("runs/ndfeb", "ndfeb.toml")     # doctest: +SKIP
>>> batch = campaign.suggest(8)                                # doctest: +SKIP
>>> campaign.observe("lab_results.csv")                        # doctest: +SKIP
>>> campaign.status()                                          # doctest: +SKIP

The pool and its features are built once from the spec (:mod:`mi.active.pool`); suggestions go
through the one scoring path :func:`mi.active.loop.propose` (qParEGO for several objectives,
:mod:`mi.active.multi`). In a folder every mutating step takes an exclusive lock, computes, then
commits atomically (:mod:`mi.active.state`). Suggestions are recorded as *pending* in the same
commit, so a resumed campaign never suggests them again; :func:`run_loop` first evaluates what
is pending. All randomness comes from the RNG state stored with the state: the same spec and
the same results give the same suggestions, whether or not the process was interrupted.
"""

from __future__ import annotations

import copy
import json
import uuid
import warnings
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._csv import read_csv_text
from mi.active.base import Acquisition, AcquisitionContext
from mi.active.loop import propose
from mi.active.multi import pareto_mask
from mi.active.oracles import Oracle
from mi.active.pareto import ExpectedHypervolumeImprovement
from mi.active.pool import build_pool, check_results, featurize_pool, read_initial, row_list
from mi.active.registry import get_acquisition
from mi.active.sampling import RandomSearch
from mi.active.spec import CampaignSpec, load_spec, spec_hash
from mi.active.state import (
    CAMPAIGN_FILE,
    FEATURES_FILE,
    POOL_FILE,
    STATE_FILE,
    STATE_VERSION,
    CampaignState,
    dir_lock,
    empty_observations,
    read_state,
    remove_orphans,
    write_campaign,
    write_state,
)
from mi.chem.display import display_formulas
from mi.exceptions import (
    CampaignError,
    MIWarning,
    ObservationError,
    SpecError,
    StateVersionError,
)

__all__ = ["Campaign", "run_loop", "CRITICALITY_COLUMNS"]

#: Criticality columns copied into every suggestion table.
CRITICALITY_COLUMNS = (
    "supply_risk",
    "dytb_mass_fraction",
    "hree_mass_fraction",
    "eu_critical_mass_fraction",
    "hhi_production_mass",
    "cost_per_kg",
)


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
        formulas = spec.candidates.build(spec.resolve)
        initial = read_initial(spec)
        pool, fractions, elements = build_pool(spec, formulas, initial)
        unknown = [o.column for o in spec.objectives if o.column and o.column not in pool]
        if unknown:
            known = [c for c in pool.columns if c in CRITICALITY_COLUMNS]
            raise SpecError(
                f"objectives name pool column(s) {unknown} that do not exist; known columns "
                f"are {known}."
            )
        features = featurize_pool(spec, pool, fractions, elements)
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
            columns = ["key", "composition", *spec.targets]
            obs = pd.DataFrame({c: initial[c] for c in columns}).assign(
                iteration=np.int64(0), step=np.int64(0), source="initial"
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
        obj.pool = pool
        obj._feature_table = features
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
        _check_free(Path(directory), overwrite)  # before the (long) build of the pool
        return cls.create(spec).save(directory, overwrite=True)

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
        _check_free(directory, overwrite)
        directory.mkdir(parents=True, exist_ok=True)
        with dir_lock(directory):
            write_campaign(directory, self._meta, self.pool, self._feature_table, self.state)
        return type(self)(directory)

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
            "features": _frame_to_json(self._feature_table),
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
    @cached_property
    def pool(self) -> pd.DataFrame:
        """The candidates: key, composition, in_candidates, feasible, criticality columns."""
        assert self.directory is not None
        return pd.read_parquet(self.directory / POOL_FILE)

    @cached_property
    def _index(self) -> dict[str, int]:
        """Canonical key -> row of the pool."""
        return {k: i for i, k in enumerate(self.pool["key"])}

    @cached_property
    def _feature_table(self) -> pd.DataFrame:
        assert self.directory is not None
        return pd.read_parquet(self.directory / FEATURES_FILE)

    @cached_property
    def _fractions(self) -> np.ndarray:
        from mi.chem import parse_formulas

        return parse_formulas(self.pool["key"].tolist()).fractions()

    def _rows_of(self, keys: Any) -> np.ndarray:
        """Pool rows of canonical ``keys``."""
        return np.array([self._index[k] for k in keys], dtype=np.int64)

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

    def _tidy(self) -> None:
        """Remove files a step killed after its commit left behind (the next commit would)."""
        if self.directory is not None:
            with self._lock():
                remove_orphans(self.directory, read_state(self.directory).observations_file)

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
            pending = ["key", "composition", "iteration", "rank", "predicted_mean"]
            pending += ["predicted_std", "acquisition"]
            state.pending.extend(table[pending].to_dict("records"))
            state.step += 1
            state.iteration += 1
            state.add_history("suggest", keys=table["key"].tolist())
            self._commit(state, observations_changed=False)
        return table

    def _suggest(self, state: CampaignState, n: int) -> pd.DataFrame:
        spec = self.spec
        pool = self.pool
        rng = state.rng()
        obs_rows = self._rows_of(state.observations["key"])
        taken = np.zeros(len(pool), bool)
        taken[obs_rows] = True
        taken[self._rows_of(p["key"] for p in state.pending)] = True
        feasible = pool["feasible"].to_numpy(bool)
        available = feasible & ~taken & pool["in_candidates"].to_numpy(bool)
        if not available.any():
            raise CampaignError(
                "No candidate left to suggest: every feasible candidate is measured or pending."
            )
        avail_idx = np.flatnonzero(available)
        model_seed = int(rng.integers(2**31 - 1))
        random_phase = len(obs_rows) < max(spec.min_observations, 2)
        if spec.objectives and not random_phase:
            table = self._suggest_pareto(state, n, rng, obs_rows, avail_idx, model_seed)
            return self._with_shortfall(table, n, len(avail_idx), len(obs_rows))
        model: Any = None
        acq: Acquisition = RandomSearch()
        ctx = AcquisitionContext()
        y_obs = state.observations[spec.target].to_numpy(np.float64)
        if not random_phase:
            model = spec.model.build(random_state=model_seed, n_observations=len(obs_rows))
            acq = get_acquisition(
                spec.acquisition.name, maximize=spec.maximize, **spec.acquisition.params
            )
            risk_col = spec.constraints.risk
            risk = pool[risk_col].to_numpy(np.float64) if risk_col in pool else np.zeros(len(pool))
            risk = np.nan_to_num(risk, nan=1.0)
            feas_obs = feasible[obs_rows]
            known = feas_obs if feas_obs.any() else np.ones(len(obs_rows), bool)
            ctx = AcquisitionContext(
                y_observed=y_obs[known],
                risk=risk[avail_idx],
                risk_observed=risk[obs_rows][known],
                feasible=np.ones(len(avail_idx), bool),
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            proposal = propose(
                model,
                self._feature_table.iloc[obs_rows],  # named columns: a model may constrain one
                y_obs,
                self._feature_table.iloc[avail_idx],
                acq,
                n,
                fractions=self._fractions[avail_idx],
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
        chosen = selection.indices
        mean = np.asarray(prediction.mean, float)[chosen]
        std = np.asarray(prediction.std, float)[chosen]
        table = self._suggestion_table(state, avail_idx[chosen], mean, std, selection.values, {})
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
        """Say in one line (a warning and ``table.attrs['shortfall']``) why fewer than ``n``.

        ``n_available`` counts the feasible candidates neither measured nor pending.
        """
        n_chosen = len(table)
        if n_chosen >= n:
            return table
        note = f"Only {n_chosen} of the {n} requested suggestions: "
        min_observations = max(self.spec.min_observations, 2)
        if n_available <= n_chosen:
            note += (
                f"only {n_available} feasible candidate{'s are' if n_available != 1 else ' is'} "
                "neither measured nor pending; widen the pool or relax [constraints]."
            )
        else:
            phase = (
                f" (this batch is a random diverse draw: {n_observed} results, the surrogate "
                f"takes over at {min_observations})"
                if n_observed < min_observations
                else ""
            )
            note += (
                f"the other {n_available - n_chosen} available candidates lie within [batch] "
                f"min_distance = {self.spec.batch.min_distance:g} of a chosen one, or scored "
                f"-inf{phase}; lower min_distance in the spec for a larger batch."
            )
        table.attrs["shortfall"] = note
        warnings.warn(note, MIWarning, stacklevel=4)
        return table

    def _objective_values(self, rows: np.ndarray, obs: pd.DataFrame | None = None) -> np.ndarray:
        """Objective values of pool ``rows``: known columns, and the measured targets of ``obs``.

        Without ``obs`` the measured objectives are NaN.
        """
        out = np.full((len(rows), len(self.spec.objectives)), np.nan)
        for j, objective in enumerate(self.spec.objectives):
            if objective.column is not None:
                out[:, j] = self.pool[objective.column].to_numpy(np.float64)[rows]
            elif obs is not None:
                out[:, j] = obs[objective.target].to_numpy(np.float64)
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
        X = self._feature_table  # named columns: a model may constrain a named feature
        observed = self._objective_values(obs_rows, state.observations)
        mean = self._objective_values(avail_idx)
        std = np.zeros_like(mean)
        for j, objective in enumerate(spec.objectives):
            if objective.target is None:
                continue
            model = spec.model.build(random_state=model_seed + j, n_observations=len(obs_rows))
            model.fit(X.iloc[obs_rows], observed[:, j])
            prediction = predict_distribution(model, X.iloc[avail_idx], members=False)
            mean[:, j] = prediction.mean
            std[:, j] = prediction.std
        feasible_obs = self.pool["feasible"].to_numpy(bool)[obs_rows]
        chosen, values, weights = select_pareto_batch(
            mean,
            std,
            observed[feasible_obs] if feasible_obs.any() else observed,
            [o.maximize for o in spec.objectives],
            n,
            rng,
            fractions=self._fractions[avail_idx],
            min_distance=spec.batch.min_distance,
        )
        state.rng_state = dict(rng.bit_generator.state)
        if len(chosen) == 0:
            raise CampaignError("No candidate could be chosen (no finite objective values).")
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
            state, avail_idx[chosen], mean[chosen, first], std[chosen, first], values, extra
        )

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
                results = read_csv_text(path)
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
        if len(df) == 0:
            raise ObservationError(f"{where}: no results in the table.")
        if "campaign_id" in df:
            ids = df["campaign_id"].astype(str).str.strip()
            foreign = np.flatnonzero((ids != self.campaign_id).to_numpy())
            if foreign.size:
                other = sorted(set(ids.iloc[foreign]))[:3]
                raise ObservationError(
                    f"{where}: {'line' if offset else 'row'}s {row_list(foreign, offset)} belong "
                    f"to campaign(s) {other}, not {self.campaign_id!r}; nothing was recorded."
                )
        _, keys, values = check_results(
            df,
            "key" if "composition" not in df and "key" in df else "composition",
            {t: t for t in self.spec.targets},
            where=where,
            offset=offset,
            pool_index=self._index,
            measured=set(state.observations["key"]),
            tail=" Nothing was recorded; fix the table and observe it again.",
        )
        compositions = self.pool["composition"].to_numpy()[self._rows_of(keys)]
        return pd.DataFrame({"key": keys.astype(str), "composition": compositions, **values})

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
        rows = self._rows_of(obs["key"])
        feasible = pool["feasible"].to_numpy(bool)[rows]
        for label, sub in (("best", obs), ("best_feasible", obs[feasible])):
            if len(sub):
                j = sub[spec.target].idxmax() if spec.maximize else sub[spec.target].idxmin()
                out[label] = {
                    "composition": sub.at[j, "composition"],
                    spec.target: float(sub.at[j, spec.target]),
                    "iteration": int(sub.at[j, "iteration"]),
                }
        if spec.objectives and len(obs):
            # feasible observations that no other feasible observation dominates
            out["objectives"] = [
                {"name": o.label, "direction": "maximize" if o.maximize else "minimize"}
                for o in spec.objectives
            ]
            values = self._objective_values(rows, obs)
            front = np.zeros(len(rows), bool)
            front[feasible] = pareto_mask(values[feasible], [o.maximize for o in spec.objectives])
            out["pareto_front"] = [
                {
                    "composition": obs["composition"].iloc[i],
                    **{o.label: float(values[i, j]) for j, o in enumerate(spec.objectives)},
                }
                for i in np.flatnonzero(front)
            ]
        elif len(obs) and spec.constraints.risk in pool:
            risk_col = spec.constraints.risk
            risk = pool[risk_col].to_numpy(np.float64)[rows]
            yv = obs[spec.target].to_numpy(np.float64)
            on_front = ExpectedHypervolumeImprovement(maximize=spec.maximize).front(yv, risk)
            out["pareto_front"] = [
                {
                    "composition": obs["composition"].iloc[i],
                    spec.target: float(yv[i]),
                    risk_col: float(risk[i]),
                }
                for i in on_front
            ]
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


def _check_free(directory: Path, overwrite: bool) -> None:
    """Refuse to replace a campaign in ``directory`` unless ``overwrite``."""
    if (directory / STATE_FILE).exists() and not overwrite:
        raise CampaignError(
            f"{str(directory)!r} already holds a campaign; open it, or pass overwrite=True "
            "(CLI: --overwrite) to replace it."
        )


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
            campaign._tidy()
            return campaign
        campaign.suggest(batch_size)

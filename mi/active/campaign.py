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

import json
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi.active._io import atomic_write_json, atomic_write_parquet, dir_lock
from mi.active.base import Acquisition
from mi.active.batch import select_batch
from mi.active.oracles import Oracle
from mi.active.registry import get_acquisition
from mi.active.sampling import RandomSearch
from mi.active.spec import CampaignSpec, load_spec, spec_hash
from mi.active.state import (
    STATE_FILE,
    CampaignState,
    empty_observations,
    read_state,
    write_state,
)
from mi.exceptions import CampaignError, DataWarning, ObservationError, SpecError

__all__ = ["Campaign", "run_loop", "MODELS", "make_model", "CRITICALITY_COLUMNS"]

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

#: Surrogates a spec can name (classes of :mod:`mi.models`).
MODELS = {
    "xgb_ensemble": "XGBEnsembleRegressor",
    "random_forest": "RandomForestUncertaintyRegressor",
    "gp": "GPRegressor",
    "two_stage_gap": "TwoStageGapRegressor",
}

_MAX_LISTED = 10


def make_model(name: str, params: dict[str, Any], random_state: int) -> Any:
    """Build an unfitted surrogate from :mod:`mi.models` by its spec name."""
    from mi import models
    from mi.exceptions import RegistryKeyError

    if name not in MODELS:
        raise RegistryKeyError("model", name, MODELS)
    cls = getattr(models, MODELS[name])
    kwargs = dict(params)
    kwargs.setdefault("random_state", random_state)
    return cls(**kwargs)


def _rows(rows: Any, offset: int) -> str:
    shown = ", ".join(str(int(r) + offset) for r in list(rows)[:_MAX_LISTED])
    more = f" (+{len(rows) - _MAX_LISTED} more)" if len(rows) > _MAX_LISTED else ""
    return shown + more


def _fractions_features(fractions: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(fractions, columns=[f"fraction {c}" for c in columns])


class Campaign:
    """An active-learning campaign stored in a folder.

    Open an existing campaign with ``Campaign(directory)``; create one with
    :meth:`Campaign.init`.

    Parameters
    ----------
    directory : str or Path

    Raises
    ------
    CampaignError
        The folder holds no campaign.
    StateVersionError
        The folder was written by an incompatible version of ``mi``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        meta_path = self.directory / CAMPAIGN_FILE
        if not (self.directory / STATE_FILE).is_file() or not meta_path.is_file():
            raise CampaignError(
                f"No campaign in {str(self.directory)!r}; create one with "
                "`mi campaign init DIR --spec FILE`."
            )
        meta = json.loads(meta_path.read_text())
        self.campaign_id: str = meta["campaign_id"]
        self.spec: CampaignSpec = load_spec(meta["spec"])
        self._meta = meta
        self._pool: pd.DataFrame | None = None
        self._features: np.ndarray | None = None
        self._fractions: np.ndarray | None = None
        self._index: dict[str, int] | None = None
        read_state(self.directory)  # fail early on a broken or foreign state

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(
        cls,
        directory: str | Path,
        spec: CampaignSpec | dict[str, Any] | str | Path,
        *,
        overwrite: bool = False,
    ) -> Campaign:
        """Create a campaign: build, score and featurize the pool, record initial results.

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
            formulas = _candidate_formulas(spec)
            initial = _read_initial(spec)
            pool, fractions, elements = _build_pool(spec, formulas, initial)
            features = _featurize(spec, pool, fractions, elements)
            campaign_id = f"{spec.name}-{uuid.uuid4().hex[:8]}"
            meta = {
                "format": "mi-campaign",
                "campaign_id": campaign_id,
                "spec": spec.model_dump(mode="json"),
                "spec_hash": spec_hash(spec),
                "constraint_report": pool.attrs.get("constraint_report", []),
            }
            atomic_write_parquet(directory / POOL_FILE, pool)
            atomic_write_parquet(directory / FEATURES_FILE, features)
            atomic_write_json(directory / CAMPAIGN_FILE, meta)
            obs = empty_observations(spec.target)
            if initial is not None:
                obs = pd.DataFrame(
                    {
                        "key": initial["key"],
                        "composition": initial["composition"],
                        spec.target: initial["value"].astype(np.float64),
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
            write_state(directory, state, observations_changed=True)
        return cls(directory)

    # ------------------------------------------------------------------ data views
    @property
    def pool(self) -> pd.DataFrame:
        """The candidates: key, composition, in_candidates, feasible, criticality columns."""
        if self._pool is None:
            self._pool = pd.read_parquet(self.directory / POOL_FILE)
            self._index = {k: i for i, k in enumerate(self._pool["key"])}
        return self._pool

    def _pool_index(self) -> dict[str, int]:
        _ = self.pool
        assert self._index is not None
        return self._index

    def _feature_matrix(self) -> np.ndarray:
        if self._features is None:
            self._features = pd.read_parquet(self.directory / FEATURES_FILE).to_numpy(np.float64)
        return self._features

    def _fraction_matrix(self) -> np.ndarray:
        if self._fractions is None:
            from mi.chem import parse_formulas

            self._fractions = _matrix(parse_formulas(self.pool["key"].tolist())).fractions()
        return self._fractions

    @property
    def state(self) -> CampaignState:
        """The committed state (read fresh from disk)."""
        return read_state(self.directory)

    @property
    def observations(self) -> pd.DataFrame:
        """All results so far."""
        return self.state.observations

    @property
    def pending(self) -> pd.DataFrame:
        """Suggestions waiting for results."""
        return pd.DataFrame(self.state.pending)

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
        with dir_lock(self.directory):
            state = read_state(self.directory)
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
            write_state(self.directory, state, observations_changed=False)
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
        prediction: Any
        acq: Acquisition
        if len(obs_rows) < max(spec.min_observations, 2):
            acq = RandomSearch()
            prediction = _Nan(len(avail_idx))
            ctx: dict[str, Any] = {}
        else:
            from mi.models import predict_distribution

            X = self._feature_matrix()
            model = make_model(spec.model.name, spec.model.params, model_seed)
            folds = spec.model.calibration_folds
            if spec.model.calibration != "none" and len(obs_rows) >= 2 * folds:
                from mi.models import CalibratedRegressor

                model = CalibratedRegressor(
                    model, method=spec.model.calibration, cv=folds, random_state=model_seed
                )
            model.fit(X[obs_rows], y_obs)
            prediction = predict_distribution(model, X[avail_idx])
            acq = get_acquisition(
                spec.acquisition.name, maximize=spec.maximize, **spec.acquisition.params
            )
            feas_obs = feasible[obs_rows]
            ctx = {
                "y_observed": y_obs[feas_obs] if feas_obs.any() else y_obs,
                "risk": risk_all[avail_idx],
                "risk_observed": (
                    risk_all[obs_rows][feas_obs] if feas_obs.any() else risk_all[obs_rows]
                ),
                "feasible": np.ones(len(avail_idx), bool),
            }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            selection = select_batch(
                acq,
                prediction,
                n,
                fractions=fractions,
                method=spec.batch.method,
                min_distance=spec.batch.min_distance,
                length_scale=spec.batch.length_scale,
                rng=rng,
                **ctx,
            )
        # the generator advanced: store its new position with the commit
        state.rng_state = dict(rng.bit_generator.state)
        if len(selection.indices) == 0:
            raise CampaignError("No candidate could be chosen (all scored -inf).")
        rows = avail_idx[selection.indices]
        mean = np.asarray(prediction.mean, float)[selection.indices]
        std = np.asarray(prediction.std, float)[selection.indices]
        out = pd.DataFrame(
            {
                "campaign_id": self.campaign_id,
                "iteration": state.iteration + 1,
                "rank": np.arange(1, len(rows) + 1),
                "composition": pool["composition"].to_numpy()[rows],
                "key": pool["key"].to_numpy()[rows],
                "predicted_mean": mean,
                "predicted_std": std,
                "acquisition": selection.values,
                spec.target: np.nan,
                "feasible": feasible[rows],
            }
        )
        for col in CRITICALITY_COLUMNS:
            if col in pool:
                out[col] = pool[col].to_numpy()[rows]
        return out

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
                results = pd.read_csv(path, dtype=str, keep_default_na=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise ObservationError(f"Cannot read results file {str(path)!r}: {exc}") from None
            source = path.name
            offset = 2  # header is line 1
        with dir_lock(self.directory):
            state = read_state(self.directory)
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
            write_state(self.directory, state, observations_changed=True)
        return accepted

    def _validate(
        self, df: pd.DataFrame, state: CampaignState, *, where: str, offset: int
    ) -> pd.DataFrame:
        from mi.chem import parse_formulas

        target = self.spec.target
        label = "line" if offset else "row"
        if len(df) == 0:
            raise ObservationError(f"{where}: no results in the table.")
        comp_col = "composition" if "composition" in df else ("key" if "key" in df else None)
        missing = [c for c in ("composition", target) if c not in df]
        if comp_col is None or target not in df:
            raise ObservationError(
                f"{where}: missing column(s) {missing}; expected 'composition' and {target!r} "
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
        raw = df[target]
        values = pd.to_numeric(raw.astype(str).str.strip().replace("", np.nan), errors="coerce")
        values = values.to_numpy(np.float64)
        bad_val = np.flatnonzero(~np.isfinite(values))
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
                target: values,
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
        out["last_steps"] = [
            {k: h[k] for k in ("action", "step", "iteration", "time")} for h in state.history[-5:]
        ]
        return out


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


class _Nan:
    """Prediction stand-in before any model exists (random suggestions): NaN mean and std."""

    def __init__(self, n: int) -> None:
        self.mean = np.full(n, np.nan)
        self.std = np.full(n, np.nan)
        self.members = None


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
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        if c.composition_col not in df:
            raise SpecError(
                f"candidates.file {str(path)!r} has no column {c.composition_col!r} "
                f"(columns: {list(df.columns)}); set candidates.composition_col."
            )
        return df[c.composition_col].str.strip().tolist()
    from mi.candidates import Template

    assert c.template is not None
    ranges: dict[str, Any] = {}
    for var, value in c.ranges.items():
        if isinstance(value, dict):  # {start, stop, step} grid (TOML has no tuples)
            try:
                ranges[var] = (value["start"], value["stop"], value["step"])
            except KeyError:
                raise SpecError(
                    f"candidates.ranges.{var} must be a list of values or a table with "
                    f"start, stop and step; got {value!r}."
                ) from None
        else:
            ranges[var] = value
    template = Template(c.template, ranges=ranges)
    if template.size > c.max_size:
        raise SpecError(
            f"Template {c.template!r} generates {template.size} candidates, more than "
            f"candidates.max_size = {c.max_size}; coarsen the steps or raise max_size."
        )
    out: list[str] = []
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
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    tcol = init.target_col or spec.target
    if init.composition_col not in df or tcol not in df:
        raise ObservationError(
            f"{path.name}: needs columns {init.composition_col!r} and {tcol!r} "
            f"(found {list(df.columns)})."
        )
    formulas = df[init.composition_col].str.strip().tolist()
    parsed = _report(parse_formulas(formulas, on_error="report"))
    values = pd.to_numeric(df[tcol].str.strip().replace("", np.nan), errors="coerce").to_numpy(
        np.float64
    )
    problems = []
    bad = np.flatnonzero(~np.asarray(parsed.valid, bool))
    if bad.size:
        problems.append(f"unparsable compositions at lines {_rows(bad, 2)}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        problems.append(f"missing or non-numeric {tcol!r} at lines {_rows(bad, 2)}")
    keys = pd.Series(parsed.matrix.canonical_keys())
    dup = np.flatnonzero(keys.duplicated(keep=False).to_numpy() & np.asarray(parsed.valid, bool))
    if dup.size:
        problems.append(f"duplicate compositions at lines {_rows(dup, 2)} (merge them first)")
    if problems:
        raise ObservationError(f"{path.name}: " + "; ".join(problems) + ".")
    return pd.DataFrame({"key": keys, "composition": formulas, "value": values})


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
    campaign: Campaign, oracle: Oracle, *, iterations: int, batch_size: int = 8
) -> Campaign:
    """Run ``suggest -> oracle -> observe`` until ``iterations`` suggest steps are observed.

    Resumable: pending suggestions (from a run that was interrupted after suggesting) are
    evaluated before anything new is suggested, so calling this again after a crash continues
    exactly where the committed state stands.
    """
    while True:
        state = campaign.state
        if state.pending:
            formulas = [p["composition"] for p in state.pending]
            values = oracle(formulas)
            campaign.observe(
                pd.DataFrame(
                    {
                        "campaign_id": campaign.campaign_id,
                        "composition": formulas,
                        campaign.spec.target: values,
                    }
                )
            )
            continue
        if state.iteration >= iterations:
            return campaign
        campaign.suggest(batch_size)

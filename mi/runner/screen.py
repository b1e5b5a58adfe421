"""The per-chunk work of a screen: score, filter, featurize, predict, acquire, keep the best.

:func:`screen_chunk` is a plain module-level function of picklable arguments, so any
:class:`concurrent.futures.Executor` can run it: this process, a process pool, or Dask workers.
It never imports Dask.

For one chunk of generated candidates (a :class:`~mi.chem.CompositionMatrix`):

1. criticality scores of every candidate (:func:`mi.criticality.score`);
2. constraints, each counting the candidates it removed (first failing constraint counts);
3. features of the kept candidates (:func:`mi.features.featurize`, fast backend);
4. every surrogate's mean and std (classifiers: the positive-class probability);
5. the acquisition on the primary target, with the known supply risk as the second objective;
6. the ``keep`` best rows by acquisition (all rows when ``write_all``);
7. novelty and applicability-domain flags of those rows per target (when the target carries a
   fitted :class:`~mi.models.applicability.ApplicabilityDomain`).

Because every acquisition in :mod:`mi.active` scores a candidate from its own prediction and
the fixed training data, the per-chunk top-``keep`` sets contain the global top-``keep``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mi.candidates.constraint_spec import ConstraintSpec, feasible_mask
from mi.chem.display import display_formulas
from mi.runner.spec import CriticalitySpec

__all__ = ["TargetModel", "ScreenContext", "ChunkTask", "screen_chunk", "CRITICALITY_COLUMNS"]

#: Criticality columns copied into the results (those the scorer returns).
CRITICALITY_COLUMNS = (
    "supply_risk",
    "hree_atomic_fraction",
    "hree_mass_fraction",
    "dytb_mass_fraction",
    "eu_critical_mass_fraction",
    "hhi_production_mass",
    "hhi_reserve_mass",
    "cost_per_kg",
    "cost_known",
    "export_control",
    "price_level",
    "risk_gap",
    "unverified_elements",
)


@dataclass
class TargetModel:
    """A fitted surrogate and how to feed it.

    Attributes
    ----------
    name : str
        Target name; results get ``<name>_mean`` and ``<name>_std``.
    task : {"regression", "classification"}
    maximize : bool
        Direction of the property.
    preset : str
        Featurizer preset.
    columns : list of str
        Feature columns in training order.
    model : estimator
        Fitted model.
    conditions : list of str
        Condition inputs (the last columns of ``columns``), set from the candidate's conditions.
    transform : str, optional
        Transform of the training target (``log10`` ...); reported means and intervals are
        transformed back (:mod:`mi.data.transforms`).
    domain : ApplicabilityDomain, optional
        Fitted on the training compositions and features
        (:class:`mi.models.applicability.ApplicabilityDomain`); the kept rows then get
        ``<name>_nearest``, ``<name>_nearest_l1``, ``<name>_known``, ``<name>_unseen_elements``,
        ``<name>_domain_score`` and ``<name>_in_domain``.
    """

    name: str
    task: str
    maximize: bool
    preset: str
    columns: list[str]
    model: Any
    conditions: list[str] = field(default_factory=list)
    transform: str | None = None
    domain: Any = None


@dataclass
class ScreenContext:
    """Everything a chunk needs besides its candidates (shared once per run)."""

    targets: list[TargetModel]
    constraints: list[ConstraintSpec]
    criticality: CriticalitySpec  # with the run's date (``as_of``) fixed
    risk_column: str
    acquisition: str
    acquisition_params: dict[str, Any]
    acquisition_target: int
    y_observed: np.ndarray
    risk_observed: np.ndarray
    keep: int
    write_all: bool = False
    seed: int = 0
    n_jobs: int | None = None
    needs_members: bool = False
    condition_grid: pd.DataFrame | None = None


@dataclass
class ChunkTask:
    """One chunk of candidates to screen.

    Attributes
    ----------
    index : int
        Global chunk number (checkpoint name).
    matrix : CompositionMatrix
        The candidates.
    family : str
        Template label written in the results.
    start : int
        Global position of the chunk's first candidate.
    """

    index: int
    matrix: Any
    family: str
    start: int


def predict_target(
    target: TargetModel, X: Any, members: bool = False
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Mean, std and the prediction object of one surrogate on a feature matrix.

    ``members=True`` also asks an ensemble for its members' predictions (Thompson sampling);
    otherwise only ``predict(X, return_std=True)`` runs, which costs half as much.
    """
    from mi.models import Prediction, predict_distribution

    if target.task == "classification":
        proba = target.model.predict_proba(X)
        classes = list(target.model.classes_)
        col = classes.index(1) if 1 in classes else len(classes) - 1
        p = np.asarray(proba[:, col], dtype=np.float64)
        member_proba = None
        if hasattr(target.model, "predict_members_proba"):
            member_proba = np.asarray(target.model.predict_members_proba(X), dtype=np.float64)
        std = (
            member_proba.std(axis=0, ddof=1)
            if member_proba is not None and len(member_proba) > 1
            else np.zeros_like(p)
        )
        return p, std, Prediction(p, std, member_proba)
    pred = predict_distribution(target.model, X, members=members)
    return np.asarray(pred.mean), np.asarray(pred.std), pred


def _decreasing(target: TargetModel) -> bool:
    """Whether the target's transform reverses order (then the model-space goal flips)."""
    if target.transform is None:
        return False
    from mi.data.transforms import get_transform

    return get_transform(target.transform).decreasing


def _reported(target: TargetModel, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
    """Return the result columns of one surrogate, in the property's own unit.

    Without a transform: ``<name>_mean`` and ``<name>_std``. With one, the mean is transformed
    back, ``<name>_lo``/``<name>_hi`` are the 95 % interval's ends transformed back, and
    ``<name>_std`` is a quarter of that interval's width (a normal-equivalent spread).
    """
    if target.transform is None or target.task != "regression":
        return {f"{target.name}_mean": mean, f"{target.name}_std": std}
    from mi.data.transforms import reported

    return {f"{target.name}_{k}": v for k, v in reported(target.transform, mean, std).items()}


def screen_chunk(task: ChunkTask, ctx: ScreenContext) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Screen one chunk of candidates; return the kept rows and the chunk's statistics.

    Parameters
    ----------
    task : ChunkTask
        The candidates.
    ctx : ScreenContext
        Models, constraints, criticality and acquisition settings.

    Returns
    -------
    rows : pandas.DataFrame
        Kept candidates: ``formula``, ``key``, ``family``, ``index``, criticality columns,
        ``<target>_mean``/``<target>_std``, ``acquisition``.
    stats : dict
        ``n_generated``, ``n_passed``, ``removed`` per constraint, ``seconds`` per stage.
    """
    from mi.active import get_acquisition
    from mi.features import featurize
    from mi.models.physics import stated_prior_rows

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    matrix = task.matrix
    n = matrix.n
    crit = ctx.criticality.score(matrix, include_composition=False)
    seconds["criticality"] = time.perf_counter() - t

    t = time.perf_counter()
    # max_supply_risk applies to the risk scored above, with the workflow's weights and date
    keep, report = feasible_mask(ctx.constraints, matrix, crit["supply_risk"].to_numpy())
    removed = [r["removed"] for r in report]
    idx = np.flatnonzero(keep)
    seconds["constraints"] = time.perf_counter() - t
    stats: dict[str, Any] = {
        "index": task.index,
        "family": task.family,
        "n_generated": int(n),
        "n_passed": int(idx.size),
        "removed": removed,
        "seconds": seconds,
    }
    if idx.size == 0:
        return pd.DataFrame(), stats

    grid = ctx.condition_grid
    if grid is not None:  # every kept composition at every combination of conditions
        m = len(grid)
        idx = np.repeat(idx, m)
        cond_values = grid.iloc[np.tile(np.arange(m), idx.size // m)].reset_index(drop=True)
    kept = matrix.take(idx)
    crit = crit.iloc[idx].reset_index(drop=True)
    t = time.perf_counter()
    features: dict[str, pd.DataFrame] = {}
    for target in ctx.targets:
        if target.preset not in features:
            df = featurize(
                kept,
                preset=target.preset,
                dtype=np.dtype(np.float32),
                n_jobs=ctx.n_jobs,
                progress=False,
            )
            features[target.preset] = df
    seconds["featurize"] = time.perf_counter() - t

    t = time.perf_counter()
    out: dict[str, Any] = {}
    predictions = []
    inputs: dict[str, pd.DataFrame] = {}
    for target in ctx.targets:
        X = features[target.preset]
        if target.conditions:
            dtype = X.dtypes.iloc[0]
            X = X.assign(**{c: cond_values[c].to_numpy(dtype=dtype) for c in target.conditions})
        X = X[target.columns]
        inputs[target.name] = X
        mean, std, pred = predict_target(target, X, members=ctx.needs_members)
        out.update(_reported(target, mean, std))
        predictions.append(pred)
    seconds["predict"] = time.perf_counter() - t

    t = time.perf_counter()
    primary = ctx.targets[ctx.acquisition_target]
    acq = get_acquisition(
        ctx.acquisition, maximize=primary.maximize != _decreasing(primary), **ctx.acquisition_params
    )
    risk = crit[ctx.risk_column].to_numpy(dtype=np.float64)
    stats["n_risk_unknown"] = int(np.isnan(risk).sum())
    scores = acq(
        predictions[ctx.acquisition_target],
        risk=risk,
        y_observed=ctx.y_observed,
        risk_observed=ctx.risk_observed,
        rng=np.random.default_rng([ctx.seed, task.index]),
    )
    scores = np.asarray(scores, dtype=np.float64)
    seconds["acquisition"] = time.perf_counter() - t

    t = time.perf_counter()
    if ctx.write_all:
        sel = np.arange(idx.size)
    else:
        from mi.runner.ranking import top_k_indices

        sel = top_k_indices(scores, ctx.keep)
    sub = kept.take(sel)
    keys = sub.canonical_keys()
    rows = pd.DataFrame(
        {
            "formula": display_formulas(sub.formulas()),  # as scientists write them
            "key": keys,
            "family": task.family,
            "index": (task.start + idx[sel]).astype(np.int64),
        }
    )
    if grid is not None:
        chosen = cond_values.iloc[sel].reset_index(drop=True)
        for col in grid.columns:
            rows[col] = chosen[col].to_numpy()
        rows["key"] = [
            k + "|" + ",".join(f"{c}={v:g}" for c, v in zip(grid.columns, vals, strict=True))
            for k, vals in zip(keys, chosen.to_numpy(), strict=True)
        ]
    for col in CRITICALITY_COLUMNS:
        if col in crit.columns:
            rows[col] = crit[col].to_numpy()[sel]
    if ctx.risk_column not in rows.columns:
        rows[ctx.risk_column] = risk[sel]
    for name, values in out.items():
        rows[name] = np.asarray(values)[sel]
    rows["acquisition"] = scores[sel]
    seconds["select"] = time.perf_counter() - t

    t = time.perf_counter()
    for target in ctx.targets:  # novelty and applicability domain of the kept rows
        if target.domain is not None:
            X_sel = np.asarray(inputs[target.name], dtype=np.float64)[sel]
            flags = target.domain.assess(sub, X_sel)
            for col in flags.columns:
                rows[f"{target.name}_{col}"] = flags[col].to_numpy()
        stated = stated_prior_rows(target.model, inputs[target.name].iloc[sel])
        if stated is not None:  # physics alone with its stated std (mi.models.physics)
            rows[f"{target.name}_physics_prior"] = stated
    seconds["domain"] = time.perf_counter() - t
    return rows, stats

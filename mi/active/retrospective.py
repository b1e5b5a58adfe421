"""Retrospective discovery benchmark: hide a dataset's labels and let acquisitions find its best.

Protocol of :func:`benchmark` (one run = one acquisition x one seed):

1. the pool is every row of ``X``; the *targets* are the rows flagged by ``target_mask`` (e.g. the
   top 1 % by the property); their labels are hidden behind a :class:`LookupOracle`;
2. an initial training set of ``n_initial`` rows is drawn at random (seeded) from the
   non-targets (Borg et al.'s protocol: no target is known at the start); every acquisition
   of a seed starts from the same initial set;
3. each iteration refits the surrogate on everything observed, predicts the rest of the pool,
   selects ``batch_size`` candidates with the acquisition, asks the oracle for their labels and
   adds them, until ``budget`` candidates have been evaluated; fit, prediction and selection are
   :func:`mi.active.loop.propose`, the path :meth:`mi.active.Campaign.suggest` runs;
4. the run's hit sequence (was the i-th evaluated candidate a target?) feeds the metrics of
   :mod:`mi.active.metrics` (Rohr AF/EF, Liang EF/AF, Borg DY/DP/DAF), summarized over seeds as
   mean and standard deviation.

``"random"`` needs no surrogate and is always worth running beside the others: its factors
should come out near 1 (a check of the metric code against the exact random expectations).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mi.active import metrics as M
from mi.active.loop import propose
from mi.active.oracles import LookupOracle, canonical_keys
from mi.active.registry import get_acquisition
from mi.exceptions import CampaignError

__all__ = ["benchmark", "BenchmarkResult", "default_model_factory", "run_one"]


def default_model_factory(seed: int) -> Any:
    """Return a cheap :class:`mi.models.XGBEnsembleRegressor` (4 x 60 trees, 1 thread)."""
    from mi.models import XGBEnsembleRegressor

    return XGBEnsembleRegressor(
        n_members=4,
        n_estimators=60,
        learning_rate=0.15,
        max_depth=4,
        subsample=0.8,
        colsample_bytree=0.5,
        max_bin=64,
        bootstrap=True,  # the members' sampling before the default changed (std: calibrated
        max_samples=None,  # on the out-of-bag rows, as every campaign's surrogate)
        n_jobs=1,
        random_state=seed,
    )


#: Monotone transforms of the labels the surrogate is fitted on (rankings are unchanged, so the
#: targets are the same; acquisitions then work in the transformed units).
_TRANSFORMS: dict[str | None, Callable[[np.ndarray], np.ndarray]] = {
    None: lambda v: v,
    "log": np.log,
    "log1p": np.log1p,
}


def run_one(
    X: np.ndarray,
    keys: Sequence[str],
    oracle: LookupOracle,
    target_mask: np.ndarray,
    initial: np.ndarray,
    *,
    acquisition: str,
    acquisition_params: dict[str, Any] | None = None,
    maximize: bool,
    batch_size: int,
    budget: int,
    model_factory: Callable[[int], Any],
    seed: int,
    fractions: np.ndarray | None = None,
    batch_method: str = "greedy",
    min_distance: float = 0.0,
    transform: str | None = None,
) -> dict[str, Any]:
    """One retrospective run; returns the evaluated rows in order and their hit flags."""
    fwd = _TRANSFORMS[transform]
    keys_arr = np.asarray(keys, dtype=object)
    rng = np.random.default_rng(seed)
    acq = get_acquisition(acquisition, maximize=maximize, **(acquisition_params or {}))
    observed = list(int(i) for i in initial)
    y_obs = list(oracle.lookup_keys(keys_arr[initial]))
    remaining = np.ones(len(X), bool)
    remaining[initial] = False
    order: list[int] = []
    fit_time = 0.0
    while len(order) < budget:
        idx = np.flatnonzero(remaining)
        q = min(batch_size, budget - len(order), idx.size)
        if q == 0:
            break
        model = None if acquisition == "random" else model_factory(int(rng.integers(2**31 - 1)))
        t0 = time.perf_counter()
        proposal = propose(
            model,
            X[observed],
            fwd(np.asarray(y_obs)),
            X[idx],
            acq,
            q,
            fractions=None if fractions is None else fractions[idx],
            method=batch_method,
            min_distance=min_distance,
            rng=rng,
        )
        if model is not None:
            fit_time += time.perf_counter() - t0
        sel = proposal.selection
        chosen = idx[sel.indices]
        values = oracle.lookup_keys(keys_arr[chosen])
        observed.extend(int(i) for i in chosen)
        y_obs.extend(values.tolist())
        order.extend(int(i) for i in chosen)
        remaining[chosen] = False
    hits = np.asarray(target_mask, bool)[np.asarray(order, dtype=np.int64)]
    return {"order": order, "hits": hits, "fit_time": fit_time}


@dataclass
class BenchmarkResult:
    """Hit sequences per acquisition and seed, with the pool's sizes, and the summary table.

    Attributes
    ----------
    hits : dict of str to ndarray
        ``hits[acq]`` has shape (n_seeds, budget): True where the evaluation found a target.
    n_pool : int
        ``N``: candidates after removing the initial set.
    n_targets : int
        ``M``: targets in the pool.
    budget : int
        ``B``.
    """

    hits: dict[str, np.ndarray]
    n_pool: int
    n_targets: int
    budget: int
    seconds: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self, fraction: float = 0.5, daf: Sequence[int] = (1, 3, 5)) -> pd.DataFrame:
        """Metrics per acquisition: mean and std over seeds (see :mod:`mi.active.metrics`).

        Columns: ``rohr_af`` / ``rohr_af_std`` (``AF_f`` with ``f = fraction``),
        ``rohr_af_reached`` (seeds reaching ``f M`` within the budget; when fewer than all,
        ``rohr_af`` is an upper bound and ``rohr_af_lower`` a lower one, counting those seeds as
        0), ``rohr_af_median`` (exact when more than half the seeds got there), ``rohr_ef`` at
        ``B``,
        ``liang_ef``, ``liang_af``, ``dy`` and ``dp`` at ``B``, ``daf_<n>`` (+
        ``daf_<n>_unreached``), ``seconds``.
        """
        N, Mt = self.n_pool, self.n_targets
        rows = []
        for name, hits in self.hits.items():
            af = [M.rohr_acceleration(h, N, Mt, fraction) for h in hits]
            afs = np.array([a for a, _ in af])
            ef = [M.rohr_enhancement(h, N, Mt) for h in hits]
            dy = [M.discovery_yield(h, Mt) for h in hits]
            row: dict[str, Any] = {
                "acquisition": name,
                "seeds": len(hits),
                "rohr_af": float(afs.mean()),
                "rohr_af_std": float(afs.std(ddof=1)) if len(afs) > 1 else math.nan,
                "rohr_af_reached": int(sum(r for _, r in af)),
                "rohr_af_lower": float(np.mean([a if r else 0.0 for a, r in af])),
                "rohr_af_median": float(np.median(afs)),
                "rohr_ef": float(np.mean(ef)),
                "rohr_ef_std": _std(ef),
                "liang_ef": float(np.mean([M.liang_enhancement(h, N, Mt) for h in hits])),
                "liang_af": _nanmean([M.liang_acceleration(h, N, Mt) for h in hits]),
                "dy": float(np.mean(dy)),
                "dy_std": _std(dy),
                "dp": float(np.mean([M.discovery_probability(h) for h in hits])),
            }
            for n in daf:
                value, unreached = M.discovery_acceleration(list(hits), N, Mt, n)
                row[f"daf_{n}"] = value
                row[f"daf_{n}_unreached"] = unreached
            row["seconds"] = self.seconds.get(name, math.nan)
            rows.append(row)
        return pd.DataFrame(rows)


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    return float(arr[~np.isnan(arr)].mean()) if (~np.isnan(arr)).any() else math.nan


def _std(values: Sequence[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def _task(args: tuple[Any, ...]) -> tuple[str, int, dict[str, Any]]:
    (name, seed_i, payload, kwargs) = args
    X, keys, oracle, target_mask, initial = payload
    return name, seed_i, run_one(X, keys, oracle, target_mask, initial, **kwargs)


def benchmark(
    X: np.ndarray | pd.DataFrame,
    compositions: Sequence[str],
    y: Sequence[float] | np.ndarray,
    target_mask: np.ndarray,
    *,
    acquisitions: Sequence[str | tuple[str, dict[str, Any]]] = ("ei", "greedy", "random"),
    maximize: bool = True,
    n_seeds: int = 20,
    n_initial: int = 10,
    batch_size: int = 1,
    budget: int = 50,
    model_factory: Callable[[int], Any] | None = None,
    fractions: np.ndarray | None = None,
    batch_method: str = "greedy",
    min_distance: float = 0.0,
    random_state: int = 0,
    transform: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Run a retrospective discovery benchmark (protocol in the module docstring).

    Parameters
    ----------
    X : array or DataFrame (n, n_features)
        Features of the pool (featurize once, outside).
    compositions : sequence of str
        Formulas of the pool (the oracle looks labels up by composition).
    y : array (n,)
        Hidden labels.
    target_mask : bool array (n,)
        Which rows count as discoveries.
    acquisitions : sequence
        Registry names, or ``(name, params)`` pairs (the label is ``name`` plus params).
    maximize : bool
        Direction the acquisitions optimize.
    n_seeds, n_initial, batch_size, budget : int
        Seeds (>= 20 for reported figures), initial training set size, candidates per
        iteration, evaluations per run (``B``).
    model_factory : callable, optional
        ``seed -> unfitted regressor`` with ``predict(X, return_std=True)``; default
        :func:`default_model_factory`.
    fractions : array, optional
        Atomic fractions for the batch diversity rule.
    transform : {None, "log", "log1p"}
        Monotone transform of the labels before fitting (e.g. ``"log"`` for band gaps > 0).
    executor : concurrent.futures.Executor, optional
        Runs the (acquisition, seed) tasks, e.g. a process pool; default: in this process.

    Returns
    -------
    BenchmarkResult
    """
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
    y = np.asarray(y, dtype=np.float64)
    target_mask = np.asarray(target_mask, bool)
    compositions = list(compositions)
    if not (len(X) == len(y) == len(target_mask) == len(compositions)):
        raise CampaignError("X, compositions, y and target_mask must have the same length.")
    n_targets = int(target_mask.sum())
    non_targets = np.flatnonzero(~target_mask)
    if n_targets == 0 or non_targets.size < n_initial:
        raise CampaignError(
            f"Need at least one target and {n_initial} non-targets; got {n_targets} targets."
        )
    keys = canonical_keys(compositions)
    if transform not in _TRANSFORMS:
        from mi.exceptions import RegistryKeyError

        raise RegistryKeyError("transform", str(transform), [k for k in _TRANSFORMS if k])
    if len(set(keys)) != len(keys):
        raise CampaignError("The pool has repeated compositions; merge duplicates first.")
    oracle = LookupOracle(compositions, y)
    specs = [(a, {}) if isinstance(a, str) else (a[0], dict(a[1])) for a in acquisitions]
    labels = [
        n if not p else n + "(" + ",".join(f"{k}={v}" for k, v in p.items()) + ")" for n, p in specs
    ]
    common = {
        "maximize": maximize,
        "batch_size": batch_size,
        "budget": budget,
        "model_factory": model_factory or default_model_factory,
        "fractions": fractions,
        "batch_method": batch_method,
        "min_distance": min_distance,
        "transform": transform,
    }
    tasks = []
    for seed_i in range(n_seeds):
        init_rng = np.random.default_rng([random_state, seed_i])
        initial = np.sort(init_rng.choice(non_targets, size=n_initial, replace=False))
        payload = (X, keys, oracle, target_mask, initial)
        seed = int(np.random.default_rng([random_state, seed_i, 1]).integers(2**31))
        for label, (name, params) in zip(labels, specs, strict=True):
            kwargs = {"acquisition": name, "acquisition_params": params, "seed": seed}
            tasks.append((label, seed_i, payload, common | kwargs))
    results: dict[str, list[Any]] = {label: [None] * n_seeds for label in labels}
    seconds = dict.fromkeys(labels, 0.0)
    runner = map(_task, tasks) if executor is None else executor.map(_task, tasks)
    for label, seed_i, out in runner:
        results[label][seed_i] = out
        seconds[label] += out["fit_time"]
        if progress is not None:
            progress(f"{label} seed {seed_i}: {int(out['hits'].sum())} targets found")
    hits = {}
    for label in labels:
        runs = results[label]
        width = max(len(r["hits"]) for r in runs)
        arr = np.zeros((n_seeds, width), bool)
        for i, r in enumerate(runs):
            arr[i, : len(r["hits"])] = r["hits"]
        hits[label] = arr
    return BenchmarkResult(
        hits=hits,
        n_pool=len(X) - n_initial,
        n_targets=n_targets,
        budget=budget,
        seconds=seconds,
        info={"n_initial": n_initial, "batch_size": batch_size, "n_seeds": n_seeds},
    )

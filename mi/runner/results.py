"""Step 6 of a workflow: merge the screened chunks, rank them and write the result files.

The chunks' rows are merged best first and deduplicated across templates; every target's mean
and the supply risk give Pareto ranks; a diverse batch is picked from the best rows; the pool is
written as ``results.parquet``, ``top.csv`` and ``batch.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.active import AcquisitionContext, get_acquisition, select_batch
from mi.chem import parse_formulas
from mi.models import Prediction
from mi.runner.checkpoint import Checkpoint
from mi.runner.domain import domain_notes, training_domain
from mi.runner.magnets import add_coercivity
from mi.runner.ranking import pareto_ranks
from mi.runner.screen import ScreenContext, TargetModel
from mi.runner.spec import RunSpec

__all__ = ["RankedPool", "rank_chunks", "select_batch_order", "with_domain", "write_results"]


@dataclass
class RankedPool:
    """The ranked candidates and what the merge counted.

    Attributes
    ----------
    pool : pandas.DataFrame
        Every retained candidate, ranked (``rank``, ``pareto_rank``, ``on_front``, ``batch``).
    counts : dict of str to int
        ``generated``, ``passed_constraints``, ``scored``, ``retained``,
        ``duplicates_across_templates``, ``risk_unknown_ranked_last``, ``ranked``.
    removed : list of int
        Candidates each constraint removed (first failing constraint counts).
    worker_seconds : dict of str to float
        Seconds per chunk stage, summed over the chunks.
    """

    pool: pd.DataFrame
    counts: dict[str, int]
    removed: list[int]
    worker_seconds: dict[str, float] = field(default_factory=dict)

    def constraint_counts(self, spec: RunSpec) -> list[tuple[str, int]]:
        """Each constraint's description and the candidates it removed."""
        return [(c.describe(), int(r)) for c, r in zip(spec.constraints, self.removed, strict=True)]


def select_batch_order(spec: RunSpec, pool: pd.DataFrame, ctx: ScreenContext) -> np.ndarray:
    """Batch order (1..q, 0 = not in the batch) of a diverse batch from the best-ranked rows."""
    q = int(spec.outputs.batch_size or 0)
    order = np.zeros(len(pool), dtype=np.int64)
    if q == 0 or len(pool) == 0:
        return order
    head = pool.iloc[: min(len(pool), max(50 * q, 2000))]
    positions = np.arange(len(head))
    hc = spec.coercivity
    if hc is not None and hc.min_hc is not None and "Hc_mean" in head.columns:
        positions = np.flatnonzero(head["Hc_mean"].to_numpy(dtype=np.float64) >= hc.min_hc)
        head = head.iloc[positions]  # no batch pick among predicted non-magnets
        if len(head) == 0:
            return order
    target = ctx.targets[ctx.acquisition_target]
    pred = Prediction(
        head[f"{target.name}_mean"].to_numpy(dtype=np.float64),
        head[f"{target.name}_std"].to_numpy(dtype=np.float64),
    )
    acq = get_acquisition(ctx.acquisition, maximize=target.maximize, **ctx.acquisition_params)
    chosen = select_batch(
        acq,
        pred,
        q,
        fractions=parse_formulas(head["key"].tolist()).fractions(),
        method=spec.outputs.batch_method,
        min_distance=spec.outputs.min_distance,
        context=AcquisitionContext(
            risk=head[ctx.risk_column].to_numpy(dtype=np.float64),
            y_observed=ctx.y_observed,
            risk_observed=ctx.risk_observed,
        ),
        rng=spec.seed,
    )
    picked = positions[np.asarray(chosen.indices, dtype=np.int64)]
    order[picked] = np.arange(1, len(chosen.indices) + 1)
    return order


def _pareto_order(spec: RunSpec, pool: pd.DataFrame, targets: list[TargetModel]) -> pd.DataFrame:
    """Add ``pareto_rank``/``on_front`` over every target's mean and the risk objective.

    Only the best rows are sorted (all of them with ``rank_by = "pareto"``, which then orders
    the pool by front, optionally taking the families in turns).
    """
    n_pareto = min(len(pool), max(5 * spec.outputs.top_n, 2000))
    if spec.outputs.rank_by == "pareto":  # the order itself: every retained row is ranked
        n_pareto = len(pool)
    head = pool.iloc[:n_pareto]
    cols = []
    coercivity = spec.coercivity
    for t in targets:
        sign, column = (1.0 if t.maximize else -1.0), f"{t.name}_mean"
        if coercivity is not None and coercivity.rank and t.name == coercivity.anisotropy:
            sign, column = 1.0, "Hc_mean"  # the coercivity proxy stands for the anisotropy
        cols.append(sign * head[column].to_numpy(dtype=np.float64))
    cols.append(-head[spec.criticality.objective].to_numpy(dtype=np.float64))
    points = np.column_stack(cols)
    ranked = np.ones(len(points), dtype=bool)
    if coercivity is not None and coercivity.min_hc is not None:
        # predicted softer than min_hc: not a permanent magnet, ranked after every other row
        ranked = head["Hc_mean"].to_numpy(dtype=np.float64) >= coercivity.min_hc
    ranks = np.zeros(len(points), dtype=np.int64)
    if ranked.any():
        ranks[ranked] = pareto_ranks(points[ranked], min_ranked=2 * spec.outputs.top_n)
    worst = int(ranks.max()) + 1 if ranks.size else 1
    ranks[~ranked] = worst
    pareto = np.full(len(pool), worst, dtype=np.int64)
    pareto[:n_pareto] = ranks
    pool["pareto_rank"] = pareto
    pool["on_front"] = pool["pareto_rank"] == 1
    if spec.outputs.rank_by == "pareto":
        order = ["pareto_rank", "acquisition", "index"]
        if spec.outputs.front_order == "families":
            # the n-th best of every family (by acquisition) before any family's (n+1)-th
            pool["_turn"] = pool.groupby(["pareto_rank", "family"]).cumcount()
            order = ["pareto_rank", "_turn", "acquisition", "index"]
        pool = pool.sort_values(
            order, ascending=[True] * (len(order) - 2) + [False, True], kind="stable"
        ).drop(columns="_turn", errors="ignore")
    return pool


def rank_chunks(
    spec: RunSpec, targets: list[TargetModel], cp: Checkpoint, ctx: ScreenContext | None = None
) -> RankedPool:
    """Merge the screened chunks, drop duplicates, rank, Pareto-rank and pick the batch."""
    frames = []
    n_generated = n_passed = n_risk_unknown = 0
    removed = np.zeros(len(spec.constraints), dtype=np.int64)
    stage_seconds: dict[str, float] = {}
    for index in sorted(cp.done_chunks()):
        rows, meta = cp.read_chunk(index)
        if len(rows):
            frames.append(rows)
        n_generated += meta["n_generated"]
        n_passed += meta["n_passed"]
        n_risk_unknown += meta.get("n_risk_unknown", 0)
        removed += np.asarray(meta["removed"], dtype=np.int64)
        for k, v in meta["seconds"].items():
            stage_seconds[k] = stage_seconds.get(k, 0.0) + v
    pool = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    n_retained = len(pool)
    n_dupes = 0
    if len(pool):
        pool = pool.sort_values(["acquisition", "index"], ascending=[False, True], kind="stable")
        before = len(pool)
        pool = pool.drop_duplicates("key", keep="first")
        n_dupes = before - len(pool)
        if spec.coercivity is not None:
            pool = add_coercivity(pool, spec.coercivity)
        pool = _pareto_order(spec, pool, targets)
        pool.insert(0, "rank", np.arange(1, len(pool) + 1))
        pool = pool.reset_index(drop=True)
        if spec.outputs.batch_size and ctx is not None:
            pool["batch"] = select_batch_order(spec, pool, ctx)
    counts = {
        "generated": int(n_generated),
        "passed_constraints": int(n_passed),
        "scored": int(n_passed),
        "retained": int(n_retained),
        "duplicates_across_templates": int(n_dupes),
        "risk_unknown_ranked_last": int(n_risk_unknown),
        "ranked": int(len(pool)),
    }
    return RankedPool(pool, counts, [int(r) for r in removed], stage_seconds)


def with_domain(
    pool: pd.DataFrame, trained: list[TargetModel], tables: list[pd.DataFrame]
) -> pd.DataFrame:
    """Add ``within_training_ranges`` and ``range_note`` (:mod:`mi.runner.domain`).

    A complement to the per-target ``<name>_in_domain`` of :mod:`mi.models.applicability`
    (feature-space distance, unseen elements): names the element whose fraction exceeds every
    training composition and the condition outside its training range.
    """
    if not len(pool):
        return pool
    formulas = pool["formula"].tolist()
    parts: list[list[str]] = [[] for _ in formulas]
    for target, table in zip(trained, tables, strict=True):
        dom = training_domain(table["composition"].tolist(), table, target.conditions)
        for i, note in enumerate(domain_notes(formulas, pool, dom)):
            if note:
                parts[i].append(f"{target.name}: {note}")
    notes = [" | ".join(p) for p in parts]
    return pool.assign(within_training_ranges=[not n for n in notes], range_note=notes)


def write_results(spec: RunSpec, pool: pd.DataFrame, cp: Checkpoint) -> pd.DataFrame:
    """Write ``results.parquet``, ``top.csv`` and ``batch.csv``; return the top-N rows."""
    cp.write_frame(pool, "results.parquet")
    top = pool.head(spec.outputs.top_n).reset_index(drop=True)
    cp.write_frame(top, "top.csv")
    if "batch" in pool.columns:
        cp.write_frame(pool[pool["batch"] > 0].sort_values("batch"), "batch.csv")
    return top

"""Step 5 of a workflow: the screen's shared context and its chunks run on an executor.

:func:`screen_context` is the one place that decides how chunks score (supply-risk date,
incumbent, acquisition settings), for the local run, Dask and the SLURM array tasks alike;
:func:`run_screen` hands the chunks not on disk yet to the executor and checkpoints each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from mi.active import get_acquisition
from mi.criticality import parse_as_of
from mi.runner.candidates import iter_candidate_chunks, template_sizes
from mi.runner.checkpoint import Checkpoint
from mi.runner.executors import ExecutorHandle, run_chunks
from mi.runner.keys import screen_key
from mi.runner.own_data import condition_grid
from mi.runner.progress import Progress
from mi.runner.screen import ChunkTask, ScreenContext, TargetModel, screen_chunk
from mi.runner.spec import RunSpec

__all__ = ["criticality_as_of", "primary_index", "run_screen", "screen_context"]


def primary_index(spec: RunSpec) -> int:
    """Index of the target the acquisition scores (``acquisition.target``, else the first)."""
    names = [t.name for t in spec.targets]
    return names.index(spec.acquisition.target) if spec.acquisition.target else 0


def criticality_as_of(spec: RunSpec, cp: Checkpoint) -> str:
    """Return the supply-risk date of the run: the spec's, else its first day (kept on resume)."""
    if spec.criticality.as_of is not None:
        return parse_as_of(spec.criticality.as_of).isoformat()
    if cp.is_done("criticality_as_of"):
        return str(cp.info("criticality_as_of")["date"])
    date = parse_as_of(None).isoformat()
    cp.mark_done("criticality_as_of", 0.0, date=date)
    return date


def screen_context(
    spec: RunSpec,
    cp: Checkpoint,
    trained: list[TargetModel],
    tables: list[pd.DataFrame],
    progress: Progress,
    *,
    n_jobs: int | None,
) -> tuple[ScreenContext, dict[str, Any]]:
    """Build the :class:`~mi.runner.screen.ScreenContext` every chunk of the screen uses.

    One place for the local run, Dask and the SLURM array tasks, so they score alike: the same
    supply-risk date (the run's, kept in the checkpoints), incumbent and acquisition settings.
    Also returns the training set's supply-risk attributes (date, tables, model) for the
    summary.
    """
    assert spec.candidates is not None
    primary = primary_index(spec)
    criticality = spec.criticality.model_copy(update={"as_of": criticality_as_of(spec, cp)})
    with progress.stage("score training set (criticality)", unit="rows") as st:
        train_scores = criticality.score(tables[primary]["composition"].tolist())
        risk_obs = train_scores[spec.criticality.objective].to_numpy(dtype=np.float64)
        y_obs = tables[primary]["y"].to_numpy(dtype=np.float64)
        ok = np.isfinite(risk_obs) & np.isfinite(y_obs)
        st.done = int(ok.sum())
    acquisition = get_acquisition(spec.acquisition.name, **dict(spec.acquisition.params))
    needed = list(dict.fromkeys(c for t in trained for c in t.conditions))
    ctx = ScreenContext(
        targets=trained,
        constraints=list(spec.constraints),
        criticality=criticality,
        risk_column=spec.criticality.objective,
        acquisition=spec.acquisition.name,
        acquisition_params=dict(spec.acquisition.params),
        acquisition_target=primary,
        y_observed=y_obs[ok],
        risk_observed=risk_obs[ok],
        keep=spec.outputs.keep_per_chunk or spec.outputs.top_n,
        write_all=spec.outputs.write_all,
        seed=spec.seed,
        n_jobs=n_jobs,
        needs_members=bool(acquisition.needs_members),
        condition_grid=condition_grid(dict(spec.candidates.conditions), needed),
    )
    return ctx, dict(train_scores.attrs)


def run_screen(
    spec: RunSpec,
    ctx: ScreenContext,
    handle: ExecutorHandle,
    cp: Checkpoint,
    progress: Progress,
) -> tuple[int, int]:
    """Screen every chunk not on disk yet; return grid points and the workers' memory peak.

    Returns
    -------
    grid_points : int
        Candidates times condition combinations.
    workers_memory_peak : int
        Largest memory of the workers seen between chunks (bytes; 0 in process).
    """
    candidates = spec.candidates
    assert candidates is not None
    grid = ctx.condition_grid
    per_composition = 1 if grid is None else len(grid)
    total = sum(template_sizes(candidates)) * per_composition
    cp.use_chunk_key(screen_key(spec))
    done = cp.done_chunks()
    shared = handle.share(ctx)
    peak_workers = 0

    def tasks() -> Iterator[ChunkTask]:
        for index, matrix, family, start in iter_candidate_chunks(
            candidates, spec.execution.chunk_size
        ):
            if index not in done:
                yield ChunkTask(index, matrix, family, start)

    with progress.stage("screen", total=total, unit="candidates") as st:
        if done:
            st.set_note(f"resumed: {len(done)} chunks from checkpoint")
            for index in done:
                _, meta = cp.read_chunk(index)
                st.update(meta["n_generated"])
        for task, (rows, stats) in run_chunks(handle, screen_chunk, tasks(), shared):
            cp.write_chunk(task.index, rows, stats)
            st.update(stats["n_generated"] * per_composition)
            peak_workers = max(peak_workers, handle.workers_memory())
    return total, peak_workers

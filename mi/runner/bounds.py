"""Work bounds before work: the size of a screen and its memory, from the spec alone.

:func:`estimate_work` reads only the spec (O(number of templates and variables); no grid is
built), so a range step of ``1e-15`` costs nothing to check. :func:`check_work_bounds` compares
the estimate with ``[execution] max_grid_points`` (default :data:`DEFAULT_MAX_GRID_POINTS`,
``mi run --max-grid-points``) and ``[execution] memory_budget_gb`` (default half of this
machine's memory) and fails with one line that says how to raise the limit. ``mi run --check``
and ``mi run`` both call it before anything else touches the candidate space.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from mi.exceptions import SpecError
from mi.runner.spec import DEFAULT_MAX_GRID_POINTS, RunSpec, TemplateSpec

__all__ = [
    "DEFAULT_MAX_GRID_POINTS",
    "WorkEstimate",
    "check_work_bounds",
    "estimate_work",
    "range_count",
    "template_grid_bound",
]

#: Most points of one variable's grid (the same limit as mi.candidates.template, which holds
#: every grid in memory; repeated here so that checking a spec imports nothing).
MAX_RANGE_POINTS = 10_000_000

#: Bytes per candidate row held while one chunk is scored (composition matrix, features,
#: predictions and their copies), per feature / element column.
_BYTES_PER_CELL = 8 * 4
#: Bytes per retained result row (formula, key, scores), measured order of magnitude.
_BYTES_PER_RESULT = 400


def range_count(start: float, stop: float, step: float) -> float:
    """Points of ``[start, stop, step]`` (stop inclusive) as a float; never allocates.

    Examples
    --------
    >>> range_count(0.0, 0.5, 0.05)
    11.0
    """
    if not (math.isfinite(start) and math.isfinite(stop) and math.isfinite(step)) or step <= 0:
        return math.inf
    return float(math.floor((stop - start) / step + 1e-9) + 1)


def template_grid_bound(tpl: TemplateSpec) -> float:
    """Upper bound on a template's grid points: product of variable grids and site choices."""
    total = 1.0
    for start, stop, step in (tuple(r) for r in tpl.ranges.values()):
        total *= range_count(start, stop, step)
    for values in tpl.values.values():
        total *= max(1, len(values))
    for elements in tpl.sites.values():
        total *= max(1, len(elements))
    return total


@dataclass(frozen=True)
class WorkEstimate:
    """What a screen would do, estimated from the spec.

    Attributes
    ----------
    grid_points : float
        Upper bound on candidates generated (``inf`` when unbounded).
    per_template : tuple of float
        The bound of each template.
    largest_range : float
        Most points of any one variable's grid (each grid is held in memory).
    memory_bytes : float
        Estimated peak memory of the screen and the ranking.
    memory_budget_bytes : float
        The budget it is compared with.
    """

    grid_points: float
    per_template: tuple[float, ...]
    largest_range: float
    memory_bytes: float
    memory_budget_bytes: float


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8e9


def estimate_work(spec: RunSpec, n_features: int = 200) -> WorkEstimate:
    """Estimate a screen's size and memory from the spec alone (no grid is built).

    Parameters
    ----------
    spec : RunSpec
        The workflow.
    n_features : int, default 200
        Feature columns per target (the presets' count when known).

    Returns
    -------
    WorkEstimate
    """
    templates = spec.candidates.templates if spec.candidates is not None else []
    per = tuple(template_grid_bound(t) for t in templates)
    total = float(sum(per))
    if spec.candidates is not None and spec.candidates.max_candidates is not None:
        total = min(total, float(spec.candidates.max_candidates))
    largest = max(
        [range_count(*r) for t in templates for r in t.ranges.values()]
        + [float(len(v)) for t in templates for v in t.values.values()]
        + [0.0]
    )
    chunk = min(float(spec.execution.chunk_size), max(total, 1.0))
    columns = 120 + n_features * len(spec.targets)  # element columns + features per target
    workers = 1
    if spec.execution.executor != "local":
        workers = spec.execution.n_jobs or os.cpu_count() or 1
    chunk_bytes = chunk * columns * _BYTES_PER_CELL * workers
    n_chunks = math.ceil(total / max(chunk, 1.0)) if math.isfinite(total) else math.inf
    keep = spec.outputs.keep_per_chunk or spec.outputs.top_n
    retained = total if spec.outputs.write_all else min(total, n_chunks * keep)
    memory = chunk_bytes + retained * _BYTES_PER_RESULT + largest * 8 * 4  # grid + copies
    budget_gb = spec.execution.memory_budget_gb
    budget = budget_gb * 1e9 if budget_gb is not None else 0.5 * _physical_memory()
    return WorkEstimate(total, per, largest, memory, budget)


def _fmt(n: float) -> str:
    return "unbounded" if not math.isfinite(n) else f"{n:,.0f}" if n < 1e12 else f"{n:.3g}"


def check_work_bounds(spec: RunSpec, n_features: int = 200) -> WorkEstimate:
    """Refuse a screen that exceeds its limits, before any work; return the estimate.

    Parameters
    ----------
    spec : RunSpec
        The workflow.
    n_features : int, default 200
        Feature columns per target.

    Returns
    -------
    WorkEstimate

    Raises
    ------
    SpecError
        One line naming the template, the size and how to raise the limit.
    """
    est = estimate_work(spec, n_features)
    limit = spec.execution.max_grid_points
    how = (
        "make the grid coarser (a larger range step) or raise the limit with [execution] "
        "max_grid_points = N in the workflow or `mi run --max-grid-points N`"
    )
    templates = spec.candidates.templates if spec.candidates is not None else []
    for i, (tpl, bound) in enumerate(zip(templates, est.per_template, strict=True)):
        cap = min(limit, MAX_RANGE_POINTS)
        big = [(k, range_count(*r)) for k, r in tpl.ranges.items() if not range_count(*r) <= cap]
        if big:
            name, count = big[0]
            raise SpecError(
                f"candidates.templates[{i}].ranges.{name} = {list(tpl.ranges[name])} has "
                f"{_fmt(count)} points, more than "
                + (
                    f"max_grid_points = {limit:,}; {how}."
                    if cap == limit
                    else f"{cap:,} (one variable's grid); use a larger step."
                )
            )
        if not bound <= limit:  # Template.size would walk a grid this large
            raise SpecError(
                f"candidates.templates[{i}] ({tpl.formula!r}) has up to {_fmt(bound)} grid "
                f"points, more than max_grid_points = {limit:,}; {how}."
            )
    if not est.grid_points <= limit:
        raise SpecError(
            f"candidates: the templates have up to {_fmt(est.grid_points)} grid points in all, "
            f"more than max_grid_points = {limit:,}; {how}."
        )
    if not est.memory_bytes <= est.memory_budget_bytes:
        raise SpecError(
            f"the screen needs an estimated {est.memory_bytes / 1e9:.3g} GB, more than the memory "
            f"budget of {est.memory_budget_bytes / 1e9:.3g} GB; lower [execution] chunk_size or "
            "n_jobs, turn off [outputs] write_all, or raise [execution] memory_budget_gb."
        )
    return est

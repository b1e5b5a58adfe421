"""Quick variants of workflows: the same question at small sizes (a first look, tests, demos)."""

from __future__ import annotations

from typing import Any

from mi.models.registry import get_model_spec
from mi.runner.bounds import template_grid_bound
from mi.runner.spec import RunSpec

__all__ = ["quick_spec"]


def quick_spec(
    spec: RunSpec, max_candidates: int = 5000, max_rows: int = 500, n_estimators: int = 40
) -> RunSpec:
    """Return a fast variant of a workflow for a first look, notebooks and tests.

    Each surrogate trains on at most ``max_rows`` random rows with at most ``n_estimators``
    boosting rounds (3 ensemble members) and 3-fold CV. The candidate grids are coarsened (every
    range step doubled until a template has at most its share of ``max_candidates`` points), so
    the quick screen still covers every family. Datasets, presets, constraints and the
    acquisition are unchanged.

    Parameters
    ----------
    spec : RunSpec
        The full workflow.
    max_candidates, max_rows, n_estimators : int
        Size limits.

    Returns
    -------
    RunSpec
    """
    over: dict[str, Any] = {}
    for i, t in enumerate(spec.targets):
        params = dict(t.model_params)
        for key, limit in (("n_estimators", n_estimators), ("n_members", 3)):
            if key in get_model_spec(t.model).params:
                params[key] = min(int(params.get(key, limit)), limit)
        over[f"targets.{i}.model_params"] = params
        over[f"targets.{i}.max_rows"] = min(t.max_rows or max_rows, max_rows)
        over[f"targets.{i}.cv"] = {**t.cv.model_dump(), "n_splits": 3}
    if spec.candidates is None:
        return spec.with_overrides(**over)
    share = max(1, max_candidates // len(spec.candidates.templates))
    templates = []
    for tpl in spec.candidates.templates:
        ranges = {k: list(v) for k, v in tpl.ranges.items()}
        for _ in range(12):
            candidate = tpl.model_copy(update={"ranges": ranges})
            if not ranges:
                break
            bound = template_grid_bound(candidate)  # O(spec): no grid is built
            if bound <= share or (bound <= 100 * share and candidate.build().size <= share):
                break
            ranges = {k: [a, b, min(2 * c, max(b - a, c))] for k, (a, b, c) in ranges.items()}
        templates.append(tpl.model_copy(update={"ranges": ranges}).model_dump())
    over["candidates.templates"] = templates
    over["candidates.max_candidates"] = min(
        spec.candidates.max_candidates or max_candidates, max_candidates
    )
    over["execution.chunk_size"] = min(spec.execution.chunk_size, max(1000, max_candidates // 4))
    return spec.with_overrides(**over)

"""Headless, resumable screening runs: workflow files in, ranked candidates out.

- :mod:`mi.runner.spec` -- :class:`RunSpec`, the validated, versioned workflow file;
- :mod:`mi.runner.validate` -- registry names checked before any work starts;
- :mod:`mi.runner.executors` -- in-process, process pool, Dask scheduler, dask-jobqueue;
- :mod:`mi.runner.batch` -- SLURM job preambles, job states, lost worker jobs reported/replaced;
- :mod:`mi.runner.array` -- job-array screening: prepare, one shard per task, merge;
- :mod:`mi.runner.checkpoint` -- resumable state in the run's output folder;
- :mod:`mi.runner.progress` -- bars in a terminal, plain lines in job logs, stage timings;
- :mod:`mi.runner.workflow` -- :func:`run_workflow`, composing the steps of
  :mod:`mi.runner.training`, :mod:`mi.runner.screening`, :mod:`mi.runner.results`,
  :mod:`mi.runner.campaign_seed` and :mod:`mi.runner.provenance`;
- :mod:`mi.runner.result` -- :class:`RunResult` and :func:`load_result`.

Dask is imported only inside the executor functions that need it.
"""

from __future__ import annotations

from typing import Any

from mi.runner.spec import RunSpec, load_spec, parse_spec

__all__ = [
    "RunSpec",
    "load_spec",
    "parse_spec",
    "run_workflow",
    "RunResult",
    "load_result",
    "make_executor",
]


def __getattr__(name: str) -> Any:  # lazy: keep ``import mi.runner`` light
    if name == "run_workflow":
        from mi.runner.workflow import run_workflow

        return run_workflow
    if name in {"RunResult", "load_result"}:
        from mi.runner import result

        return getattr(result, name)
    if name == "make_executor":
        from mi.runner.executors import make_executor

        return make_executor
    raise AttributeError(f"module 'mi.runner' has no attribute {name!r}")

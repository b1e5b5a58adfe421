"""What ``mi run`` and ``mi submit`` share: the workflow argument, the size options, the loading.

Both commands read a workflow, apply ``--quick`` and the command-line overrides, and check it
against the registries before any work; the option definitions and that sequence live here
once. Imports only typer at import time (``mi --help`` stays fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mi.runner.spec import RunSpec

__all__ = ["WorkflowArg", "MaxCandidatesOpt", "ChunkSizeOpt", "QuickOpt", "load_checked"]

WorkflowArg = Annotated[
    str, typer.Argument(help="Workflow file (workflows/*.toml) or a built-in workflow's name.")
]
MaxCandidatesOpt = Annotated[
    int | None,
    typer.Option("--max-candidates", help="Screen at most this many candidates (quick runs)."),
]
ChunkSizeOpt = Annotated[int | None, typer.Option("--chunk-size", help="Candidates per chunk.")]
QuickOpt = Annotated[
    bool,
    typer.Option("--quick", help="Small sizes (few training rows, small models, 5000 candidates)."),
]


def load_checked(workflow: str, *, quick: bool, overrides: dict[str, Any]) -> RunSpec:
    """Load a workflow, apply ``--quick`` and the overrides that are set, and check it.

    Parameters
    ----------
    workflow : str
        File or built-in name.
    quick : bool
        Use the quick sizes (:func:`mi.runner.quick.quick_spec`), before the overrides.
    overrides : dict
        Dotted spec key -> value; ``None`` values (options not given) are skipped.

    Returns
    -------
    RunSpec

    Raises
    ------
    SpecError
        Invalid file, override or registry name (one line).
    """
    from mi.runner.quick import quick_spec
    from mi.runner.spec import load_spec
    from mi.runner.validate import check_spec

    spec = load_spec(workflow)
    if quick:
        spec = quick_spec(spec)
    given = {key: value for key, value in overrides.items() if value is not None}
    if given:
        spec = spec.with_overrides(**given)
    check_spec(spec)
    return spec

"""``mi demo --out DIR``: the main job of ``make demo``.

Runs the flagship workflow (``workflows/ndfeb_hree_reduction.toml``) end to end: shows the row
accounting of every dataset it uses, trains and cross-validates the surrogates, screens the
candidates, and prints the top candidates and where the results and the report are. With
``--quick`` it runs the same workflow at small sizes (a first look in about 20 seconds).

The demo cross-validates each surrogate with :data:`DEMO_CV_FOLDS` folds instead of the
workflow's own count (5 for the flagship): the trained surrogates and the candidates are the
same, only the error estimate (and the std recalibration fitted on it) comes from fewer folds,
which halves the run time (``benchmarks/first_hour.py`` measures it). ``--cv-folds 0`` keeps
the workflow's count, as ``mi run`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register", "run_demo", "FLAGSHIP", "DEMO_CV_FOLDS"]

#: The workflow the demo runs.
FLAGSHIP = "ndfeb_hree_reduction"
#: Cross-validation folds of the demo (``--cv-folds``); 0 keeps the workflow's own.
DEMO_CV_FOLDS = 3


def run_demo(
    out: Path,
    workflow: str = FLAGSHIP,
    quick: bool = False,
    show_data: bool = True,
    cv_folds: int = 0,
) -> Any:
    """Run a workflow end to end and print its results and report location.

    Parameters
    ----------
    out : Path
        Output folder (rerunning resumes).
    workflow : str, default "ndfeb_hree_reduction"
        Workflow name or file.
    quick : bool, default False
        Small sizes (see :func:`mi.runner.quick.quick_spec`).
    show_data : bool, default True
        Print each dataset's summary and row accounting first (``mi datasets show NAME``
        lists the rejected rows).
    cv_folds : int, default 0
        Cross-validation folds of every target with CV enabled; 0 keeps the workflow's.

    Returns
    -------
    mi.runner.RunResult
    """
    from mi.cli.run import _print_result
    from mi.runner.progress import Progress
    from mi.runner.quick import quick_spec
    from mi.runner.spec import load_spec
    from mi.runner.validate import check_spec
    from mi.runner.workflow import run_workflow

    spec = load_spec(workflow)
    if quick:
        spec = quick_spec(spec)
    elif cv_folds:
        spec = spec.with_overrides(
            **{
                f"targets.{i}.cv": {**t.cv.model_dump(), "n_splits": cv_folds}
                for i, t in enumerate(spec.targets)
            }
        )
    check_spec(spec)
    typer.echo(f"mi demo: workflow {spec.name!r}{' (quick sizes)' if quick else ''}")
    typer.echo(spec.description)
    if show_data:
        from mi.runner.own_data import target_dataset

        for target in {t.dataset or t.table: t for t in spec.targets}.values():
            typer.echo("")
            for line in target_dataset(target).summary().splitlines():
                typer.echo(line if len(line) <= 160 else line[:157] + "...")
    typer.echo("")
    progress = Progress()
    result = run_workflow(spec, out, progress=progress)
    _print_result(result, progress)
    report = result.report_path
    typer.echo("")
    if report is not None:
        typer.echo(f"Open the report: {report.resolve()}")
    else:
        typer.echo(f"Results are in {Path(out).resolve()} (no report.html was written).")
    return result


def register(app: typer.Typer) -> None:
    """Add ``mi demo`` to the root CLI."""

    @app.command("demo")
    def demo_cmd(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
            "runs/demo"
        ),
        workflow: Annotated[
            str, typer.Option("--workflow", help="Workflow name or file to run.")
        ] = FLAGSHIP,
        quick: Annotated[
            bool, typer.Option("--quick", help="Small sizes: a first look in about 20 seconds.")
        ] = False,
        cv_folds: Annotated[
            int,
            typer.Option(
                "--cv-folds",
                min=0,
                help="Cross-validation folds (same surrogates, fewer folds for the error "
                "estimate); 0: the workflow's own, as mi run.",
            ),
        ] = DEMO_CV_FOLDS,
    ) -> None:
        """Run the flagship workflow end to end; print the top candidates and the report path."""
        run_demo(out, workflow, quick, cv_folds=cv_folds)

"""``mi benchmark discovery``: retrospective active-learning benchmark on the built-in cases."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]

benchmark_app = typer.Typer(
    name="benchmark", help="Benchmarks that print figures (not tests).", no_args_is_help=True
)


@benchmark_app.command("discovery")
def discovery(
    case: Annotated[
        list[str] | None,
        typer.Option(
            "--case", help="Case (repeatable): supercon, expt_gap, expt_gap_50, curie_tc."
        ),
    ] = None,
    quick: Annotated[bool, typer.Option(help="Smoke test: 3 seeds, small budgets.")] = False,
    seeds: Annotated[int | None, typer.Option(help="Seeds per case (default 20).")] = None,
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Worker processes.")] = 1,
) -> None:
    """Hide a dataset's labels and measure how fast acquisitions find its best compositions."""
    from mi.active.cases import run_report

    run_report(case or None, quick=quick, n_seeds=seeds, n_jobs=n_jobs, echo=typer.echo)


def register(app: typer.Typer) -> None:
    """Add ``mi benchmark ...`` to the root app."""
    app.add_typer(benchmark_app, name="benchmark")

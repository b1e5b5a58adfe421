"""``mi benchmark discovery`` (retrospective active learning) and ``mi benchmark accuracy``."""

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


@benchmark_app.command("accuracy")
def accuracy(
    task: Annotated[
        list[str] | None,
        typer.Option(
            "--task",
            help="Task (repeatable), e.g. jarvis_supercon_chem, matbench_expt_gap, "
            "matbench_expt_is_metal, supercon_pos (default: all).",
        ),
    ] = None,
    quick: Annotated[bool, typer.Option(help="Smoke test: small models, subsampled.")] = False,
    loco: Annotated[bool, typer.Option(help="Also leave-one-cluster-out (own tasks).")] = True,
) -> None:
    """Accuracy and interval coverage on the public splits and our own tasks.

    Runs benchmarks/accuracy.py of a source checkout (not shipped in the wheel).
    """
    import subprocess
    import sys
    from pathlib import Path

    from mi.exceptions import ConfigError

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "accuracy.py"
    if not script.is_file():
        raise ConfigError(
            f"mi benchmark accuracy needs a source checkout: {script} not found. Clone the "
            "repository and run it there (or run benchmarks/accuracy.py directly)."
        )
    args = [sys.executable, str(script)]
    if task:
        args += ["--tasks", ",".join(task)]
    if quick:
        args.append("--quick")
    if not loco:
        args.append("--no-loco")
    raise typer.Exit(subprocess.run(args, check=False).returncode)


def register(app: typer.Typer) -> None:
    """Add ``mi benchmark ...`` to the root app."""
    app.add_typer(benchmark_app, name="benchmark")

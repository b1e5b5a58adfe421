"""``mi run FILE --out DIR``: run a workflow file end to end, headless and resumable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mi.cli._workflow import (
    ChunkSizeOpt,
    MaxCandidatesOpt,
    QuickOpt,
    WorkflowArg,
    load_checked,
)

if TYPE_CHECKING:  # the CLI imports the runner only inside the command (fast `mi --help`)
    from mi.report.summary import TargetSummary
    from mi.runner.progress import Progress
    from mi.runner.result import RunResult

__all__ = ["register"]


def run(
    workflow: WorkflowArg,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder; rerunning with the same folder resumes."),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run the screen on a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: the "
            "dask_address setting, env MI_DASK_ADDRESS or the config file).",
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Start Dask workers as batch jobs: slurm or pbs (cores, memory, walltime, "
            "queue from the workflow's execution.cluster table; job logs in OUT/logs).",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Without --scheduler/--cluster: 'local' (this process) or 'process' (a "
            "process pool sized to the CPU quota). Default: the workflow's execution.executor.",
        ),
    ] = None,
    max_candidates: MaxCandidatesOpt = None,
    chunk_size: ChunkSizeOpt = None,
    max_grid_points: Annotated[
        int | None,
        typer.Option(
            "--max-grid-points",
            min=1,
            help="Refuse screens with more candidate grid points than this, before any work "
            "(default: the workflow's execution.max_grid_points, 100,000,000).",
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard the checkpoints in --out and start over.")
    ] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not write report.html.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only validate the workflow (and the scheduler), then exit."),
    ] = False,
    quick: QuickOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Run a workflow: load, featurize, train (+CV), screen candidates in chunks, rank, report."""
    from mi.runner.executors import make_executor
    from mi.runner.progress import Progress
    from mi.runner.workflow import run_workflow

    overrides = {
        "candidates.max_candidates": max_candidates,
        "execution.chunk_size": chunk_size,
        "execution.max_grid_points": max_grid_points,
        "execution.executor": executor,
    }
    spec = load_checked(workflow, quick=quick, overrides=overrides)
    if scheduler is None and cluster is None and executor is None:
        from mi.config import get_settings

        scheduler = get_settings().dask_address
    handle = make_executor(
        spec.execution.executor,
        scheduler=scheduler,
        cluster=cluster,
        cluster_spec=spec.execution.cluster,
        n_jobs=spec.execution.n_jobs,
        log_directory=out / "logs" if cluster else None,
    )
    with handle:
        if check:
            from mi.runner.bounds import estimate_work

            est = estimate_work(spec)
            typer.echo(
                f"{workflow}: valid workflow {spec.name!r}; executor: {handle.description}; "
                f"up to {est.grid_points:,.0f} candidates, about "
                f"{est.memory_bytes / 1e9:.2g} GB"
            )
            return
        progress = Progress(quiet=quiet)
        result = run_workflow(
            spec,
            out,
            handle,
            progress=progress,
            restart=restart,
            report=False if no_report else None,
        )
    _print_result(result, progress)


def _surrogate_line(t: TargetSummary) -> str:
    """One line per surrogate: model, preset, training rows and CV metrics."""
    metrics = ", ".join(f"{k} {v.mean:.3g} +- {v.std:.2g}" for k, v in t.metrics.items())
    return (
        f"  surrogate {t.name} ({t.model}, {t.preset}, {t.n_train} rows of {t.dataset}"
        f"{'; conditions: ' + (', '.join(t.conditions) or 'none') if t.conditions else ''}"
        f"): CV {metrics or 'not run'}"
    )


def _print_result(result: RunResult, progress: Progress) -> None:
    import pandas as pd

    summary = result.summary
    typer.echo("")
    counts = summary.counts
    if counts is None:
        _print_training(result, progress)
        return
    per = counts.conditions_per_composition
    if per > 1:
        typer.echo(
            f"{summary.name}: {counts.generated:,} compositions generated, "
            f"{counts.passed_constraints:,} passed the constraints, each screened at {per} "
            f"processing conditions; {counts.ranked:,} (composition, conditions) ranked"
        )
    else:
        typer.echo(
            f"{summary.name}: {counts.generated:,} candidates generated, "
            f"{counts.passed_constraints:,} passed the constraints, {counts.ranked:,} ranked"
        )
    for con in summary.constraints:
        typer.echo(f"  constraint {con.description}: removed {con.removed:,}")
    for t in summary.targets:
        typer.echo(_surrogate_line(t))
    top = result.top
    show = [
        c
        for c in ["rank", "formula", "family"]
        + list(dict.fromkeys(c for t in summary.targets for c in t.conditions))
        + [f"{t.name}_{s}" for t in summary.targets for s in ("mean", "std")]
        + ["supply_risk", "dytb_mass_fraction", "acquisition", "pareto_rank"]
        if c in top.columns
    ]
    typer.echo("")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        typer.echo(top[show].head(10).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo("")
    typer.echo(progress.summary())
    if summary.worker_seconds:
        typer.echo("")
        typer.echo("screen, per stage (seconds summed over workers; candidates per worker-second):")
        for stage, sec in summary.worker_seconds.items():
            n = counts.generated if stage in ("criticality", "constraints") else counts.scored
            rate = f"{n / sec:>12,.0f}/s" if sec > 0 and n else ""
            typer.echo(f"  {stage:<12} {sec:8.2f}s {rate}")
    out = result.out_dir
    typer.echo("")
    typer.echo(f"results: {out / 'results.parquet'}")
    typer.echo(f"top {len(top)}: {out / 'top.csv'}")
    if (out / "batch.csv").is_file():
        typer.echo(f"next-experiment batch: {out / 'batch.csv'}")
    _print_closing(result)


def _print_closing(result: RunResult) -> None:
    typer.echo(f"summary: {result.out_dir / 'summary.json'}")
    if result.report_path is not None:
        typer.echo(f"report:  {result.report_path}")


def _print_training(result: RunResult, progress: Progress) -> None:
    """Print the closing lines of a train-only workflow: CV per surrogate, model folders."""
    summary = result.summary
    typer.echo(f"{summary.name}: trained {len(summary.targets)} surrogate(s), no screen")
    for t in summary.targets:
        typer.echo(_surrogate_line(t))
        typer.echo(f"    model: {result.out_dir / 'models' / t.name}")
    typer.echo("")
    typer.echo(progress.summary())
    _print_closing(result)


def register(app: typer.Typer) -> None:
    """Add ``mi run`` to the CLI."""
    app.command("run")(run)

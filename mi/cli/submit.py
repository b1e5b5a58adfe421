"""``mi submit FILE --out DIR --array N``: a screen as a SLURM job array; ``mi array``: its jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mi.cli._workflow import (
    ChunkSizeOpt,
    MaxCandidatesOpt,
    QuickOpt,
    WorkflowArg,
    load_checked,
)

__all__ = ["register"]

array_app = typer.Typer(
    help="The jobs `mi submit` writes (prepare, one screen task per shard, merge).",
    no_args_is_help=True,
)


def submit(
    workflow: WorkflowArg,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder on a file system the compute nodes share."),
    ],
    array: Annotated[
        int, typer.Option("--array", min=1, help="Number of array tasks (shards of the screen).")
    ],
    partition: Annotated[
        str | None, typer.Option("--partition", "-p", help="SLURM partition (cluster queue).")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", "-A", help="Account to charge.")
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", "-t", help="Wall time per job, HH:MM:SS.")
    ] = None,
    mem: Annotated[str | None, typer.Option("--mem", help="Memory per job, e.g. 4GB.")] = None,
    cpus: Annotated[
        int | None, typer.Option("--cpus", min=1, help="CPUs per job (--cpus-per-task).")
    ] = None,
    module: Annotated[
        list[str] | None,
        typer.Option("--module", help="Environment module to load in each job (repeatable)."),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="NAME=VALUE exported in each job (repeatable)."),
    ] = None,
    max_candidates: MaxCandidatesOpt = None,
    chunk_size: ChunkSizeOpt = None,
    quick: QuickOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Only write the job scripts (OUT/slurm)."),
    ] = False,
) -> None:
    """Submit a screen as a SLURM job array: prepare, N shard tasks, merge (afterok).

    After a cancelled or failed task, rerun it on the same --out: only what is missing runs.
    """
    from mi.runner.array import submit_array, write_array_scripts

    cluster = {
        "queue": partition,
        "account": account,
        "walltime": time,
        "memory": mem,
        "cores": cpus,
        "modules": module or None,
        "env": _parse_env(env) if env else None,
    }
    overrides = {
        "candidates.max_candidates": max_candidates,
        "execution.chunk_size": chunk_size,
        **{f"execution.cluster.{k}": v for k, v in cluster.items()},
    }
    spec = load_checked(workflow, quick=quick, overrides=overrides)
    if dry_run:
        scripts = write_array_scripts(spec, out, array)
        for role, path in scripts.items():
            typer.echo(f"{role}: {path}")
        typer.echo(
            f"submit: sbatch --parsable {scripts['prepare']}, then sbatch "
            f"--dependency=afterok:<prepare> {scripts['screen']}, then sbatch "
            f"--dependency=afterok:<screen> {scripts['merge']}"
        )
        return
    sub = submit_array(spec, out, array)
    for job in sub.unfinished:
        typer.echo(
            f"earlier {job['role']} job {job['job_id']} did not finish ({job['state']}); "
            f"its log: {job['log']}"
        )
    logs = out.resolve() / "logs"
    if sub.prepare:
        typer.echo(f"prepare: job {sub.prepare}")
    if sub.screen:
        typer.echo(f"screen:  array job {sub.screen}, tasks {','.join(map(str, sub.tasks))}")
    else:
        typer.echo("screen:  every chunk is already on disk")
    typer.echo(f"merge:   job {sub.merge}")
    typer.echo(f"logs:    {logs}; results: {out.resolve() / 'results.parquet'} when merge ends")


def _parse_env(items: list[str]) -> dict[str, str]:
    from mi.exceptions import SpecError

    env = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"--env {item!r}: expected NAME=VALUE")
        env[name] = value
    return env


@array_app.command("prepare")
def _prepare(out: Annotated[Path, typer.Argument(help="The run's folder.")]) -> None:
    """Train the surrogates into the folder's checkpoints (the array's first job)."""
    from mi.runner.array import prepare_models
    from mi.runner.progress import Progress

    prepare_models(out, Progress())


@array_app.command("screen")
def _screen(
    out: Annotated[Path, typer.Argument(help="The run's folder.")],
    task: Annotated[int, typer.Option("--task", help="This task ($SLURM_ARRAY_TASK_ID).")],
    tasks: Annotated[int, typer.Option("--tasks", min=1, help="Size of the array.")],
) -> None:
    """Screen one shard's chunks that are not on disk yet (one array task)."""
    from mi.runner.array import screen_shard
    from mi.runner.progress import Progress

    counts = screen_shard(out, task, tasks, Progress())
    typer.echo(
        f"shard {task}/{tasks}: {counts['screened']} chunks screened "
        f"({counts['candidates']:,} candidates), {counts['skipped']} already on disk"
    )


@array_app.command("merge")
def _merge(out: Annotated[Path, typer.Argument(help="The run's folder.")]) -> None:
    """Check every chunk is on disk, then rank and write the results (the last job)."""
    from mi.runner.array import merge_shards
    from mi.runner.progress import Progress

    result = merge_shards(out, Progress())
    counts = result.counts
    typer.echo(
        f"{result.spec.name}: {counts['generated']:,} candidates generated, "
        f"{counts['ranked']:,} ranked; results: {result.out_dir / 'results.parquet'}"
    )


def register(app: typer.Typer) -> None:
    """Add ``mi submit`` and ``mi array`` to the CLI."""
    app.command("submit")(submit)
    app.add_typer(array_app, name="array")

"""``run_workflow``: a workflow file run end to end, resumable, on any executor.

Steps (each checkpointed in the output folder; a rerun with the same ``--out`` skips what is
done, and the screen resumes at the first unfinished chunk):

1. ``data_<target>``: load the dataset, pick and filter the target, write the training table;
2. ``features_<target>``: featurize the training compositions;
3. ``cv_<target>``: cross-validate the surrogate (metrics, out-of-fold predictions);
4. ``model_<target>``: fit the surrogate on all rows and save it (no pickle)
   (steps 1-4: :mod:`mi.runner.training`, keyed by :mod:`mi.runner.keys`);
5. ``screen``: generate candidates in chunks; per chunk score criticality, apply constraints,
   featurize, predict, acquire, keep the best (:mod:`mi.runner.screening`,
   :func:`mi.runner.screen.screen_chunk`);
6. ``rank``: merge the chunks, drop duplicates, rank, Pareto-rank, write the results
   (:mod:`mi.runner.results`; the campaign: :mod:`mi.runner.campaign_seed`);
7. ``summary.json`` (:mod:`mi.runner.provenance`, :class:`mi.report.summary.RunSummary`) and
   ``report.html`` through :mod:`mi.report`.

This module composes the steps; each lives in its own module.

Output folder::

    summary.json            counts, constraints, CV metrics, datasets (sha256), timings, versions
    results.parquet         every retained candidate, ranked (column ``rank``)
    top.csv                 the top-N table
    batch.csv               a diverse batch for the next experiments (``outputs.batch_size``)
    campaign/state/         an mi.active campaign seeded from the results (campaign_pool)
    cv/<target>_oof.parquet out-of-fold predictions (y_true, y_pred, y_std)
    models/<target>/        the fitted surrogates (mi.models.save_model)
    datasets/<name>_rejected.parquet   rows the data cleaning rejected
    datasets/<name>_audit.parquet      labels the label audit changed or dropped, with the rule
    report.html             the run report (when mi.report is available)
    state.json, spec.json, steps/, chunks/   checkpoints
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mi.exceptions import MIError
from mi.report.summary import CandidateCounts, RunSummary
from mi.runner.campaign_seed import seed_campaign
from mi.runner.checkpoint import Checkpoint
from mi.runner.executors import ExecutorHandle, make_executor
from mi.runner.magnets import TRADEOFF_FILE, dytb_tradeoff
from mi.runner.outdir import lock_out_dir
from mi.runner.progress import Progress
from mi.runner.provenance import ScreenOutcome, screen_summary, training_summary
from mi.runner.result import RunResult, load_result, read_cv_predictions
from mi.runner.results import rank_chunks, with_domain, write_results
from mi.runner.screening import primary_index, run_screen, screen_context
from mi.runner.spec import RunSpec, load_spec
from mi.runner.training import trained_targets
from mi.runner.validate import check_spec

__all__ = ["RunResult", "run_workflow", "load_result"]


def run_workflow(
    spec_or_path: RunSpec | str | Path,
    out_dir: str | Path,
    executor: ExecutorHandle | None = None,
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
    progress: Progress | None = None,
    restart: bool = False,
    report: bool | None = None,
) -> RunResult:
    """Run a workflow end to end; resume from the checkpoints in ``out_dir``.

    Parameters
    ----------
    spec_or_path : RunSpec, str or Path
        A parsed spec, a workflow file, or a built-in workflow's name.
    out_dir : path
        Output folder; rerunning with the same folder resumes.
    executor : ExecutorHandle, optional
        Where chunks run (see :func:`mi.runner.make_executor`); default from ``scheduler`` /
        ``cluster`` / the spec's ``[execution]`` table. A handle passed in is not closed.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``).
    cluster : {"slurm", "pbs"}, optional
        Start workers through dask-jobqueue with the spec's ``[execution.cluster]`` resources.
    progress : Progress, optional
        Progress reporter (default: bars on a terminal, plain lines otherwise, on stderr).
    restart : bool, default False
        Ignore and delete earlier checkpoints in ``out_dir``.
    report : bool, optional
        Write ``report.html`` (default: the spec's ``outputs.report``).

    Returns
    -------
    RunResult

    Raises
    ------
    SpecError
        Invalid workflow (before any work starts).
    SchedulerError
        Unreachable scheduler / cluster (before any work starts).

    Examples
    --------
    >>> result = run_workflow("metal_screen", "runs/metal")  # doctest: +SKIP
    >>> result.top.head()  # doctest: +SKIP
    """
    spec = spec_or_path if isinstance(spec_or_path, RunSpec) else load_spec(spec_or_path)
    check_spec(spec)
    progress = progress or Progress()
    with lock_out_dir(out_dir):  # one writer per output folder, for the whole run
        own_handle = executor is None
        handle = executor or make_executor(
            spec.execution.executor,
            scheduler=scheduler,
            cluster=cluster,
            cluster_spec=spec.execution.cluster,
            n_jobs=spec.execution.n_jobs,
        )
        try:
            return _run(spec, Path(out_dir), handle, progress, restart, report)
        finally:
            if own_handle:
                handle.close()


def _run(
    spec: RunSpec,
    out: Path,
    handle: ExecutorHandle,
    progress: Progress,
    restart: bool,
    report: bool | None,
) -> RunResult:
    cp = Checkpoint(
        out, spec.digest(), spec.model_dump(mode="json"), resume=not restart, workflow=spec.name
    )
    progress.log(f"workflow {spec.name!r} -> {out} on {handle.description}")
    trained, records, tables = trained_targets(
        spec, cp, progress, one_thread=handle.kind != "local"
    )
    want_report = spec.outputs.report if report is None else report
    if spec.candidates is None:  # a train-only job: models, CV and the report
        summary = training_summary(spec, cp, records, progress.timings())
        summary = _write_summary_and_report(summary, cp, progress, want_report)
        empty = pd.DataFrame()
        return RunResult(spec, out, empty, empty, summary, read_cv_predictions(out, spec))

    primary = primary_index(spec)
    ctx, criticality_attrs = screen_context(
        spec, cp, trained, tables, progress, n_jobs=None if handle.kind == "local" else 1
    )
    grid_points, workers_peak = run_screen(spec, ctx, handle, cp, progress)

    with progress.stage("rank and write results", unit="rows") as st:
        ranked = rank_chunks(spec, trained, cp, ctx)
        pool = with_domain(ranked.pool, trained, tables)
        top = write_results(spec, pool, cp)
        st.done = len(pool)
    outcome = ScreenOutcome(
        counts=CandidateCounts(
            grid_points=grid_points,
            conditions_per_composition=1 if ctx.condition_grid is None else len(ctx.condition_grid),
            **ranked.counts,
        ),
        constraints=ranked.constraint_counts(spec),
        n_observed=len(ctx.y_observed),
        criticality_attrs=criticality_attrs,
        worker_seconds=ranked.worker_seconds,
        workers_memory_peak=workers_peak,
    )
    if spec.coercivity is not None:
        with progress.stage("Dy/Tb trade-off", unit="front members") as st:
            tradeoff = dytb_tradeoff(pool, trained, spec.coercivity, ctx.criticality)
            cp.write_frame(tradeoff, TRADEOFF_FILE)
            outcome.tradeoff_file = TRADEOFF_FILE
            st.done = len(tradeoff)
    if spec.outputs.campaign_pool:
        with progress.stage("seed campaign", unit="candidates") as st:
            campaign = seed_campaign(spec, pool, tables[primary], cp.path("campaign"))
            st.done = min(len(pool), spec.outputs.campaign_pool)
            if campaign is not None:
                outcome.campaign = str(campaign.relative_to(out))
                progress.log(
                    f"campaign seeded in {campaign}: continue with `mi campaign suggest "
                    f"{campaign} -n {spec.outputs.batch_size or 8}`"
                )
            else:
                progress.log("campaign not seeded: it needs a regression target")

    summary = screen_summary(
        spec,
        cp,
        records,
        outcome,
        executor=handle.description,
        primary=primary,
        timings=progress.timings(),
    )
    summary = _write_summary_and_report(summary, cp, progress, want_report)
    return RunResult(spec, out, top, pool, summary, read_cv_predictions(out, spec))


def _write_summary_and_report(
    summary: RunSummary, cp: Checkpoint, progress: Progress, want_report: bool
) -> RunSummary:
    """Write summary.json, then report.html (which reads it), then the final timings."""
    summary.write(cp.path("summary.json"))
    if not want_report:
        return summary
    with progress.stage("report"):
        from mi.report import write_report  # matplotlib: only for runs that write a report

        try:
            write_report(cp.out_dir, cp.path("report.html"))
        except MIError as exc:
            progress.log(f"report failed: {exc}")
    summary = summary.model_copy(update={"timings": progress.timings()})
    summary.write(cp.path("summary.json"))
    return summary

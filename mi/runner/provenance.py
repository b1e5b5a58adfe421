"""What a run records about itself: the :class:`~mi.report.summary.RunSummary` it writes.

Built from the workflow, the targets' training records, the ranked pool's counts and the
supply-risk attributes; package versions and dataset hashes make the run reproducible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mi.report.summary import (
    SUMMARY_VERSION,
    AcquisitionRecord,
    CandidateColumns,
    CandidateCounts,
    ConstraintCount,
    CriticalityRecord,
    DatasetRecord,
    OutputPaths,
    RunSummary,
    TargetSummary,
)
from mi.runner.checkpoint import Checkpoint
from mi.runner.own_data import dataset_label
from mi.runner.spec import RunSpec, TargetSpec
from mi.runner.training import TrainingRecord

__all__ = ["ScreenOutcome", "screen_summary", "training_summary", "package_versions"]

#: Packages whose versions a summary records.
_PACKAGES = (
    "mi",
    "numpy",
    "pandas",
    "scikit-learn",
    "xgboost-cpu",
    "matminer",
    "dask",
    "distributed",
    "pymatgen",
)

TrainingRecords = list[tuple[TargetSpec, TrainingRecord]]


def package_versions() -> dict[str, str]:
    """Return the installed versions of mi and the packages a run's numbers depend on."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _target_summaries(records: TrainingRecords) -> list[TargetSummary]:
    return [
        TargetSummary(
            name=t.name,
            dataset=dataset_label(t),
            column=r.column,
            units=r.units,
            task=t.task,
            model=t.model,
            preset=t.preset,
            objective=t.objective,
            conditions=r.conditions,
            transform=r.transform,
            n_train=r.n_train,
            excluded_from_training=r.excluded_from_training,
            cv_method=r.cv.get("protocol"),
            metrics=r.cv.get("metrics", {}),
            pooled=r.cv.get("pooled", {}),
            calibration=r.cv.get("calibration") or r.cv.get("calibration_raw"),
            correction=r.cv.get("correction"),
        )
        for t, r in records
    ]


def _dataset_records(records: TrainingRecords) -> list[DatasetRecord]:
    """Each dataset once, in the order of the targets."""
    return list({r.dataset.name: r.dataset for _, r in records[::-1]}.values())[::-1]


def _header(spec: RunSpec, cp: Checkpoint) -> dict[str, Any]:
    return {
        "version": SUMMARY_VERSION,
        "name": spec.name,
        "description": spec.description,
        "spec_hash": spec.digest(),
        "created": cp.state.get("created"),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": package_versions(),
    }


def training_summary(
    spec: RunSpec, cp: Checkpoint, records: TrainingRecords, timings: dict[str, float]
) -> RunSummary:
    """Return the summary of a train-only run (models and their cross-validation)."""
    return RunSummary(
        **_header(spec, cp),
        train_only=True,
        targets=_target_summaries(records),
        datasets=_dataset_records(records),
        paths=OutputPaths(),
        timings=timings,
    )


@dataclass
class ScreenOutcome:
    """What the screen and the ranking measured, for :func:`screen_summary`.

    Attributes
    ----------
    counts : CandidateCounts
    constraints : list of (str, int)
        Each constraint's description and the candidates it removed.
    n_observed : int
        Training rows the acquisition's incumbent was taken from.
    criticality_attrs : dict
        ``attrs`` of the training set's supply-risk scores (date, tables, model).
    worker_seconds : dict of str to float
        Seconds per chunk stage, summed over the chunks.
    workers_memory_peak : int
        Largest memory of the workers (bytes; 0 in process).
    tradeoff_file, campaign : str, optional
        The Dy/Tb trade-off table and the seeded campaign's state folder, when written.
    """

    counts: CandidateCounts
    constraints: list[tuple[str, int]]
    n_observed: int
    criticality_attrs: dict[str, Any]
    worker_seconds: dict[str, float]
    workers_memory_peak: int
    tradeoff_file: str | None = None
    campaign: str | None = None


def screen_summary(
    spec: RunSpec,
    cp: Checkpoint,
    records: TrainingRecords,
    outcome: ScreenOutcome,
    *,
    executor: str,
    primary: int,
    timings: dict[str, float],
) -> RunSummary:
    """Return the summary of a screening run."""
    first = spec.targets[primary]
    attrs = outcome.criticality_attrs
    return RunSummary(
        **_header(spec, cp),
        executor=executor,
        train_only=False,
        counts=outcome.counts,
        constraints=[ConstraintCount(description=d, removed=n) for d, n in outcome.constraints],
        acquisition=AcquisitionRecord(
            name=spec.acquisition.name,
            target=first.name,
            params=dict(spec.acquisition.params),
            risk=spec.criticality.objective,
            n_observed=outcome.n_observed,
        ),
        coercivity=None if spec.coercivity is None else spec.coercivity.model_dump(mode="json"),
        targets=_target_summaries(records),
        datasets=_dataset_records(records),
        criticality=CriticalityRecord(
            as_of=attrs["as_of"],
            weights=attrs.get("weights"),
            hree_convention=attrs["hree_convention"],
            tables=attrs.get("dated_tables"),
            risk_model=attrs.get("risk_model"),
            unverified_elements=list(attrs.get("unverified_elements") or []),
            notes=list(attrs.get("notes") or []),
        ),
        candidate_columns=CandidateColumns(
            formula="formula",
            objective=f"{first.name}_mean",
            std=f"{first.name}_std",
            risk=spec.criticality.objective,
            color="dytb_mass_fraction",
            front="on_front",
            score="acquisition",
        ),
        worker_seconds=outcome.worker_seconds,
        workers_memory_peak_bytes=outcome.workers_memory_peak,
        paths=OutputPaths(
            results="results.parquet",
            top="top.csv",
            batch="batch.csv" if spec.outputs.batch_size else None,
            dytb_tradeoff=outcome.tradeoff_file,
            campaign=outcome.campaign,
        ),
        timings=timings,
    )

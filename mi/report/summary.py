"""``summary.json``: the record of a finished run, one typed model written and read alike.

The runner writes it (:mod:`mi.runner.provenance` builds it), and :func:`mi.runner.load_result`,
the report and the CLI read it back through :meth:`RunSummary.read`, so a key renamed on one
side fails on the other instead of silently becoming a default. Every model forbids unknown keys.

A summary carries :data:`SUMMARY_VERSION`. A summary without one was written by mi before the
record was typed (same layout): it is converted on read. Anything else that does not validate
(another layout, a newer version, a damaged file) is one :class:`~mi.exceptions.DataError` line
naming the file, the field and the fix (rerun the workflow with the same ``--out``: the
finished steps are read from the checkpoints, so only the summary is written again).

Examples
--------
>>> summary = RunSummary.read("runs/demo/summary.json")  # doctest: +SKIP
>>> summary.counts.generated  # doctest: +SKIP
100774
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mi._atomic import atomic_write_text
from mi.exceptions import DataError

__all__ = [
    "SUMMARY_VERSION",
    "RunSummary",
    "TargetSummary",
    "CorrectionNote",
    "DatasetRecord",
    "CandidateCounts",
    "ConstraintCount",
    "AcquisitionRecord",
    "CriticalityRecord",
    "CandidateColumns",
    "OutputPaths",
    "MetricStats",
]

#: Layout version of ``summary.json``; bump (and convert in :meth:`RunSummary.read`) on change.
SUMMARY_VERSION = 1


class _Record(BaseModel):
    """Strict, immutable base of every part of the summary."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricStats(_Record):
    """One cross-validation metric over the folds."""

    mean: float
    std: float
    n_folds: int


class CorrectionNote(_Record):
    """A physics model's learned correction, kept or dropped on its cross-validated skill."""

    correction: bool
    oof_r2: float
    min_skill: float
    reason: str


class TargetSummary(_Record):
    """A target's surrogate: data, settings and cross-validation."""

    name: str
    dataset: str
    column: str
    units: str
    task: Literal["regression", "classification"]
    model: str
    preset: str
    objective: Literal["maximize", "minimize"]
    conditions: dict[str, str]
    transform: str | None
    n_train: int
    excluded_from_training: dict[str, int]
    cv_method: str | None
    metrics: dict[str, MetricStats]
    pooled: dict[str, float]
    calibration: dict[str, float] | None
    correction: CorrectionNote | None = None


class DatasetRecord(_Record):
    """Provenance and row counts of one dataset the run trained on."""

    name: str
    source: str
    licence: str
    citation: str
    sha256: dict[str, str]
    n_input: int
    n_accepted: int
    n_rejected: int
    n_filtered: int
    n_merged_groups: int
    rejected_file: str | None
    label_audit: list[dict[str, int | str]]
    audit_file: str | None


class CandidateCounts(_Record):
    """Candidates through the screen, stage by stage."""

    grid_points: int
    generated: int
    passed_constraints: int
    scored: int
    retained: int
    duplicates_across_templates: int
    risk_unknown_ranked_last: int
    ranked: int
    conditions_per_composition: int


class ConstraintCount(_Record):
    """A constraint and the candidates it removed (first failing constraint counts)."""

    description: str
    removed: int


class AcquisitionRecord(_Record):
    """The acquisition that scored the candidates."""

    name: str
    target: str
    params: dict[str, Any]
    risk: str
    n_observed: int


class CriticalityRecord(_Record):
    """What the supply-risk scores rest on: date, weights, tables, model."""

    as_of: str
    weights: dict[str, float] | None
    hree_convention: str
    tables: dict[str, str] | None
    risk_model: dict[str, str] | None
    unverified_elements: list[str]
    notes: list[str]


class CandidateColumns(_Record):
    """Which result columns the report plots."""

    formula: str
    objective: str
    std: str
    risk: str
    color: str
    front: str
    score: str


class OutputPaths(_Record):
    """The run's files, relative to its folder (None: not written by this run)."""

    results: str | None = None
    top: str | None = None
    batch: str | None = None
    dytb_tradeoff: str | None = None
    cv: str = "cv/"
    models: str = "models/"
    report: str = "report.html"
    campaign: str | None = None


class RunSummary(_Record):
    """The content of ``summary.json``.

    A train-only run (no ``[candidates]``) has ``train_only`` True and none of the screen's
    fields (their defaults). The writer always writes every field.
    """

    version: int
    name: str
    description: str
    spec_hash: str
    created: str | None
    finished: str
    executor: str | None = None
    train_only: bool = False
    counts: CandidateCounts | None = None
    constraints: list[ConstraintCount] = []
    acquisition: AcquisitionRecord | None = None
    coercivity: dict[str, Any] | None = None
    targets: list[TargetSummary]
    datasets: list[DatasetRecord]
    criticality: CriticalityRecord | None = None
    candidate_columns: CandidateColumns | None = None
    worker_seconds: dict[str, float] = {}
    workers_memory_peak_bytes: int | None = None
    versions: dict[str, str]
    paths: OutputPaths
    timings: dict[str, float]

    def target(self, name: str) -> TargetSummary:
        """Return the summary of target ``name`` (KeyError naming the targets when absent)."""
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(f"no target {name!r} in this run: {[t.name for t in self.targets]}")

    def write(self, path: str | Path) -> Path:
        """Write the summary atomically as indented JSON."""
        return atomic_write_text(Path(path), self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> RunSummary:
        """Read ``summary.json`` (a version-less summary of an earlier mi is converted).

        Raises
        ------
        DataError
            No such file, not JSON, a newer or unknown layout: one line with the fix.
        """
        path = Path(path)
        rerun = (
            f"rerun the workflow with `mi run <workflow> --out {path.parent}` to rewrite it "
            "(finished steps are read from the checkpoints)"
        )
        if not path.is_file():
            raise DataError(
                f"{path.parent} holds no finished run (no summary.json). "
                f"Run `mi run <workflow> --out {path.parent}`."
            )
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: not readable as JSON ({exc}); {rerun}.") from None
        if not isinstance(data, dict):
            raise DataError(f"{path}: not a run summary (a JSON object was expected); {rerun}.")
        version = data.get("version", 0)
        if version == 0:
            data = _from_unversioned(data)
        elif version != SUMMARY_VERSION:
            raise DataError(
                f"{path}: summary version {version!r}, this mi reads version "
                f"{SUMMARY_VERSION}; {'upgrade mi or ' if _newer(version) else ''}{rerun}."
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            shown = "; ".join(
                f"field {'.'.join(str(p) for p in e['loc']) or '(top level)'!r}: {e['msg']}"
                for e in errors[:3]
            )
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise DataError(f"{path}: {shown}{more}; {rerun}.") from None


def _newer(version: Any) -> bool:
    return isinstance(version, int) and version > SUMMARY_VERSION


#: Keys that earlier versions did not write yet, with the value that was then true (no
#: conditions, no row filters, no label audit).
_UNVERSIONED_PARTS: dict[str, dict[str, Any]] = {
    "targets": {"conditions": {}, "transform": None},
    "datasets": {"n_filtered": 0, "n_merged_groups": 0, "label_audit": [], "audit_file": None},
}


def _from_unversioned(data: dict[str, Any]) -> dict[str, Any]:
    """Convert a summary of mi before the typed record (no ``version`` key).

    The layout is the same; train-only runs wrote ``counts = {}``, and keys added later are
    filled with what was true before they existed.
    """
    data = {**data, "version": SUMMARY_VERSION}
    if data.get("counts") == {}:
        data["counts"] = None
    elif isinstance(data.get("counts"), dict):
        data["counts"] = {"conditions_per_composition": 1, **data["counts"]}
    for key, defaults in _UNVERSIONED_PARTS.items():
        if isinstance(data.get(key), list):
            data[key] = [{**defaults, **p} if isinstance(p, dict) else p for p in data[key]]
    return data

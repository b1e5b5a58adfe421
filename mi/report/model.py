"""What a run report shows, as plain data (filled from a run folder or a ``RunResult``).

The renderer (:mod:`mi.report.render`) only reads these objects, so a report can be built from
any source: a finished run folder, an in-memory result, or a test's hand-made tables. Every
field is optional except the title; a section whose data is missing says so in the report
instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ReportData", "TargetReport", "DataReport"]


@dataclass
class TargetReport:
    """Cross-validation results of one surrogate.

    Attributes
    ----------
    name : str
        Target name (``Ms``, ``Tc`` ...).
    dataset : str
        Dataset it was trained on.
    units : str or None
        Units of the target.
    model : str
        Model kind (``xgb_ensemble`` ...).
    metrics : dict
        CV metrics (``MAE``, ``RMSE``, ``R2``, ``coverage_90`` ...), already computed.
    cv_predictions : pandas.DataFrame or None
        Out-of-fold predictions with columns ``y_true``, ``y_pred`` and optionally ``y_std``.
    calibration : pandas.DataFrame or None
        Columns ``expected`` and ``observed`` (coverage of central intervals).
    feature_importance : pandas.Series or None
        Importance per feature name.
    n_train : int or None
        Rows used to train the final model.
    cv_method : str or None
        ``kfold`` or ``loco`` and the number of splits, as text.
    metric_spread : dict
        Standard deviation over folds of each metric (shown as "mean ± std").
    calibration_summary : dict
        Scalar calibration figures (``coverage_68``, ``coverage_95``, ``miscalibration_area``).
    task : str
        ``regression`` or ``classification`` (no parity plot for classifiers).
    objective : str
        ``maximize`` or ``minimize``.
    std_recalibrated : bool
        Whether the screened std was recalibrated on the cross-validation.
    correction : str or None
        For a physics model with a learned correction: whether the correction was kept or
        dropped on its cross-validated skill, and why (:func:`mi.runner.magnets.gate_correction`).
    """

    name: str
    dataset: str = ""
    units: str | None = None
    model: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    cv_predictions: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    feature_importance: pd.Series | None = None
    n_train: int | None = None
    cv_method: str | None = None
    metric_spread: dict[str, float] = field(default_factory=dict)
    calibration_summary: dict[str, float] = field(default_factory=dict)
    task: str = "regression"
    objective: str = "maximize"
    std_recalibrated: bool = False
    correction: str | None = None


@dataclass
class DataReport:
    """Cleaning summary of one dataset.

    Attributes
    ----------
    name : str
        Dataset name.
    n_input : int or None
        Rows read.
    n_accepted : int or None
        Rows kept after cleaning and merging duplicates.
    rejected : pandas.DataFrame or None
        One row per rejected input row (``file``, ``row``, ``column``, ``value``, ``reason``).
    sha256 : dict
        File name to checksum of the data files read.
    source : str
        Source URL or citation.
    licence : str
        Licence text.
    n_rejected : int or None
        Number of rejected rows (when the table itself is not available).
    citation : str
        How to cite the data.
    audit : pandas.DataFrame or None
        Labels the label audit changed or dropped (:data:`mi.data.audit.AUDIT_COLUMNS`).
    audit_counts : list of dict
        Per target and rule: ``changed``, ``dropped``, ``values_dropped``.
    """

    name: str
    n_input: int | None = None
    n_accepted: int | None = None
    rejected: pd.DataFrame | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    source: str = ""
    licence: str = ""
    n_rejected: int | None = None
    citation: str = ""
    audit: pd.DataFrame | None = None
    audit_counts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportData:
    """Everything a run report shows.

    Attributes
    ----------
    title : str
        Report title (the workflow name).
    description : str
        Workflow description.
    created : str
        Time stamp of the run (text).
    spec : dict or None
        The workflow spec as a mapping (shown folded).
    spec_hash : str
        Digest of the spec.
    targets : list of TargetReport
        One per surrogate.
    candidates : pandas.DataFrame or None
        Top-ranked candidates, best first.
    candidate_columns : dict
        Roles of candidate columns: ``formula``, ``objective`` (property column), ``std``,
        ``risk``, ``color`` (Dy+Tb), ``front`` (bool Pareto mask), ``score``.
    pareto_pool : pandas.DataFrame or None
        Candidates drawn in the Pareto figures (default: ``candidates``).
    pareto_views : list of dict
        One Pareto figure each: keys ``name``, ``y`` (column), ``std``, ``front`` (bool
        column of ``pareto_pool``), ``units``. Empty: one figure from ``candidate_columns``.
    n_candidates : dict
        Counts of the screen: ``generated``, ``passed_constraints``, ``scored``.
    constraints : list of str
        Descriptions of the constraints applied.
    data : list of DataReport
        Cleaning summary per dataset.
    element_criticality : pandas.DataFrame or None
        Element table (``element`` and ``supply_risk`` columns) for the periodic table.
    discovery : pandas.DataFrame or None
        Benchmark history for discovery curves (``strategy``, ``seed``, ``n_evaluated``,
        ``best``).
    tradeoff : pandas.DataFrame or None
        Magnet screens: each Dy/Tb-holding Pareto-front member beside its Dy/Tb-free neighbour
        (``dytb_tradeoff.csv``, :func:`mi.runner.magnets.dytb_tradeoff`).
    timings : dict
        Stage name to seconds.
    versions : dict
        Package name to version.
    notes : list of str
        Warnings and remarks to show at the top.
    extra : dict
        Anything else worth recording (executor, acquisition settings); shown in provenance.
    picks : pandas.DataFrame or None
        What to make next: the batch (``batch.csv``, in pick order) or, without a batch, the
        best-ranked rows; every result column (predictions, novelty and domain flags).
    picks_kind : str
        ``"batch"`` or ``"top"``.
    """

    title: str
    description: str = ""
    created: str = ""
    spec: dict[str, Any] | None = None
    spec_hash: str = ""
    targets: list[TargetReport] = field(default_factory=list)
    candidates: pd.DataFrame | None = None
    candidate_columns: dict[str, str] = field(default_factory=dict)
    pareto_pool: pd.DataFrame | None = None
    pareto_views: list[dict[str, str]] = field(default_factory=list)
    n_candidates: dict[str, int] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)
    data: list[DataReport] = field(default_factory=list)
    element_criticality: pd.DataFrame | None = None
    discovery: pd.DataFrame | None = None
    tradeoff: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    picks: pd.DataFrame | None = None
    picks_kind: str = ""

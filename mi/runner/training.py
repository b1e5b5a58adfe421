"""Steps 1-4 of a workflow for each target: training table, features, cross-validation, model.

Each step is checkpointed under the key of :mod:`mi.runner.keys`; a rerun reads what is done.
:func:`trained_targets` hands the screen one :class:`~mi.runner.screen.TargetModel` per target,
the same for the local run, Dask and the SLURM array tasks.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from mi.data.targets import target_rows
from mi.exceptions import MIError, SpecError, did_you_mean
from mi.features import featurize
from mi.models import CalibratedRegressor, evaluate, load_model, save_model
from mi.models.applicability import ApplicabilityDomain
from mi.models.registry import get_model_spec
from mi.report.summary import DatasetRecord
from mi.runner.checkpoint import Checkpoint
from mi.runner.domain import training_domain
from mi.runner.keys import calibrates, target_keys
from mi.runner.magnets import gate_correction
from mi.runner.own_data import dataset_label, target_dataset, with_conditions
from mi.runner.progress import Progress
from mi.runner.screen import TargetModel
from mi.runner.spec import RunSpec, TargetSpec

__all__ = [
    "TrainingData",
    "TrainingRecord",
    "load_training",
    "make_model",
    "set_threads",
    "train_target",
    "trained_targets",
]


class TrainingRecord(BaseModel):
    """What the data step records about one target (checkpointed; feeds ``summary.json``).

    ``cv`` is the cross-validation's result (:meth:`mi.models.CVResult.to_dict` plus
    ``protocol``), empty until step 3 ran or when it is disabled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: DatasetRecord
    column: str
    units: str
    transform: str | None
    conditions: dict[str, str]
    n_dataset_rows: int
    n_train: int
    excluded_from_training: dict[str, int]
    cv: dict[str, Any] = {}


@dataclass
class TrainingData:
    """The training table of one target, its record and the rows set aside.

    Attributes
    ----------
    table : pandas.DataFrame
        ``composition``, the dataset's condition columns, ``y``.
    record : TrainingRecord
    rejected : pandas.DataFrame
        Rows the data cleaning rejected (written to the record's ``rejected_file``).
    audit : pandas.DataFrame
        Labels the label audit changed or dropped (written to its ``audit_file``).
    """

    table: pd.DataFrame
    record: TrainingRecord
    rejected: pd.DataFrame
    audit: pd.DataFrame


def load_training(target: TargetSpec, seed: int) -> TrainingData:
    """Return the training table (composition, conditions, y) of one target and its record."""
    ds = target_dataset(target)
    column = target.column or (ds.targets[0] if ds.targets else None)
    if column is None or column not in ds.df.columns:
        choices = list(ds.targets)
        raise SpecError(
            f"targets: column = {column!r} is not a target of dataset {dataset_label(target)!r}. "
            f"Choices: {', '.join(choices)}.{did_you_mean(column, choices)}"
        )
    df = ds.df
    rows = target_rows(
        df,
        column,
        positive=target.positive,
        classification=target.task == "classification",
        min_value=target.min_value,
        max_value=target.max_value,
    )
    keep, dropped = rows.keep, dict(rows.excluded)
    table = pd.DataFrame({"composition": df[ds.composition_col].astype(str).to_numpy()[keep]})
    for cond in ds.conditions:
        table[cond] = df[cond].to_numpy(dtype=float)[keep]
    table["y"] = rows.y[keep]
    if target.max_rows is not None and len(table) > target.max_rows:
        dropped["random subset (max_rows)"] = len(table) - target.max_rows
        table = table.sample(n=target.max_rows, random_state=seed).sort_index()
        table = table.reset_index(drop=True)
    report, label = ds.report, dataset_label(target)
    dataset = DatasetRecord(
        name=ds.meta.name,
        source=ds.meta.source,
        licence=ds.meta.licence,
        citation=ds.meta.citation,
        sha256=dict(ds.meta.sha256),
        n_input=report.n_input,
        n_accepted=report.n_accepted,
        n_rejected=len(report.rejected),
        n_filtered=report.n_filtered,
        n_merged_groups=report.n_merged_groups,
        rejected_file=f"datasets/{label}_rejected.parquet" if len(report.rejected) else None,
        label_audit=report.audit_summary(),
        audit_file=f"datasets/{label}_audit.parquet" if len(report.audit) else None,
    )
    record = TrainingRecord(
        dataset=dataset,
        column=column,
        units=ds.meta.units.get(column, ""),
        transform=ds.meta.transforms.get(column),
        conditions={c: ds.meta.conditions[c] for c in ds.conditions},
        n_dataset_rows=len(df),
        n_train=len(table),
        excluded_from_training=dropped,
    )
    return TrainingData(table, record, report.rejected, report.audit)


def make_model(target: TargetSpec, seed: int) -> Any:
    """Return the unfitted surrogate of one target (its ``random_state`` set to ``seed``)."""
    model = get_model_spec(target.model)
    params = dict(target.model_params)
    if calibrates(target) and "calibration" in model.params:
        # the std is calibrated once, on this workflow's grouped cross-validation (not also
        # out-of-bag inside the model)
        params.setdefault("calibration", "none")
    return model.build(params, random_state=seed)


def set_threads(model: Any, n_jobs: int) -> None:
    """Set prediction threads of a fitted model (and its xgboost members)."""
    for obj in [model, *getattr(model, "members_", [])]:
        if hasattr(obj, "set_params") and "n_jobs" in obj.get_params(deep=False):
            obj.set_params(n_jobs=n_jobs)
    inner = getattr(model, "model_", None) or getattr(model, "estimator_", None)
    if inner is not None and inner is not model:
        set_threads(inner, n_jobs)


def _load_model(path: Path) -> Any | None:
    """Return the saved model, or None when it is missing or unreadable (the step is redone)."""
    if not path.exists():
        return None
    try:
        return load_model(path)
    except (MIError, OSError, ValueError):
        return None


def _calibrated(model: Any, target: TargetSpec, cp: Checkpoint) -> Any:
    """Wrap ``model`` so its std is recalibrated on the cross-validation's out-of-fold rows."""
    if not calibrates(target):
        return model
    path = cp.path("cv", f"{target.name}_oof.parquet")
    oof = pd.read_parquet(path) if path.exists() else None
    if oof is None or "y_std" not in oof.columns:
        return model  # a model without uncertainty: nothing to calibrate
    oof = oof[oof["fold"].notna()]
    return CalibratedRegressor.from_out_of_fold(
        model,
        oof["y_true"].to_numpy(float),
        oof["y_pred"].to_numpy(float),
        oof["y_std"].to_numpy(float),
        method=target.cv.calibration,
        cv=target.cv.n_splits,
    )


def _checkpointed_record(cp: Checkpoint, step: str, key: str) -> TrainingRecord | None:
    """Return the data step's record if it is done under ``key``, else None.

    A record this version cannot read (an earlier layout) redoes the data step only: the later
    steps' keys are unchanged, so their checkpoints are kept.
    """
    if not cp.is_done(step, key):
        return None
    try:
        return TrainingRecord.model_validate(cp.read_json(step, "record"))
    except (ValidationError, OSError, ValueError):
        return None


def _data_step(
    spec: RunSpec, target: TargetSpec, cp: Checkpoint, progress: Progress, key: str
) -> tuple[pd.DataFrame, TrainingRecord]:
    """Step 1: the training table and its record (rejected and audited rows written aside)."""
    step = f"data_{target.name}"
    with progress.stage(f"load {target.name} ({dataset_label(target)})") as st:
        record = _checkpointed_record(cp, step, key)
        if record is not None:
            table = cp.read_table(step, "train")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            data = load_training(target, spec.seed)
            table, record = data.table, data.record
            if record.dataset.rejected_file:
                rejected = data.rejected.copy()
                for col in rejected.columns:
                    if rejected[col].dtype == object:
                        rejected[col] = rejected[col].astype(str)
                cp.write_frame(rejected, record.dataset.rejected_file)
            if record.dataset.audit_file:
                cp.write_frame(data.audit, record.dataset.audit_file)
            cp.write_table(step, "train", table)
            cp.write_json(step, "record", record.model_dump(mode="json"))
            cp.mark_done(step, time.perf_counter() - t0, key, rows=len(table))
        st.done = len(table)
        st.unit = "rows"
    return table, record


def _features_step(
    target: TargetSpec,
    table: pd.DataFrame,
    conditions: list[str],
    cp: Checkpoint,
    progress: Progress,
    key: str,
) -> pd.DataFrame:
    """Step 2: the training features (conditions appended as the last columns)."""
    step = f"features_{target.name}"
    with progress.stage(f"featurize {target.name} ({target.preset})", unit="rows") as st:
        if cp.is_done(step, key):
            X = cp.read_table(step, "X")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            X = featurize(table["composition"].tolist(), preset=target.preset, progress=False)
            X.columns = [str(c) for c in X.columns]
            X = with_conditions(X, table, conditions)
            cp.write_table(step, "X", X)
            cp.mark_done(step, time.perf_counter() - t0, key, columns=X.shape[1])
        st.done = len(X)
    return X


def _cv_step(
    spec: RunSpec,
    target: TargetSpec,
    table: pd.DataFrame,
    X: pd.DataFrame,
    cp: Checkpoint,
    progress: Progress,
    key: str,
) -> dict[str, Any]:
    """Step 3: cross-validation metrics (out-of-fold rows in ``cv/<target>_oof.parquet``)."""
    if not target.cv.enabled:
        return {}
    step = f"cv_{target.name}"
    total = target.cv.n_splits
    with progress.stage(f"cross-validate {target.name}", total=total, unit="folds") as st:
        if cp.is_done(step, key):
            cv = cp.read_json(step, "cv")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            result = evaluate(
                make_model(target, spec.seed),
                X,
                table["y"].to_numpy(),
                groups=table["composition"].to_numpy(),
                cv=target.cv.method,
                n_splits=target.cv.n_splits,
                random_state=spec.seed,
                calibration=None if target.cv.calibration == "none" else target.cv.calibration,
                progress=st.update,
            )
            cv = result.to_dict()
            cv["protocol"] = result.protocol
            oof = result.oof
            if target.task == "classification":
                pcol = "proba_1" if "proba_1" in oof.columns else oof.columns[-2]
                frame = pd.DataFrame({"y_true": oof["y"], "y_pred": oof[pcol]})
            else:
                frame = pd.DataFrame({"y_true": oof["y"], "y_pred": oof["mean"]})
                if "std" in oof.columns:
                    frame["y_std"] = oof["std"]
                if "std_calibrated" in oof.columns:
                    frame["y_std_calibrated"] = oof["std_calibrated"]
            frame.insert(0, "composition", table["composition"].to_numpy())
            frame["fold"] = oof["fold"].to_numpy()
            cp.write_frame(frame, "cv", f"{target.name}_oof.parquet")
            cp.write_json(step, "cv", cv)
            cp.mark_done(step, time.perf_counter() - t0, key)
        st.done = int(cv.get("n_folds", target.cv.n_splits))
        metrics = cv.get("metrics", {})
        progress.log(
            f"{target.name} CV ({cv.get('protocol', target.cv.method)}): "
            + ", ".join(f"{k} {v['mean']:.4g} +- {v['std']:.2g}" for k, v in metrics.items())
        )
    return cv


def _model_step(
    spec: RunSpec,
    model: Any,
    target: TargetSpec,
    table: pd.DataFrame,
    X: pd.DataFrame,
    record: TrainingRecord,
    cv: dict[str, Any],
    cp: Checkpoint,
    progress: Progress,
    key: str,
) -> Any:
    """Step 4: ``model`` fitted on every row, saved with its card (no pickle)."""
    step = f"model_{target.name}"
    model_path = cp.path("models", target.name)
    y = table["y"].to_numpy()
    conditions = list(record.conditions)
    with progress.stage(f"train {target.name} ({target.model})", unit="rows") as st:
        saved = _load_model(model_path) if cp.is_done(step, key) else None
        if saved is not None:
            model = saved
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            model.fit(X, y)
            model = _calibrated(model, target, cp)
            card = {
                "target": target.name,
                "task": target.task,
                "dataset": {
                    "name": dataset_label(target),
                    "column": record.column,
                    "units": record.units,
                    "sha256": record.dataset.sha256,
                    "n_train": len(y),
                },
                "conditions": record.conditions,
                "transform": record.transform,
                "domain": training_domain(table["composition"].tolist(), table, conditions),
                "preset": target.preset,
                "feature_names": list(X.columns),
                "metrics": cv.get("metrics", {}),
                "workflow": spec.name,
                "workflow_model": target.model,
                "std_calibration": (  # the CV's map, or the model's own out-of-bag one
                    None
                    if getattr(model, "calibrator_", None) is None
                    else model.calibrator_.to_dict()
                ),
            }
            # a model left by an interrupted save or by an earlier version of the step goes
            shutil.rmtree(model_path, ignore_errors=True)
            save_model(model, model_path, card=card)
            # the training inputs, so `mi predict` can fit the applicability domain
            train = pd.concat(
                [table[["composition"]].reset_index(drop=True), X.reset_index(drop=True)], axis=1
            )
            train.to_parquet(model_path / "training.parquet", index=False)
            cp.mark_done(step, time.perf_counter() - t0, key, saved=True)
        st.done = len(y)
    return model


def train_target(
    spec: RunSpec, target: TargetSpec, cp: Checkpoint, progress: Progress
) -> tuple[Any, list[str], pd.DataFrame, TrainingRecord]:
    """Run steps 1-4 for one target; return model, feature columns, training table, record.

    The record is the data step's, with the cross-validation's result as ``cv``.
    """
    keys = target_keys(spec, target)
    table, record = _data_step(spec, target, cp, progress, keys["data"])
    X = _features_step(target, table, list(record.conditions), cp, progress, keys["features"])
    cv = _cv_step(spec, target, table, X, cp, progress, keys["cv"])
    # a physics model's learned correction is kept or dropped on its cross-validated skill
    model, note = gate_correction(make_model(target, spec.seed), cv)
    if note is not None:
        cv = dict(cv, correction=note)
        progress.log(f"{target.name}: {note['reason']}")
    model = _model_step(spec, model, target, table, X, record, cv, cp, progress, keys["model"])
    return model, list(X.columns), table, record.model_copy(update={"cv": cv})


def _fit_domain(
    target: TargetSpec,
    table: pd.DataFrame,
    columns: list[str],
    cp: Checkpoint,
    record: TrainingRecord,
) -> ApplicabilityDomain:
    """Applicability domain of one target: its training compositions and features.

    Compounds whose labels the label audit dropped still exist: they count as known.
    """
    X = cp.read_table(f"features_{target.name}", "X")[columns]
    known: list[str] = []
    if record.dataset.audit_file:
        audit = pd.read_parquet(cp.path(record.dataset.audit_file))
        dropped = (audit["action"] == "dropped") & (audit["target"] == record.column)
        known = audit.loc[dropped, "composition"].astype(str).tolist()
    return ApplicabilityDomain().fit(table["composition"].tolist(), X.to_numpy(), known=known)


def trained_targets(
    spec: RunSpec, cp: Checkpoint, progress: Progress, *, one_thread: bool = False
) -> tuple[list[TargetModel], list[tuple[TargetSpec, TrainingRecord]], list[pd.DataFrame]]:
    """Train (or read from the checkpoints) every target's surrogate for the screen.

    Returns the :class:`~mi.runner.screen.TargetModel` of each target, its training record and
    its training table. ``one_thread`` sets prediction threads to 1 (remote workers).
    """
    trained, records, tables = [], [], []
    for target in spec.targets:
        model, columns, table, record = train_target(spec, target, cp, progress)
        if one_thread:
            set_threads(model, 1)
        trained.append(
            TargetModel(
                name=target.name,
                task=target.task,
                maximize=target.objective == "maximize",
                preset=target.preset,
                columns=columns,
                model=model,
                conditions=list(record.conditions),
                transform=record.transform,
                domain=_fit_domain(target, table, columns, cp, record),
            )
        )
        records.append((target, record))
        tables.append(table)
    return trained, records, tables

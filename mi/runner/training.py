"""Steps 1-4 of a workflow for each target: training table, features, cross-validation, model.

Each step is checkpointed under the key of :mod:`mi.runner.keys`; a rerun reads what is done.
:func:`trained_targets` hands the screen one :class:`~mi.runner.screen.TargetModel` per target,
the same for the local run, Dask and the SLURM array tasks.
"""

from __future__ import annotations

import inspect
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mi.data.targets import target_rows
from mi.exceptions import MIError, SpecError, closest_names
from mi.features import featurize
from mi.models import CalibratedRegressor, evaluate, load_model, save_model
from mi.models.applicability import ApplicabilityDomain
from mi.runner.checkpoint import Checkpoint
from mi.runner.domain import training_domain
from mi.runner.keys import calibrates, target_keys
from mi.runner.own_data import dataset_label, target_dataset, with_conditions
from mi.runner.progress import Progress
from mi.runner.screen import TargetModel
from mi.runner.spec import RunSpec, TargetSpec
from mi.runner.validate import model_class

__all__ = [
    "TrainingData",
    "load_training",
    "make_model",
    "set_threads",
    "train_target",
    "trained_targets",
]


@dataclass
class TrainingData:
    """The training table of one target and what the data step records about it.

    Attributes
    ----------
    table : pandas.DataFrame
        ``composition``, the dataset's condition columns, ``y``.
    record : dict
        The dataset's provenance and row counts (checkpointed; feeds ``summary.json``).
    rejected : pandas.DataFrame or None
        Rows the data cleaning rejected.
    audit : pandas.DataFrame or None
        Labels the label audit changed or dropped.
    """

    table: pd.DataFrame
    record: dict[str, Any]
    rejected: pd.DataFrame | None
    audit: pd.DataFrame | None


def load_training(target: TargetSpec, seed: int) -> TrainingData:
    """Return the training table (composition, conditions, y) of one target and its record."""
    ds = target_dataset(target)
    column = target.column or (ds.targets[0] if ds.targets else None)
    if column is None or column not in ds.df.columns:
        choices = list(ds.targets)
        close = closest_names(str(column), choices)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"targets: column = {column!r} is not a target of dataset {dataset_label(target)!r}. "
            f"Choices: {', '.join(choices)}.{hint}"
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
    report = ds.report
    record = {
        "name": ds.meta.name,
        "column": column,
        "units": ds.meta.units.get(column, ""),
        "source": ds.meta.source,
        "licence": ds.meta.licence,
        "citation": ds.meta.citation,
        "sha256": dict(ds.meta.sha256),
        "n_input": int(report.n_input),
        "n_accepted": int(report.n_accepted),
        "n_rejected": int(len(report.rejected)),
        "n_dataset_rows": len(df),
        "n_train": len(table),
        "excluded_from_training": dropped,
        "conditions": {c: ds.meta.conditions[c] for c in ds.conditions},
        "transform": ds.meta.transforms.get(column),
        "n_filtered": int(report.n_filtered),
        "n_merged_groups": int(report.n_merged_groups),
        "label_audit": report.audit_summary(),
    }
    return TrainingData(table, record, report.rejected, report.audit)


def make_model(target: TargetSpec, seed: int) -> Any:
    """Return the unfitted surrogate of one target (its ``random_state`` set to ``seed``)."""
    cls = model_class(target.model)
    params = dict(target.model_params)
    accepted = inspect.signature(cls).parameters
    if "random_state" in accepted and "random_state" not in params:
        params["random_state"] = seed
    if calibrates(target) and "calibration" in accepted and "calibration" not in params:
        # the std is calibrated once, on this workflow's grouped cross-validation (not also
        # out-of-bag inside the model)
        params["calibration"] = "none"
    return cls(**params)


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


def _data_step(
    spec: RunSpec, target: TargetSpec, cp: Checkpoint, progress: Progress, key: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Step 1: the training table and its record (rejected and audited rows written aside)."""
    step = f"data_{target.name}"
    label = dataset_label(target)
    with progress.stage(f"load {target.name} ({label})") as st:
        if cp.is_done(step, key):
            table = cp.read_table(step, "train")
            record = cp.read_json(step, "record")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            data = load_training(target, spec.seed)
            table, record = data.table, data.record
            if data.rejected is not None and len(data.rejected):
                rejected = data.rejected.copy()
                for col in rejected.columns:
                    if rejected[col].dtype == object:
                        rejected[col] = rejected[col].astype(str)
                cp.write_frame(rejected, "datasets", f"{label}_rejected.parquet")
            if data.audit is not None and len(data.audit):
                cp.write_frame(data.audit, "datasets", f"{label}_audit.parquet")
            cp.write_table(step, "train", table)
            cp.write_json(step, "record", record)
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
    target: TargetSpec,
    table: pd.DataFrame,
    X: pd.DataFrame,
    record: dict[str, Any],
    cv: dict[str, Any],
    cp: Checkpoint,
    progress: Progress,
    key: str,
) -> Any:
    """Step 4: the surrogate fitted on every row, saved with its card (no pickle)."""
    step = f"model_{target.name}"
    model_path = cp.path("models", target.name)
    y = table["y"].to_numpy()
    conditions = list(record.get("conditions", {}))
    with progress.stage(f"train {target.name} ({target.model})", unit="rows") as st:
        model = _load_model(model_path) if cp.is_done(step, key) else None
        if model is not None:
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            model = make_model(target, spec.seed)
            model.fit(X, y)
            model = _calibrated(model, target, cp)
            card = {
                "target": target.name,
                "task": target.task,
                "dataset": {
                    "name": dataset_label(target),
                    "column": record.get("column"),
                    "units": record.get("units"),
                    "sha256": record.get("sha256", {}),
                    "n_train": len(y),
                },
                "conditions": record.get("conditions", {}),
                "transform": record.get("transform"),
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
) -> tuple[Any, list[str], pd.DataFrame, dict[str, Any]]:
    """Run steps 1-4 for one target; return model, feature columns, training table, record.

    The record is the data step's, with the cross-validation's result under ``"cv"``.
    """
    keys = target_keys(spec, target)
    table, record = _data_step(spec, target, cp, progress, keys["data"])
    conditions = list(record.get("conditions", {}))
    X = _features_step(target, table, conditions, cp, progress, keys["features"])
    cv = _cv_step(spec, target, table, X, cp, progress, keys["cv"])
    model = _model_step(spec, target, table, X, record, cv, cp, progress, keys["model"])
    return model, list(X.columns), table, {**record, "cv": cv}


def _fit_domain(
    target: TargetSpec,
    table: pd.DataFrame,
    columns: list[str],
    cp: Checkpoint,
    record: dict[str, Any],
) -> ApplicabilityDomain:
    """Applicability domain of one target: its training compositions and features.

    Compounds whose labels the label audit dropped still exist: they count as known.
    """
    X = cp.read_table(f"features_{target.name}", "X")[columns]
    known: list[str] = []
    audit_path = cp.path("datasets", f"{dataset_label(target)}_audit.parquet")
    if audit_path.is_file():
        audit = pd.read_parquet(audit_path)
        dropped = (audit["action"] == "dropped") & (audit["target"] == record.get("column"))
        known = audit.loc[dropped, "composition"].astype(str).tolist()
    return ApplicabilityDomain().fit(table["composition"].tolist(), X.to_numpy(), known=known)


def trained_targets(
    spec: RunSpec, cp: Checkpoint, progress: Progress, *, one_thread: bool = False
) -> tuple[list[TargetModel], list[tuple[TargetSpec, dict[str, Any]]], list[pd.DataFrame]]:
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
                conditions=list(record.get("conditions", {})),
                transform=record.get("transform"),
                domain=_fit_domain(target, table, columns, cp, record),
            )
        )
        records.append((target, record))
        tables.append(table)
    return trained, records, tables

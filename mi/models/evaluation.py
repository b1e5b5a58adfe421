"""Cross-validation of surrogates with leakage-safe splits and fold-wise metrics.

``evaluate(model, X, y, groups=..., cv="kfold")`` keeps each group (e.g. a canonical
composition key) inside one fold; ``cv="loco"`` holds out one k-means cluster at a time
(Meredig et al. 2018). Metrics are reported as mean +- std over folds; for regressors with an
uncertainty the out-of-fold predictions are also pooled into a calibration report, both raw and
recalibrated by cross-fitting (each fold's calibration map fitted on the other folds).
"""

from __future__ import annotations

import inspect
import math
import numbers
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

from mi._progress import ProgressArg, StageProgress
from mi.exceptions import ModelError
from mi.models.calibration import (
    CalibrationReport,
    calibration_report,
    cross_fit_calibration,
    get_calibrator,
)
from mi.models.splits import GroupedKFold, LeaveOneClusterOut

__all__ = ["EvaluationResult", "evaluate", "regression_metrics", "classification_metrics"]


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MAE, RMSE and R^2 of one set of predictions."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    r2 = r2_score(y_true, y_pred) if y_true.size > 1 else math.nan
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(np.mean((y_true - y_pred) ** 2))),
        "r2": float(r2),
    }


def classification_metrics(y_true: Any, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """ROC-AUC (one-vs-rest for multiclass; NaN when the fold holds one class), accuracy, F1."""
    y_true = np.asarray(y_true)
    pred = classes[np.argmax(proba, axis=1)]
    present = np.unique(y_true)
    if present.size < 2:
        auc = math.nan
    elif classes.size == 2:
        auc = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    else:
        auc = float(roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
    if classes.size == 2:
        f1 = float(f1_score(y_true, pred, pos_label=classes[1], zero_division=0.0))
    else:
        f1 = float(f1_score(y_true, pred, average="macro", zero_division=0.0))
    return {"roc_auc": auc, "accuracy": float(accuracy_score(y_true, pred)), "f1": f1}


@dataclass
class EvaluationResult:
    """Outcome of :func:`evaluate`.

    Attributes
    ----------
    task : {"regression", "classification"}
        Kind of model.
    protocol : str
        Human-readable description of the splits.
    folds : DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, the metrics, ``fit_seconds``.
    oof : DataFrame
        Out-of-fold predictions, one row per input row (NaN where a row was never tested):
        ``y``, ``fold`` and ``mean``/``std``/``std_calibrated`` (regression) or ``proba_<class>``
        and ``pred`` (classification).
    calibration_raw, calibration : CalibrationReport or None
        Pooled out-of-fold calibration of the raw and the cross-fit recalibrated std.
    calibration_method : str or None
        Name of the calibrator used for ``calibration``.
    """

    task: str
    protocol: str
    folds: pd.DataFrame
    oof: pd.DataFrame
    calibration_raw: CalibrationReport | None = None
    calibration: CalibrationReport | None = None
    calibration_method: str | None = None
    metric_names: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, dict[str, float]]:
        """Return ``{metric: {"mean", "std", "n_folds"}}`` over folds (NaN folds skipped)."""
        out = {}
        for name in self.metric_names:
            values = self.folds[name].to_numpy(dtype=np.float64)
            ok = values[~np.isnan(values)]
            out[name] = {
                "mean": float(ok.mean()) if ok.size else math.nan,
                "std": float(ok.std(ddof=1)) if ok.size > 1 else math.nan,
                "n_folds": int(ok.size),
            }
        return out

    def pooled(self) -> dict[str, float]:
        """Metrics on the pooled out-of-fold predictions (all folds together)."""
        tested = self.oof["fold"].notna().to_numpy()
        oof = self.oof[tested]
        if self.task == "regression":
            return regression_metrics(oof["y"], oof["mean"])
        proba_cols = [c for c in oof.columns if c.startswith("proba_")]
        classes = np.array([c[len("proba_") :] for c in proba_cols], dtype=object)
        y = oof["y"].astype(str).to_numpy()
        return classification_metrics(y, oof[proba_cols].to_numpy(), classes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-row predictions)."""
        data: dict[str, Any] = {
            "task": self.task,
            "protocol": self.protocol,
            "n_folds": int(len(self.folds)),
            "metrics": self.summary,
            "pooled": self.pooled(),
        }
        if self.calibration_raw is not None:
            data["calibration_raw"] = self.calibration_raw.to_dict()
        if self.calibration is not None:
            data["calibration"] = self.calibration.to_dict()
            data["calibration_method"] = self.calibration_method
        return data

    def format(self, metric: str, digits: int = 3) -> str:
        """``"mean +- std"`` of one metric over folds."""
        s = self.summary[metric]
        return f"{s['mean']:.{digits}f} +- {s['std']:.{digits}f}"


def _make_splits(
    cv: Any,
    X: np.ndarray,
    y: np.ndarray,
    groups: Any,
    n_splits: int,
    random_state: Any,
    classification: bool,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    if isinstance(cv, str):
        if cv == "kfold":
            splitter: Any = GroupedKFold(
                n_splits, stratify=classification, random_state=random_state
            )
            what = "grouped" if groups is not None else "plain (no groups given)"
            protocol = f"{n_splits}-fold shuffled {what} k-fold, seed {random_state}"
            if classification:
                protocol += ", stratified"
        elif cv == "loco":
            splitter = LeaveOneClusterOut(n_splits, random_state=random_state)
            protocol = (
                f"leave-one-cluster-out, {n_splits} k-means clusters on standardised features, "
                f"seed {random_state}"
            )
        else:
            raise ModelError(
                f"Unknown cv {cv!r}. Use 'kfold', 'loco', a splitter or a list of splits."
            )
        return list(splitter.split(X, y, groups)), protocol
    if hasattr(cv, "split"):
        return list(cv.split(X, y, groups)), f"{type(cv).__name__} splits"
    if isinstance(cv, Iterable):
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv]
        return splits, f"{len(splits)} given train/test split(s)"
    raise ModelError(f"Unknown cv {cv!r}. Use 'kfold', 'loco', a splitter or a list of splits.")


def _accepts(func: Any, name: str) -> bool:
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    groups: Any = None,
    cv: Any = "kfold",
    n_splits: int = 5,
    random_state: int | None = 0,
    calibration: str | None = "linear",
    progress: ProgressArg = True,
) -> EvaluationResult:
    """Cross-validate a model and report metrics as mean +- std over folds.

    Parameters
    ----------
    model : estimator
        Unfitted scikit-learn regressor or classifier (cloned for every fold).
    X : array-like or DataFrame of shape (n, n_features)
        Features.
    y : array-like of shape (n,)
        Target (class labels for a classifier).
    groups : array-like of shape (n,), optional
        Rows with the same group stay in one fold (pass canonical composition keys so that
        duplicate compositions cannot leak between train and test).
    cv : {"kfold", "loco"}, splitter, or iterable of (train, test) index pairs
        ``"kfold"``: shuffled grouped k-fold (stratified for classifiers); ``"loco"``:
        leave-one-cluster-out with ``n_splits`` k-means clusters; an object with ``split``; or
        explicit splits (e.g. an official train/test split).
    n_splits : int, default 5
        Folds (or clusters for ``"loco"``).
    random_state : int or None, default 0
        Seed of the shuffle / k-means.
    calibration : str or None, default "linear"
        Calibrator for the cross-fit recalibrated report of regressors with uncertainty
        (``None`` to skip).
    progress : bool or callable, default True
        A bar per fold in a terminal or notebook (one line in a log when it took 2 s or more);
        ``False`` for silence; a callable gets ``1`` after each fold (see :mod:`mi._progress`).

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> import numpy as np
    >>> from mi.models import XGBEnsembleRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3)); y = X[:, 0] + 0.1 * rng.normal(size=120)
    >>> model = XGBEnsembleRegressor(n_members=3, n_estimators=30, n_jobs=1, random_state=0)
    >>> result = evaluate(model, X, y, n_splits=3)
    >>> sorted(result.summary)
    ['mae', 'r2', 'rmse']
    """
    if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise ModelError(f"evaluate: n_splits must be an int >= 2. Got {n_splits!r} instead.")
    if calibration is not None:
        get_calibrator(calibration)
    columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
    Xa = X.to_numpy(dtype=np.float64) if columns is not None else np.asarray(X)
    y_arr = np.asarray(y)
    n = Xa.shape[0]
    if y_arr.shape[0] != n:
        raise ModelError(f"X has {n} rows but y has {y_arr.shape[0]}.")
    groups_arr = None if groups is None else np.asarray(groups)
    if groups_arr is not None and groups_arr.shape[0] != n:
        raise ModelError(f"X has {n} rows but groups has {groups_arr.shape[0]}.")
    classification = is_classifier(model)
    task = "classification" if classification else "regression"
    splits, protocol = _make_splits(
        cv, Xa, y_arr, groups_arr, n_splits, random_state, classification
    )
    if not splits:
        raise ModelError("The cross-validation produced no split; check cv and n_splits.")

    def frame(idx: np.ndarray) -> Any:
        return pd.DataFrame(Xa[idx], columns=columns) if columns is not None else Xa[idx]

    fold_ids = np.full(n, np.nan)
    rows: list[dict[str, Any]] = []
    if classification:
        classes = np.unique(y_arr)
        proba = np.full((n, classes.size), np.nan)
    else:
        mean = np.full(n, np.nan)
        std = np.full(n, np.nan)
        has_std = True
    n_folds = len(splits)
    reporter = StageProgress(progress, f"cross-validate ({n_folds} folds)", n_folds, "folds")
    reporter.__enter__()
    for k, (train, test) in enumerate(splits):
        est = clone(model)
        fit_kw = {}
        if groups_arr is not None and _accepts(est.fit, "groups"):
            fit_kw["groups"] = groups_arr[train]
        start = time.perf_counter()
        est.fit(frame(train), y_arr[train], **fit_kw)
        seconds = time.perf_counter() - start
        fold_ids[test] = k
        row: dict[str, Any] = {"fold": k, "n_train": int(train.size), "n_test": int(test.size)}
        if classification:
            p = np.zeros((test.size, classes.size))
            p_fold = est.predict_proba(frame(test))
            for j, c in enumerate(est.classes_):
                p[:, int(np.searchsorted(classes, c))] = p_fold[:, j]
            proba[test] = p
            row.update(classification_metrics(y_arr[test], p, classes))
        else:
            if has_std:
                try:
                    m, s = est.predict(frame(test), return_std=True)
                    std[test] = s
                except TypeError:
                    has_std = False
                    m = est.predict(frame(test))
            else:
                m = est.predict(frame(test))
            mean[test] = m
            row.update(regression_metrics(y_arr[test], m))
        row["fit_seconds"] = seconds
        rows.append(row)
        reporter.update(1)
    reporter.__exit__(None, None, None)
    folds = pd.DataFrame(rows)
    oof = pd.DataFrame({"y": y_arr, "fold": fold_ids})
    if classification:
        for j, c in enumerate(classes):
            oof[f"proba_{c}"] = proba[:, j]
        tested = ~np.isnan(fold_ids)
        pred = np.full(n, None, dtype=object)
        pred[tested] = classes[np.argmax(proba[tested], axis=1)]
        oof["pred"] = pred
        return EvaluationResult(
            task, protocol, folds, oof, metric_names=["roc_auc", "accuracy", "f1"]
        )
    oof["mean"] = mean
    result = EvaluationResult(task, protocol, folds, oof, metric_names=["mae", "rmse", "r2"])
    if has_std:
        tested = ~np.isnan(fold_ids)
        y_t = y_arr[tested].astype(np.float64)
        oof["std"] = std
        result.calibration_raw = calibration_report(y_t, mean[tested], std[tested])
        if calibration is not None and len(splits) > 1:
            cal = np.full(n, np.nan)
            cal[tested] = cross_fit_calibration(
                y_t, mean[tested], std[tested], fold_ids[tested], calibration
            )
            oof["std_calibrated"] = cal
            result.calibration = calibration_report(y_t, mean[tested], cal[tested])
            result.calibration_method = calibration
    return result

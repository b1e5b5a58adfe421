"""Read a finished run folder (the layout written by :func:`mi.runner.run_workflow`).

Layout read here (see :mod:`mi.runner.workflow`)::

    summary.json                      the run record (:class:`mi.report.summary.RunSummary`)
    spec.json                         the validated workflow
    results.parquet                   every retained candidate, ranked
    cv/<target>_oof.parquet           out-of-fold predictions (y_true, y_pred, y_std ...)
    models/<target>/                  fitted surrogates (mi.models.save_model)
    datasets/<name>_rejected.parquet  rows the data cleaning rejected

Everything except ``summary.json`` is optional: a missing file leaves its section empty, and
the report says so. The few numbers prepared here for figures (coverage curve, the 2-D
Pareto mask of each property against risk, mean member importance, element supply risk) come
from the library functions that own them where one exists (:func:`mi.active.pareto_front`,
:func:`mi.criticality.score`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi.exceptions import DataError
from mi.report.model import DataReport, ReportData, TargetReport
from mi.report.summary import CriticalityRecord, DatasetRecord, RunSummary, TargetSummary

__all__ = ["collect_run_dir", "coverage_curve"]

#: Rows of results.parquet used for the Pareto figures (best-ranked first).
MAX_PARETO_POINTS = 5000
_METRIC_NAMES = {"mae": "MAE", "rmse": "RMSE", "r2": "R2", "mse": "MSE"}


def coverage_curve(y_true: Any, mean: Any, std: Any, levels: Any = None) -> pd.DataFrame:
    """Observed coverage of central Gaussian prediction intervals at each nominal level.

    For level ``p`` the interval is ``mean ± z * std`` with ``z`` the ``(1 + p) / 2`` normal
    quantile; the observed coverage is the share of ``y_true`` inside it (the curve whose mean
    gap to the diagonal is the miscalibration area of :func:`mi.models.calibration_report`).
    Rows with a missing value are left out.

    Parameters
    ----------
    y_true, mean, std : array-like of shape (n,)
        Observations, predictive means and standard deviations.
    levels : array-like, optional
        Nominal levels in (0, 1); default 0.05, 0.10, ..., 0.95 and 0.99.

    Returns
    -------
    pandas.DataFrame
        Columns ``expected`` and ``observed``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=20000)
    >>> c = coverage_curve(y, np.zeros_like(y), np.ones_like(y), [0.5, 0.9])
    >>> c["observed"].round(2).tolist()
    [0.5, 0.9]
    """
    from scipy.stats import norm

    y = np.asarray(y_true, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    if not y.shape == mu.shape == s.shape:
        raise DataError(
            f"y_true, mean and std must have the same length; got {y.size}, {mu.size}, {s.size}"
        )
    ok = np.isfinite(y) & np.isfinite(mu) & np.isfinite(s)
    if not ok.any():
        raise DataError("coverage_curve needs at least one row with y_true, mean and std set")
    z = np.abs(y[ok] - mu[ok]) / np.maximum(s[ok], 1e-12)
    lv = np.append(np.arange(0.05, 0.951, 0.05), 0.99) if levels is None else np.asarray(levels)
    observed = [(z <= norm.ppf(0.5 + p / 2)).mean() for p in lv]
    return pd.DataFrame({"expected": lv.astype(np.float64), "observed": observed})


def collect_run_dir(out: Path) -> ReportData:
    """Build :class:`ReportData` from a finished run folder.

    Parameters
    ----------
    out : Path
        The run's output folder.

    Returns
    -------
    ReportData

    Raises
    ------
    DataError
        When the folder does not exist or holds no finished run (no ``summary.json``).
    """
    out = Path(out)
    if not out.exists():
        raise DataError(
            f"run folder {str(out)!r} does not exist. Run `mi run <workflow> --out {out}`."
        )
    summary = RunSummary.read(out / "summary.json")
    spec = _read_json(out / "spec.json")
    notes: list[str] = []

    targets = [_target_report(out, t, notes) for t in summary.targets]
    cols = {} if summary.candidate_columns is None else summary.candidate_columns.model_dump()
    candidates, pool = _candidates(out, spec, summary, cols, notes)
    counts = {}
    if summary.counts is not None:
        c = summary.counts
        counts = {
            "generated": c.generated,
            "passed_constraints": c.passed_constraints,
            "ranked": c.ranked,
        }
    constraints = [f"{c.description} (removed {c.removed:,})" for c in summary.constraints]
    data = [_data_report(out, d) for d in summary.datasets]
    for t in summary.targets:
        if t.excluded_from_training:
            parts = ", ".join(f"{k}: {v:,}" for k, v in t.excluded_from_training.items())
            notes.append(f"{t.name}: rows of {t.dataset} not used for training ({parts}).")
    for d in data:
        if d.audit is not None and len(d.audit) and "action" in d.audit.columns:
            n_changed = int((d.audit["action"] == "changed").sum())
            n_dropped = int((d.audit["action"] == "dropped").sum())
            notes.append(
                f"{d.name}: the label audit changed {n_changed:,} labels and dropped "
                f"{n_dropped:,} (rules of the dataset manifest; listed under Data)."
            )
    picks, picks_kind = _picks(out, spec)
    crit = spec.get("criticality", {}) if isinstance(spec, dict) else {}
    return ReportData(
        title=summary.name,
        description=summary.description,
        created=summary.finished,
        spec=spec,
        spec_hash=summary.spec_hash,
        targets=targets,
        candidates=candidates,
        pareto_pool=pool,
        candidate_columns=cols,
        pareto_views=_pareto_views(summary, pool, cols),
        tradeoff=_tradeoff(out, summary),
        n_candidates=counts,
        constraints=constraints,
        data=data,
        element_criticality=_element_table(crit, notes, summary.criticality),
        timings=dict(summary.timings),
        versions=dict(summary.versions),
        notes=notes,
        extra={
            "executor": summary.executor or "",
            "acquisition": None
            if summary.acquisition is None
            else summary.acquisition.model_dump(),
            "criticality": _criticality_info(summary.criticality, candidates, notes),
        },
        picks=picks,
        picks_kind=picks_kind,
    )


def _picks(out: Path, spec: Any) -> tuple[pd.DataFrame | None, str]:
    """Return the batch in pick order, or the best-ranked rows when the run made no batch."""
    path = out / "results.parquet"
    if not path.is_file():
        return None, ""
    results = pd.read_parquet(path)
    if "batch" in results.columns and (results["batch"] > 0).any():
        batch = results[results["batch"] > 0].sort_values("batch", kind="stable")
        return batch.reset_index(drop=True), "batch"
    n = 8
    if isinstance(spec, dict):
        n = int(spec.get("outputs", {}).get("batch_size") or n)
    return results.head(n).reset_index(drop=True), "top"


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def _target_report(out: Path, t: TargetSummary, notes: list[str]) -> TargetReport:
    name = t.name
    metrics: dict[str, Any] = {}
    spread: dict[str, float] = {}
    for key, val in t.metrics.items():
        label = _METRIC_NAMES.get(key, key)
        metrics[label] = val.mean
        spread[label] = val.std
    cal = t.calibration or {}
    cal_summary: dict[str, Any] = {
        k: cal[k] for k in ("coverage_68", "coverage_95", "miscalibration_area") if k in cal
    }
    cv = None
    calib = None
    path = out / "cv" / f"{name}_oof.parquet"
    if path.is_file():
        cv = pd.read_parquet(path)
        if "y_pred" in cv.columns:
            cv = cv[np.isfinite(cv["y_pred"].to_numpy(dtype=np.float64))]
        if t.task == "regression" and "y_std" in cv.columns and len(cv):
            curves = [coverage_curve(cv["y_true"], cv["y_pred"], cv["y_std"]).assign(std="raw")]
            if "y_std_calibrated" in cv.columns:
                curves.append(
                    coverage_curve(cv["y_true"], cv["y_pred"], cv["y_std_calibrated"]).assign(
                        std="recalibrated (cross-fit)"
                    )
                )
            calib = pd.concat(curves, ignore_index=True)
            cal_summary = _calibration_summary(cv) or cal_summary
    importance = _importance(out / "models" / name, notes)
    return TargetReport(
        name=name,
        dataset=t.dataset,
        units=t.units or None,
        model=t.model,
        metrics=metrics,
        metric_spread=spread,
        calibration_summary=cal_summary,
        cv_predictions=cv,
        calibration=calib,
        feature_importance=importance,
        n_train=t.n_train,
        cv_method=t.cv_method,
        task=t.task,
        objective=t.objective,
        std_recalibrated=bool(cv is not None and "y_std_calibrated" in cv.columns),
        correction=None if t.correction is None else t.correction.reason,
    )


def _calibration_summary(cv: pd.DataFrame) -> dict[str, str]:
    """Coverage of the 68 % / 95 % intervals and miscalibration area, raw and recalibrated."""
    try:
        from mi.models import calibration_report
    except ImportError:  # pragma: no cover - ships with mi
        return {}
    out: dict[str, str] = {}
    reports = {}
    for label, col in (("raw", "y_std"), ("recal.", "y_std_calibrated")):
        if col not in cv.columns:
            continue
        ok = np.isfinite(cv[["y_true", "y_pred", col]].to_numpy(dtype=np.float64)).all(axis=1)
        if ok.any():
            reports[label] = calibration_report(cv["y_true"][ok], cv["y_pred"][ok], cv[col][ok])
    for label, r in reports.items():
        out[f"coverage 68/95 % ({label} σ)"] = f"{r.coverage_68:.2f} / {r.coverage_95:.2f}"
    if reports:
        out["miscal. area (" + " / ".join(reports) + ")"] = " / ".join(
            f"{r.miscalibration_area:.3f}" for r in reports.values()
        )
    return out


def _importance(model_dir: Path, notes: list[str]) -> pd.Series | None:
    """Gain importances of the saved surrogate (mean over ensemble members)."""
    if not (model_dir / "model.json").is_file():
        return None
    try:
        from mi.models import load_model

        model = load_model(model_dir)
    except Exception as exc:  # an unreadable model must not stop the report
        notes.append(f"model in {model_dir.name!r} could not be read for importances: {exc}")
        return None
    names = getattr(model, "feature_names_in_", None)
    model = getattr(model, "estimator_", model)  # a recalibrated wrapper: its inner model
    values = getattr(model, "feature_importances_", None)
    members = getattr(model, "members_", None)
    if values is None and members:
        per = [getattr(m, "feature_importances_", None) for m in members]
        if all(p is not None for p in per):
            values = np.mean(np.vstack([np.asarray(p, dtype=np.float64) for p in per]), axis=0)
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64)
    if names is None or len(names) != len(values):
        names = [f"feature {i}" for i in range(len(values))]
    return pd.Series(values, index=[str(n) for n in names])


def _candidates(
    out: Path,
    spec: Any,
    summary: RunSummary,
    cols: dict[str, str],
    notes: list[str],
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    path = out / "results.parquet"
    if not path.is_file():
        if summary.train_only:
            notes.append("Train-only job (no [candidates] section): models and their CV only.")
        else:
            notes.append("results.parquet is missing: no candidate table.")
        return None, None
    top_n = 50
    if isinstance(spec, dict):
        top_n = int(spec.get("outputs", {}).get("top_n", top_n))
    results = pd.read_parquet(path)
    pool = results.head(MAX_PARETO_POINTS).reset_index(drop=True)
    target_cols = []
    flag_cols = []
    for t in summary.targets:
        target_cols += [f"{t.name}_mean", f"{t.name}_std"]
        flag_cols += [f"{t.name}_in_domain", f"{t.name}_known"]
    wanted = [
        "rank",
        cols.get("formula", "formula"),
        "family",
        *target_cols,
        cols.get("risk", "supply_risk"),
        "dytb_mass_fraction",
        "hree_mass_fraction",
        "cost_per_kg",
        cols.get("score", "acquisition"),
        "pareto_rank",
        *flag_cols,
    ]
    shown = [c for c in dict.fromkeys(wanted) if c in results.columns]
    return results.head(min(top_n, 50))[shown].reset_index(drop=True), pool


def _pareto_views(
    summary: RunSummary, pool: pd.DataFrame | None, cols: dict[str, str]
) -> list[dict[str, str]]:
    """One (property vs risk) view per regression target, with its own 2-D front mask."""
    if pool is None or not len(pool):
        return []
    from mi.active import pareto_front

    risk = cols.get("risk", "supply_risk")
    if risk not in pool.columns:
        return []
    views = []
    for t in summary.targets:
        name = t.name
        mean, std = f"{name}_mean", f"{name}_std"
        if mean not in pool.columns or t.task != "regression":
            continue
        maximize = t.objective == "maximize"
        front_col = f"_front_{name}"
        pool[front_col] = pareto_front(
            pool[mean].to_numpy(dtype=np.float64),
            pool[risk].to_numpy(dtype=np.float64),
            maximize=maximize,
        )
        units = t.units
        views.append(
            {
                "name": name,
                "y": mean,
                "std": std if std in pool.columns else "",
                "front": front_col,
                "maximize": "yes" if maximize else "",
                "units": units.split(" (")[0] if units else "",
            }
        )
    return views


def _data_report(out: Path, d: DatasetRecord) -> DataReport:
    rejected = None
    audit = None
    if re.fullmatch(r"[A-Za-z0-9_.-]+", d.name):  # a dataset name, never a path
        path = out / "datasets" / f"{d.name}_rejected.parquet"
        if d.n_rejected and path.is_file():
            rejected = pd.read_parquet(path)
        audit_path = out / "datasets" / f"{d.name}_audit.parquet"
        if audit_path.is_file():
            audit = pd.read_parquet(audit_path)
    return DataReport(
        audit=audit,
        audit_counts=list(d.label_audit),
        name=d.name,
        n_input=d.n_input,
        n_accepted=d.n_accepted,
        rejected=rejected,
        n_rejected=d.n_rejected,
        sha256=dict(d.sha256),
        source=d.source,
        licence=d.licence,
        citation=d.citation,
    )


def _criticality_info(
    record: CriticalityRecord | None, candidates: pd.DataFrame | None, notes: list[str]
) -> dict[str, Any] | None:
    """As-of date, tables and the export measures on the candidates' elements (None: no screen)."""
    if record is None:
        return None
    info: dict[str, Any] = record.model_dump()
    info["measures"] = []
    formulas = (
        candidates["formula"].astype(str).tolist()
        if candidates is not None and "formula" in candidates
        else []
    )
    try:
        from mi.chem import ELEMENTS, parse_formulas
        from mi.criticality import measures

        csr = parse_formulas(formulas, on_error="nan").to_csr()
        rows = [
            set(csr.indices[csr.indptr[i] : csr.indptr[i + 1]].tolist())
            for i in range(len(formulas))
        ]
        symbols = [ELEMENTS[j] for j in sorted(set().union(*rows))] if rows else []
        info["unverified_elements"] = [e for e in record.unverified_elements if e in set(symbols)]
        for row in measures(record.as_of, symbols).itertuples(index=False):
            n = sum(ELEMENTS.index(row.symbol) in r for r in rows)
            info["measures"].append(
                f"{row.symbol}: {row.label} ({row.measure}; {row.evidence} evidence; "
                f"{row.source}) - in {n} of the {len(formulas)} candidates shown"
            )
    except Exception as exc:
        notes.append(f"export measures could not be listed: {exc}")
    return info


def _element_table(
    crit: dict[str, Any], notes: list[str], record: CriticalityRecord | None = None
) -> pd.DataFrame | None:
    """Supply risk of each pure element with the run's weights and date (grey where unknown)."""
    try:
        from mi.chem import ELEMENTS
        from mi.criticality import score
    except ImportError:  # pragma: no cover - both ship with mi
        return None
    column = str(crit.get("objective", "supply_risk") or "supply_risk")
    try:
        table = score(
            list(ELEMENTS),
            weights=crit.get("weights"),
            hree_convention=crit.get("hree_convention", "eu_2023"),
            as_of=None if record is None else record.as_of,
        )
    except Exception as exc:
        notes.append(f"element criticality could not be scored: {exc}")
        return None
    if column not in table.columns:
        column = "supply_risk"
    return pd.DataFrame({"element": list(ELEMENTS), column: table[column].to_numpy()})


def _tradeoff(out: Path, summary: RunSummary) -> pd.DataFrame | None:
    """Read the Dy/Tb trade-off table of a magnet screen (a fixed file name, never a path)."""
    if not summary.paths.dytb_tradeoff:
        return None
    path = out / "dytb_tradeoff.csv"
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None

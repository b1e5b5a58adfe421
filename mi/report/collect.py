"""Read a finished run folder (the layout written by :func:`mi.runner.run_workflow`).

Layout read here (see :mod:`mi.runner.workflow`)::

    summary.json                      counts, constraints, CV metrics, datasets, timings, versions
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
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi.exceptions import DataError
from mi.report.model import DataReport, ReportData, TargetReport

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
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        what = "does not exist" if not out.exists() else "holds no finished run (no summary.json)"
        raise DataError(f"run folder {str(out)!r} {what}. Run `mi run <workflow> --out {out}`.")
    summary = json.loads(summary_path.read_text())
    spec = _read_json(out / "spec.json")
    notes: list[str] = []

    targets = [_target_report(out, t, notes) for t in summary.get("targets", [])]
    cols = dict(summary.get("candidate_columns", {}))
    candidates, pool = _candidates(out, spec, summary, cols, notes)
    counts = {
        k: int(v)
        for k, v in summary.get("counts", {}).items()
        if k in ("generated", "passed_constraints", "ranked") and v is not None
    }
    constraints = [
        f"{c.get('description', c)} (removed {int(c.get('removed', 0)):,})"
        if isinstance(c, dict)
        else str(c)
        for c in summary.get("constraints", [])
    ]
    data = [_data_report(out, d) for d in summary.get("datasets", [])]
    for t in summary.get("targets", []):
        excluded = t.get("excluded_from_training") or {}
        if excluded:
            parts = ", ".join(f"{k}: {int(v):,}" for k, v in excluded.items())
            notes.append(
                f"{t.get('name')}: rows of {t.get('dataset')} not used for training ({parts})."
            )
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
        title=str(summary.get("name", out.name)),
        description=str(summary.get("description", "")),
        created=str(summary.get("finished") or summary.get("created") or ""),
        spec=spec,
        spec_hash=str(summary.get("spec_hash", "")),
        targets=targets,
        candidates=candidates,
        pareto_pool=pool,
        candidate_columns=cols,
        pareto_views=_pareto_views(summary, pool, cols),
        tradeoff=_tradeoff(out, summary),
        n_candidates=counts,
        constraints=constraints,
        data=data,
        element_criticality=_element_table(crit, notes, summary.get("criticality")),
        timings={k: float(v) for k, v in summary.get("timings", {}).items()},
        versions={str(k): str(v) for k, v in summary.get("versions", {}).items()},
        notes=notes,
        extra={
            "executor": summary.get("executor", ""),
            "acquisition": summary.get("acquisition"),
            "criticality": _criticality_info(summary.get("criticality"), candidates, notes),
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


def _target_report(out: Path, t: dict[str, Any], notes: list[str]) -> TargetReport:
    name = str(t.get("name"))
    metrics: dict[str, Any] = {}
    spread: dict[str, float] = {}
    for key, val in (t.get("metrics") or {}).items():
        label = _METRIC_NAMES.get(key, key)
        if isinstance(val, dict):
            metrics[label] = val.get("mean", math.nan)
            spread[label] = val.get("std", math.nan)
        else:
            metrics[label] = val
    cal = t.get("calibration") or {}
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
        if t.get("task", "regression") == "regression" and "y_std" in cv.columns and len(cv):
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
        dataset=str(t.get("dataset", "")),
        units=t.get("units") or None,
        model=str(t.get("model", "")),
        metrics=metrics,
        metric_spread=spread,
        calibration_summary=cal_summary,
        cv_predictions=cv,
        calibration=calib,
        feature_importance=importance,
        n_train=t.get("n_train"),
        cv_method=t.get("cv_method"),
        task=str(t.get("task", "regression")),
        objective=str(t.get("objective", "maximize")),
        std_recalibrated=bool(cv is not None and "y_std_calibrated" in cv.columns),
        correction=(t.get("correction") or {}).get("reason"),
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
    summary: dict[str, Any],
    cols: dict[str, str],
    notes: list[str],
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    path = out / "results.parquet"
    if not path.is_file():
        if summary.get("train_only"):
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
    for t in summary.get("targets", []):
        target_cols += [f"{t.get('name')}_mean", f"{t.get('name')}_std"]
        flag_cols += [f"{t.get('name')}_in_domain", f"{t.get('name')}_known"]
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
    summary: dict[str, Any], pool: pd.DataFrame | None, cols: dict[str, str]
) -> list[dict[str, str]]:
    """One (property vs risk) view per regression target, with its own 2-D front mask."""
    if pool is None or not len(pool):
        return []
    from mi.active import pareto_front

    risk = cols.get("risk", "supply_risk")
    if risk not in pool.columns:
        return []
    views = []
    for t in summary.get("targets", []):
        name = str(t.get("name"))
        mean, std = f"{name}_mean", f"{name}_std"
        if mean not in pool.columns or t.get("task", "regression") != "regression":
            continue
        maximize = t.get("objective", "maximize") == "maximize"
        front_col = f"_front_{name}"
        pool[front_col] = pareto_front(
            pool[mean].to_numpy(dtype=np.float64),
            pool[risk].to_numpy(dtype=np.float64),
            maximize=maximize,
        )
        units = t.get("units") or ""
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


def _data_report(out: Path, d: dict[str, Any]) -> DataReport:
    rejected = None
    rel = d.get("rejected_file")
    candidates = [out / rel] if rel else []
    candidates.append(out / "datasets" / f"{d.get('name')}_rejected.parquet")
    for path in candidates:
        if path.is_file():
            rejected = pd.read_parquet(path)
            break
    audit = None
    name = str(d.get("name", ""))
    if re.fullmatch(r"[a-z0-9_]+", name):  # a dataset name, never a path
        audit_path = out / "datasets" / f"{name}_audit.parquet"
        if audit_path.is_file():
            audit = pd.read_parquet(audit_path)
    return DataReport(
        audit=audit,
        audit_counts=list(d.get("label_audit") or []),
        name=str(d.get("name", "")),
        n_input=d.get("n_input"),
        n_accepted=d.get("n_accepted"),
        rejected=rejected,
        n_rejected=d.get("n_rejected"),
        sha256=dict(d.get("sha256") or {}),
        source=str(d.get("source") or ""),
        licence=str(d.get("licence") or ""),
        citation=str(d.get("citation") or ""),
    )


def _criticality_info(
    record: dict[str, Any] | None, candidates: pd.DataFrame | None, notes: list[str]
) -> dict[str, Any] | None:
    """As-of date, tables and the export measures on the candidates' elements (None: old run)."""
    if not record or not record.get("as_of"):
        return None
    info = dict(record)
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
        unverified = record.get("unverified_elements") or []
        info["unverified_elements"] = [e for e in unverified if e in set(symbols)]
        for row in measures(record["as_of"], symbols).itertuples(index=False):
            n = sum(ELEMENTS.index(row.symbol) in r for r in rows)
            info["measures"].append(
                f"{row.symbol}: {row.label} ({row.measure}; {row.evidence} evidence; "
                f"{row.source}) - in {n} of the {len(formulas)} candidates shown"
            )
    except Exception as exc:
        notes.append(f"export measures could not be listed: {exc}")
    return info


def _element_table(
    crit: dict[str, Any], notes: list[str], record: dict[str, Any] | None = None
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
            as_of=(record or {}).get("as_of"),
        )
    except Exception as exc:
        notes.append(f"element criticality could not be scored: {exc}")
        return None
    if column not in table.columns:
        column = "supply_risk"
    return pd.DataFrame({"element": list(ELEMENTS), column: table[column].to_numpy()})


def _tradeoff(out: Path, summary: dict[str, Any]) -> pd.DataFrame | None:
    """Read the Dy/Tb trade-off table of a magnet screen (a fixed file name, never a path)."""
    if not (summary.get("paths") or {}).get("dytb_tradeoff"):
        return None
    path = out / "dytb_tradeoff.csv"
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None

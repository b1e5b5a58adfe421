"""``run_workflow``: a workflow file run end to end, resumable, on any executor.

Steps (each checkpointed in the output folder; a rerun with the same ``--out`` skips what is
done, and the screen resumes at the first unfinished chunk):

1. ``data_<target>``: load the dataset, pick and filter the target, write the training table;
2. ``features_<target>``: featurize the training compositions;
3. ``cv_<target>``: cross-validate the surrogate (metrics, out-of-fold predictions);
4. ``model_<target>``: fit the surrogate on all rows and save it (no pickle);
5. ``screen``: generate candidates in chunks; per chunk score criticality, apply constraints,
   featurize, predict, acquire, keep the best (:func:`mi.runner.screen.screen_chunk`);
6. ``rank``: merge the chunks, drop duplicates, rank, Pareto-rank, write the results;
7. ``report``: ``report.html`` through :mod:`mi.report` when it is installed.

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

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._atomic import atomic_write, atomic_write_text
from mi.exceptions import MIError, SpecError
from mi.runner.checkpoint import Checkpoint
from mi.runner.executors import ExecutorHandle, make_executor, run_chunks
from mi.runner.outdir import lock_out_dir
from mi.runner.progress import Progress
from mi.runner.spec import RunSpec, TargetSpec, load_spec

__all__ = ["RunResult", "run_workflow", "load_result"]


@dataclass
class RunResult:
    """What a finished run produced (also readable back from its folder: :func:`load_result`).

    Attributes
    ----------
    spec : RunSpec
        The workflow.
    out_dir : Path
        The run's folder.
    top : pandas.DataFrame
        The top-N candidates, best first.
    candidates : pandas.DataFrame
        Every retained candidate, ranked (``rank`` column; ``pareto_rank``, ``on_front``).
    summary : dict
        The content of ``summary.json``.
    cv_predictions : dict of str to DataFrame
        Out-of-fold predictions per target (``y_true``, ``y_pred``, ``y_std``).
    """

    spec: RunSpec
    out_dir: Path
    top: pd.DataFrame
    candidates: pd.DataFrame
    summary: dict[str, Any]
    cv_predictions: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage of the last invocation."""
        return dict(self.summary.get("timings", {}))

    @property
    def counts(self) -> dict[str, int]:
        """Candidates generated, passing the constraints, scored and retained."""
        return dict(self.summary.get("counts", {}))

    @property
    def report_path(self) -> Path | None:
        """``report.html`` if it was written."""
        path = self.out_dir / "report.html"
        return path if path.is_file() else None

    def __repr__(self) -> str:
        return (
            f"RunResult({self.spec.name!r}, out_dir={str(self.out_dir)!r}, "
            f"candidates={len(self.candidates)}, top={len(self.top)})"
        )


def load_result(out_dir: str | Path) -> RunResult:
    """Read a finished run back from its folder.

    Parameters
    ----------
    out_dir : path
        The ``--out`` folder of a finished run.

    Returns
    -------
    RunResult
    """
    from mi.runner.spec import parse_spec

    out = Path(out_dir)
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        raise SpecError(f"{out} holds no finished run (no summary.json). Run `mi run` first.")
    summary = json.loads(summary_path.read_text())
    spec = parse_spec(json.loads((out / "spec.json").read_text()), str(out / "spec.json"))
    results = out / "results.parquet"
    candidates = pd.read_parquet(results) if results.is_file() else pd.DataFrame()
    cv = {}
    for path in sorted((out / "cv").glob("*_oof.parquet")):
        cv[path.name[: -len("_oof.parquet")]] = pd.read_parquet(path)
    top = candidates.head(spec.outputs.top_n).reset_index(drop=True)
    return RunResult(spec, out, top, candidates, summary, cv)


# --------------------------------------------------------------------------------------
# training side
# --------------------------------------------------------------------------------------


def _positive_mask(df: pd.DataFrame, target: TargetSpec, column: str) -> np.ndarray:
    """Boolean labels of a classification target."""
    rule = target.positive
    if rule is None:
        values = df[column]
        if values.dtype == bool:
            return values.to_numpy()
        raise SpecError(
            f"targets: {target.name!r} is a classification on non-boolean column {column!r}; "
            "set positive = '<column> == <value>' or name a boolean column."
        )
    if rule in df.columns:
        return df[rule].astype(bool).to_numpy()
    for op in ("==", ">=", "<=", ">", "<"):
        if op in rule:
            lhs, rhs = (part.strip() for part in rule.split(op, 1))
            if lhs not in df.columns:
                from mi.exceptions import closest_names

                close = closest_names(lhs, [str(c) for c in df.columns])
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise SpecError(
                    f"targets: positive = {rule!r} names column {lhs!r}, not in dataset "
                    f"{target.dataset!r} ({', '.join(map(str, df.columns))}).{hint}"
                )
            x = df[lhs].to_numpy(dtype=np.float64)
            try:
                v = float(rhs)
            except ValueError:
                raise SpecError(f"targets: positive = {rule!r}: {rhs!r} is not a number.") from None
            return {
                "==": x == v,
                ">=": x >= v,
                "<=": x <= v,
                ">": x > v,
                "<": x < v,
            }[op]
    raise SpecError(
        f"targets: positive = {rule!r} is neither a column nor '<column> <op> <number>'."
    )


def _load_training(target: TargetSpec, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Training table (composition, conditions, y) of one target, plus the dataset's record."""
    from mi.runner.own_data import dataset_label, target_dataset

    ds = target_dataset(target)
    column = target.column or (ds.targets[0] if ds.targets else None)
    if column is None or column not in ds.df.columns:
        from mi.exceptions import closest_names

        choices = list(ds.targets)
        close = closest_names(str(column), choices)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"targets: column = {column!r} is not a target of dataset {dataset_label(target)!r}. "
            f"Choices: {', '.join(choices)}.{hint}"
        )
    df = ds.df
    n_rows = len(df)
    dropped: dict[str, int] = {}
    if target.task == "classification":
        y = _positive_mask(df, target, column).astype(np.int64)
        keep = np.ones(len(df), dtype=bool)
        rule = target.positive or column
        lhs = rule
        for op in ("==", ">=", "<=", ">", "<"):
            if op in rule:
                lhs = rule.split(op, 1)[0].strip()
                break
        if lhs in df.columns and df[lhs].dtype != bool:
            keep = df[lhs].notna().to_numpy()
            dropped[f"{lhs} missing (no label)"] = int((~keep).sum())
    else:
        y = df[column].to_numpy(dtype=np.float64)
        keep = np.isfinite(y)
        dropped["target missing"] = int((~keep).sum())
        censored = f"{column}_censored"
        if censored in df.columns:
            cens = df[censored].fillna(False).to_numpy(dtype=bool)
            dropped["censored value (not a measurement)"] = int((keep & cens).sum())
            keep &= ~cens
        if target.min_value is not None:
            low = keep & (y < target.min_value)
            dropped[f"{column} < {target.min_value:g}"] = int(low.sum())
            keep &= ~low
        if target.max_value is not None:
            high = keep & (y > target.max_value)
            dropped[f"{column} > {target.max_value:g}"] = int(high.sum())
            keep &= ~high
    table = pd.DataFrame({"composition": df[ds.composition_col].astype(str).to_numpy()[keep]})
    for cond in ds.conditions:
        table[cond] = df[cond].to_numpy(dtype=np.float64)[keep]
    table["y"] = y[keep]
    if target.max_rows is not None and len(table) > target.max_rows:
        dropped["random subset (max_rows)"] = len(table) - target.max_rows
        table = table.sample(n=target.max_rows, random_state=seed).sort_index()
        table = table.reset_index(drop=True)
    report = ds.report
    rejected = getattr(report, "rejected", None)
    record = {
        "name": ds.meta.name,
        "column": column,
        "units": ds.meta.units.get(column, ""),
        "source": ds.meta.source,
        "licence": ds.meta.licence,
        "citation": ds.meta.citation,
        "sha256": dict(ds.meta.sha256),
        "n_input": int(getattr(report, "n_input", n_rows)),
        "n_accepted": int(getattr(report, "n_accepted", n_rows)),
        "n_rejected": int(len(rejected)) if rejected is not None else 0,
        "n_dataset_rows": n_rows,
        "n_train": len(table),
        "excluded_from_training": {k: v for k, v in dropped.items() if v},
        "conditions": {c: ds.meta.conditions[c] for c in ds.conditions},
        "transform": ds.meta.transforms.get(column),
        "n_filtered": int(getattr(report, "n_filtered", 0)),
        "n_merged_groups": int(getattr(report, "n_merged_groups", 0)),
        "label_audit": report.audit_summary() if hasattr(report, "audit_summary") else [],
    }
    audit = getattr(report, "audit", None)
    return table, {"record": record, "rejected": rejected, "audit": audit}


def _make_model(target: TargetSpec, seed: int) -> Any:
    from mi.models.registry import get_model_spec

    model = get_model_spec(target.model)
    params = dict(target.model_params)
    if _calibrates(target) and "calibration" in model.params:
        # the std is calibrated once, on this workflow's grouped cross-validation (not also
        # out-of-bag inside the model)
        params.setdefault("calibration", "none")
    return model.build(params, random_state=seed)


def _set_threads(model: Any, n_jobs: int) -> None:
    """Set prediction threads of a fitted model (and its xgboost members)."""
    for obj in [model, *getattr(model, "members_", [])]:
        if hasattr(obj, "set_params") and "n_jobs" in obj.get_params(deep=False):
            obj.set_params(n_jobs=n_jobs)
    inner = getattr(model, "model_", None) or getattr(model, "estimator_", None)
    if inner is not None and inner is not model:
        _set_threads(inner, n_jobs)


def _save_model(model: Any, path: Path, card: dict[str, Any]) -> bool:
    try:
        from mi.models import save_model
    except ImportError:
        return False
    import shutil

    # a model left by an interrupted save or by an earlier version of the step is replaced
    shutil.rmtree(path, ignore_errors=True)
    save_model(model, path, card=card)
    return True


def _load_model(path: Path) -> Any | None:
    try:
        from mi.models import load_model
    except ImportError:
        return None
    if not path.exists():
        return None
    try:
        return load_model(path)
    except (MIError, OSError, ValueError):  # unreadable: the step is simply redone
        return None


def _features(compositions: list[str], preset: str) -> pd.DataFrame:
    from mi.features import featurize

    return featurize(compositions, preset=preset, progress=False)


def _key(*parts: Any) -> str:
    """Stable hash of JSON-able parts (what a checkpointed step depends on)."""
    import hashlib

    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def target_keys(spec: RunSpec, target: TargetSpec) -> dict[str, str]:
    """Checkpoint keys of the data, features, cv and model steps of one target."""
    t = target.model_dump(mode="json")
    data = _key(
        "data",
        {
            k: t[k]
            for k in (
                "dataset",
                "table",
                "column",
                "task",
                "positive",
                "min_value",
                "max_value",
                "label_audit",
            )
        },
        t["max_rows"],
        spec.seed,
    )
    features = _key("features", data, t["preset"])
    fit = _key("model", features, t["model"], t["model_params"], spec.seed)
    cv = _key("cv", fit, t["cv"])
    # the saved model carries the std calibration fitted on the cross-validation
    model = _key("calibrated", fit, cv) if _calibrates(target) else fit
    return {"data": data, "features": features, "model": model, "cv": cv}


def _calibrates(target: TargetSpec) -> bool:
    """Whether the screened model's std is recalibrated on the cross-validation."""
    return target.task == "regression" and target.cv.enabled and target.cv.calibration != "none"


def _calibrated(model: Any, target: TargetSpec, cp: Checkpoint) -> Any:
    """Wrap ``model`` so its std is recalibrated on the cross-validation's out-of-fold rows."""
    if not _calibrates(target):
        return model
    path = cp.path("cv", f"{target.name}_oof.parquet")
    oof = pd.read_parquet(path) if path.exists() else None
    if oof is None or "y_std" not in oof.columns:
        return model  # a model without uncertainty: nothing to calibrate
    oof = oof[oof["fold"].notna()]
    from mi.models import CalibratedRegressor

    return CalibratedRegressor.from_out_of_fold(
        model,
        oof["y_true"].to_numpy(float),
        oof["y_pred"].to_numpy(float),
        oof["y_std"].to_numpy(float),
        method=target.cv.calibration,
        cv=target.cv.n_splits,
    )


def screen_key(spec: RunSpec) -> str:
    """Checkpoint key of the screen's chunks: models, candidates, scoring and selection."""
    models = [target_keys(spec, t)["model"] for t in spec.targets]
    d = spec.model_dump(mode="json")
    return _key(
        "screen",
        models,
        [t["name"] for t in d["targets"]],
        [t["objective"] for t in d["targets"]],
        d["candidates"],
        d["constraints"],
        d["criticality"],
        d["acquisition"],
        d["outputs"]["keep_per_chunk"] or d["outputs"]["top_n"],
        d["outputs"]["write_all"],
        d["execution"]["chunk_size"],
        spec.seed,
    )


def _train_target(
    spec: RunSpec, target: TargetSpec, cp: Checkpoint, progress: Progress
) -> tuple[Any, list[str], pd.DataFrame, dict[str, Any]]:
    """Run steps 1-4 for one target; return model, feature columns, training table, record."""
    keys = target_keys(spec, target)
    step = f"data_{target.name}"
    from mi.runner.domain import training_domain
    from mi.runner.own_data import dataset_label, with_conditions

    label = dataset_label(target)
    with progress.stage(f"load {target.name} ({label})") as st:
        if cp.is_done(step, keys["data"]):
            table = cp.read_table(step, "train")
            record = cp.read_json(step, "record")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            table, extra = _load_training(target, spec.seed)
            record = extra["record"]
            rejected = extra["rejected"]
            if rejected is not None and len(rejected):
                path = cp.path("datasets", f"{label}_rejected.parquet")
                rejected = rejected.copy()
                for col in rejected.columns:
                    if rejected[col].dtype == object:
                        rejected[col] = rejected[col].astype(str)
                atomic_write(path, lambda tmp: rejected.to_parquet(tmp, index=False))
            audit = extra["audit"]
            if audit is not None and len(audit):
                path = cp.path("datasets", f"{label}_audit.parquet")
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, lambda tmp: audit.to_parquet(tmp, index=False))
            cp.write_table(step, "train", table)
            cp.write_json(step, "record", record)
            cp.mark_done(step, time.perf_counter() - t0, keys["data"], rows=len(table))
        st.done = len(table)
        st.unit = "rows"

    step = f"features_{target.name}"
    with progress.stage(f"featurize {target.name} ({target.preset})", unit="rows") as st:
        if cp.is_done(step, keys["features"]):
            X = cp.read_table(step, "X")
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            X = _features(table["composition"].tolist(), target.preset)
            X.columns = [str(c) for c in X.columns]
            X = with_conditions(X, table, list(record.get("conditions", {})))
            cp.write_table(step, "X", X)
            cp.mark_done(step, time.perf_counter() - t0, keys["features"], columns=X.shape[1])
        st.done = len(X)
    columns = list(X.columns)
    y = table["y"].to_numpy()

    step = f"cv_{target.name}"
    if target.cv.enabled:
        total = target.cv.n_splits
        with progress.stage(f"cross-validate {target.name}", total=total, unit="folds") as st:
            if cp.is_done(step, keys["cv"]):
                cv = cp.read_json(step, "cv")
                st.set_note("from checkpoint")
            else:
                t0 = time.perf_counter()
                from mi.models import evaluate

                result = evaluate(
                    _make_model(target, spec.seed),
                    X,
                    y,
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
                path = cp.path("cv", f"{target.name}_oof.parquet")
                atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
                cp.write_json(step, "cv", cv)
                cp.mark_done(step, time.perf_counter() - t0, keys["cv"])
            st.done = int(cv.get("n_folds", target.cv.n_splits))
            metrics = cv.get("metrics", {})
            progress.log(
                f"{target.name} CV ({cv.get('protocol', target.cv.method)}): "
                + ", ".join(f"{k} {v['mean']:.4g} +- {v['std']:.2g}" for k, v in metrics.items())
            )
    else:
        cv = {}

    from mi.runner.magnets import gate_correction

    gated, cv_note = gate_correction(_make_model(target, spec.seed), cv)
    if cv_note is not None:  # a physics model's correction kept or dropped on its CV skill
        cv = dict(cv, correction=cv_note)
        progress.log(f"{target.name}: {cv_note['reason']}")
    step = f"model_{target.name}"
    model_path = cp.path("models", target.name)
    with progress.stage(f"train {target.name} ({target.model})", unit="rows") as st:
        model = _load_model(model_path) if cp.is_done(step, keys["model"]) else None
        if model is not None:
            st.set_note("from checkpoint")
        else:
            t0 = time.perf_counter()
            model = gated
            model.fit(X, y)
            model = _calibrated(model, target, cp)
            saved = _save_model(
                model,
                model_path,
                card={
                    "target": target.name,
                    "task": target.task,
                    "dataset": {
                        "name": label,
                        "column": record.get("column"),
                        "units": record.get("units"),
                        "sha256": record.get("sha256", {}),
                        "n_train": len(y),
                    },
                    "conditions": record.get("conditions", {}),
                    "transform": record.get("transform"),
                    "domain": training_domain(
                        table["composition"].tolist(), table, list(record.get("conditions", {}))
                    ),
                    "preset": target.preset,
                    "feature_names": columns,
                    "metrics": cv.get("metrics", {}),
                    "workflow": spec.name,
                    "workflow_model": target.model,
                    "std_calibration": (  # the CV's map, or the model's own out-of-bag one
                        None
                        if getattr(model, "calibrator_", None) is None
                        else model.calibrator_.to_dict()
                    ),
                },
            )
            if saved:  # the training inputs, so `mi predict` can fit the applicability domain
                train = pd.concat(
                    [table[["composition"]].reset_index(drop=True), X.reset_index(drop=True)],
                    axis=1,
                )
                train.to_parquet(model_path / "training.parquet", index=False)
            cp.mark_done(step, time.perf_counter() - t0, keys["model"], saved=saved)
        st.done = len(y)
    record = dict(record)
    record["cv"] = cv
    return model, columns, table, record


def _fit_domain(
    target: TargetSpec,
    table: pd.DataFrame,
    columns: list[str],
    cp: Checkpoint,
    record: dict[str, Any],
) -> Any:
    """Applicability domain of one target: its training compositions and features.

    Compounds whose labels the label audit dropped still exist: they count as known.
    """
    from mi.models.applicability import ApplicabilityDomain
    from mi.runner.own_data import dataset_label

    X = cp.read_table(f"features_{target.name}", "X")[columns]
    known: list[str] = []
    audit_path = cp.path("datasets", f"{dataset_label(target)}_audit.parquet")
    if audit_path.is_file():
        audit = pd.read_parquet(audit_path)
        dropped = (audit["action"] == "dropped") & (audit["target"] == record.get("column"))
        known = audit.loc[dropped, "composition"].astype(str).tolist()
    return ApplicabilityDomain().fit(table["composition"].tolist(), X.to_numpy(), known=known)


# --------------------------------------------------------------------------------------
# screen and rank
# --------------------------------------------------------------------------------------


def _screen(
    spec: RunSpec,
    ctx: Any,
    handle: ExecutorHandle,
    cp: Checkpoint,
    progress: Progress,
) -> dict[str, Any]:
    from mi.runner.candidates import iter_candidate_chunks, template_sizes
    from mi.runner.screen import ChunkTask, screen_chunk

    assert spec.candidates is not None
    grid = ctx.condition_grid
    total = sum(template_sizes(spec.candidates)) * (1 if grid is None else len(grid))
    cp.use_chunk_key(screen_key(spec))
    done = cp.done_chunks()
    shared = handle.share(ctx)
    peak_workers = 0

    def tasks() -> Any:
        assert spec.candidates is not None
        for index, matrix, family, start in iter_candidate_chunks(
            spec.candidates, spec.execution.chunk_size
        ):
            if index in done:
                continue
            yield ChunkTask(index, matrix, family, start)

    with progress.stage("screen", total=total, unit="candidates") as st:
        if done:
            st.set_note(f"resumed: {len(done)} chunks from checkpoint")
            for index in done:
                _, meta = cp.read_chunk(index)
                st.update(meta["n_generated"])
        for task, (rows, stats) in run_chunks(handle, screen_chunk, tasks(), shared):
            cp.write_chunk(task.index, rows, stats)
            st.update(stats["n_generated"] * (1 if grid is None else len(grid)))
            peak_workers = max(peak_workers, handle.workers_memory())
    return {"grid_points": total, "workers_memory_peak": peak_workers}


def _seed_campaign(
    spec: RunSpec, pool: pd.DataFrame, table: pd.DataFrame, folder: Path
) -> Path | None:
    """Create OUT/campaign: the best-ranked candidates as pool, training data as known results."""
    from mi.active import Campaign

    n = spec.outputs.campaign_pool
    names = [t.name for t in spec.targets]
    target = spec.targets[names.index(spec.acquisition.target) if spec.acquisition.target else 0]
    if not n or target.task != "regression" or len(pool) == 0:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    head = pool.head(n)[["key"]].rename(columns={"key": "composition"})
    atomic_write(folder / "pool.csv", lambda tmp: head.to_csv(tmp, index=False))
    known = _merge_known(table).rename(columns={"y": target.name})
    atomic_write(folder / "known.csv", lambda tmp: known.to_csv(tmp, index=False))
    cspec = {
        "name": f"{spec.name}-campaign",
        "target": target.name,
        "maximize": target.objective == "maximize",
        "seed": spec.seed,
        "candidates": {"file": "pool.csv", "composition_col": "composition"},
        "initial": {"file": "known.csv", "composition_col": "composition"},
        "features": {"preset": target.preset},
        "model": {
            "name": target.model,
            "params": {k: v for k, v in target.model_params.items() if k != "n_jobs"},
        },
        "acquisition": {"name": spec.acquisition.name, "params": dict(spec.acquisition.params)},
        "batch": {"method": spec.outputs.batch_method, "min_distance": spec.outputs.min_distance},
        "constraints": {
            "risk": spec.criticality.objective,
            "rules": [c.model_dump(mode="json") for c in spec.constraints],
        },
        "base_dir": str(folder.resolve()),
    }
    atomic_write_text(folder / "campaign.json", json.dumps(cspec, indent=2))
    Campaign.init(folder / "state", folder / "campaign.json", overwrite=True)
    return folder / "state"


def _needs_members(spec: RunSpec) -> bool:
    """Whether screening must ask the surrogates for their members' predictions."""
    from mi.active import get_acquisition

    acquisition = get_acquisition(spec.acquisition.name, **dict(spec.acquisition.params))
    return bool(acquisition.needs_members)


def _merge_known(table: pd.DataFrame) -> pd.DataFrame:
    """One row per reduced composition (median ``y``), as a campaign's known results need.

    A dataset may keep the same composition twice on purpose (e.g. in its train and test
    splits); the campaign would refuse the duplicates at the very end of the run.
    """
    from mi.chem import parse_formulas

    keys = parse_formulas(table["composition"].astype(str).tolist()).canonical_keys()
    frame = table.assign(_key=keys)
    if not frame["_key"].duplicated().any():
        return table
    first = frame.groupby("_key", sort=False)["composition"].first()
    y = frame.groupby("_key", sort=False)["y"].median()
    return pd.DataFrame({"composition": first.to_numpy(), "y": y.loc[first.index].to_numpy()})


def _select_batch(spec: RunSpec, pool: pd.DataFrame, ctx: Any) -> np.ndarray:
    """Batch order (1..q, 0 = not in the batch) of a diverse batch from the best-ranked rows."""
    from mi.active import get_acquisition, select_batch
    from mi.chem import parse_formulas
    from mi.models import Prediction

    q = int(spec.outputs.batch_size or 0)
    order = np.zeros(len(pool), dtype=np.int64)
    if q == 0 or len(pool) == 0:
        return order
    head = pool.iloc[: min(len(pool), max(50 * q, 2000))]
    positions = np.arange(len(head))
    hc = spec.coercivity
    if hc is not None and hc.min_hc is not None and "Hc_mean" in head.columns:
        positions = np.flatnonzero(head["Hc_mean"].to_numpy(dtype=np.float64) >= hc.min_hc)
        head = head.iloc[positions]  # no batch pick among predicted non-magnets
        if len(head) == 0:
            return order
    target = ctx.targets[ctx.acquisition_target]
    pred = Prediction(
        head[f"{target.name}_mean"].to_numpy(dtype=np.float64),
        head[f"{target.name}_std"].to_numpy(dtype=np.float64),
    )
    acq = get_acquisition(ctx.acquisition, maximize=target.maximize, **ctx.acquisition_params)
    fractions = parse_formulas(head["key"].tolist()).fractions()
    chosen = select_batch(
        acq,
        pred,
        q,
        fractions=fractions,
        method=spec.outputs.batch_method,
        min_distance=spec.outputs.min_distance,
        risk=head[ctx.risk_column].to_numpy(dtype=np.float64),
        y_observed=ctx.y_observed,
        risk_observed=ctx.risk_observed,
        rng=spec.seed,
    )
    picked = positions[np.asarray(chosen.indices, dtype=np.int64)]
    order[picked] = np.arange(1, len(chosen.indices) + 1)
    return order


def _rank(
    spec: RunSpec, targets: list[Any], cp: Checkpoint, ctx: Any = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    from mi.runner.ranking import pareto_ranks
    from mi.runner.screen import describe_constraint

    frames = []
    n_generated = n_passed = n_risk_unknown = 0
    removed = np.zeros(len(spec.constraints), dtype=np.int64)
    stage_seconds: dict[str, float] = {}
    for index in sorted(cp.done_chunks()):
        rows, meta = cp.read_chunk(index)
        if len(rows):
            frames.append(rows)
        n_generated += meta["n_generated"]
        n_passed += meta["n_passed"]
        n_risk_unknown += meta.get("n_risk_unknown", 0)
        removed += np.asarray(meta["removed"], dtype=np.int64)
        for k, v in meta["seconds"].items():
            stage_seconds[k] = stage_seconds.get(k, 0.0) + v
    pool = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    n_retained = len(pool)
    n_dupes = 0
    if len(pool):
        pool = pool.sort_values(["acquisition", "index"], ascending=[False, True], kind="stable")
        before = len(pool)
        pool = pool.drop_duplicates("key", keep="first")
        n_dupes = before - len(pool)
        if spec.coercivity is not None:
            from mi.runner.magnets import add_coercivity

            pool = add_coercivity(pool, spec.coercivity)
        # Pareto ranks over every target's mean and the risk objective, on the best rows
        n_pareto = min(len(pool), max(5 * spec.outputs.top_n, 2000))
        if spec.outputs.rank_by == "pareto":  # the order itself: every retained row is ranked
            n_pareto = len(pool)
        head = pool.iloc[:n_pareto]
        cols = []
        coercivity = spec.coercivity
        for t in targets:
            sign, column = (1.0 if t.maximize else -1.0), f"{t.name}_mean"
            if coercivity is not None and coercivity.rank and t.name == coercivity.anisotropy:
                sign, column = 1.0, "Hc_mean"  # the coercivity proxy stands for the anisotropy
            cols.append(sign * head[column].to_numpy(dtype=np.float64))
        cols.append(-head[spec.criticality.objective].to_numpy(dtype=np.float64))
        points = np.column_stack(cols)
        ranked = np.ones(len(points), dtype=bool)
        if coercivity is not None and coercivity.min_hc is not None:
            # predicted softer than min_hc: not a permanent magnet, ranked after every other row
            ranked = head["Hc_mean"].to_numpy(dtype=np.float64) >= coercivity.min_hc
        ranks = np.zeros(len(points), dtype=np.int64)
        if ranked.any():
            ranks[ranked] = pareto_ranks(points[ranked], min_ranked=2 * spec.outputs.top_n)
        worst = int(ranks.max()) + 1 if ranks.size else 1
        ranks[~ranked] = worst
        pareto = np.full(len(pool), worst, dtype=np.int64)
        pareto[:n_pareto] = ranks
        pool["pareto_rank"] = pareto
        pool["on_front"] = pool["pareto_rank"] == 1
        if spec.outputs.rank_by == "pareto":
            order = ["pareto_rank", "acquisition", "index"]
            if spec.outputs.front_order == "families":
                # the n-th best of every family (by acquisition) before any family's (n+1)-th
                pool["_turn"] = pool.groupby(["pareto_rank", "family"]).cumcount()
                order = ["pareto_rank", "_turn", "acquisition", "index"]
            pool = pool.sort_values(
                order, ascending=[True] * (len(order) - 2) + [False, True], kind="stable"
            ).drop(columns="_turn", errors="ignore")
        pool.insert(0, "rank", np.arange(1, len(pool) + 1))
        pool = pool.reset_index(drop=True)
        if spec.outputs.batch_size and ctx is not None:
            pool["batch"] = _select_batch(spec, pool, ctx)
    counts = {
        "grid_points": None,
        "generated": int(n_generated),
        "passed_constraints": int(n_passed),
        "scored": int(n_passed),
        "retained": int(n_retained),
        "duplicates_across_templates": int(n_dupes),
        "risk_unknown_ranked_last": int(n_risk_unknown),
        "ranked": int(len(pool)),
    }
    constraints = [
        {"description": describe_constraint(c.model_dump()), "removed": int(r)}
        for c, r in zip(spec.constraints, removed, strict=True)
    ]
    return pool, {
        "counts": counts,
        "constraints": constraints,
        "worker_seconds": stage_seconds,
    }


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "mi",
        "numpy",
        "pandas",
        "scikit-learn",
        "xgboost-cpu",
        "matminer",
        "dask",
        "distributed",
        "pymatgen",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


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
    from mi.runner.validate import check_spec

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


def _criticality_as_of(spec: RunSpec, cp: Any) -> str:
    """Return the supply-risk date of the run: the spec's, else its first day (kept on resume)."""
    from mi.criticality import parse_as_of

    if spec.criticality.as_of is not None:
        return parse_as_of(spec.criticality.as_of).isoformat()
    if cp.is_done("criticality_as_of"):
        return str(cp.info("criticality_as_of")["date"])
    date = parse_as_of(None).isoformat()
    cp.mark_done("criticality_as_of", 0.0, date=date)
    return date


def _criticality_record(attrs: dict[str, Any]) -> dict[str, Any]:
    """Return what summary.json records about the supply-risk scores (date, tables, model)."""
    return {
        "as_of": attrs.get("as_of"),
        "weights": attrs.get("weights"),
        "hree_convention": attrs.get("hree_convention"),
        "tables": attrs.get("dated_tables"),
        "risk_model": attrs.get("risk_model"),
        "unverified_elements": attrs.get("unverified_elements"),
        "notes": attrs.get("notes"),
    }


def trained_targets(
    spec: RunSpec, cp: Checkpoint, progress: Progress, *, one_thread: bool = False
) -> tuple[list[Any], list[tuple[TargetSpec, dict[str, Any]]], list[pd.DataFrame]]:
    """Train (or read from the checkpoints) every target's surrogate for the screen.

    Returns the :class:`~mi.runner.screen.TargetModel` of each target, its training record and
    its training table. ``one_thread`` sets prediction threads to 1 (remote workers).
    """
    from mi.runner.screen import TargetModel

    trained, records, tables = [], [], []
    for target in spec.targets:
        model, columns, table, record = _train_target(spec, target, cp, progress)
        if one_thread:
            _set_threads(model, 1)
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


def screen_context(
    spec: RunSpec,
    cp: Checkpoint,
    trained: list[Any],
    tables: list[pd.DataFrame],
    progress: Progress,
    *,
    n_jobs: int | None,
) -> tuple[Any, dict[str, Any]]:
    """Build the :class:`~mi.runner.screen.ScreenContext` every chunk of the screen uses.

    One place for the local run, Dask and the SLURM array tasks, so they score alike: the same
    supply-risk date (the run's, kept in the checkpoints), incumbent and acquisition settings.
    Also returns the training set's supply-risk attributes (date, tables, model) for the
    summary.
    """
    from mi.criticality import score
    from mi.runner.screen import ScreenContext

    names = [t.name for t in spec.targets]
    primary = names.index(spec.acquisition.target) if spec.acquisition.target else 0
    as_of = _criticality_as_of(spec, cp)
    with progress.stage("score training set (criticality)", unit="rows") as st:
        train_scores = score(
            tables[primary]["composition"].tolist(),
            weights=spec.criticality.weights,
            hree_convention=spec.criticality.hree_convention,
            as_of=as_of,
        )
        risk_obs = train_scores[spec.criticality.objective].to_numpy(dtype=np.float64)
        y_obs = tables[primary]["y"].to_numpy(dtype=np.float64)
        ok = np.isfinite(risk_obs) & np.isfinite(y_obs)
        st.done = int(ok.sum())
    ctx = ScreenContext(
        targets=trained,
        constraints=[c.model_dump() for c in spec.constraints],
        weights=spec.criticality.weights,
        hree_convention=spec.criticality.hree_convention,
        risk_column=spec.criticality.objective,
        as_of=as_of,
        acquisition=spec.acquisition.name,
        acquisition_params=dict(spec.acquisition.params),
        acquisition_target=primary,
        y_observed=y_obs[ok],
        risk_observed=risk_obs[ok],
        keep=spec.outputs.keep_per_chunk or spec.outputs.top_n,
        write_all=spec.outputs.write_all,
        seed=spec.seed,
        n_jobs=n_jobs,
        needs_members=_needs_members(spec),
        condition_grid=_condition_grid(spec, trained),
    )
    return ctx, dict(train_scores.attrs)


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
    if spec.candidates is None:  # a train-only job: models, CV and the report
        return _finish_training_only(spec, out, cp, records, progress, report)

    names = [t.name for t in spec.targets]
    primary = names.index(spec.acquisition.target) if spec.acquisition.target else 0
    ctx, criticality_attrs = screen_context(
        spec, cp, trained, tables, progress, n_jobs=None if handle.kind == "local" else 1
    )
    screen_info = _screen(spec, ctx, handle, cp, progress)

    with progress.stage("rank and write results", unit="rows") as st:
        pool, info = _rank(spec, trained, cp, ctx)
        pool = _with_domain(pool, trained, tables)
        info["counts"]["grid_points"] = screen_info["grid_points"]
        grid = ctx.condition_grid
        info["counts"]["conditions_per_composition"] = 1 if grid is None else len(grid)
        results_path = cp.path("results.parquet")
        atomic_write(results_path, lambda tmp: pool.to_parquet(tmp, index=False))
        top = pool.head(spec.outputs.top_n).reset_index(drop=True)
        atomic_write(cp.path("top.csv"), lambda tmp: top.to_csv(tmp, index=False))
        if "batch" in pool.columns:
            batch = pool[pool["batch"] > 0].sort_values("batch")
            atomic_write(cp.path("batch.csv"), lambda tmp: batch.to_csv(tmp, index=False))
        st.done = len(pool)
    tradeoff_file = None
    if spec.coercivity is not None:
        from mi.runner.magnets import TRADEOFF_FILE, dytb_tradeoff

        with progress.stage("Dy/Tb trade-off", unit="front members") as st:
            tradeoff = dytb_tradeoff(
                pool,
                trained,
                spec.coercivity,
                spec.criticality.weights,
                spec.criticality.hree_convention,
                spec.criticality.objective,
            )
            tmp = out / f".{TRADEOFF_FILE}.tmp"
            tradeoff.to_csv(tmp, index=False)
            tmp.replace(out / TRADEOFF_FILE)
            tradeoff_file = TRADEOFF_FILE
            st.done = len(tradeoff)

    first = spec.targets[primary]
    summary: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "spec_hash": spec.digest(),
        "created": cp.state.get("created"),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "executor": handle.description,
        "counts": info["counts"],
        "constraints": info["constraints"],
        "acquisition": {
            "name": spec.acquisition.name,
            "target": first.name,
            "params": dict(spec.acquisition.params),
            "risk": spec.criticality.objective,
            "n_observed": int(len(ctx.y_observed)),
        },
        "coercivity": None if spec.coercivity is None else spec.coercivity.model_dump(),
        "targets": _target_summaries(records),
        "datasets": _dataset_records(records),
        "criticality": _criticality_record(criticality_attrs),
        "candidate_columns": {
            "formula": "formula",
            "objective": f"{first.name}_mean",
            "std": f"{first.name}_std",
            "risk": spec.criticality.objective,
            "color": "dytb_mass_fraction",
            "front": "on_front",
            "score": "acquisition",
        },
        "worker_seconds": info["worker_seconds"],
        "workers_memory_peak_bytes": screen_info["workers_memory_peak"],
        "versions": _versions(),
        "paths": {
            "results": "results.parquet",
            "top": "top.csv",
            "batch": "batch.csv" if spec.outputs.batch_size else None,
            "dytb_tradeoff": tradeoff_file,
            "cv": "cv/",
            "models": "models/",
            "report": "report.html",
        },
    }
    if spec.outputs.campaign_pool:
        with progress.stage("seed campaign", unit="candidates") as st:
            campaign = _seed_campaign(spec, pool, tables[primary], cp.path("campaign"))
            st.done = min(len(pool), spec.outputs.campaign_pool)
            if campaign is not None:
                summary["paths"]["campaign"] = str(campaign.relative_to(out))
                progress.log(
                    f"campaign seeded in {campaign}: continue with `mi campaign suggest "
                    f"{campaign} -n {spec.outputs.batch_size or 8}`"
                )
            else:
                progress.log("campaign not seeded: it needs a regression target")

    summary["timings"] = progress.timings()
    atomic_write_text(cp.path("summary.json"), json.dumps(summary, indent=2, default=_default))

    want_report = spec.outputs.report if report is None else report
    if want_report:
        with progress.stage("report"):
            try:
                from mi.report import write_report
            except ImportError:
                progress.log("report skipped: mi.report is not available in this installation")
            else:
                try:
                    write_report(out, cp.path("report.html"))
                except MIError as exc:
                    progress.log(f"report failed: {exc}")
        summary["timings"] = progress.timings()
        atomic_write_text(cp.path("summary.json"), json.dumps(summary, indent=2, default=_default))

    cv_pred = {}
    for t in spec.targets:
        path = cp.path("cv", f"{t.name}_oof.parquet")
        if path.is_file():
            cv_pred[t.name] = pd.read_parquet(path)
    return RunResult(spec, out, top, pool, summary, cv_pred)


def _with_domain(
    pool: pd.DataFrame, trained: list[Any], tables: list[pd.DataFrame]
) -> pd.DataFrame:
    """Add ``within_training_ranges`` and ``range_note`` (:mod:`mi.runner.domain`).

    A complement to the per-target ``<name>_in_domain`` of :mod:`mi.models.applicability`
    (feature-space distance, unseen elements): names the element whose fraction exceeds every
    training composition and the condition outside its training range.
    """
    if not len(pool):
        return pool
    from mi.runner.domain import domain_notes, training_domain

    formulas = pool["formula"].tolist()
    parts: list[list[str]] = [[] for _ in formulas]
    for target, table in zip(trained, tables, strict=True):
        dom = training_domain(table["composition"].tolist(), table, target.conditions)
        for i, note in enumerate(domain_notes(formulas, pool, dom)):
            if note:
                parts[i].append(f"{target.name}: {note}")
    notes = [" | ".join(p) for p in parts]
    return pool.assign(within_training_ranges=[not n for n in notes], range_note=notes)


def _condition_grid(spec: RunSpec, trained: list[Any]) -> pd.DataFrame | None:
    from mi.runner.own_data import condition_grid

    needed = list(dict.fromkeys(c for t in trained for c in t.conditions))
    assert spec.candidates is not None
    return condition_grid(dict(spec.candidates.conditions), needed)


def _target_summaries(records: list[tuple[TargetSpec, dict[str, Any]]]) -> list[dict[str, Any]]:
    from mi.runner.own_data import dataset_label

    return [
        {
            "name": t.name,
            "dataset": dataset_label(t),
            "column": r.get("column"),
            "units": r.get("units", ""),
            "task": t.task,
            "model": t.model,
            "preset": t.preset,
            "objective": t.objective,
            "conditions": r.get("conditions", {}),
            "transform": r.get("transform"),
            "n_train": r.get("n_train"),
            "excluded_from_training": r.get("excluded_from_training", {}),
            "cv_method": r.get("cv", {}).get("protocol"),
            "metrics": r.get("cv", {}).get("metrics", {}),
            "pooled": r.get("cv", {}).get("pooled", {}),
            "calibration": r.get("cv", {}).get("calibration")
            or r.get("cv", {}).get("calibration_raw"),
            "correction": r.get("cv", {}).get("correction"),
        }
        for t, r in records
    ]


def _finish_training_only(
    spec: RunSpec,
    out: Path,
    cp: Checkpoint,
    records: list[tuple[TargetSpec, dict[str, Any]]],
    progress: Progress,
    report: bool | None,
) -> RunResult:
    """Write summary.json (and report.html) of a workflow without candidates."""
    summary: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "spec_hash": spec.digest(),
        "created": cp.state.get("created"),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_only": True,
        "counts": {},
        "constraints": [],
        "targets": _target_summaries(records),
        "datasets": _dataset_records(records),
        "versions": _versions(),
        "paths": {"cv": "cv/", "models": "models/", "report": "report.html"},
    }
    summary["timings"] = progress.timings()
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=_default))
    if spec.outputs.report if report is None else report:
        with progress.stage("report"):
            try:
                from mi.report import write_report

                write_report(out, out / "report.html")
            except ImportError:
                progress.log("report skipped: mi.report is not available in this installation")
            except MIError as exc:
                progress.log(f"report failed: {exc}")
    cv_pred = {}
    for t in spec.targets:
        path = out / "cv" / f"{t.name}_oof.parquet"
        if path.is_file():
            cv_pred[t.name] = pd.read_parquet(path)
    empty = pd.DataFrame()
    return RunResult(spec, out, empty, empty, summary, cv_pred)


def _dataset_records(records: list[tuple[TargetSpec, dict[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for _, r in records:
        name = r["name"]
        if name in seen:
            continue
        seen[name] = {
            k: r.get(k)
            for k in (
                "name",
                "source",
                "licence",
                "citation",
                "sha256",
                "n_input",
                "n_accepted",
                "n_rejected",
                "n_filtered",
                "n_merged_groups",
            )
        }
        seen[name]["rejected_file"] = (
            f"datasets/{name}_rejected.parquet" if r.get("n_rejected") else None
        )
        seen[name]["label_audit"] = r.get("label_audit", [])
        seen[name]["audit_file"] = (
            f"datasets/{name}_audit.parquet" if r.get("label_audit") else None
        )
    return list(seen.values())


def _default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict(orient="list")
    return str(obj)

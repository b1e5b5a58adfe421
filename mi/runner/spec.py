"""``RunSpec``: a validated, versioned workflow file (``workflows/*.toml``).

A workflow file describes one headless screening job from data to ranked candidates:

.. code-block:: toml

    version = 1
    name = "my_screen"

    [[targets]]                 # one surrogate per property
    name = "Tc"                 # column prefix in the results
    dataset = "curie_tc"        # registered dataset (``mi datasets list``)
    column = "Tc"               # target column of that dataset
    preset = "magnet"           # featurizer preset (``featurizers/*.toml``)
    model = "xgb_ensemble"
    objective = "maximize"

    [[candidates.templates]]
    formula = "(Nd{1-x})2Fe14B"
    ranges = { x = [0.0, 0.5, 0.05] }   # start, stop (inclusive), step

    [[constraints]]
    kind = "max_mass_fraction"
    elements = ["Dy", "Tb"]
    limit = 0.01

    [acquisition]
    name = "ehvi"

Every table forbids unknown keys. Parsing checks only the file's own shape; names that live in
registries (datasets, presets, acquisitions, criticality tables) are checked by
:func:`mi.runner.validate.check_spec` before any work starts.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mi.exceptions import SpecError, closest_names

__all__ = [
    "SPEC_VERSION",
    "RunSpec",
    "TargetSpec",
    "CVSpec",
    "TemplateSpec",
    "CandidatesSpec",
    "ConstraintSpec",
    "CriticalitySpec",
    "AcquisitionSpec",
    "OutputSpec",
    "ExecutionSpec",
    "ClusterSpec",
    "load_spec",
    "parse_spec",
    "quick_spec",
]

#: Version of the workflow-file schema this ``mi`` reads.
SPEC_VERSION = 1

MODEL_KINDS = ("xgb_ensemble", "random_forest", "gp", "xgb_classifier", "two_stage_gap")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class CVSpec(_Strict):
    """Cross-validation report for one surrogate (written before screening)."""

    enabled: bool = Field(True, description="Run cross-validation and write its report.")
    method: Literal["kfold", "loco"] = Field(
        "kfold", description="Grouped k-fold, or leave-one-cluster-out (Meredig et al. 2018)."
    )
    n_splits: int = Field(5, ge=2, le=20, description="Number of folds.")
    calibration: Literal["linear", "isotonic", "scale", "none"] = Field(
        "linear",
        description=(
            "Recalibrate the surrogate's std on this cross-validation's out-of-fold predictions "
            "before screening (mi.models calibrators); 'none' keeps the raw ensemble spread."
        ),
    )


class TargetSpec(_Strict):
    """One property to learn and predict for every candidate."""

    name: str = Field(
        ..., min_length=1, description="Short name; results get <name>_mean and <name>_std."
    )
    dataset: str = Field(..., min_length=1, description="Registered dataset name.")
    column: str | None = Field(
        None, description="Target column of the dataset (default: the dataset's first target)."
    )
    task: Literal["regression", "classification"] = "regression"
    positive: str | None = Field(
        None,
        description=(
            "Classification only: a boolean column of the dataset, or '<column> > <value>' / "
            "'<column> == <value>' on the target column, that defines the positive class."
        ),
    )
    preset: str = Field("magpie", description="Featurizer preset name.")
    model: Literal["xgb_ensemble", "random_forest", "gp", "xgb_classifier", "two_stage_gap"] = (
        "xgb_ensemble"
    )
    model_params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the model's constructor."
    )
    objective: Literal["maximize", "minimize"] = "maximize"
    min_value: float | None = Field(None, description="Train only on rows with target >= this.")
    max_value: float | None = Field(None, description="Train only on rows with target <= this.")
    max_rows: int | None = Field(
        None, ge=10, description="Train on a random subset of this many rows (quick runs)."
    )
    cv: CVSpec = Field(default_factory=CVSpec)

    @model_validator(mode="after")
    def _task_consistency(self) -> TargetSpec:
        if self.task == "classification" and self.model != "xgb_classifier":
            raise ValueError(
                f"task 'classification' needs model 'xgb_classifier', got {self.model!r}"
            )
        if self.task == "regression" and self.model == "xgb_classifier":
            raise ValueError("model 'xgb_classifier' needs task = 'classification'")
        if self.positive is not None and self.task != "classification":
            raise ValueError("'positive' is only used with task = 'classification'")
        return self


RangeValue = Annotated[list[float], Field(min_length=1)]


class TemplateSpec(_Strict):
    """A formula template with substitution variables and their value grids."""

    formula: str = Field(..., min_length=1, description="e.g. '(Nd{1-x}Dy{x})2Fe14B'.")
    ranges: dict[str, RangeValue] = Field(
        default_factory=dict,
        description="Variable -> [start, stop, step], stop inclusive.",
    )
    values: dict[str, RangeValue] = Field(
        default_factory=dict, description="Variable -> explicit list of values."
    )
    sites: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Substitution site written [M] in the formula -> its element choices.",
    )
    where: list[str] = Field(
        default_factory=list,
        description="Extra linear inequalities between variables, e.g. 'x + y <= 0.3'.",
    )
    family: str | None = Field(None, description="Label written in the results' family column.")

    @field_validator("ranges")
    @classmethod
    def _three_numbers(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for key, r in v.items():
            if len(r) != 3:
                raise ValueError(f"range of {key!r} must be [start, stop, step], got {r}")
            if r[2] <= 0:
                raise ValueError(f"step of {key!r} must be > 0, got {r[2]}")
            if r[1] < r[0]:
                raise ValueError(f"range of {key!r} has stop < start: {r}")
        return v


class CandidatesSpec(_Strict):
    """How candidates are generated."""

    templates: list[TemplateSpec] = Field(..., min_length=1)
    max_candidates: int | None = Field(
        None, ge=1, description="Stop after this many generated candidates (quick runs)."
    )


class MaxMassFraction(_Strict):
    """Keep candidates whose summed mass fraction of ``elements`` is <= ``limit``."""

    kind: Literal["max_mass_fraction"]
    elements: list[str] = Field(..., min_length=1)
    limit: float = Field(..., ge=0, le=1)


class ExcludeElements(_Strict):
    """Drop candidates containing any of ``elements``."""

    kind: Literal["exclude_elements"]
    elements: list[str] = Field(..., min_length=1)


class AllowElements(_Strict):
    """Keep only candidates made solely of ``elements``."""

    kind: Literal["allow_elements"]
    elements: list[str] = Field(..., min_length=1)


class MaxSupplyRisk(_Strict):
    """Keep candidates whose supply risk is <= ``limit``."""

    kind: Literal["max_supply_risk"]
    limit: float = Field(..., ge=0, le=1)


ConstraintSpec = Annotated[
    MaxMassFraction | ExcludeElements | AllowElements | MaxSupplyRisk,
    Field(discriminator="kind"),
]


class CriticalitySpec(_Strict):
    """How supply risk is scored (see :func:`mi.criticality.score`)."""

    weights: dict[str, float] | None = Field(
        None, description="Weights of the supply-risk components (default: the library's)."
    )
    hree_convention: str = Field("eu_2023", description="Which elements count as heavy REE.")
    objective: str = Field(
        "supply_risk", description="Criticality column minimized by multi-objective acquisitions."
    )


class AcquisitionSpec(_Strict):
    """How candidates are ranked."""

    name: str = Field("ehvi", description="Registered acquisition (``mi.active``).")
    target: str | None = Field(
        None, description="Target the acquisition applies to (default: the first)."
    )
    params: dict[str, Any] = Field(default_factory=dict)


class OutputSpec(_Strict):
    """What the run writes."""

    top_n: int = Field(100, ge=1, le=100_000, description="Rows of the top-N table.")
    keep_per_chunk: int | None = Field(
        None,
        ge=1,
        description="Best rows kept from every chunk (default: top_n); 'all' rows via write_all.",
    )
    rank_by: Literal["acquisition", "pareto"] = Field(
        "acquisition",
        description=(
            "Order of the results: by acquisition value, or by Pareto rank over every target's "
            "mean and the criticality objective (ties broken by acquisition). Pareto ranks are "
            "computed among the retained candidates (the keep_per_chunk best of every chunk by "
            "acquisition), not over every generated candidate."
        ),
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        le=1000,
        description=(
            "Also pick a diverse batch of this many candidates for the next experiments "
            "(mi.active.select_batch on the best-ranked rows); written to batch.csv."
        ),
    )
    batch_method: Literal["greedy", "local_penalization"] = Field(
        "local_penalization", description="Diversity rule of the batch (see mi.active.batch)."
    )
    min_distance: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Batch members differ by at least this total-variation distance of fractions.",
    )
    campaign_pool: int | None = Field(
        None,
        ge=1,
        le=2_000_000,
        description=(
            "Seed an active-learning campaign in OUT/campaign with this many best-ranked "
            "candidates as its pool and the training data as known results; continue with "
            "`mi campaign suggest OUT/campaign -n 8` / `mi campaign observe` (regression "
            "targets only)."
        ),
    )
    write_all: bool = Field(
        False, description="Also write every scored candidate to Parquet (large for big screens)."
    )
    report: bool = Field(True, description="Write report.html when mi.report is installed.")


class ClusterSpec(_Strict):
    """Resources of one batch job for ``--cluster slurm|pbs`` (dask-jobqueue)."""

    cores: int = Field(2, ge=1, description="Cores per job.")
    memory: str = Field("4GB", description="Memory per job, e.g. '8GB'.")
    walltime: str = Field("01:00:00", description="Wall time per job, HH:MM:SS.")
    queue: str | None = Field(None, description="Queue / partition name.")
    account: str | None = Field(None, description="Account / project to charge.")
    jobs: int = Field(1, ge=1, description="Number of batch jobs (workers) to start.")
    processes: int = Field(1, ge=1, description="Dask worker processes per job.")
    job_extra_directives: list[str] = Field(default_factory=list)


class ExecutionSpec(_Strict):
    """How the chunked screen is executed."""

    chunk_size: int = Field(100_000, ge=1, le=10_000_000, description="Candidates per chunk.")
    executor: Literal["local", "process"] = Field(
        "local",
        description=(
            "'local': in this process; 'process': a process pool sized to the CPU quota. "
            "--scheduler / --cluster on the command line override this."
        ),
    )
    n_jobs: int | None = Field(None, description="Workers of the process pool (default: quota).")
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)


class RunSpec(_Strict):
    """A whole workflow file.

    Examples
    --------
    >>> spec = parse_spec({
    ...     "version": 1, "name": "demo",
    ...     "targets": [{"name": "Tc", "dataset": "curie_tc"}],
    ...     "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
    ... })
    >>> spec.targets[0].preset
    'magpie'
    """

    version: Literal[1] = Field(..., description="Workflow schema version.")
    name: str = Field(..., min_length=1)
    description: str = ""
    seed: int = Field(0, description="Seed for every random choice (models, subsets).")
    targets: list[TargetSpec] = Field(..., min_length=1)
    candidates: CandidatesSpec
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    criticality: CriticalitySpec = Field(default_factory=CriticalitySpec)
    acquisition: AcquisitionSpec = Field(default_factory=AcquisitionSpec)
    outputs: OutputSpec = Field(default_factory=OutputSpec)
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)

    @model_validator(mode="after")
    def _cross_checks(self) -> RunSpec:
        names = [t.name for t in self.targets]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"target names must be unique; repeated: {sorted(dup)}")
        if self.acquisition.target is not None and self.acquisition.target not in names:
            raise ValueError(_choice_message("acquisition.target", self.acquisition.target, names))
        return self

    def digest(self) -> str:
        """Return a stable hash of the spec (used to refuse resuming a different run).

        Returns
        -------
        str
            16 hex characters.
        """
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_overrides(self, **changes: Any) -> RunSpec:
        """Return a copy with dotted-path overrides, validated again.

        Parameters
        ----------
        **changes
            e.g. ``**{"candidates.max_candidates": 1000}``.

        Returns
        -------
        RunSpec
        """
        data = self.model_dump(mode="python")
        for dotted, value in changes.items():
            node: Any = data
            parts = dotted.split(".")
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node[part]
            if isinstance(node, list):
                node[int(parts[-1])] = value
            else:
                node[parts[-1]] = value
        return parse_spec(data)


def quick_spec(
    spec: RunSpec, max_candidates: int = 5000, max_rows: int = 500, n_estimators: int = 40
) -> RunSpec:
    """Return a fast variant of a workflow for a first look, notebooks and tests.

    Each surrogate trains on at most ``max_rows`` random rows with at most ``n_estimators``
    boosting rounds (3 ensemble members) and 3-fold CV. The candidate grids are coarsened (every
    range step doubled until a template has at most its share of ``max_candidates`` points), so
    the quick screen still covers every family. Datasets, presets, constraints and the
    acquisition are unchanged.

    Parameters
    ----------
    spec : RunSpec
        The full workflow.
    max_candidates, max_rows, n_estimators : int
        Size limits.

    Returns
    -------
    RunSpec
    """
    from mi.runner.candidates import build_template

    share = max(1, max_candidates // len(spec.candidates.templates))
    templates = []
    for tpl in spec.candidates.templates:
        ranges = {k: list(v) for k, v in tpl.ranges.items()}
        for _ in range(12):
            candidate = tpl.model_copy(update={"ranges": ranges})
            if not ranges or build_template(candidate).size <= share:
                break
            ranges = {k: [a, b, min(2 * c, max(b - a, c))] for k, (a, b, c) in ranges.items()}
        templates.append(tpl.model_copy(update={"ranges": ranges}).model_dump())
    over: dict[str, Any] = {
        "candidates.templates": templates,
        "candidates.max_candidates": min(
            spec.candidates.max_candidates or max_candidates, max_candidates
        ),
        "execution.chunk_size": min(spec.execution.chunk_size, max(1000, max_candidates // 4)),
    }
    for i, t in enumerate(spec.targets):
        params = dict(t.model_params)
        params["n_estimators"] = min(int(params.get("n_estimators", n_estimators)), n_estimators)
        if t.model == "xgb_ensemble":
            params["n_members"] = min(int(params.get("n_members", 3)), 3)
        if t.model in ("xgb_ensemble", "xgb_classifier", "random_forest"):
            over[f"targets.{i}.model_params"] = params
        over[f"targets.{i}.max_rows"] = min(t.max_rows or max_rows, max_rows)
        over[f"targets.{i}.cv"] = {**t.cv.model_dump(), "n_splits": 3}
    return spec.with_overrides(**over)


# --------------------------------------------------------------------------------------
# error formatting: one message naming key/value, allowed choices and the closest match
# --------------------------------------------------------------------------------------


def _choice_message(key: str, value: Any, choices: list[str]) -> str:
    close = closest_names(str(value), choices)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"{key} = {value!r} is not one of: {', '.join(map(str, choices))}.{hint}"


def _loc_to_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int) and part in _CONSTRAINT_MODELS:
            continue  # pydantic adds the union member's tag to the location
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Walk the RunSpec schema along ``loc`` and return the model that owns the last key."""
    model: Any = RunSpec
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                # discriminated-union member named by its tag, e.g. 'max_mass_fraction'
                model = _CONSTRAINT_MODELS.get(str(part))
                continue
            model = _inner_model(field.annotation)
        else:
            model = _CONSTRAINT_MODELS.get(str(part))
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


_CONSTRAINT_MODELS: dict[str, type[BaseModel]] = {
    "max_mass_fraction": MaxMassFraction,
    "exclude_elements": ExcludeElements,
    "allow_elements": AllowElements,
    "max_supply_risk": MaxSupplyRisk,
}


def _format_error(err: Mapping[str, Any]) -> str:
    loc = tuple(err.get("loc", ()))
    key = _loc_to_str(loc) or "(top level)"
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc)
        allowed = sorted(owner.model_fields) if owner else []
        close = closest_names(str(loc[-1]), allowed)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown key {key!r}. Allowed keys here: {', '.join(allowed)}.{hint}"
    if kind == "missing":
        return f"missing required key {key!r}."
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'\"") for c in expected.replace(" or ", ",").split(",")]
        choices = [c for c in choices if c]
        return _choice_message(key, value, choices)
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tag = ctx.get("tag")
        return _choice_message(f"{key}.kind", tag, list(_CONSTRAINT_MODELS))
    if kind == "union_tag_not_found":
        return f"{key} needs a 'kind' key; one of: {', '.join(_CONSTRAINT_MODELS)}."
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        if not loc or isinstance(value, dict):
            return f"{key}: {msg}." if loc else f"{msg}."
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{key}: {msg} (got {shown})."


def _raise_spec_error(exc: ValidationError, source: str) -> None:
    errors = exc.errors()
    lines = [_format_error(e) for e in errors]
    head = f"Invalid workflow {source}: {lines[0]}"
    if len(lines) > 1:
        head += f" (+{len(lines) - 1} more: " + " | ".join(lines[1:]) + ")"
    raise SpecError(head) from None


def parse_spec(data: dict[str, Any], source: str = "<dict>") -> RunSpec:
    """Validate a workflow mapping (the parsed TOML) into a :class:`RunSpec`.

    Parameters
    ----------
    data : dict
        The workflow file's content.
    source : str
        Where it came from (quoted in errors).

    Returns
    -------
    RunSpec

    Raises
    ------
    SpecError
        With one message naming the key or value, the allowed choices and the closest match.
    """
    if not isinstance(data, dict):
        raise SpecError(f"Invalid workflow {source}: expected a table, got {type(data).__name__}.")
    version = data.get("version")
    if version is None:
        raise SpecError(
            f"Invalid workflow {source}: missing required key 'version' "
            f"(this mi reads version = {SPEC_VERSION})."
        )
    if version != SPEC_VERSION:
        raise SpecError(
            f"Invalid workflow {source}: version = {version!r} is not supported; this mi reads "
            f"version = {SPEC_VERSION}. Update the file or mi."
        )
    try:
        return RunSpec.model_validate(data)
    except ValidationError as exc:
        _raise_spec_error(exc, source)
        raise  # pragma: no cover - _raise_spec_error always raises


def resolve_workflow_path(name_or_path: str | Path) -> Path:
    """Find a workflow file: an existing path, or a name in the workflow folders.

    Parameters
    ----------
    name_or_path : str or Path
        ``"workflows/x.toml"``, ``"x.toml"`` or ``"x"``.

    Returns
    -------
    Path
    """
    from mi.config import definition_dirs

    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name[:-5] if path.name.endswith(".toml") else path.name
    known: list[str] = []
    for folder in definition_dirs("workflows"):
        candidate = folder / f"{stem}.toml"
        if candidate.is_file():
            return candidate
        known += sorted(p.stem for p in folder.glob("*.toml"))
    close = closest_names(stem, known)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise SpecError(
        f"Workflow file {str(name_or_path)!r} not found. Built-in workflows: "
        f"{', '.join(known) or '(none)'}.{hint}"
    )


def load_spec(path: str | Path) -> RunSpec:
    """Read and validate a workflow TOML file.

    Parameters
    ----------
    path : str or Path
        A path, or the name of a built-in workflow (``"metal_screen"``).

    Returns
    -------
    RunSpec

    Raises
    ------
    SpecError
        The file is missing, is not valid TOML, or does not match the schema.
    """
    file = resolve_workflow_path(path)
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"Invalid workflow {file}: not valid TOML ({exc}).") from None
    return parse_spec(data, source=str(file))

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
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from mi._paths import check_name
from mi._spec import StrictSpec, choice_message, spec_error
from mi._toml import load_toml
from mi.candidates.constraint_spec import ConstraintSpec
from mi.candidates.template_spec import RangeValue, TemplateSpec
from mi.data.table_file import TableFile
from mi.exceptions import SpecError, did_you_mean
from mi.models.registry import MODELS, ModelName, get_model_spec

__all__ = [
    "SPEC_VERSION",
    "RunSpec",
    "TargetSpec",
    "CVSpec",
    "TemplateSpec",
    "CandidatesSpec",
    "ConstraintSpec",
    "CriticalitySpec",
    "CoercivitySpec",
    "AcquisitionSpec",
    "OutputSpec",
    "ExecutionSpec",
    "ClusterSpec",
    "load_spec",
    "parse_spec",
]

#: File endings of table files: a ``dataset`` written like one is a file, not a registered name.
_TABLE_SUFFIXES = ("csv", "tsv", "tab", "txt", "parquet", "pq", "json", "jsonl", "xlsx", "xls")

#: Version of the workflow-file schema this ``mi`` reads.
SPEC_VERSION = 1

#: Default limit on a screen's candidate grid points (``[execution] max_grid_points``).
DEFAULT_MAX_GRID_POINTS = 100_000_000


class _Strict(StrictSpec):
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
    dataset: str | None = Field(
        None, min_length=1, description="Registered dataset name (or give 'table')."
    )
    table: TableFile | None = Field(
        None,
        description=(
            "A local table file used directly as the dataset (mi.data.table_file.TableFile): "
            "composition or element columns, targets, conditions, where, merge rule."
        ),
    )
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
    model: ModelName = Field(
        "xgb_ensemble", description="Surrogate from mi.models.registry (mi.models.list_models())."
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
    label_audit: bool = Field(
        True, description="Apply the dataset's label audit where its manifest declares one."
    )
    cv: CVSpec = Field(default_factory=CVSpec)

    @field_validator("name", "dataset", "preset")
    @classmethod
    def _safe_name(cls, v: str | None, info: Any) -> str | None:
        # these names become file and folder names in the output folder and the caches
        if v is None:
            return None  # no dataset: the target names a table file
        if info.field_name == "dataset" and v.rsplit(".", 1)[-1].lower() in _TABLE_SUFFIXES:
            raise ValueError(
                f"{v!r} is a file, not a registered dataset. Declare it as a table: "
                f"[targets.table] path = {v!r}, composition_col = ..., targets = [...] "
                "(README: 'Bring your own data')"
            )
        return check_name(
            v, "target name" if info.field_name == "name" else f"{info.field_name} name"
        )

    @model_validator(mode="after")
    def _value_range(self) -> TargetSpec:
        for key in ("min_value", "max_value"):
            value = getattr(self, key)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{key} must be a finite number, got {value!r}")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError(
                f"min_value = {self.min_value:g} is above max_value = {self.max_value:g}: "
                "no row could be used"
            )
        return self

    @model_validator(mode="after")
    def _task_consistency(self) -> TargetSpec:
        if (self.dataset is None) == (self.table is None):
            raise ValueError("give either 'dataset' (a registered name) or 'table' (a file)")
        classifier = get_model_spec(self.model).kind == "classifier"
        if self.task == "classification" and not classifier:
            names = [n for n, m in MODELS.items() if m.kind == "classifier"]
            raise ValueError(
                f"task 'classification' needs a classifier model ({', '.join(names)}), "
                f"got {self.model!r}"
            )
        if self.task == "regression" and classifier:
            raise ValueError(f"model {self.model!r} needs task = 'classification'")
        if self.positive is not None and self.task != "classification":
            raise ValueError("'positive' is only used with task = 'classification'")
        return self


class CandidatesSpec(_Strict):
    """How candidates are generated."""

    templates: list[TemplateSpec] = Field(..., min_length=1)
    conditions: dict[str, RangeValue] = Field(
        default_factory=dict,
        description=(
            "Values of each condition input the surrogates use (e.g. aging temperature); every "
            "candidate composition is screened at every combination (a candidate is a "
            "composition and its conditions)."
        ),
    )
    max_candidates: int | None = Field(
        None, ge=1, description="Stop after this many generated candidates (quick runs)."
    )


class CriticalitySpec(_Strict):
    """How supply risk is scored (see :func:`mi.criticality.score`)."""

    weights: dict[str, float] | None = Field(
        None, description="Weights of the supply-risk components (default: the library's)."
    )
    hree_convention: str = Field("eu_2023", description="Which elements count as heavy REE.")
    objective: str = Field(
        "supply_risk", description="Criticality column minimized by multi-objective acquisitions."
    )
    as_of: str | None = Field(
        None,
        description="Date (YYYY-MM-DD) supply risk is computed for; default the day the run "
        "starts (kept when the run resumes). Recorded in summary.json and the report.",
    )

    def score(self, compositions: Any, **options: Any) -> Any:
        """Score compositions with these weights, HREE convention and date.

        ``options`` go to :func:`mi.criticality.score` (e.g. ``include_composition=False``).
        """
        from mi.criticality import score

        return score(compositions, self.weights, self.hree_convention, as_of=self.as_of, **options)


class CoercivitySpec(_Strict):
    """Kronmüller coercivity proxy from an anisotropy and a polarisation target.

    ``mu0 Ha = 2 mu0 K1 / Js`` and ``mu0 Hc = alpha mu0 Ha - Neff Js`` per candidate, with
    propagated std (:func:`mi.features.coercivity.kronmuller`); results get ``Ha_mean/std`` and
    ``Hc_mean/std`` columns (tesla).
    """

    anisotropy: str = Field(..., description="Target predicting K1 in MJ/m3.")
    polarisation: str = Field(..., description="Target predicting Js = mu0 Ms in tesla.")
    alpha: float = Field(
        0.4, gt=0, le=1, description="Microstructure factor (sintered Nd-Fe-B: about 0.3-0.6)."
    )
    neff: float = Field(1.0, ge=0, description="Effective demagnetising factor (about 1).")
    rank: bool = Field(
        True,
        description=(
            "Pareto-rank on Hc in place of the anisotropy target's mean (Hc already trades "
            "anisotropy against Js)."
        ),
    )
    min_hc: float | None = Field(
        None,
        description=(
            "Candidates whose predicted Hc (T) is below this are not permanent magnets: they "
            "stay in the results but are ranked after every other candidate."
        ),
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
    front_order: Literal["acquisition", "families"] = Field(
        "acquisition",
        description=(
            "Order inside one Pareto rank (rank_by = 'pareto'): by acquisition value, or "
            "'families' in turn (every family's best candidate by acquisition, then every "
            "family's second ...), so that one template family cannot fill the top rows; no "
            "member of a front dominates another, so either order is a convention."
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
    job_extra_directives: list[str] = Field(
        default_factory=list, description="Extra '#SBATCH'/'#PBS' lines, e.g. '--qos=short'."
    )
    interface: str | None = Field(
        None,
        description=(
            "Network interface the Dask scheduler and workers use, e.g. 'ib0' (default: the "
            "host's address; 'lo' on a single-node test cluster)."
        ),
    )
    modules: list[str] = Field(
        default_factory=list,
        description="Environment modules each job loads first ('module load <name>').",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables each job exports, e.g. { MI_DATA_DIR = '/scratch/mi' }.",
    )

    @field_validator("modules")
    @classmethod
    def _module_names(cls, value: list[str]) -> list[str]:
        import re

        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9_.+/@:-]+", name):
                raise ValueError(f"module name {name!r} has characters a module name cannot have")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"environment variable name {name!r} is not a shell identifier")
        return value


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
    max_grid_points: int = Field(
        DEFAULT_MAX_GRID_POINTS,
        ge=1,
        description=(
            "Refuse, before any work, a screen whose templates have more grid points than this "
            "(computed from the spec alone; `mi run --max-grid-points` overrides)."
        ),
    )
    memory_budget_gb: float | None = Field(
        None,
        gt=0,
        description="Refuse a screen whose estimated memory exceeds this (default: half the RAM).",
    )
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
    seed: int = Field(
        0, ge=0, le=2**32 - 1, description="Seed for every random choice (models, subsets)."
    )
    targets: list[TargetSpec] = Field(..., min_length=1)
    candidates: CandidatesSpec | None = Field(
        None, description="Omit for a train-only job (train, cross-validate, save, report)."
    )
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    criticality: CriticalitySpec = Field(default_factory=CriticalitySpec)
    coercivity: CoercivitySpec | None = Field(
        None, description="Kronmüller coercivity proxy from two targets (magnet screens)."
    )
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
            raise ValueError(choice_message("acquisition.target", self.acquisition.target, names))
        if self.coercivity is not None:
            for key in ("anisotropy", "polarisation"):
                value = getattr(self.coercivity, key)
                if value not in names:
                    raise ValueError(choice_message(f"coercivity.{key}", value, names))
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
        raise spec_error(exc, root=RunSpec, what="workflow", source=source) from None


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
    hint = did_you_mean(stem, known)
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
        data = load_toml(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Invalid workflow {file}: not valid TOML ({exc}).") from None
    from mi.runner.own_data import resolve_tables

    return resolve_tables(parse_spec(data, source=str(file)), file.parent)

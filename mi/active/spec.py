"""``CampaignSpec``: the validated description of a campaign (TOML or JSON file, or a dict).

Example file (paths are relative to the spec file)::

    name = "ndfeb-lean"
    target = "Hc"                 # column of the lab results to maximize/minimize
    maximize = true
    seed = 0

    [candidates]
    file = "pool.csv"             # or: formulas = [...], or: [[candidates.templates]] (below)
    composition_col = "composition"
    # [[candidates.templates]]    # the template grammar of workflow files
    # formula = "(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}Co{z})14B"
    # ranges = { x = [0, 0.5, 0.05] }            # start, stop, step
    # values = { y = [0, 0.1, 0.2], z = [0] }    # explicit values
    # (older files: template = "..." with ranges whose tables are {start, stop, step} grids
    # and whose arrays list values; they are converted on load)

    [initial]                     # optional: results known before the campaign
    file = "known.csv"            # or any table file: .tsv .parquet .json .xlsx, with
    # elements = "wt%"            #   element columns instead of a formula column,
    # where = "T_K >= 280"        #   a row filter, and replicates merged (row accounting kept)

    [features]
    preset = "magpie"             # any mi.features preset, or "fractions" (atomic fractions)

    [model]
    name = "xgb_ensemble"         # a regressor of mi.models.list_models()
    params = { n_members = 8, n_estimators = 200 }

    [acquisition]
    name = "ei"
    params = {}

    [batch]
    method = "local_penalization"
    min_distance = 0.02

    [constraints]
    max_dytb_mass_fraction = 0.01
    max_supply_risk = 0.6
    exclude_elements = ["Co"]
    risk = "supply_risk"          # criticality column used as the known risk by penalized/ehvi
    [[constraints.rules]]         # any constraint of the workflow grammar (mi.candidates)
    kind = "max_elements"
    n = 4

A multi-objective campaign replaces ``target`` / ``maximize`` by objectives (one surrogate per
measured target; known columns such as ``supply_risk`` enter exactly)::

    [[objectives]]
    target = "Tc"
    [[objectives]]
    target = "Js"
    [[objectives]]
    column = "supply_risk"
    maximize = false
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from mi._spec import StrictSpec, choice_message, spec_error
from mi._toml import load_json, load_toml
from mi.candidates.constraint_spec import ConstraintSpec
from mi.candidates.space_spec import CandidateSpaceSpec
from mi.exceptions import SpecError

__all__ = [
    "CampaignSpec",
    "ObjectiveSpec",
    "SurrogateSpec",
    "load_spec",
    "spec_hash",
    "SPEC_VERSION",
]

SPEC_VERSION = 1


class InitialSpec(StrictSpec):
    """Results measured before the campaign (they need not be in the pool).

    A plain CSV of ``composition`` and target columns is read strictly (any bad row stops
    ``init``, naming its line). Any other table file (TSV, Parquet, JSON, xlsx), or a CSV with
    ``elements``, ``where`` or ``read_options``, is read by :func:`mi.data.read_table`: every row
    is accepted, filtered, merged with its replicates (median) or rejected with its reason, and
    that accounting is kept in the campaign (``status()["initial_report"]``).
    """

    file: str
    composition_col: str = "composition"
    target_col: str | None = Field(default=None, description="Default: the campaign's target.")
    elements: Literal["wt%", "at%"] | dict[str, Any] | None = Field(
        default=None,
        description=(
            "The composition is given as element columns: 'wt%', 'at%', or a table such as "
            "{ basis = 'wt%', on_bad_sum = 'reject' } (see mi ingest)."
        ),
    )
    where: str | None = Field(
        default=None,
        description="Row filter, e.g. 'temperature_K >= 280 and temperature_K <= 320'.",
    )
    read_options: dict[str, Any] = Field(
        default_factory=dict, description="Reader options, e.g. {sep = ';', encoding = 'latin-1'}."
    )
    sheet: str | int | None = Field(default=None, description="xlsx: the sheet to read.")

    @property
    def strict_csv(self) -> bool:
        """Whether the file is read by the strict CSV path (line numbers in errors)."""
        plain = self.elements is None and self.where is None and not self.read_options
        return plain and self.sheet is None and self.file.lower().endswith(".csv")


class FeaturesSpec(StrictSpec):
    """Featurization of the pool, done once at ``init``."""

    preset: str = Field(default="magpie", description="mi.features preset, or 'fractions'.")
    backend: str = Field(default="fast", description="mi.features backend.")


class SurrogateSpec(StrictSpec):
    """The campaign's surrogate: a regressor of :mod:`mi.models.registry` and its parameters."""

    name: str = Field(default="xgb_ensemble", description="A regressor of mi.models.list_models().")
    params: dict[str, Any] = Field(default_factory=dict)
    calibration: Literal["none", "linear", "isotonic", "scale"] = Field(
        default="none",
        description=(
            "Recalibrate the surrogate's std by an internal k-fold CV on the observations "
            "(mi.models.CalibratedRegressor, replacing the model's own calibration) once there "
            "are at least calibration_folds * 2 of them; 'none' scores with the model's own "
            "std, which the mi.models regressors calibrate out-of-bag at fit by default (pass "
            "params.calibration = 'none' for the raw ensemble spread)."
        ),
    )
    calibration_folds: int = Field(default=5, ge=2, le=20)

    def check(self) -> None:
        """Check the name (a registered regressor) and the parameters without fitting.

        Raises
        ------
        SpecError
            ``model.name`` or ``model.params.<key>`` named, with the choices and the closest.
        """
        from mi.models.registry import MODELS  # here: reading a campaign needs no scikit-learn

        regressors = [n for n, m in MODELS.items() if m.kind == "regressor"]
        if self.name not in regressors:
            raise SpecError(choice_message("model.name", self.name, regressors, "regressor"))
        MODELS[self.name].validate_params(self.params, key="model.params")

    def build(self, *, random_state: int, n_observations: int) -> Any:
        """Return the unfitted surrogate, recalibrated when asked and enough results exist.

        Parameters
        ----------
        random_state : int
            Seed used when ``params`` sets none.
        n_observations : int
            Results the surrogate will be fitted on.
        """
        from mi.models import CalibratedRegressor
        from mi.models.registry import get_model_spec

        model = get_model_spec(self.name).build(self.params, random_state=random_state)
        folds = self.calibration_folds
        if self.calibration != "none" and n_observations >= 2 * folds:
            model = CalibratedRegressor(
                model, method=self.calibration, cv=folds, random_state=random_state
            )
        return model


class AcquisitionSpec(StrictSpec):
    """Acquisition from mi.active's registry."""

    name: str = "ei"
    params: dict[str, Any] = Field(default_factory=dict)


class BatchSpec(StrictSpec):
    """Batch selection (see mi.active.select_batch)."""

    method: str = "local_penalization"
    min_distance: float = Field(default=0.02, ge=0.0, le=1.0)
    length_scale: float = Field(default=0.1, gt=0.0)


class ConstraintsSpec(StrictSpec):
    """Feasibility rules on the candidates (known exactly from the composition)."""

    max_dytb_mass_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    max_hree_mass_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    max_supply_risk: float | None = Field(default=None, ge=0.0, le=1.0)
    exclude_elements: list[str] = Field(default_factory=list)
    rules: list[ConstraintSpec] = Field(
        default_factory=list,
        description="Constraints in the workflow grammar ([[constraints.rules]] kind = ...).",
    )
    risk: str = Field(
        default="supply_risk", description="Criticality column used as the known risk."
    )


class ObjectiveSpec(StrictSpec):
    """One objective of a multi-objective campaign: a measured property or a known column."""

    target: str | None = Field(
        default=None, description="Property measured by the lab (learned by a surrogate)."
    )
    column: str | None = Field(
        default=None,
        description="Known per-candidate column of the pool (e.g. supply_risk): no surrogate.",
    )
    maximize: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> ObjectiveSpec:
        if (self.target is None) == (self.column is None):
            raise ValueError("an objective names exactly one of 'target' or 'column'")
        return self

    @property
    def label(self) -> str:
        """The target or column name."""
        return str(self.target or self.column)


class CampaignSpec(StrictSpec):
    """A campaign: the property, the pool, the surrogate, the acquisition and the constraints.

    A single-objective campaign names ``target`` and ``maximize``. A multi-objective one lists
    ``[[objectives]]`` instead (each a measured ``target`` with its own surrogate, or a known
    ``column`` such as ``supply_risk``) and is suggested by :mod:`mi.active.multi`.
    """

    version: int = Field(default=SPEC_VERSION, description="Spec format version.")
    name: str = Field(..., min_length=1)
    target: str = Field(..., min_length=1, description="Property column in the lab results.")
    maximize: bool = True
    objectives: list[ObjectiveSpec] = Field(
        default_factory=list,
        description="Several objectives (multi-objective campaign); 'target' is then the first.",
    )
    seed: int = 0
    min_observations: int = Field(
        default=5, ge=0, description="Below this many results, suggestions are random (feasible)."
    )
    candidates: CandidateSpaceSpec
    initial: InitialSpec | None = None
    features: FeaturesSpec = Field(default_factory=lambda: FeaturesSpec())
    model: SurrogateSpec = Field(default_factory=lambda: SurrogateSpec())
    acquisition: AcquisitionSpec = Field(default_factory=lambda: AcquisitionSpec())
    batch: BatchSpec = Field(default_factory=lambda: BatchSpec())
    constraints: ConstraintsSpec = Field(default_factory=lambda: ConstraintsSpec())
    base_dir: str | None = Field(default=None, description="Folder that relative paths refer to.")

    @model_validator(mode="before")
    @classmethod
    def _target_from_objectives(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("objectives") and not data.get("target"):
            learned = [o for o in data["objectives"] if isinstance(o, dict) and o.get("target")]
            if not learned:
                raise ValueError(
                    "objectives needs at least two entries, at least one of them a measured "
                    "'target'"
                )
            data = {**data, "target": learned[0]["target"]}
            data["maximize"] = bool(learned[0].get("maximize", True))
        return data

    @model_validator(mode="after")
    def _check(self) -> CampaignSpec:
        if self.version != SPEC_VERSION:
            raise ValueError(
                f"spec version {self.version} is not supported by this mi (expects {SPEC_VERSION})"
            )
        if not self.objectives:
            return self
        learned = [o for o in self.objectives if o.target is not None]
        if len(self.objectives) < 2 or not learned:
            raise ValueError(
                "objectives needs at least two entries, at least one of them a measured 'target'"
            )
        labels = [o.label for o in self.objectives]
        if len(set(labels)) != len(labels):
            raise ValueError(f"objectives repeat a name: {labels}")
        if learned[0].target != self.target or learned[0].maximize != self.maximize:
            raise ValueError(
                "with objectives, leave out 'target' and 'maximize' (the first measured "
                "objective is the campaign's target)"
            )
        return self

    @property
    def targets(self) -> list[str]:
        """The measured properties (one surrogate each); ``[target]`` for one objective."""
        if not self.objectives:
            return [self.target]
        return [str(o.target) for o in self.objectives if o.target is not None]

    def resolve(self, path: str | None) -> Path | None:
        """Resolve a path of the spec against ``base_dir``."""
        if path is None:
            return None
        p = Path(path).expanduser()
        if not p.is_absolute() and self.base_dir:
            p = Path(self.base_dir) / p
        return p


def load_spec(spec: CampaignSpec | dict[str, Any] | str | Path) -> CampaignSpec:
    """Read and validate a spec from a TOML/JSON file, a dict, or pass a spec through.

    Raises
    ------
    SpecError
        Unreadable file or invalid content (the message lists every problem with its key).
    """
    if isinstance(spec, CampaignSpec):
        return spec
    base: str | None = None
    source = "<dict>"
    if isinstance(spec, str | Path):
        path = Path(spec)
        source = str(path)
        if not path.is_file():
            raise SpecError(f"Campaign spec file {str(path)!r} does not exist.")
        try:
            if path.suffix.lower() == ".json":
                data = load_json(path)
            else:
                data = load_toml(path)
        except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise SpecError(f"Cannot read campaign spec {str(path)!r}: {exc}") from None
        base = str(path.resolve().parent)
    else:
        data = dict(spec)
    if base is not None and not data.get("base_dir"):
        data["base_dir"] = base
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, root=CampaignSpec, what="campaign spec", source=source) from None


def spec_hash(spec: CampaignSpec) -> str:
    """sha256 of the spec's canonical JSON (without ``base_dir``)."""
    data = spec.model_dump(mode="json", exclude={"base_dir"})
    if not data["constraints"]["rules"]:  # campaigns made before 'rules' existed keep their hash
        del data["constraints"]["rules"]
    if not data["objectives"]:  # likewise for single-objective campaigns
        del data["objectives"]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

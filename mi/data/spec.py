"""How a property table is turned into a dataset: column roles, target parsing, merging.

These models are shared by :func:`mi.data.read_table` (built from its arguments) and by the
dataset manifests in ``datasets/*.toml`` (the ``[table]``, ``[[targets]]`` and ``[[flags]]``
sections), so a registered dataset and a user's own table are cleaned by the same code. A target
with several values per compound can carry a label audit (``[targets.audit]``, see
:class:`LabelAuditSpec` and :mod:`mi.data.audit`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from mi._spec import StrictSpec

__all__ = [
    "TargetSpec",
    "FlagSpec",
    "TableSpec",
    "ElementColumnsSpec",
    "ConditionSpec",
    "TRANSFORMS",
    "LabelAuditSpec",
    "AuditRule",
    "AuditWhere",
    "ELEMENT_GROUPS",
]

#: Element groups a label-audit rule can name besides element symbols (``"Fe+Co"`` sums).
#: Written out rather than taken from :data:`mi.chem.RARE_EARTHS`: importing mi.chem would pull
#: numpy and scipy into ``mi datasets list`` (tests/test_element_groups.py keeps them equal).
ELEMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "R": (
        "Y",
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Pm",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Er",
        "Tm",
        "Yb",
        "Lu",
    ),  # fmt: skip
}

#: Target transforms (see :mod:`mi.data.transforms`).
TRANSFORMS = ("log10", "ln", "reciprocal")


class _Strict(StrictSpec):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditWhere(_Strict):
    """The compositions a label-audit rule applies to, by atomic fractions.

    ``fractions`` maps an element (``"Fe"``), a group of :data:`ELEMENT_GROUPS` (``"R"``: Y and
    La-Lu) or a sum of them (``"Fe+Co"``) to an inclusive ``[low, high]`` range of its atomic
    fraction; ``others_max`` bounds the total fraction of the elements named nowhere in
    ``fractions``. Every condition must hold.
    """

    fractions: dict[str, tuple[float, float]] = Field(default_factory=dict)
    others_max: float | None = Field(default=None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ranges(self) -> AuditWhere:
        for key, (low, high) in self.fractions.items():
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"fraction range of {key!r} must satisfy 0 <= low <= high <= 1")
        return self

    def check_names(self, groups: dict[str, tuple[str, ...]]) -> None:
        """Raise ValueError naming a part of ``fractions`` that is no element nor group."""
        from mi.chem.elements import ELEMENTS

        for key in self.fractions:
            for part in key.split("+"):
                if part not in ELEMENTS and part not in groups:
                    raise ValueError(
                        f"{part!r} in {key!r} is neither an element nor a group "
                        f"({', '.join(groups)})"
                    )


class AuditRule(_Strict):
    """A physical plausibility rule: values outside ``[min_value, max_value]`` are dropped.

    The rule is checked on every single value of a compound (one mined value, one source row)
    before the consensus is formed, so a stray value is removed and the others still count.
    ``always = true`` declares every value implausible for the compositions of ``where`` (e.g.
    a Curie temperature of a compound without any element that carries a magnetic moment).
    """

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="Short rule id shown in reports.")
    reason: str = Field(min_length=1, description="Why such a value is implausible (cited).")
    min_value: float | None = Field(default=None, description="Smaller values are implausible.")
    min_exclusive: bool = Field(default=False, description="Also min_value itself.")
    max_value: float | None = Field(default=None, description="Larger values are implausible.")
    always: bool = Field(default=False, description="Every value of such compositions fails.")
    where: AuditWhere | None = Field(default=None, description="Default: every composition.")

    @model_validator(mode="after")
    def _has_bound(self) -> AuditRule:
        if self.min_value is None and self.max_value is None and not self.always:
            raise ValueError(f"rule {self.name!r} needs min_value, max_value or always = true")
        if self.always and self.where is None:
            raise ValueError(f"rule {self.name!r}: always = true needs a where condition")
        return self


class LabelAuditSpec(_Strict):
    """How the several values of one compound become one label (see :mod:`mi.data.audit`).

    Values failing a :class:`AuditRule` are dropped; the rest are clustered: two values agree
    when they differ by at most ``max(abs_tolerance, rel_tolerance * value)``; the label is the
    median of the window with the largest support (distinct sources; a value equal to one of
    ``suspect_values`` within ``suspect_tolerance``, e.g. a measurement temperature, counts
    ``suspect_weight``). When a disjoint window has as much support, there is no consensus and
    ``no_consensus`` decides.
    """

    enabled: bool = Field(default=True, description="Switch the audit on (load_dataset(audit=)).")
    consensus: Literal["cluster", "median"] = "cluster"
    abs_tolerance: float = Field(default=25.0, ge=0.0, description="Agreement, target unit.")
    rel_tolerance: float = Field(default=0.10, ge=0.0, le=1.0, description="Relative agreement.")
    sources_column: str | None = Field(
        default=None,
        description=(
            "Column listing the source of each value ('['doi1' 'doi2']', one per value of the "
            "array cell); support counts distinct sources. Default: one source per input row."
        ),
    )
    suspect_values: tuple[float, ...] = Field(
        default=(), description="Values often mistaken for the target (measurement conditions)."
    )
    suspect_tolerance: float = Field(default=0.5, ge=0.0)
    suspect_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    no_consensus: Literal["drop", "median", "highest"] = Field(
        default="drop",
        description="Tie between disjoint clusters: drop the label, take the median, or the "
        "higher cluster.",
    )
    groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Element groups the rules name, besides the built-in ELEMENT_GROUPS ('R').",
    )
    rules: tuple[AuditRule, ...] = ()

    @property
    def all_groups(self) -> dict[str, tuple[str, ...]]:
        """Built-in and declared element groups."""
        return {**ELEMENT_GROUPS, **self.groups}

    @model_validator(mode="after")
    def _unique_rules(self) -> LabelAuditSpec:
        from mi.chem.elements import ELEMENTS

        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate audit rule names {names}")
        for group, members in self.groups.items():
            unknown = [e for e in members if e not in ELEMENTS]
            if unknown or group in ELEMENTS:
                raise ValueError(f"group {group!r}: not element symbols {unknown or [group]}")
        for rule in self.rules:
            if rule.where is not None:
                rule.where.check_names(self.all_groups)
        return self


class TargetSpec(_Strict):
    """One measured property column.

    A cell is parsed as a number (``kind="float"``), an array of numbers whose values are
    pooled (``kind="array"``, e.g. ``"[12. 15. 20.]"``, all values mined for one compound) or
    a boolean (``kind="bool"``). Then ``scale`` multiplies it and ``transform`` applies.
    """

    name: str = Field(description="Column name in the dataset, e.g. 'Tc'.")
    column: str | None = Field(default=None, description="Source column; default: name.")
    unit: str = Field(default="", description="Unit of the (transformed) values.")
    description: str = Field(default="", description="What the property is.")
    kind: Literal["float", "array", "bool"] = "float"
    censored: bool | None = Field(
        default=None,
        description=(
            "Accept '<x' / '>x' as censored values flagged in '<name>_censored'. None (default): "
            "accept them, and add the flag column only when some value is censored."
        ),
    )
    scale: float = Field(default=1.0, description="Factor applied to parsed values.")
    transform: Literal["log10", "ln", "reciprocal"] | None = Field(
        default=None,
        description=(
            "Applied after scale; the dataset holds transformed values and predictions are "
            "transformed back (mi.data.transforms)."
        ),
    )
    on_invalid_transform: Literal["error", "reject"] = Field(
        default="error",
        description=(
            "A value outside the transform's domain (log10 of 0): stop with one line naming "
            "file, row and column ('error'), or reject the row with the reason ('reject')."
        ),
    )
    required: bool = Field(
        default=True,
        description=(
            "A missing cell rejects the row (True) or leaves this target empty for that row "
            "(False; for tables where each row measures only some of the targets)."
        ),
    )
    min_value: float | None = Field(
        default=None,
        description="Smaller values are rejected (for an array cell: its median is checked).",
    )
    max_value: float | None = Field(
        default=None,
        description="Larger values are rejected (for an array cell: its median is checked).",
    )
    missing_value: float | None = Field(
        default=None,
        description=(
            "A code meaning 'not reported' (SuperCon: Tc = 0). Such rows are kept, flagged "
            "False in reported_flag, and left out of a merged median when the group has a "
            "reported value."
        ),
    )
    reported_flag: str | None = Field(
        default=None, description="Bool column: True where the value is not missing_value."
    )
    audit: LabelAuditSpec | None = Field(
        default=None,
        description="Label audit of several values per compound (consensus, plausibility rules).",
    )
    array_index: int | None = Field(
        default=None,
        ge=0,
        description=(
            "kind='array' only: take this entry of the array instead of pooling all of them "
            "(e.g. 0 for K1 of an anisotropy cell '[K1, K2]'); a shorter array is rejected."
        ),
    )

    @property
    def source(self) -> str:
        """The source column name."""
        return self.column or self.name

    @model_validator(mode="after")
    def _flag_needs_code(self) -> TargetSpec:
        if (self.reported_flag is None) != (self.missing_value is None):
            raise ValueError("missing_value and reported_flag must be given together")
        if self.audit is not None and self.kind == "bool":
            raise ValueError("a label audit needs a numeric target (kind 'float' or 'array')")
        if self.array_index is not None and self.kind != "array":
            raise ValueError("array_index needs kind = 'array'")
        return self


class FlagSpec(_Strict):
    """A bool column derived from a merged target value, e.g. ``is_metal = Eg == 0``."""

    name: str
    target: str
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    value: float
    description: str = ""


class ElementColumnsSpec(_Strict):
    """The composition given as one column per element, in weight or atomic percent.

    Weight percent is converted to atomic amounts exactly (``w_i / M_i`` with the atomic masses
    of :mod:`mi.chem.elements`), and the formula is written with those amounts normalised to
    100 (10 significant digits), so ``Cu99.6Ag0.1Cr0.3`` in wt % becomes its atomic formula.
    """

    columns: tuple[str, ...] | Literal["auto"] = Field(
        default="auto",
        description=("Element columns; 'auto': every column whose header is an element symbol."),
    )
    basis: Literal["wt%", "at%"] = Field(description="Weight or atomic percent.")
    sum_tolerance: float = Field(
        default=1.0, ge=0, description="A row must sum to 100 within this many percent."
    )
    on_bad_sum: Literal["error", "reject"] = Field(
        default="error",
        description=(
            "A row that does not sum to about 100: stop with one line naming file and row "
            "('error'), or reject it with the reason in the report ('reject')."
        ),
    )


class ConditionSpec(_Strict):
    """A measurement or processing condition kept as a model input (temperature, aging ...).

    Rows merge only when their composition **and** every condition agree. A cell may carry its
    unit (``"300 K"``); a different unit there, or in the header's parentheses (``"Tag (K)"``),
    stops with an error naming the file, row and column.
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Input name, e.g. 'T_K'.")
    column: str | None = Field(default=None, description="Source column; default: name.")
    unit: str = Field(min_length=1, description="Unit of the values, e.g. 'K', 'h', '%'.")
    kind: Literal["number", "flag"] = Field(
        default="number", description="A number, or a yes/no flag read as 1/0."
    )
    missing: float | Literal["keep", "reject"] = Field(
        default="reject",
        description=(
            "An empty cell: reject the row (default), 'keep' it as NaN (the models handle "
            "missing inputs), or fill in this number (e.g. 0 h of aging when not aged)."
        ),
    )
    description: str = ""

    @property
    def source(self) -> str:
        """The source column name."""
        return self.column or self.name


class TableSpec(_Strict):
    """Column roles and cleaning rules of a property table."""

    composition_col: str | None = Field(
        default=None, description="Column of formula strings (or derive from structure_col)."
    )
    elements: ElementColumnsSpec | None = Field(
        default=None, description="The composition as element columns (instead of a formula)."
    )
    conditions: tuple[ConditionSpec, ...] = Field(
        default=(), description="Condition columns kept as model inputs (merge keys too)."
    )
    where: str | None = Field(
        default=None,
        description=(
            "Row filter, e.g. 'T_K >= 280 and T_K <= 320' (mi.data.where: column names, "
            "comparisons, and/or/not, numbers, quoted strings; never evaluated as code)."
        ),
    )
    structure_col: str | None = Field(
        default=None, description="Column of pymatgen Structures (kept as 'structure')."
    )
    targets: tuple[TargetSpec, ...] = ()
    flags: tuple[FlagSpec, ...] = ()
    merge: Literal["median", "mean", "none"] = Field(
        default="median",
        description=(
            "How rows with the same reduced composition are merged: the median (default) or "
            "mean of all their values; 'none' keeps every row."
        ),
    )
    merge_by: tuple[str, ...] = Field(
        default=(), description="Extra columns that must also match to merge (e.g. 'split')."
    )
    keep_columns: tuple[str, ...] | None = Field(
        default=None,
        description="Other columns carried over (first value of a merged group); None: all.",
    )
    rename: dict[str, str] = Field(default_factory=dict, description="Renames of kept columns.")

    @model_validator(mode="after")
    def _roles(self) -> TableSpec:
        given = [
            x for x in (self.composition_col, self.structure_col, self.elements) if x is not None
        ]
        if not given:
            raise ValueError("give composition_col, elements or structure_col")
        if self.elements is not None and self.composition_col is not None:
            raise ValueError("give composition_col or elements, not both")
        cond = [c.name for c in self.conditions]
        if len(set(cond)) != len(cond):
            raise ValueError(f"duplicate condition names {cond}")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate target names {names}")
        for flag in self.flags:
            if flag.target not in names:
                raise ValueError(f"flag {flag.name!r} refers to unknown target {flag.target!r}")
        return self

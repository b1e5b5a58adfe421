"""How a property table is turned into a dataset: column roles, target parsing, merging.

These models are shared by :func:`mi.data.read_table` (built from its arguments) and by the
dataset manifests in ``datasets/*.toml`` (the ``[table]``, ``[[targets]]`` and ``[[flags]]``
sections), so a registered dataset and a user's own table are cleaned by the same code.
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
]

#: Target transforms (see :mod:`mi.data.transforms`).
TRANSFORMS = ("log10", "ln", "reciprocal")


class _Strict(StrictSpec):
    model_config = ConfigDict(extra="forbid", frozen=True)


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

    @property
    def source(self) -> str:
        """The source column name."""
        return self.column or self.name

    @model_validator(mode="after")
    def _flag_needs_code(self) -> TargetSpec:
        if (self.reported_flag is None) != (self.missing_value is None):
            raise ValueError("missing_value and reported_flag must be given together")
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

"""How a property table is turned into a dataset: column roles, target parsing, merging.

These models are shared by :func:`mi.data.read_table` (built from its arguments) and by the
dataset manifests in ``datasets/*.toml`` (the ``[table]``, ``[[targets]]`` and ``[[flags]]``
sections), so a registered dataset and a user's own table are cleaned by the same code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["TargetSpec", "FlagSpec", "TableSpec"]


class _Strict(BaseModel):
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
    transform: Literal["log10"] | None = Field(default=None, description="Applied after scale.")
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


class TableSpec(_Strict):
    """Column roles and cleaning rules of a property table."""

    composition_col: str | None = Field(
        default=None, description="Column of formula strings (or derive from structure_col)."
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
        if self.composition_col is None and self.structure_col is None:
            raise ValueError("give composition_col or structure_col")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate target names {names}")
        for flag in self.flags:
            if flag.target not in names:
                raise ValueError(f"flag {flag.name!r} refers to unknown target {flag.target!r}")
        return self

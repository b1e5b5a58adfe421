"""Template specs: the declarative form of a formula template, shared by every spec file.

Examples
--------
>>> spec = TemplateSpec(formula="(Nd{1-x}Dy{x})2Fe14B", ranges={"x": [0, 0.1, 0.05]})
>>> spec.build().size
3
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from mi._spec import StrictSpec

__all__ = ["RangeValue", "TemplateSpec"]

RangeValue = Annotated[list[float], Field(min_length=1)]


class TemplateSpec(StrictSpec):
    """A formula template with substitution variables and their value grids.

    The one template grammar of workflow files (``[[candidates.templates]]``) and campaign
    files (``[[candidates.templates]]`` too): ``ranges`` are ``[start, stop, step]`` grids
    (stop inclusive), ``values`` explicit lists.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

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

    def build(self) -> Any:
        """Create the :class:`mi.candidates.Template` this table describes (nothing generated).

        Returns
        -------
        mi.candidates.Template
        """
        from mi.candidates import Template

        ranges: dict[str, Any] = {k: tuple(v) for k, v in self.ranges.items()}
        ranges.update({k: list(v) for k, v in self.values.items()})
        return Template(
            self.formula, ranges=ranges, sites=dict(self.sites), constraints=list(self.where)
        )

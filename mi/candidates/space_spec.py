"""Candidate-space specs: where a pool of candidates comes from (a file, formulas, templates).

The ``[candidates]`` table of a campaign file::

    [candidates]
    file = "pool.csv"             # or: formulas = [...], or: [[candidates.templates]]
    composition_col = "composition"

Examples
--------
>>> CandidateSpaceSpec(formulas=["Nd2Fe14B", "Pr2Fe14B"]).build()
['Nd2Fe14B', 'Pr2Fe14B']
>>> len(CandidateSpaceSpec(template="(Nd{1-x}Pr{x})2Fe14B", ranges={"x": [0, 1]}).build())
2
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from mi._csv import read_csv_text
from mi._spec import StrictSpec
from mi.candidates.template_spec import TemplateSpec
from mi.exceptions import SpecError

__all__ = ["CandidateSpaceSpec"]


class CandidateSpaceSpec(StrictSpec):
    """Where the candidate pool comes from: exactly one of ``file``, ``formulas``, ``templates``.

    ``[[candidates.templates]]`` is the template grammar of workflow files
    (:class:`mi.candidates.template_spec.TemplateSpec`: ``ranges = {x = [start, stop, step]}``,
    ``values = {x = [...]}``, ``sites``, ``where``). The older campaign form, ``template`` with
    ``ranges`` whose tables are ``{start, stop, step}`` grids and whose arrays are lists of
    values, still loads: it is converted to one such template (:meth:`all_templates`).
    """

    file: str | None = Field(default=None, description="CSV with one composition per row.")
    composition_col: str = Field(default="composition", description="Column of formulas in `file`.")
    formulas: list[str] | None = Field(default=None, description="Formulas given inline.")
    templates: list[TemplateSpec] | None = Field(
        default=None, description="Formula templates, in the workflow files' grammar."
    )
    template: str | None = Field(
        default=None, description="Older form: one template formula (with 'ranges')."
    )
    ranges: dict[str, Any] = Field(
        default_factory=dict,
        description="Older form: {start, stop, step} tables or arrays of values.",
    )
    max_size: int = Field(default=2_000_000, description="Refuse pools larger than this.", gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> CandidateSpaceSpec:
        given = [k for k in ("file", "formulas", "templates", "template") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of candidates.file, candidates.formulas, "
                f"candidates.templates (got {given or 'none'})"
            )
        if self.ranges and self.template is None:
            raise ValueError("candidates.ranges belongs to the older 'template' form")
        return self

    def all_templates(self) -> list[TemplateSpec]:
        """Return the pool's templates (the older ``template`` + ``ranges`` form converted)."""
        if self.templates is not None:
            return list(self.templates)
        if self.template is None:
            return []
        grids: dict[str, list[float]] = {}
        values: dict[str, list[float]] = {}
        for var, value in self.ranges.items():
            if isinstance(value, dict):  # {start, stop, step} grid (TOML has no tuples)
                try:
                    grids[var] = [value["start"], value["stop"], value["step"]]
                except KeyError:
                    raise ValueError(
                        f"candidates.ranges.{var} must be a list of values or a table with "
                        f"start, stop and step; got {value!r}."
                    ) from None
            elif isinstance(value, list | tuple):
                values[var] = list(value)
            else:
                values[var] = [value]
        return [TemplateSpec(formula=self.template, ranges=grids, values=values)]

    def build(self, resolve: Callable[[str], Path | None] = Path) -> list[str]:
        """Return the formulas of the candidates (a file, a list, or templates).

        Parameters
        ----------
        resolve : callable, default Path
            Turns ``file`` into a path (a campaign resolves it against its spec's folder).

        Raises
        ------
        SpecError
            A missing file or column, an invalid template, or more than ``max_size`` candidates.
        """
        if self.formulas is not None:
            return [str(f) for f in self.formulas]
        if self.file is not None:
            path = resolve(self.file)
            assert path is not None
            if not path.is_file():
                raise SpecError(f"candidates.file {str(path)!r} does not exist.")
            df = read_csv_text(path)
            if self.composition_col not in df:
                raise SpecError(
                    f"candidates.file {str(path)!r} has no column {self.composition_col!r} "
                    f"(columns: {list(df.columns)}); set candidates.composition_col."
                )
            return df[self.composition_col].str.strip().tolist()
        try:
            templates = [t.build() for t in self.all_templates()]
        except (ValueError, TypeError) as exc:
            raise SpecError(f"candidates: {exc}") from None
        size = sum(int(t.size) for t in templates)
        if size > self.max_size:
            raise SpecError(
                f"The candidate templates generate {size} candidates, more than "
                f"candidates.max_size = {self.max_size}; coarsen the steps or raise max_size."
            )
        return [f for t in templates for chunk in t.iter_chunks(65536) for f in chunk.formulas()]

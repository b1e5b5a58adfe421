"""Constraint specs: the declarative form of every candidate constraint, shared by all spec files.

One discriminated union, :data:`ConstraintSpec`, is the grammar of a constraint in a workflow file
(``[[constraints]]``) and in a campaign file (``[[constraints.rules]]``)::

    [[constraints]]
    kind = "max_mass_fraction"
    elements = ["Dy", "Tb"]
    limit = 0.01

Each member validates its values when the file is read and builds the predicate of
:mod:`mi.criticality` or :mod:`mi.candidates` with :meth:`build`; :meth:`describe` gives the line
shown in reports and constraint counts. ``max_supply_risk`` is special: the risk depends on the
scoring settings of the run that applies it, so :meth:`MaxSupplyRiskSpec.build` returns None and
the caller compares its own risk column with :attr:`MaxSupplyRiskSpec.limit`
(:func:`feasible_mask` does this for a table that carries such a column).

Adding a constraint kind: one class here with ``kind``, ``build`` and ``describe``, added to the
union, plus its test.

Examples
--------
>>> from mi.chem import parse_formulas
>>> spec = parse_constraint({"kind": "max_mass_fraction", "elements": ["Dy", "Tb"], "limit": 0.01})
>>> spec.describe()
'mass fraction of Dy+Tb <= 0.01'
>>> spec.build()(parse_formulas(["Nd2Fe14B", "Dy2Fe14B"])).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from mi.chem import CompositionMatrix, element_index

__all__ = [
    "ConstraintSpec",
    "CONSTRAINT_KINDS",
    "MaxMassFractionSpec",
    "MaxAtomicFractionSpec",
    "ExcludeElementsSpec",
    "AllowElementsSpec",
    "MaxElementsSpec",
    "ChargeBalancedSpec",
    "MaxSupplyRiskSpec",
    "parse_constraint",
    "feasible_mask",
]


class _ConstraintBase(BaseModel):
    """Strict, immutable base of every constraint spec."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def build(self) -> Any:
        """Return the predicate ``matrix -> bool array`` (True = keep), or None (see module)."""
        raise NotImplementedError  # pragma: no cover - every member overrides it

    def describe(self) -> str:
        """One readable line saying what the constraint keeps."""
        raise NotImplementedError  # pragma: no cover - every member overrides it


class _ElementsMixin(BaseModel):
    elements: list[str] = Field(..., min_length=1, description="Element symbols.")

    @field_validator("elements")
    @classmethod
    def _known_elements(cls, value: list[str]) -> list[str]:
        for symbol in value:
            try:
                element_index(symbol)
            except Exception as exc:  # noqa: BLE001 - any lookup failure is the same user error
                raise ValueError(f"{symbol!r} is not an element symbol") from exc
        return value


class MaxMassFractionSpec(_ConstraintBase, _ElementsMixin):
    """Keep candidates whose summed mass fraction of ``elements`` is <= ``limit``."""

    kind: Literal["max_mass_fraction"]
    limit: float = Field(..., ge=0, le=1)

    def build(self) -> Any:
        """Return :func:`mi.criticality.max_mass_fraction`."""
        from mi.criticality import max_mass_fraction

        return max_mass_fraction(set(self.elements), self.limit)

    def describe(self) -> str:
        """Return e.g. ``mass fraction of Dy+Tb <= 0.01``."""
        return f"mass fraction of {'+'.join(self.elements)} <= {self.limit:g}"


class MaxAtomicFractionSpec(_ConstraintBase, _ElementsMixin):
    """Keep candidates whose summed atomic fraction of ``elements`` is <= ``limit``."""

    kind: Literal["max_atomic_fraction"]
    limit: float = Field(..., ge=0, le=1)

    def build(self) -> Any:
        """Return :func:`mi.criticality.max_atomic_fraction`."""
        from mi.criticality import max_atomic_fraction

        return max_atomic_fraction(set(self.elements), self.limit)

    def describe(self) -> str:
        """Return e.g. ``atomic fraction of Co <= 0.1``."""
        return f"atomic fraction of {'+'.join(self.elements)} <= {self.limit:g}"


class ExcludeElementsSpec(_ConstraintBase, _ElementsMixin):
    """Drop candidates containing any of ``elements``."""

    kind: Literal["exclude_elements"]

    def build(self) -> Any:
        """Return :func:`mi.criticality.exclude_elements`."""
        from mi.criticality import exclude_elements

        return exclude_elements(self.elements)

    def describe(self) -> str:
        """Return e.g. ``no Dy, Tb``."""
        return f"no {', '.join(self.elements)}"


class AllowElementsSpec(_ConstraintBase, _ElementsMixin):
    """Keep only candidates made solely of ``elements``."""

    kind: Literal["allow_elements"]

    def build(self) -> Any:
        """Return :func:`mi.criticality.allow_elements`."""
        from mi.criticality import allow_elements

        return allow_elements(self.elements)

    def describe(self) -> str:
        """Return e.g. ``only Fe, Co, B``."""
        return f"only {', '.join(self.elements)}"


class MaxElementsSpec(_ConstraintBase):
    """Keep candidates with at most ``n`` distinct elements."""

    kind: Literal["max_elements"]
    n: int = Field(..., ge=1, le=118)

    def build(self) -> Any:
        """Return :class:`mi.candidates.MaxElements`."""
        from mi.candidates.constraints import MaxElements

        return MaxElements(self.n)

    def describe(self) -> str:
        """Return e.g. ``at most 4 elements``."""
        return f"at most {self.n} elements"


class ChargeBalancedSpec(_ConstraintBase):
    """Keep candidates that pymatgen can give a charge-neutral set of oxidation states (slow)."""

    kind: Literal["charge_balanced"]
    max_atoms: int = Field(30, ge=1, le=200)
    all_oxi_states: bool = False

    def build(self) -> Any:
        """Return :class:`mi.candidates.ChargeBalanced`."""
        from mi.candidates.constraints import ChargeBalanced

        return ChargeBalanced(max_atoms=self.max_atoms, all_oxi_states=self.all_oxi_states)

    def describe(self) -> str:
        """Return ``charge-balanced (...)``."""
        return "charge-balanced (pymatgen oxidation-state guess)"


class MaxSupplyRiskSpec(_ConstraintBase):
    """Keep candidates whose supply risk (as scored by the run) is <= ``limit``.

    Unknown risk (an element missing from a table) cannot be shown to meet the limit and is
    rejected.
    """

    kind: Literal["max_supply_risk"]
    limit: float = Field(..., ge=0, le=1)

    def build(self) -> None:
        """Return None: the caller applies ``limit`` to its own risk column."""
        return None

    def describe(self) -> str:
        """Return e.g. ``supply risk <= 0.5``."""
        return f"supply risk <= {self.limit:g}"


ConstraintSpec = Annotated[
    MaxMassFractionSpec
    | MaxAtomicFractionSpec
    | ExcludeElementsSpec
    | AllowElementsSpec
    | MaxElementsSpec
    | ChargeBalancedSpec
    | MaxSupplyRiskSpec,
    Field(discriminator="kind"),
]

#: Constraint kind -> its spec class (for error messages and documentation).
CONSTRAINT_KINDS: dict[str, type[BaseModel]] = {
    "max_mass_fraction": MaxMassFractionSpec,
    "max_atomic_fraction": MaxAtomicFractionSpec,
    "exclude_elements": ExcludeElementsSpec,
    "allow_elements": AllowElementsSpec,
    "max_elements": MaxElementsSpec,
    "charge_balanced": ChargeBalancedSpec,
    "max_supply_risk": MaxSupplyRiskSpec,
}

_ADAPTER: TypeAdapter[Any] = TypeAdapter(ConstraintSpec)


def parse_constraint(value: Mapping[str, Any] | _ConstraintBase) -> Any:
    """Validate one constraint table (a spec object is returned as is).

    Parameters
    ----------
    value : mapping or constraint spec
        E.g. ``{"kind": "exclude_elements", "elements": ["Co"]}``.

    Returns
    -------
    ConstraintSpec
        The validated spec object.
    """
    if isinstance(value, _ConstraintBase):
        return value
    return _ADAPTER.validate_python(dict(value))


def feasible_mask(
    specs: Iterable[Any],
    matrix: CompositionMatrix,
    risk: Sequence[float] | np.ndarray | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Apply constraint specs in order; return the feasibility mask and what each removed.

    Parameters
    ----------
    specs : iterable of ConstraintSpec or mappings
        The constraints.
    matrix : CompositionMatrix
        The candidates.
    risk : array of float, optional
        The supply risk of each candidate as scored by the caller; required when a
        ``max_supply_risk`` constraint is present (NaN counts as infeasible).

    Returns
    -------
    mask : numpy.ndarray of bool
        True where every constraint holds.
    report : list of dict
        ``{"constraint": description, "removed": n}`` per constraint; a row counts against the
        first constraint it fails.
    """
    from mi.exceptions import SpecError

    feasible = np.ones(matrix.n, dtype=bool)
    report: list[dict[str, Any]] = []
    for item in specs:
        spec = parse_constraint(item)
        if isinstance(spec, MaxSupplyRiskSpec):
            if risk is None:
                raise SpecError(f"constraint {spec.describe()!r} needs a supply-risk column.")
            values = np.nan_to_num(np.asarray(risk, dtype=np.float64), nan=np.inf)
            ok = values <= spec.limit + 1e-12
        else:
            ok = np.asarray(spec.build()(matrix), dtype=bool)
        removed = int((feasible & ~ok).sum())
        feasible &= ok
        report.append({"constraint": spec.describe(), "removed": removed})
    return feasible, report

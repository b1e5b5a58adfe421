"""Composition constraints as plain predicates (used by candidate generation and active learning).

A constraint is any callable ``constraint(compositions) -> numpy.ndarray[bool]`` (True = keep)
with a ``description`` string. The ones here accept a :class:`mi.chem.CompositionMatrix` or a
list of formula strings, never drop or reorder rows, and return False for invalid (empty) rows.

Examples
--------
>>> from mi.criticality import max_mass_fraction, exclude_elements, all_of
>>> rule = all_of(max_mass_fraction({"Dy", "Tb"}, 0.01), exclude_elements("Co"))
>>> rule(["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Nd2Co14B"]).tolist()
[True, False, False]
>>> rule.description
'Tb+Dy mass fraction <= 0.01 AND no Co'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from mi.chem import ATOMIC_MASSES, ELEMENTS, CompositionMatrix
from mi.criticality.scoring import as_composition_matrix, supply_risk
from mi.exceptions import DataError, FormulaError, did_you_mean

__all__ = [
    "Constraint",
    "all_of",
    "allow_elements",
    "exclude_elements",
    "max_atomic_fraction",
    "max_mass_fraction",
    "max_supply_risk",
]

_INDEX = {symbol: j for j, symbol in enumerate(ELEMENTS)}
_MASSES = np.asarray(ATOMIC_MASSES, dtype=np.float64)
#: Tolerance on fraction limits, so a composition exactly at the limit passes despite rounding.
_TOL = 1e-12


@runtime_checkable
class Constraint(Protocol):
    """Protocol of a constraint: ``__call__(compositions) -> bool array`` plus ``description``."""

    @property
    def description(self) -> str:
        """One line saying what the constraint keeps."""
        ...

    def __call__(self, compositions: Any) -> np.ndarray:
        """Return a bool mask over the rows of ``compositions`` (True = keep)."""
        ...


def _symbols(elements: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = [elements] if isinstance(elements, str) else list(elements)
    if not items:
        raise DataError(f"{what} needs at least one element symbol; got none.")
    for sym in items:
        if sym not in _INDEX:
            hint = did_you_mean(str(sym), ELEMENTS)
            raise FormulaError(f"{what}: {sym!r} is not an element symbol.{hint}")
    return tuple(sorted(set(items), key=_INDEX.__getitem__))


def _csr(cm: CompositionMatrix) -> sparse.csr_matrix:
    if hasattr(cm, "to_csr"):
        return cm.to_csr()
    return sparse.csr_matrix(cm.amounts)


def _selected_fraction(cm: CompositionMatrix, symbols: tuple[str, ...], mass: bool) -> np.ndarray:
    """Fraction (mass or atomic) of the selected elements per row; NaN for empty rows."""
    csr = _csr(cm)
    weights = csr.data * _MASSES[csr.indices] if mass else csr.data
    selected = np.isin(csr.indices, [_INDEX[s] for s in symbols])
    counts = np.diff(csr.indptr)
    total = np.zeros(cm.n)
    part = np.zeros(cm.n)
    has = counts > 0
    if weights.size:
        starts = csr.indptr[:-1][has]
        total[has] = np.add.reduceat(weights, starts)
        part[has] = np.add.reduceat(np.where(selected, weights, 0.0), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = part / total
    out[~has] = np.nan
    return out


def _contains_any(
    cm: CompositionMatrix, symbols: Iterable[str], negate: bool = False
) -> np.ndarray:
    """Per row, whether it contains any of ``symbols`` (with ``negate``: any other element)."""
    csr = _csr(cm)
    hit = np.isin(csr.indices, [_INDEX[s] for s in symbols])
    if negate:
        hit = ~hit
    row_of = np.repeat(np.arange(cm.n), np.diff(csr.indptr))
    out = np.zeros(cm.n, dtype=bool)
    out[row_of[hit]] = True
    return out


def _valid(cm: CompositionMatrix) -> np.ndarray:
    return np.diff(_csr(cm).indptr) > 0


def _fmt(symbols: tuple[str, ...]) -> str:
    return "+".join(symbols)


@dataclass(frozen=True)
class _MaxFraction:
    symbols: tuple[str, ...]
    limit: float
    mass: bool
    description: str = field(init=False)

    def __post_init__(self) -> None:
        basis = "mass" if self.mass else "atomic"
        object.__setattr__(
            self, "description", f"{_fmt(self.symbols)} {basis} fraction <= {self.limit:g}"
        )

    def __call__(self, compositions: Any) -> np.ndarray:
        cm = as_composition_matrix(compositions)
        frac = _selected_fraction(cm, self.symbols, self.mass)
        return np.nan_to_num(frac, nan=np.inf) <= self.limit + _TOL


def _check_limit(limit: float, what: str) -> float:
    value = float(limit)
    if not 0.0 <= value <= 1.0:
        raise DataError(f"{what} limit must lie in [0, 1]; got {limit!r}.")
    return value


def max_mass_fraction(elements: str | Iterable[str], limit: float) -> Constraint:
    """Keep compositions whose summed mass fraction of ``elements`` is at most ``limit``.

    Parameters
    ----------
    elements : str or iterable of str
        Element symbols, e.g. ``{"Dy", "Tb"}``.
    limit : float
        Upper bound in [0, 1] (inclusive, to 1e-12).

    Returns
    -------
    Constraint

    Examples
    --------
    >>> c = max_mass_fraction({"Dy", "Tb"}, 0.01)
    >>> c(["Nd2Fe14B", "Dy2Fe14B"]).tolist(), c.description
    ([True, False], 'Tb+Dy mass fraction <= 0.01')
    """
    syms = _symbols(elements, "max_mass_fraction")
    return _MaxFraction(syms, _check_limit(limit, "max_mass_fraction"), mass=True)


def max_atomic_fraction(elements: str | Iterable[str], limit: float) -> Constraint:
    """Keep compositions whose summed atomic fraction of ``elements`` is at most ``limit``.

    Parameters
    ----------
    elements : str or iterable of str
    limit : float
        Upper bound in [0, 1].

    Returns
    -------
    Constraint
    """
    syms = _symbols(elements, "max_atomic_fraction")
    return _MaxFraction(syms, _check_limit(limit, "max_atomic_fraction"), mass=False)


@dataclass(frozen=True)
class _Exclude:
    symbols: tuple[str, ...]
    description: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", f"no {', '.join(self.symbols)}")

    def __call__(self, compositions: Any) -> np.ndarray:
        cm = as_composition_matrix(compositions)
        return ~_contains_any(cm, self.symbols) & _valid(cm)


def exclude_elements(*elements: str | Iterable[str]) -> Constraint:
    """Keep compositions containing none of ``elements``.

    Parameters
    ----------
    *elements : str or iterable of str
        ``exclude_elements("Co", "Dy")`` or ``exclude_elements({"Co", "Dy"})``.

    Returns
    -------
    Constraint

    Examples
    --------
    >>> exclude_elements("Co")(["SmCo5", "Nd2Fe14B"]).tolist()
    [False, True]
    """
    flat = [s for item in elements for s in ([item] if isinstance(item, str) else item)]
    return _Exclude(_symbols(flat, "exclude_elements"))


@dataclass(frozen=True)
class _Allow:
    symbols: tuple[str, ...]
    description: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", f"only {', '.join(self.symbols)}")

    def __call__(self, compositions: Any) -> np.ndarray:
        cm = as_composition_matrix(compositions)
        return ~_contains_any(cm, self.symbols, negate=True) & _valid(cm)


def allow_elements(*elements: str | Iterable[str]) -> Constraint:
    """Keep compositions made only of ``elements``.

    Parameters
    ----------
    *elements : str or iterable of str
        The allowed element symbols.

    Returns
    -------
    Constraint

    Examples
    --------
    >>> allow_elements({"Nd", "Fe", "B"})(["Nd2Fe14B", "Dy2Fe14B"]).tolist()
    [True, False]
    """
    flat = [s for item in elements for s in ([item] if isinstance(item, str) else item)]
    return _Allow(_symbols(flat, "allow_elements"))


@dataclass(frozen=True)
class _MaxSupplyRisk:
    limit: float
    weights: tuple[tuple[str, float], ...] | None
    hree_convention: str
    keep_unknown: bool
    as_of: str
    description: str = field(init=False)

    def __post_init__(self) -> None:
        text = f"supply_risk <= {self.limit:g} (as of {self.as_of}, {self.hree_convention}"
        if self.weights is not None:
            text += ", weights " + ", ".join(f"{k}={v:g}" for k, v in self.weights)
        text += "; unknown risk kept)" if self.keep_unknown else "; unknown risk rejected)"
        object.__setattr__(self, "description", text)

    def __call__(self, compositions: Any) -> np.ndarray:
        cm = as_composition_matrix(compositions)
        weights = dict(self.weights) if self.weights is not None else None
        risk = supply_risk(
            cm, weights=weights, hree_convention=self.hree_convention, as_of=self.as_of
        )
        unknown = np.isnan(risk) & _valid(cm)
        keep = np.nan_to_num(risk, nan=np.inf) <= self.limit + _TOL
        return keep | unknown if self.keep_unknown else keep


def max_supply_risk(
    limit: float,
    weights: Mapping[str, float] | None = None,
    hree_convention: str = "eu_2023",
    keep_unknown: bool = False,
    as_of: Any = None,
) -> Constraint:
    """Keep compositions whose :func:`mi.criticality.supply_risk` is at most ``limit``.

    Parameters
    ----------
    limit : float
        Upper bound in [0, 1].
    weights, hree_convention
        Passed to :func:`mi.criticality.score`.
    keep_unknown : bool, default False
        A composition whose risk is NaN (an element missing from a table) cannot be shown to
        meet the limit, so it is rejected; pass True to keep it.
    as_of : str or datetime.date, optional
        Date the risk is computed for (ISO ``YYYY-MM-DD``); default today, fixed when the
        constraint is made (so a long screen uses one date).

    Returns
    -------
    Constraint

    Examples
    --------
    >>> max_supply_risk(0.2, as_of="2026-12-01")(["Ce2Fe14B", "Dy2Fe14B"]).tolist()
    [True, False]
    """
    from mi.criticality.asof import parse_as_of

    value = _check_limit(limit, "max_supply_risk")
    date = parse_as_of(as_of).isoformat()
    # validate weights and convention now, not on first call
    supply_risk(["Fe"], weights=weights, hree_convention=hree_convention, as_of=date)
    frozen = tuple(sorted(weights.items())) if weights is not None else None
    return _MaxSupplyRisk(value, frozen, hree_convention, keep_unknown, date)


@dataclass(frozen=True)
class _AllOf:
    parts: tuple[Constraint, ...]
    description: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", " AND ".join(p.description for p in self.parts))

    def __call__(self, compositions: Any) -> np.ndarray:
        cm = as_composition_matrix(compositions)
        keep = np.ones(cm.n, dtype=bool)
        for part in self.parts:
            keep &= np.asarray(part(cm), dtype=bool)
        return keep


def all_of(*constraints: Constraint) -> Constraint:
    """Combine constraints: keep a composition only if every one keeps it.

    Parameters
    ----------
    *constraints : Constraint

    Returns
    -------
    Constraint
        Its ``description`` joins the parts with ``" AND "``.
    """
    if not constraints:
        raise DataError("all_of needs at least one constraint.")
    for c in constraints:
        if not callable(c) or not isinstance(getattr(c, "description", None), str):
            raise DataError(
                f"all_of got {c!r}, which is not a constraint (a callable with a "
                "'description' string)."
            )
    return _AllOf(tuple(constraints))

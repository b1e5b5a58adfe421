"""Constraints on candidates: plain predicates on a :class:`~mi.chem.CompositionMatrix`.

A constraint is any object with ``__call__(matrix) -> numpy bool array`` (True = keep) and a
``.description`` string. ``mi.criticality`` provides the criticality ones
(``max_mass_fraction({"Dy", "Tb"}, 0.01)``, ``max_supply_risk(0.5)`` ...); this module adds
element allow/deny lists, a maximum number of elements, and an opt-in charge-balance check.
:func:`apply_constraints` runs them in order and counts what each removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mi.candidates.report import ConstraintReport
from mi.chem import ELEMENTS, CompositionMatrix, element_index
from mi.exceptions import DataError

__all__ = [
    "AllowElements",
    "DenyElements",
    "MaxElements",
    "ChargeBalanced",
    "apply_constraints",
    "evaluate_constraints",
    "describe",
]

Constraint = Callable[[CompositionMatrix], np.ndarray]


def describe(constraint: Any) -> str:
    """Return the ``.description`` of a constraint (falls back to its name or repr)."""
    text = getattr(constraint, "description", None)
    if isinstance(text, str) and text:
        return text
    return getattr(constraint, "__name__", None) or repr(constraint)


def _columns(elements: Iterable[str]) -> np.ndarray:
    if isinstance(elements, str):
        elements = [elements]
    cols = sorted({element_index(str(e)) for e in elements})
    return np.asarray(cols, dtype=np.int64)


def _has_any(matrix: CompositionMatrix, cols: np.ndarray) -> np.ndarray:
    """Bool per row: contains at least one of the element columns ``cols``."""
    csr = matrix.to_csr()
    flag = np.zeros(len(ELEMENTS), dtype=bool)
    flag[cols] = True
    hit = flag[csr.indices].astype(np.int64)
    counts = np.diff(csr.indptr)
    out = np.zeros(matrix.n, dtype=bool)
    if hit.size:
        nz = counts > 0
        out[nz] = np.add.reduceat(hit, csr.indptr[:-1][nz]) > 0
    return out


class AllowElements:
    """Keep compositions made only of the given elements.

    Parameters
    ----------
    elements : iterable of str
        Allowed element symbols.

    Examples
    --------
    >>> from mi.chem import parse_formulas
    >>> AllowElements(["Fe", "O", "Co"])(parse_formulas(["Fe2O3", "NdFeB"])).tolist()
    [True, False]
    """

    def __init__(self, elements: Iterable[str]) -> None:
        self.elements = tuple(sorted(set([elements] if isinstance(elements, str) else elements)))
        self._cols = _columns(self.elements)
        others = np.setdiff1d(np.arange(len(ELEMENTS)), self._cols)
        self._others = others
        self.description = f"only elements {{{', '.join(self.elements)}}}"

    def __call__(self, matrix: CompositionMatrix) -> np.ndarray:
        """Return True where every element of the row is allowed."""
        return ~_has_any(matrix, self._others)

    def __repr__(self) -> str:
        return f"AllowElements({list(self.elements)!r})"


class DenyElements:
    """Drop compositions that contain any of the given elements.

    Parameters
    ----------
    elements : iterable of str
        Forbidden element symbols.

    Examples
    --------
    >>> from mi.chem import parse_formulas
    >>> DenyElements(["Dy", "Tb"])(parse_formulas(["Nd2Fe14B", "Dy2Fe14B"])).tolist()
    [True, False]
    """

    def __init__(self, elements: Iterable[str]) -> None:
        self.elements = tuple(sorted(set([elements] if isinstance(elements, str) else elements)))
        self._cols = _columns(self.elements)
        self.description = f"none of {{{', '.join(self.elements)}}}"

    def __call__(self, matrix: CompositionMatrix) -> np.ndarray:
        """Return True where the row contains none of the elements."""
        return ~_has_any(matrix, self._cols)

    def __repr__(self) -> str:
        return f"DenyElements({list(self.elements)!r})"


class MaxElements:
    """Keep compositions with at most ``n`` distinct elements.

    Parameters
    ----------
    n : int
        Largest number of elements (>= 1).

    Examples
    --------
    >>> from mi.chem import parse_formulas
    >>> MaxElements(2)(parse_formulas(["Fe2O3", "Nd2Fe14B"])).tolist()
    [True, False]
    """

    def __init__(self, n: int) -> None:
        if int(n) != n or n < 1:
            raise DataError(f"MaxElements needs an integer n >= 1; got {n!r}.")
        self.n = int(n)
        self.description = f"at most {self.n} elements"

    def __call__(self, matrix: CompositionMatrix) -> np.ndarray:
        """Return True where the row has at most ``n`` elements."""
        return np.asarray(matrix.n_elements <= self.n)

    def __repr__(self) -> str:
        return f"MaxElements({self.n})"


#: Shared per-process cache of charge-balance results, keyed by (canonical key, settings).
_CHARGE_CACHE: dict[tuple[str, int, bool], bool] = {}


class ChargeBalanced:
    """Keep compositions that pymatgen can assign a charge-neutral set of oxidation states.

    Opt-in and slow: ``Composition.oxi_state_guesses`` enumerates oxidation-state combinations
    (milliseconds to seconds per formula). Results are cached per canonical reduced formula
    (in a process-wide dictionary, or the ``cache`` you pass), so each distinct composition is
    guessed once; duplicates and re-runs are free. Meant for ionic families (oxides, ionic
    conductors); intermetallic magnets are mostly not "charge balanced".

    A reduced formula with more than ``max_atoms`` atoms is not guessed (it would take too
    long) and counts as not balanced; :attr:`n_too_large` counts those.

    Parameters
    ----------
    max_atoms : int, default 30
        Largest number of atoms in the reduced integer formula that is tried.
    all_oxi_states : bool, default False
        Use every known oxidation state instead of the common ones (slower, more permissive).
    cache : dict or None
        Where to keep results; None uses a process-wide cache.

    Examples
    --------
    >>> from mi.chem import parse_formulas
    >>> ChargeBalanced()(parse_formulas(["Fe2O3", "NaCl2", "Li3PO4"])).tolist()
    [True, False, True]
    """

    def __init__(
        self,
        max_atoms: int = 30,
        all_oxi_states: bool = False,
        cache: dict[tuple[str, int, bool], bool] | None = None,
    ) -> None:
        self.max_atoms = int(max_atoms)
        self.all_oxi_states = bool(all_oxi_states)
        self.cache = _CHARGE_CACHE if cache is None else cache
        self.hits = 0
        self.misses = 0
        self.n_too_large = 0
        self.description = "charge-balanced (pymatgen oxidation-state guess)"

    def _guess(self, key: str) -> bool:
        from pymatgen.core import Composition

        comp = Composition(key)
        if comp.num_atoms > self.max_atoms + 1e-9:
            self.n_too_large += 1
            return False
        try:
            guesses = comp.oxi_state_guesses(all_oxi_states=self.all_oxi_states, max_sites=-1)
        except ValueError:
            return False
        return len(guesses) > 0

    def __call__(self, matrix: CompositionMatrix) -> np.ndarray:
        """Return True where the row is charge balanced."""
        keys = matrix.canonical_keys()
        out = np.zeros(len(keys), dtype=bool)
        for i, key in enumerate(keys):
            if not key:
                continue
            ck = (key, self.max_atoms, self.all_oxi_states)
            value = self.cache.get(ck)
            if value is None:
                self.misses += 1
                value = self._guess(key)
                self.cache[ck] = value
            else:
                self.hits += 1
            out[i] = value
        return out

    def __repr__(self) -> str:
        return f"ChargeBalanced(max_atoms={self.max_atoms}, all_oxi_states={self.all_oxi_states})"


def _check_mask(mask: Any, constraint: Any, n: int) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.shape != (n,) or arr.dtype != bool:
        raise DataError(
            f"Constraint {describe(constraint)!r} returned {arr.dtype} of shape {arr.shape}; a "
            f"constraint must return a bool array of shape ({n},) (True = keep)."
        )
    return arr


def apply_constraints(
    matrix: CompositionMatrix,
    constraints: Sequence[Constraint],
    report: ConstraintReport | None = None,
) -> tuple[CompositionMatrix, np.ndarray]:
    """Apply constraints in order; each sees only the rows the previous ones kept.

    Parameters
    ----------
    matrix : CompositionMatrix
        Candidates.
    constraints : sequence of callables
        Predicates returning a bool array (True = keep), each with a ``.description``.
    report : ConstraintReport, optional
        Receives the number of rows each constraint removed (keyed by its description).

    Returns
    -------
    kept : CompositionMatrix
        The rows every constraint kept.
    mask : numpy.ndarray of bool
        Which input rows were kept.

    Examples
    --------
    >>> from mi.chem import parse_formulas
    >>> r = ConstraintReport()
    >>> m = parse_formulas(["Fe2O3", "Dy2Fe14B", "Nd2Fe14B"])
    >>> kept, mask = apply_constraints(m, [DenyElements(["Dy"]), MaxElements(2)], r)
    >>> mask.tolist(), r.removed
    ([True, False, False], {'none of {Dy}': 1, 'at most 2 elements': 1})
    """
    keep_idx = np.arange(matrix.n)
    current = matrix
    for constraint in constraints:
        if current.n == 0:
            if report is not None:
                report.record(describe(constraint), 0)
            continue
        ok = _check_mask(constraint(current), constraint, current.n)
        removed = int(current.n - ok.sum())
        if report is not None:
            report.record(describe(constraint), removed)
        if removed:
            keep_idx = keep_idx[ok]
            current = current.take(ok)
    mask = np.zeros(matrix.n, dtype=bool)
    mask[keep_idx] = True
    return current, mask


def evaluate_constraints(
    matrix: CompositionMatrix, constraints: Sequence[Constraint]
) -> pd.DataFrame:
    """Evaluate every constraint on every row (no filtering): one bool column per constraint.

    Parameters
    ----------
    matrix : CompositionMatrix
        Candidates.
    constraints : sequence of callables
        Predicates with a ``.description``; the column is named ``"ok: <description>"``.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows, one bool column per constraint.
    """
    cols: dict[str, np.ndarray] = {}
    for constraint in constraints:
        cols[f"ok: {describe(constraint)}"] = _check_mask(constraint(matrix), constraint, matrix.n)
    return pd.DataFrame(cols)

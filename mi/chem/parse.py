"""Formula strings to a :class:`~mi.chem.matrix.CompositionMatrix`.

The grammar is pymatgen's (``Composition("...")``): element symbols followed by optional
amounts (``Ba0.4K0.6Fe2As2``), parentheses / brackets with a multiplier
(``(Nd0.8Dy0.2)2Fe14B``, ``Fe[O2]3``), whitespace between tokens, ``@`` ignored
(``Y3N@C80``), repeated elements summed, and ``D``/``T`` counted as hydrogen. Parentheses are
expanded exactly as pymatgen does (same string rewriting, same float operations), so the parsed
amounts are bit-identical to ``Composition(formula)``.

mi is stricter than pymatgen in three ways, each reported as a row error with a reason:

* unknown symbols are rejected (pymatgen turns ``Xx2O3`` into a dummy species ``Xx0+``), and so
  are elements beyond Lr (Z > 103);
* zero amounts are rejected (pymatgen silently drops ``Fe0`` or amounts below 1e-8);
* empty strings and missing values (``None``/``NaN``) are rejected.

Each distinct string is parsed once (formula lists from candidate generators repeat a lot), so
the cost scales with the number of distinct formulas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from mi.chem.elements import _INDEX, N_ELEMENTS
from mi.chem.matrix import CompositionMatrix
from mi.exceptions import FormulaError

__all__ = ["parse_formulas", "parse_formula", "ParseResult", "AMOUNT_TOLERANCE"]

#: pymatgen's ``Composition.amount_tolerance``: amounts below it are treated as zero.
AMOUNT_TOLERANCE = 1e-8

OnError = Literal["raise", "nan", "report"]

# pymatgen's patterns (pymatgen/core/composition.py), kept identical on purpose.
_INVALID_RE = re.compile(r"[\s\d.*/]*$")
_GROUP_RE = re.compile(r"([A-Z][a-z]*)\s*([-*\.e\d]*)")
_PAREN_RE = re.compile(r"\(([^\(\)]+)\)\s*([\.e\d]*)")
_TRANSLATE = str.maketrans("[]{}", "()()")
# Simple formulas (symbols and plain decimal amounts only) take a shorter path.
_SIMPLE_RE = re.compile(r"(?:[A-Z][a-z]?(?:\d+\.?\d*|\.\d+)?)+")
_SIMPLE_TOKEN_RE = re.compile(r"([A-Z][a-z]?)([\d.]*)")


class _RowError(Exception):
    """Internal: one formula is invalid; the message is the reason."""


def _sym_dict(form: str, factor: float) -> dict[str, float]:
    """Pymatgen's ``get_sym_dict``: symbols and amounts in order of appearance."""
    out: dict[str, float] = {}
    for match in _GROUP_RE.finditer(form):
        el = match[1]
        amt = 1.0
        if match[2].strip() != "":
            try:
                amt = float(match[2])
            except ValueError:
                raise _RowError(f"invalid amount {match[2]!r} after {el!r}") from None
        out[el] = out.get(el, 0.0) + amt * factor
        form = form.replace(match.group(), "", 1)
    if form.strip():
        raise _RowError(f"cannot parse {form.strip()!r} (not an element symbol with an amount)")
    return out


def _parse_items(formula: str) -> dict[str, float]:
    """Parse one formula the way pymatgen does; returns {symbol: amount} (unvalidated)."""
    if _SIMPLE_RE.fullmatch(formula):
        out: dict[str, float] = {}
        for el, amt in _SIMPLE_TOKEN_RE.findall(formula):
            value = float(amt) if amt else 1.0
            out[el] = out.get(el, 0.0) + value
        return out
    if _INVALID_RE.match(formula):
        raise _RowError("empty formula" if not formula.strip() else "no element symbol")
    formula = formula.replace("@", "").translate(_TRANSLATE)
    match = _PAREN_RE.search(formula)
    while match:
        factor = 1.0
        if match[2] != "":
            try:
                factor = float(match[2])
            except ValueError:
                raise _RowError(f"invalid multiplier {match[2]!r} after a parenthesis") from None
        unit = _sym_dict(match[1], factor)
        expanded = "".join(f"{el}{amt}" for el, amt in unit.items())
        formula = formula.replace(match.group(), expanded, 1)
        match = _PAREN_RE.search(formula)
    if "(" in formula or ")" in formula:
        raise _RowError("unbalanced parentheses")
    return _sym_dict(formula, 1.0)


def _parse_validated(formula: object) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Parse and validate one formula; returns (column indices in formula order, amounts)."""
    if formula is None or (isinstance(formula, float) and math.isnan(formula)):
        raise _RowError("missing value (None/NaN) instead of a formula")
    if not isinstance(formula, str):
        raise _RowError(f"not a string but {type(formula).__name__}")
    if not formula.strip():
        raise _RowError("empty formula")
    items = _parse_items(formula)
    if not items:
        raise _RowError("no element symbol")
    cols: dict[int, float] = {}
    for el, amt in items.items():
        idx = _INDEX.get(el)
        if idx is None:
            raise _RowError(
                f"unknown element symbol {el!r} (mi supports H..Lr, Z = 1..103; dummy species "
                "such as 'Xx' are not accepted)"
            )
        if not math.isfinite(amt):
            raise _RowError(f"non-finite amount {amt!r} for {el}")
        if amt < 0:
            raise _RowError(f"negative amount {amt!r} for {el}")
        if amt < AMOUNT_TOLERANCE:
            raise _RowError(f"zero amount {amt!r} for {el} (remove the element or give an amount)")
        cols[idx] = cols.get(idx, 0.0) + amt  # D/T fold into H
    keys = tuple(cols)  # formula order, as pymatgen keeps it
    return keys, tuple(cols[k] for k in keys)


def parse_formula(formula: str) -> dict[str, float]:
    """Parse one formula into ``{symbol: amount}`` (symbols in formula order, like pymatgen).

    Parameters
    ----------
    formula : str
        E.g. ``"(Nd0.8Dy0.2)2Fe14B"``.

    Returns
    -------
    dict of str to float

    Raises
    ------
    FormulaError
        With the value and the reason.

    Examples
    --------
    >>> parse_formula("(Nd0.8Dy0.2)2Fe14B")
    {'Nd': 1.6, 'Dy': 0.4, 'Fe': 14.0, 'B': 1.0}
    """
    from mi.chem.elements import ELEMENTS

    try:
        keys, amounts = _parse_validated(formula)
    except _RowError as exc:
        raise FormulaError(f"Invalid formula {formula!r}: {exc}.") from None
    return {ELEMENTS[k]: a for k, a in zip(keys, amounts, strict=True)}


@dataclass
class ParseResult:
    """Outcome of :func:`parse_formulas` with ``on_error="report"``.

    Attributes
    ----------
    matrix : CompositionMatrix
        One row per input; invalid rows are empty (``matrix.valid`` is False there).
    valid : numpy.ndarray of bool
        True where the formula parsed.
    errors : list of (int, object, str)
        ``(row, value, reason)`` for each invalid row, in row order.
    """

    matrix: CompositionMatrix
    valid: np.ndarray
    errors: list[tuple[int, object, str]] = field(default_factory=list)

    def errors_frame(self) -> pd.DataFrame:
        """Return the errors as a DataFrame with columns ``row, value, reason``."""
        return pd.DataFrame(self.errors, columns=["row", "value", "reason"])


def _as_object_array(formulas: Iterable[object]) -> np.ndarray:
    if isinstance(formulas, str):
        raise FormulaError(
            f"parse_formulas expects a list of formulas, got the single string {formulas!r}; "
            "wrap it in a list."
        )
    if isinstance(formulas, pd.Series | pd.Index):
        return formulas.to_numpy(dtype=object)
    if isinstance(formulas, np.ndarray):
        return formulas.astype(object, copy=False).ravel()
    if not isinstance(formulas, Sequence):
        formulas = list(formulas)
    arr = np.empty(len(formulas), dtype=object)
    arr[:] = formulas
    return arr


def parse_formulas(
    formulas: Iterable[object], on_error: OnError = "raise"
) -> CompositionMatrix | ParseResult:
    """Parse formula strings into a composition matrix.

    Parameters
    ----------
    formulas : iterable of str
        Formula strings (list, numpy array, pandas Series ...).
    on_error : {"raise", "nan", "report"}, default "raise"
        ``"raise"``: the first invalid formula raises :class:`~mi.exceptions.FormulaError`
        quoting row and value. ``"nan"``: invalid rows become empty rows (``matrix.valid``
        False; their fractions and features are NaN). ``"report"``: like ``"nan"`` but return
        a :class:`ParseResult` holding the matrix, the valid mask and every row error.

    Returns
    -------
    CompositionMatrix or ParseResult
        ``ParseResult`` only for ``on_error="report"``.

    Raises
    ------
    FormulaError
        For ``on_error="raise"`` and an invalid formula.

    Examples
    --------
    >>> m = parse_formulas(["Fe2O3", "Ba0.4K0.6Fe2As2", "(Nd0.8Dy0.2)2Fe14B"])
    >>> m.canonical_keys()[0]
    'Fe2O3'
    """
    if on_error not in ("raise", "nan", "report"):
        raise ValueError(f"on_error must be 'raise', 'nan' or 'report', got {on_error!r}.")
    arr = _as_object_array(formulas)
    n = len(arr)
    codes, uniques = pd.factorize(arr, use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    n_u = len(uniques)
    u_indptr = np.zeros(n_u + 1, dtype=np.int64)
    u_cols: list[int] = []
    u_vals: list[float] = []
    u_err: dict[int, str] = {}
    for i, value in enumerate(uniques):
        try:
            keys, amounts = _parse_validated(value)
        except _RowError as exc:
            u_err[i] = str(exc)
            keys, amounts = (), ()
        u_cols.extend(keys)
        u_vals.extend(amounts)
        u_indptr[i + 1] = len(u_cols)
    errors: list[tuple[int, object, str]] = []
    if u_err:
        bad_u = np.fromiter(u_err, dtype=np.int64)
        bad_rows = np.flatnonzero(np.isin(codes, bad_u))
        if on_error == "raise":
            row = int(bad_rows[0])
            value = arr[row]
            raise FormulaError(
                f"Invalid formula {value!r} in row {row}: {u_err[int(codes[row])]}. Fix the "
                "formula, or pass on_error='nan' / 'report' to keep going and list bad rows."
            )
        errors = [(int(r), arr[r], u_err[int(codes[r])]) for r in bad_rows]
    from scipy import sparse

    u_mat = sparse.csr_matrix(
        (np.asarray(u_vals, dtype=np.float64), np.asarray(u_cols, dtype=np.int32), u_indptr),
        shape=(n_u, N_ELEMENTS),
    )
    amounts = u_mat if (n_u == n and np.array_equal(codes, np.arange(n))) else u_mat[codes]
    matrix = CompositionMatrix._from_csr(amounts)
    if on_error == "report":
        return ParseResult(matrix=matrix, valid=matrix.valid, errors=errors)
    return matrix

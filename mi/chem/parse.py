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

Simple formulas (symbols and plain decimal amounts, the vast majority) are parsed many at a
time with numpy (:mod:`mi.chem._vectorparse`, same results); the rest go through the exact
parser below, once per distinct value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from mi.chem._vectorparse import vector_parse
from mi.chem.elements import _INDEX, N_ELEMENTS
from mi.chem.matrix import CompositionMatrix
from mi.exceptions import FormulaError

__all__ = ["parse_formulas", "parse_formula", "ParseResult", "AMOUNT_TOLERANCE"]

#: pymatgen's ``Composition.amount_tolerance``: amounts below it are treated as zero.
AMOUNT_TOLERANCE = 1e-8

OnError = Literal["raise", "nan", "report"]

_VECTOR_CHUNK = 131_072  # distinct formulas per vectorised parsing step (bounded memory)

# pymatgen's patterns (pymatgen/core/composition.py), kept identical on purpose.
_INVALID_RE = re.compile(r"[\s\d.*/]*$")
_GROUP_RE = re.compile(r"([A-Z][a-z]*)\s*([-*\.e\d]*)")
_PAREN_RE = re.compile(r"\(([^\(\)]+)\)\s*([\.e\d]*)")
_TRANSLATE = str.maketrans("[]{}", "()()")
# Simple formulas (symbols and plain decimal amounts only) take a shorter path.
_SIMPLE_RE = re.compile(r"(?:[A-Z][a-z]?(?:\d+\.?\d*|\.\d+)?)+")
_SIMPLE_TOKEN_RE = re.compile(r"([A-Z][a-z]?)([\d.]*)")


#: Longest formula read (characters); longer cells are refused before any parsing.
MAX_FORMULA_LENGTH = 1000
# a hydrate written with a dot ("CuSO4.5H2O"): pymatgen reads "4.5" as one amount
_HYDRATE_RE = re.compile(r"[A-Za-z)\]}][1-9]\d*\.(\d+)\s*\(?H2O\)?\s*$")


_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _refused_early(formula: str) -> str | None:
    """Reason to refuse a formula before parsing it (too long, hydrate dot), else None."""
    if len(formula) > MAX_FORMULA_LENGTH:
        return (
            f"formula is {len(formula):,} characters long; at most {MAX_FORMULA_LENGTH:,} are read"
        )
    inner = _CONTROL_RE.search(formula.strip(" \t\r\n"))
    if inner:
        return (
            f"control character {inner.group()!r} inside the formula (a line break or a "
            "corrupted cell); fix the cell"
        )
    if "H2O" in formula:
        match = _HYDRATE_RE.search(formula)
        if match:
            whole = match.group()[1:].split(".")[0]
            salt = formula[: match.start() + 1] + whole
            return (
                f"hydrate dot: '.{match[1]}H2O' would be read as the decimal amount "
                f"{whole}.{match[1]}; write the water as a group, e.g. '{salt}(H2O){match[1]}', "
                f"or end with 'H2O1' if {whole}.{match[1]} is meant"
            )
    return None


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
    early = _refused_early(formula)
    if early is not None:
        raise _RowError(early)
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
        import pandas as pd  # only here: mi.chem itself does not need pandas

        return pd.DataFrame(self.errors, columns=["row", "value", "reason"])


def _as_object_array(formulas: Iterable[object]) -> np.ndarray:
    if isinstance(formulas, str):
        raise FormulaError(
            f"parse_formulas expects a list of formulas, got the single string {formulas!r}; "
            "wrap it in a list."
        )
    if hasattr(formulas, "to_numpy") and not isinstance(formulas, np.ndarray):  # pandas
        return np.asarray(formulas.to_numpy(dtype=object)).ravel()
    if isinstance(formulas, np.ndarray):
        return formulas.astype(object, copy=False).ravel()
    if not isinstance(formulas, Sequence):
        formulas = list(formulas)
    arr = np.empty(len(formulas), dtype=object)
    arr[:] = formulas
    return arr


@overload
def parse_formulas(
    formulas: Iterable[object], on_error: Literal["raise", "nan"] = "raise"
) -> CompositionMatrix: ...


@overload
def parse_formulas(formulas: Iterable[object], on_error: Literal["report"]) -> ParseResult: ...


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
    counts = np.zeros(n, dtype=np.int64)
    fast_ok = np.zeros(n, dtype=bool)
    v_cols: list[np.ndarray] = []
    v_vals: list[np.ndarray] = []
    # refused before parsing (too long, hydrate dot): kept from the vector path
    early = [
        i
        for i, v in enumerate(arr.tolist())
        if type(v) is str
        and (len(v) > MAX_FORMULA_LENGTH or "H2O" in v or _CONTROL_RE.search(v.strip()))
    ]
    varr = arr
    if early:
        varr = arr.copy()
        varr[np.asarray(early)] = None
    for start in range(0, n, _VECTOR_CHUNK):
        ok, cnt, cols, vals = vector_parse(varr[start : start + _VECTOR_CHUNK])
        fast_ok[start : start + len(ok)] = ok
        counts[start : start + len(ok)] = cnt
        v_cols.append(cols)
        v_vals.append(vals)
    # the rest (parentheses, spaces, repeated elements, errors): exact parser, once per value
    slow_rows: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {}
    row_err: dict[int, str] = {}
    memo: dict[object, tuple[tuple[int, ...], tuple[float, ...]] | str] = {}
    for i in np.flatnonzero(~fast_ok).tolist():
        value = arr[i]
        try:
            hit = memo.get(value)
        except TypeError:  # unhashable
            hit = None
        if hit is None:
            try:
                hit = _parse_validated(value)
            except _RowError as exc:
                hit = str(exc)
            try:
                memo[value] = hit
            except TypeError:
                pass
        if isinstance(hit, str):
            row_err[i] = hit
            if on_error == "raise":
                shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
                raise FormulaError(
                    f"Invalid formula {shown} in row {i}: {hit}. Fix the formula, or pass "
                    "on_error='nan' / 'report' to keep going and list bad rows."
                )
            hit = ((), ())
        slow_rows[i] = hit
        counts[i] = len(hit[0])
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    fast_cols = np.concatenate(v_cols) if v_cols else np.zeros(0, np.int32)
    fast_vals = np.concatenate(v_vals) if v_vals else np.zeros(0)
    if not slow_rows:
        all_cols, all_vals = fast_cols.astype(np.int32, copy=False), fast_vals
    else:
        all_cols = np.empty(int(indptr[-1]), dtype=np.int32)
        all_vals = np.empty(int(indptr[-1]), dtype=np.float64)
        ok_rows = np.flatnonzero(fast_ok)
        ok_counts = counts[ok_rows]
        first = np.concatenate([[0], np.cumsum(ok_counts)[:-1]])
        dest = np.repeat(indptr[ok_rows] - first, ok_counts) + np.arange(len(fast_cols))
        all_cols[dest] = fast_cols
        all_vals[dest] = fast_vals
        for i, (keys, amounts) in slow_rows.items():
            all_cols[indptr[i] : indptr[i + 1]] = keys
            all_vals[indptr[i] : indptr[i + 1]] = amounts
    errors = [(i, arr[i], reason) for i, reason in sorted(row_err.items())]
    from scipy import sparse

    csr = sparse.csr_matrix((all_vals, all_cols, indptr), shape=(n, N_ELEMENTS))
    matrix = CompositionMatrix._from_csr(csr)
    if on_error == "report":
        return ParseResult(matrix=matrix, valid=matrix.valid, errors=errors)
    return matrix

"""The composition matrix: one row per composition, one column per element (Z = 1..103)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from mi.chem.elements import ATOMIC_MASSES, ELEMENTS, N_ELEMENTS, element_index
from mi.exceptions import FormulaError

if TYPE_CHECKING:
    from pymatgen.core import Composition

__all__ = ["CompositionMatrix", "DENSE_MAX_ROWS"]

#: Matrices with at most this many rows keep ``.amounts`` dense; larger ones use CSR.
DENSE_MAX_ROWS = 50_000

_MASSES = np.asarray(ATOMIC_MASSES, dtype=np.float64)
_KEY_SCALE = 10**6  # canonical keys resolve amounts to 1e-6 relative to the smallest
_EXACT = 2.0**53  # float64 holds every integer below this exactly


class CompositionMatrix:
    """Compositions as an ``n x len(ELEMENTS)`` matrix of amounts (atoms per formula unit).

    Rows with no element at all are *invalid* (a formula that failed to parse with
    ``on_error="nan"``); their fractions and features are NaN. The object is immutable:
    methods return new arrays or new matrices.

    ``.amounts`` is a dense numpy array for up to :data:`DENSE_MAX_ROWS` rows and a
    ``scipy.sparse.csr_matrix`` above (a million 4-element rows take 48 MB instead of 824 MB);
    use :meth:`to_csr` / :meth:`to_dense` when one form is needed.

    Within a row, the CSR entries keep the element order of the formula (pymatgen's order:
    first appearance), so :meth:`to_compositions` rebuilds exactly the ``Composition`` that
    pymatgen parses, and the fast featurizers sum in matminer's order (bit-identical results
    for compositions of fewer than 8 elements). Matrices built from dense arrays are in Z order.

    Examples
    --------
    >>> m = CompositionMatrix.from_dict_rows([{"Fe": 2, "O": 3}, {"Fe": 4, "O": 6}])
    >>> m.canonical_keys()
    ['Fe2O3', 'Fe2O3']
    >>> float(m.fractions()[0, element_index("O")])
    0.6
    """

    __slots__ = ("_csr",)

    def __init__(self, amounts: Any) -> None:
        if sparse.issparse(amounts):
            csr = sparse.csr_matrix(amounts, dtype=np.float64)
        else:
            arr = np.asarray(amounts, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != N_ELEMENTS:
                raise FormulaError(
                    f"A composition matrix needs shape (n, {N_ELEMENTS}) (one column per element "
                    f"H..Lr), got {arr.shape}."
                )
            csr = sparse.csr_matrix(arr)
        if csr.shape[1] != N_ELEMENTS:
            raise FormulaError(f"A composition matrix needs {N_ELEMENTS} columns, got {csr.shape}.")
        if csr.nnz:
            row_of = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
            flat = row_of * N_ELEMENTS + csr.indices
            if len(np.unique(flat)) != csr.nnz:
                csr.sum_duplicates()  # merges repeated elements (and sorts those rows' order)
        csr.eliminate_zeros()
        data = csr.data
        if data.size and (not np.all(np.isfinite(data)) or data.min() < 0):
            row = int(np.searchsorted(csr.indptr, np.flatnonzero(~(data >= 0))[0], side="right"))
            raise FormulaError(
                f"Amounts must be finite and non-negative; row {row - 1} is not. Fix that row."
            )
        self._csr = csr

    @classmethod
    def _from_csr(cls, csr: sparse.csr_matrix) -> CompositionMatrix:
        """Wrap an already validated CSR matrix (no duplicates, no explicit zeros)."""
        obj = cls.__new__(cls)
        obj._csr = csr
        return obj

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_amounts(cls, amounts: Any) -> CompositionMatrix:
        """Build from an ``(n, 103)`` array (dense or scipy sparse) of amounts.

        Parameters
        ----------
        amounts : array-like or scipy.sparse matrix
            Non-negative amounts; column ``j`` is the element with Z = j + 1.

        Returns
        -------
        CompositionMatrix
        """
        return cls(amounts)

    @classmethod
    def from_dict_rows(cls, rows: Sequence[Mapping[str, float]]) -> CompositionMatrix:
        """Build from one ``{symbol: amount}`` mapping per row.

        Parameters
        ----------
        rows : sequence of mapping of str to float
            E.g. ``[{"Fe": 2, "O": 3}]``. Repeated symbols (``D`` and ``H``) are summed.

        Returns
        -------
        CompositionMatrix
        """
        indptr = [0]
        cols: list[int] = []
        vals: list[float] = []
        for i, row in enumerate(rows):
            merged: dict[int, float] = {}
            for sym, amt in row.items():
                try:
                    j = element_index(str(sym))
                except FormulaError as exc:
                    raise FormulaError(f"Row {i}: {exc}") from None
                merged[j] = merged.get(j, 0.0) + float(amt)
            cols.extend(merged)
            vals.extend(merged.values())
            indptr.append(len(cols))
        csr = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), np.asarray(cols, dtype=np.int32), indptr),
            shape=(len(indptr) - 1, N_ELEMENTS),
        )
        return cls(csr)

    # -- views --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self._csr.shape[0])

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        preview = ", ".join(self.formulas()[:3]) if self.n else ""
        more = ", ..." if self.n > 3 else ""
        return f"CompositionMatrix(n={self.n}, [{preview}{more}])"

    @property
    def amounts(self) -> np.ndarray | sparse.csr_matrix:
        """Amounts: dense ``(n, 103)`` float64 for small n, CSR above :data:`DENSE_MAX_ROWS`."""
        if self.n <= DENSE_MAX_ROWS:
            return self._csr.toarray()
        return self._csr.copy()

    @property
    def is_sparse(self) -> bool:
        """Whether :attr:`amounts` returns a sparse matrix."""
        return self.n > DENSE_MAX_ROWS

    @property
    def valid(self) -> np.ndarray:
        """Bool mask: True where the row holds at least one element."""
        return np.diff(self._csr.indptr) > 0

    @property
    def n_elements(self) -> np.ndarray:
        """Number of distinct elements in each row."""
        return np.diff(self._csr.indptr)

    def to_csr(self) -> sparse.csr_matrix:
        """Amounts as a CSR matrix (formula order within rows, no explicit zeros; do not modify)."""
        return self._csr

    def to_dense(self) -> np.ndarray:
        """Amounts as a dense ``(n, 103)`` float64 array."""
        return self._csr.toarray()

    def row_totals(self) -> np.ndarray:
        """Total number of atoms per row (0 for invalid rows)."""
        return np.add.reduceat(np.append(self._csr.data, 0.0), self._csr.indptr[:-1]) * self.valid

    def _row_normalised(self, weights: np.ndarray | None) -> sparse.csr_matrix:
        csr = self._csr
        data = csr.data if weights is None else csr.data * weights[csr.indices]
        counts = np.diff(csr.indptr)
        totals = np.zeros(self.n)
        if data.size:
            totals[counts > 0] = np.add.reduceat(data, csr.indptr[:-1][counts > 0])
        return sparse.csr_matrix(
            (data / np.repeat(totals, counts), csr.indices, csr.indptr), shape=csr.shape
        )

    def fractions(self) -> np.ndarray:
        """Atomic fractions, dense ``(n, 103)`` float64; rows sum to 1 (NaN for invalid rows)."""
        out = self._row_normalised(None).toarray()
        out[~self.valid] = np.nan
        return out

    def fractions_csr(self) -> sparse.csr_matrix:
        """Atomic fractions as CSR (memory-light version of :meth:`fractions`)."""
        return self._row_normalised(None)

    def mass_fractions(self) -> np.ndarray:
        """Mass fractions with pymatgen's atomic masses, dense ``(n, 103)`` (NaN if invalid)."""
        out = self._row_normalised(_MASSES).toarray()
        out[~self.valid] = np.nan
        return out

    def mass_fractions_csr(self) -> sparse.csr_matrix:
        """Mass fractions as CSR (memory-light version of :meth:`mass_fractions`)."""
        return self._row_normalised(_MASSES)

    def canonical_keys(self) -> list[str]:
        """Canonical reduced-composition key per row (``""`` for invalid rows).

        Amounts are rounded to multiples of 1e-6 atoms, divided by their greatest common
        divisor, and written with symbols in alphabetical
        order: ``"Fe2O3"``, ``"Fe4O6"`` and ``"O3Fe2"`` all give ``"Fe2O3"``;
        ``"Ba0.4K0.6Fe2As2"`` gives ``"As10Ba2Fe10K3"``.

        Returns
        -------
        list of str
        """
        csr = self._csr
        scaled_f, big = key_amounts(csr)
        counts = np.diff(csr.indptr)
        safe_data = np.where(np.repeat(big, counts), 1.0, scaled_f)
        scaled = safe_data.astype(np.int64)
        has = counts > 0
        gcd = np.ones(self.n, dtype=np.int64)
        if scaled.size:
            gcd[has] = np.gcd.reduceat(scaled, csr.indptr[:-1][has])
        reduced: list[Any] = (scaled // np.repeat(gcd, counts)).tolist()
        ptr = csr.indptr.tolist()
        for i in np.flatnonzero(big).tolist():  # beyond float64's exact integers: Python ints
            a, b = ptr[i], ptr[i + 1]
            ints = [int(v) for v in scaled_f[a:b].tolist()]
            g = math.gcd(*ints)
            reduced[a:b] = [v // g for v in ints]
        return _format_rows(csr.indptr, csr.indices, reduced, integer=True)

    def exact_keys(self) -> list[str]:
        """Key per row that preserves the amounts exactly (``repr`` of each amount).

        Unlike :meth:`canonical_keys` it is not reduced: ``"Fe2O3"`` and ``"Fe4O6"`` differ.
        Used as the feature-cache key.

        Returns
        -------
        list of str
            E.g. ``"Fe2.0O3.0"``; ``""`` for invalid rows.
        """
        csr = self._csr
        symbols = [ELEMENTS[j] for j in csr.indices.tolist()]
        data = csr.data.tolist()
        ptr = csr.indptr.tolist()
        return [
            "".join(f"{s}{v!r}" for s, v in sorted(zip(symbols[a:b], data[a:b], strict=True)))
            for a, b in zip(ptr[:-1], ptr[1:], strict=True)
        ]

    def formulas(self) -> list[str]:
        """Readable formula per row (alphabetical symbols, amounts as given; ``""`` if invalid).

        Returns
        -------
        list of str
        """
        csr = self._csr
        return _format_rows(csr.indptr, csr.indices, csr.data.tolist(), integer=False)

    def take(self, idx: Any) -> CompositionMatrix:
        """Rows selected by integer indices or a boolean mask.

        Parameters
        ----------
        idx : array-like of int or bool

        Returns
        -------
        CompositionMatrix
        """
        index = np.asarray(idx)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return CompositionMatrix._from_csr(self._csr[index])

    def __getitem__(self, idx: Any) -> CompositionMatrix:
        if isinstance(idx, slice):
            return CompositionMatrix._from_csr(self._csr[idx])
        if np.isscalar(idx):
            return self.take([idx])
        return self.take(idx)

    def to_compositions(self) -> list[Composition | None]:
        """Pymatgen ``Composition`` per row (slow path, for matminer); None for invalid rows.

        Returns
        -------
        list of pymatgen.core.Composition or None
        """
        from pymatgen.core import Composition

        csr = self._csr
        out: list[Composition | None] = []
        data = csr.data.tolist()
        indices = csr.indices.tolist()
        for i in range(self.n):
            a, b = int(csr.indptr[i]), int(csr.indptr[i + 1])
            if a == b:
                out.append(None)
            else:
                out.append(
                    Composition(
                        {
                            ELEMENTS[j]: data[k]
                            for k, j in zip(range(a, b), indices[a:b], strict=True)
                        }
                    )
                )
        return out

    @staticmethod
    def concat(matrices: Sequence[CompositionMatrix]) -> CompositionMatrix:
        """Stack matrices row-wise.

        Parameters
        ----------
        matrices : sequence of CompositionMatrix

        Returns
        -------
        CompositionMatrix
        """
        if not matrices:
            return CompositionMatrix._from_csr(sparse.csr_matrix((0, N_ELEMENTS)))
        return CompositionMatrix._from_csr(sparse.vstack([m._csr for m in matrices], format="csr"))


def key_amounts(csr: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Integer-valued amounts of the canonical key, and the rows beyond exact float64.

    Amounts are rounded to multiples of ``1e-6`` atoms. A row whose smallest amount would round
    to zero, or whose largest would exceed ``2**53`` (float64's exact integers) after scaling,
    is first divided by its smallest amount, so very small or very large amounts keep distinct
    compositions apart (``Fe1e-7O2e-7`` is ``FeO2``; ``Fe1e13O`` differs from ``Fe2e13O``).

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix
        Amounts (no explicit zeros).

    Returns
    -------
    scaled : numpy.ndarray
        ``rint`` of the (rescaled) amounts times ``1e6``, at least 1, aligned with ``csr.data``.
    big : numpy.ndarray of bool
        Rows whose scaled amounts reach ``2**53``: exact only with Python integers.
    """
    n = csr.shape[0]
    counts = np.diff(csr.indptr)
    has = counts > 0
    data = np.asarray(csr.data, dtype=np.float64)
    big = np.zeros(n, dtype=bool)
    if data.size == 0:
        return data.copy(), big
    starts = csr.indptr[:-1][has]
    low = np.ones(n)
    high = np.zeros(n)
    low[has] = np.minimum.reduceat(data, starts)
    high[has] = np.maximum.reduceat(data, starts)
    rescale = has & ((low * _KEY_SCALE < 0.5) | (high * _KEY_SCALE >= _EXACT))
    factor = np.ones(n)
    factor[rescale] = 1.0 / low[rescale]
    with np.errstate(over="ignore"):
        scaled = np.rint(data * np.repeat(factor, counts) * _KEY_SCALE)
    scaled[scaled == 0] = 1.0  # tiny positive amounts still count
    top = np.zeros(n)
    top[has] = np.maximum.reduceat(scaled, starts)
    big = has & ~(top < _EXACT)
    if big.any():  # the 1e-6 resolution is below float64's precision there: whole atoms
        mask = np.repeat(big, counts)
        scaled[mask] = np.maximum(np.rint(data * np.repeat(factor, counts))[mask], 1.0)
    return scaled, big


def _format_amount(x: float) -> str:
    if x == 1:
        return ""
    text = format(x, ".12g")
    if float(text) != x and not 1e-6 <= abs(x) < 1e9:
        text = repr(float(x))  # amounts over many decades: keep every digit
    if "e" in text:  # the parser reads plain decimals only: 1e+13 -> 10000000000000
        text = np.format_float_positional(float(text), trim="-")
    return text


def _format_rows(
    indptr: np.ndarray, indices: np.ndarray, values: list[Any], *, integer: bool
) -> list[str]:
    symbols = [ELEMENTS[j] for j in indices.tolist()]
    out: list[str] = []
    ptr = indptr.tolist()
    for i in range(len(ptr) - 1):
        a, b = ptr[i], ptr[i + 1]
        parts = sorted(zip(symbols[a:b], values[a:b], strict=True))
        if integer:
            out.append("".join(s if v == 1 else f"{s}{v}" for s, v in parts))
        else:
            text = "".join(s + _format_amount(v) for s, v in parts)
            if text.endswith("H2O") and _HYDRATE_LIKE.search(text):
                text += "1"  # "Co1.5H2O" would read as a hydrate dot: "Co1.5H2O1" does not
            out.append(text)
    return out


_HYDRATE_LIKE = re.compile(r"[1-9]\d*\.\d+H2O$")

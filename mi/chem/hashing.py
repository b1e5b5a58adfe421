"""64-bit hashes of reduced compositions, equal exactly when the canonical keys are equal.

Used to deduplicate candidates (:mod:`mi.candidates`) and table rows (:mod:`mi.data.ingest`)
without building key strings.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["row_hashes", "KEY_SCALE"]

#: Amount resolution of the canonical key (the same as ``mi.chem``'s canonical keys).
KEY_SCALE = 10**6

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)


_ELEMENT_SALT = np.random.default_rng(20241122).integers(
    0, np.iinfo(np.uint64).max, size=128, dtype=np.uint64, endpoint=True
)


def _splitmix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, vectorised (uint64 arithmetic wraps modulo 2**64)."""
    z = z + _C1
    z = (z ^ (z >> _S30)) * _C2
    z = (z ^ (z >> _S27)) * _C3
    return z ^ (z >> _S31)


def row_hashes(csr: sparse.csr_matrix) -> np.ndarray:
    """64-bit hash of the reduced composition of every row of an amounts CSR matrix.

    Amounts are rounded to integers ``s = rint(amount * 1e6)`` (at least 1), as ``mi.chem``'s
    canonical keys do; two rows have the same key exactly when their ``s`` vectors are
    proportional, i.e. when ``s / sum(s)`` agree. Those quotients of exact integers are
    correctly rounded by IEEE division, so proportional rows give bit-identical fractions and
    no greatest-common-divisor computation is needed.

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix
        Amounts, one row per composition, column ``j`` = element with Z = j + 1; no explicit
        zeros (as :meth:`mi.chem.CompositionMatrix.to_csr` returns).

    Returns
    -------
    numpy.ndarray of uint64
        Equal for rows with equal canonical keys; 0 for empty rows.

    Examples
    --------
    >>> from mi.chem import CompositionMatrix
    >>> m = CompositionMatrix.from_dict_rows([{"Fe": 2, "O": 3}, {"O": 6, "Fe": 4}, {"Fe": 1}])
    >>> h = row_hashes(m.to_csr())
    >>> bool(h[0] == h[1]), bool(h[0] == h[2])
    (True, False)
    """
    n = csr.shape[0]
    counts = np.diff(csr.indptr)
    has = counts > 0
    out = np.zeros(n, dtype=np.uint64)
    if csr.data.size == 0:
        return out
    from mi.chem.matrix import key_amounts

    scaled, _ = key_amounts(csr)  # the same integers as mi.chem's canonical keys
    starts = csr.indptr[:-1][has]
    totals = np.add.reduceat(scaled, starts)
    exact = totals < 2.0**53
    row_total = np.ones(n)
    row_total[np.flatnonzero(has)[exact]] = totals[exact]
    frac = scaled / np.repeat(row_total, counts)
    mixed = _splitmix(frac.view(np.uint64)) ^ _ELEMENT_SALT[csr.indices]
    # order-independent combination per row, then one more mix
    out[has] = _splitmix(np.add.reduceat(mixed, starts))
    if not exact.all():  # huge amounts: hash the canonical key string itself
        import hashlib

        from mi.chem.matrix import CompositionMatrix

        rows = np.flatnonzero(has)[~exact]
        keys = CompositionMatrix._from_csr(csr[rows]).canonical_keys()
        out[rows] = [
            int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "little")
            for k in keys
        ]
    return out

"""Streaming deduplication by reduced composition: 64-bit row hashes and a compact seen-set.

The hash of a row follows the equivalence of :meth:`mi.chem.CompositionMatrix.canonical_keys`
exactly (amounts rounded to multiples of 1e-6 atoms, divided by their greatest common divisor,
element order irrelevant), so ``Fe2O3``, ``Fe4O6`` and ``O3Fe2`` hash alike. It is computed with
a handful of vectorised numpy operations per chunk, without building key strings.

Memory: the seen-set stores 8 bytes per distinct composition in sorted ``uint64`` runs (plus a
transient copy of the two runs being merged) and a fixed 16 MB bit filter, i.e. about 100 MB
for 10^7 distinct candidates (peak up to ~180 MB while the largest runs merge). Two
different compositions share a 64-bit hash with probability about ``n**2 / 2**65`` over a run of
``n`` distinct compositions (3e-6 for n = 10^7); such a collision would drop one candidate.
Use ``dedup="exact"`` to compare the key strings themselves (about 100-150 bytes per candidate).
"""

from __future__ import annotations

import numpy as np

from mi.chem.hashing import KEY_SCALE, row_hashes

__all__ = ["row_hashes", "SeenHashes", "SeenKeys", "KEY_SCALE"]


class SeenHashes:
    """A set of uint64 hashes kept as a few sorted numpy runs (LSM style).

    ``add_new(h)`` returns a mask of the hashes not seen before (also within ``h``: only the first
    occurrence counts) and records them. Runs are merged like a binary counter, so the cost is
    ``O(n log n)`` overall and the memory 8 bytes per distinct hash.

    Examples
    --------
    >>> s = SeenHashes()
    >>> s.add_new(np.array([5, 7, 5], dtype=np.uint64)).tolist()
    [True, True, False]
    >>> s.add_new(np.array([7, 9], dtype=np.uint64)).tolist()
    [False, True]
    >>> len(s)
    3
    """

    def __init__(self, filter_bits: int = 27) -> None:
        self._runs: list[np.ndarray] = []
        # one-hash Bloom filter over the top bits: a query whose bit is unset is new for sure,
        # so only the few others (~ n / 2**filter_bits of them) are searched in the runs
        self._shift = np.uint64(64 - filter_bits)
        self._bits = np.zeros(1 << max(filter_bits - 3, 0), dtype=np.uint8)

    def __len__(self) -> int:
        return int(sum(r.size for r in self._runs))

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored hashes (the filter adds a fixed 16 MB by default)."""
        return int(sum(r.nbytes for r in self._runs))

    def _slots(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = h >> self._shift
        return top >> np.uint64(3), (np.uint8(1) << (top & np.uint64(7)).astype(np.uint8))

    def _maybe(self, h: np.ndarray) -> np.ndarray:
        byte, mask = self._slots(h)
        return (self._bits[byte] & mask) != 0

    def contains(self, h: np.ndarray) -> np.ndarray:
        """Bool mask: which hashes were already recorded."""
        h = np.asarray(h, dtype=np.uint64)
        found = np.zeros(h.shape, dtype=bool)
        for run in self._runs:
            pos = np.searchsorted(run, h)
            pos[pos == run.size] = 0
            found |= run[pos] == h
        return found

    def add_new(self, h: np.ndarray) -> np.ndarray:
        """Record ``h`` and return True where a hash is new (first occurrence only)."""
        h = np.asarray(h, dtype=np.uint64)
        keep = np.zeros(h.shape, dtype=bool)
        if h.size == 0:
            return keep
        order = np.argsort(h)
        hs = h[order]
        starts = np.flatnonzero(np.concatenate(([True], hs[1:] != hs[:-1])))
        if starts.size == hs.size:
            uniq, first = hs, order
        else:  # repeated within the chunk: the earliest position wins
            uniq, first = hs[starts], np.minimum.reduceat(order, starts)
        is_new = np.ones(uniq.size, dtype=bool)
        maybe = np.flatnonzero(self._maybe(uniq))
        if maybe.size:  # sorted queries: cache-friendly searches
            is_new[maybe] = ~self.contains(uniq[maybe])
        keep[first[is_new]] = True
        fresh = uniq[is_new]
        if fresh.size:  # fresh is sorted, so equal filter bytes are adjacent
            byte, mask = self._slots(fresh)
            starts = np.flatnonzero(np.concatenate(([True], byte[1:] != byte[:-1])))
            self._bits[byte[starts]] |= np.bitwise_or.reduceat(mask, starts)
        self._push(fresh)
        return keep

    def _push(self, run: np.ndarray) -> None:
        if run.size == 0:
            return
        self._runs.append(run)
        while len(self._runs) > 1 and self._runs[-2].size <= 2 * self._runs[-1].size:
            b = self._runs.pop()
            a = self._runs.pop()
            merged = np.concatenate([a, b])
            merged.sort(kind="stable")  # timsort: a linear merge of two sorted runs
            self._runs.append(merged)


class SeenKeys:
    """Exact seen-set of canonical key strings (a Python ``set``; ~100-150 bytes per key)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def add_new_keys(self, keys: list[str]) -> np.ndarray:
        """Record ``keys`` and return True where a key is new (first occurrence only)."""
        keep = np.zeros(len(keys), dtype=bool)
        seen = self._seen
        for i, k in enumerate(keys):
            if k not in seen:
                seen.add(k)
                keep[i] = True
        return keep

"""Array versions of matminer composition featurizers (the ``backend="fast"`` engine).

Each function takes the *matminer featurizer object itself* (so parameters and element data come
from matminer) and a :class:`Block` of compositions, and returns the same numbers matminer's
``featurize`` returns, computed for all rows at once. The formulas follow matminer 0.10.1 line by
line (``matminer/featurizers/utils/stats.py`` and the featurizer modules); notably:

* weights are the raw amounts of ``comp.element_composition`` (not normalised fractions), which
  matters for ``mode``: ``np.isclose(weights, weights.max())`` (rtol 1e-5, atol 1e-8 on the
  amounts), and among those tied entries the *smallest* property value is returned;
* ``std_dev``, ``skewness`` and ``kurtosis`` are 0 for one-element compositions, and skewness /
  kurtosis return 0 when ``np.isclose(u3, 0)`` / ``np.isclose(u4, 0)``;
* ``minimum`` / ``maximum`` / ``range`` are NaN when any element value is NaN.

Sums run in numpy's own order over the elements in formula order (see :func:`numpy_sum_rows`),
so ``mean``, ``avg_dev``, ``mode``, ``minimum``/``maximum``/``range`` and the valence-orbital
features are bit-identical to matminer on the same composition; where matminer uses ``np.dot``
(BLAS) or ``np.power``, results can differ in the last bits. Tests require 1e-9 relative.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import numpy as np

from mi.chem import ELEMENTS, N_ELEMENTS, element_index
from mi.features.element_data import property_table

__all__ = ["Block", "FAST_FEATURIZERS", "has_fast_version", "SUPPORTED_STATS"]

_ISCLOSE_RTOL = 1e-5  # numpy.isclose defaults, used by matminer's mode/skewness/kurtosis
_ISCLOSE_ATOL = 1e-8
_MAX_COMBOS = 20_000  # oxidation-state combinations tested at once by IonProperty


def numpy_sum_rows(v: np.ndarray, c: int) -> np.ndarray:
    """Sum ``v`` of shape ``(m, c, ...)`` over axis 1 exactly as numpy sums a 1-D array.

    numpy adds a contiguous 1-D float64 array of ``n < 8`` values left to right, and longer
    ones with eight running partial sums combined pairwise (``pairwise_sum`` in numpy's
    ``loops_utils.h``). Reproducing that order makes means bit-identical to matminer's
    ``np.average`` on the same element order.
    """
    if c < 8:
        acc = v[:, 0].copy()
        for k in range(1, c):
            acc += v[:, k]
        return acc
    r = v[:, :8].copy()
    i = 8
    while i < c - c % 8:
        r += v[:, i : i + 8]
        i += 8
    res = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
    for j in range(i, c):
        res += v[:, j]
    return res


class Block:
    """A block of valid compositions (every row has at least one element).

    Rows are regrouped by their number of elements so that each group is a dense
    ``(rows, c)`` view; results come out in that grouped order and :attr:`order` maps them
    back (``out[order] = result``). Entries keep their order within a row (formula order).

    Parameters
    ----------
    indptr : numpy.ndarray
        Row pointers, length ``m + 1``, starting at 0.
    indices : numpy.ndarray
        Element column (Z - 1) of each entry.
    amounts : numpy.ndarray
        Raw amounts (atoms per formula unit) of each entry.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, amounts: np.ndarray) -> None:
        counts = np.diff(indptr)
        if counts.size and counts.min() < 1:
            raise ValueError("Block rows must hold at least one element.")
        order = np.argsort(counts, kind="stable")
        sorted_counts = counts[order]
        if np.array_equal(order, np.arange(len(order))):
            self.indices, self.amounts = indices, amounts
        else:
            starts = indptr[:-1][order]
            take = np.repeat(starts - np.concatenate([[0], np.cumsum(sorted_counts)[:-1]]),
                             sorted_counts) + np.arange(int(sorted_counts.sum()))  # fmt: skip
            self.indices, self.amounts = indices[take], amounts[take]
        self.order = order
        self.counts = sorted_counts
        self.indptr = np.concatenate([[0], np.cumsum(sorted_counts)])
        self.m = len(order)
        # groups of equal element count: (c, first row, last row + 1, first entry, last entry + 1)
        self.groups: list[tuple[int, int, int, int, int]] = []
        if self.m:
            edges = np.flatnonzero(np.diff(sorted_counts)) + 1
            for r0, r1 in zip(
                np.concatenate([[0], edges]), np.concatenate([edges, [self.m]]), strict=True
            ):
                e0, e1 = int(self.indptr[r0]), int(self.indptr[r1])
                self.groups.append((int(sorted_counts[r0]), int(r0), int(r1), e0, e1))

    @cached_property
    def starts(self) -> np.ndarray:
        """Index of each row's first entry."""
        return self.indptr[:-1]

    @cached_property
    def total(self) -> np.ndarray:
        """Sum of the amounts per row (matminer's ``np.sum(weights)``)."""
        return self.rowsum(self.amounts)

    @cached_property
    def single(self) -> np.ndarray:
        """Rows with a single element."""
        return self.counts == 1

    def repeat(self, per_row: np.ndarray) -> np.ndarray:
        """Broadcast a per-row array to the entries."""
        return np.repeat(per_row, self.counts, axis=0)

    def views(self, per_entry: np.ndarray) -> Iterator[tuple[int, int, int, np.ndarray]]:
        """Yield ``(c, first row, end row, values as (rows, c, ...))`` per element-count group."""
        rest = per_entry.shape[1:]
        for c, r0, r1, e0, e1 in self.groups:
            yield c, r0, r1, per_entry[e0:e1].reshape((r1 - r0, c, *rest))

    def rowsum(self, per_entry: np.ndarray) -> np.ndarray:
        """Sum an entry array (1-D or 2-D) per row, in numpy's 1-D summation order."""
        out = np.empty((self.m, *per_entry.shape[1:]), dtype=per_entry.dtype)
        for c, r0, r1, v in self.views(per_entry):
            out[r0:r1] = numpy_sum_rows(v, c)
        return out


def _seq_reduce(ufunc: np.ufunc, v: np.ndarray, c: int) -> np.ndarray:
    """Reduce ``v`` of shape ``(m, c, ...)`` over axis 1 with an order-free ufunc (min/max)."""
    acc = v[:, 0].copy()
    for k in range(1, c):
        ufunc(acc, v[:, k], out=acc)
    return acc


def _weighted_sum(x: np.ndarray, w: np.ndarray, c: int) -> np.ndarray:
    """``sum_k x[:, k] * w[:, k]`` in numpy's 1-D order; x ``(m, c, P)``, w ``(m, c)``."""
    if c >= 8:
        return numpy_sum_rows(x * w[:, :, None], c)
    acc = x[:, 0] * w[:, 0, None]
    for k in range(1, c):
        acc += x[:, k] * w[:, k, None]
    return acc


class _Group:
    """Values ``x`` ``(m, c, P)`` and weights ``w`` ``(m, c)`` of rows with ``c`` elements.

    Each statistic below is matminer's ``PropertyStats`` formula, applied to all rows and all
    properties of the group at once, with sums in numpy's order.
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, c: int) -> None:
        self.x, self.w, self.c = x, w, c

    @cached_property
    def total(self) -> np.ndarray:
        return numpy_sum_rows(self.w, self.c)[:, None]

    @cached_property
    def minimum(self) -> np.ndarray:
        return _seq_reduce(np.minimum, self.x, self.c)

    @cached_property
    def maximum(self) -> np.ndarray:
        return _seq_reduce(np.maximum, self.x, self.c)

    @cached_property
    def range(self) -> np.ndarray:
        return self.maximum - self.minimum

    @cached_property
    def mean(self) -> np.ndarray:
        return _weighted_sum(self.x, self.w, self.c) / self.total

    @cached_property
    def diff(self) -> np.ndarray:
        return self.x - self.mean[:, None, :]

    @cached_property
    def avg_dev(self) -> np.ndarray:
        return _weighted_sum(np.abs(self.diff), self.w, self.c) / self.total

    @cached_property
    def mode(self) -> np.ndarray:
        # np.isclose(weights, weights.max()), then the smallest value among the tied entries
        w = self.w
        wmax = _seq_reduce(np.maximum, w, self.c)[:, None]
        tied = np.abs(w - wmax) <= _ISCLOSE_ATOL + _ISCLOSE_RTOL * np.abs(wmax)
        if self.c == 1:
            return self.x[:, 0].copy()
        return _seq_reduce(np.minimum, np.where(tied[:, :, None], self.x, np.inf), self.c)

    def _zero_if_single(self, out: np.ndarray) -> np.ndarray:
        if self.c == 1:
            out[:] = 0.0
        return out

    @cached_property
    def std_dev(self) -> np.ndarray:
        total = self.total
        beta = total / (total**2 - numpy_sum_rows(self.w**2, self.c)[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sqrt(beta * _weighted_sum(self.diff**2, self.w, self.c))
        return self._zero_if_single(out)

    @cached_property
    def skewness(self) -> np.ndarray:
        u3 = _weighted_sum(self.diff**3, self.w, self.c) / self.total
        u2 = _weighted_sum(self.diff**2, self.w, self.c) / self.total
        with np.errstate(divide="ignore", invalid="ignore"):
            out = u3 / u2**1.5
        out[np.abs(u3) <= _ISCLOSE_ATOL] = 0.0  # np.isclose(u3, 0)
        return self._zero_if_single(out)

    @cached_property
    def kurtosis(self) -> np.ndarray:
        diff_sq = self.diff**2
        u4 = _weighted_sum(diff_sq**2, self.w, self.c)
        u2 = _weighted_sum(diff_sq, self.w, self.c)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = u4 / u2**2 * self.total
        out[np.abs(u4) <= _ISCLOSE_ATOL] = 0.0  # np.isclose(u4, 0)
        return self._zero_if_single(out)

    @cached_property
    def inverse_mean(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return _weighted_sum(1.0 / self.x, self.w, self.c) / self.total


#: PropertyStats statistics with an array version.
SUPPORTED_STATS = frozenset(
    {"minimum", "maximum", "range", "mean", "avg_dev", "mode", "std_dev", "skewness",
     "kurtosis", "inverse_mean"}
)  # fmt: skip


def _table(data_source: Any, props: list[str]) -> np.ndarray:
    return np.stack([property_table(data_source, p) for p in props], axis=1)


def group_stats(block: Block, table: np.ndarray, stats: list[str]) -> np.ndarray:
    """Weighted stats of element properties, output ``(m, P * S)`` property-major.

    Parameters
    ----------
    block : Block
    table : numpy.ndarray
        ``(103, P)`` element property values.
    stats : list of str
        PropertyStats names (all in :data:`SUPPORTED_STATS`).

    Returns
    -------
    numpy.ndarray
        Column ``p * len(stats) + s`` holds stat ``s`` of property ``p`` (matminer's order).
    """
    n_props, n_stats = table.shape[1], len(stats)
    out = np.empty((block.m, n_props, n_stats))
    for c, r0, r1, e0, e1 in block.groups:
        idx = block.indices[e0:e1].reshape(r1 - r0, c)
        w = block.amounts[e0:e1].reshape(r1 - r0, c)
        group = _Group(table[idx], w, c)
        for s, stat in enumerate(stats):
            out[r0:r1, :, s] = getattr(group, stat)
    return out.reshape(block.m, n_props * n_stats)


def _mean(block: Block, x: np.ndarray) -> np.ndarray:
    """Weighted mean (matminer ``PropertyStats.mean``) of entry values ``x`` ``(nnz, P)``."""
    return block.rowsum(x * block.amounts[:, None]) / block.total[:, None]


def element_property(featurizer: Any, block: Block) -> np.ndarray:
    """``ElementProperty``: every (property, stat) pair, property-major like matminer."""
    table = _table(featurizer.data_source, list(featurizer.features))
    return group_stats(block, table, list(featurizer.stats))


def _element_property_ok(featurizer: Any) -> bool:
    return all(s in SUPPORTED_STATS for s in featurizer.stats)


def valence_orbital(featurizer: Any, block: Block) -> np.ndarray:
    """``ValenceOrbital``: mean electrons per shell and their fraction of all valence ones."""
    orbitals = list(featurizer.orbitals)
    props = [f"N{orb}Valence" for orb in orbitals] + ["NValence"]
    x = _table(featurizer.data_source, props)[block.indices]
    mean = _mean(block, x)
    avg, total = mean[:, :-1], mean[:, -1:]
    parts = {"avg": avg, "frac": avg / total}
    return np.concatenate([parts[p] for p in featurizer.props], axis=1)


def stoichiometry(featurizer: Any, block: Block) -> np.ndarray:
    """``Stoichiometry`` p-norms of the atomic fractions (``num_atoms=False`` only)."""
    frac = block.amounts / block.repeat(block.total)
    cols = []
    for p in featurizer.p_list:
        if p == 0:
            cols.append(block.counts.astype(np.float64))
        else:
            cols.append(block.rowsum(frac ** float(p)) ** (1.0 / p))
    return np.stack(cols, axis=1)


def _member_fraction(block: Block, members: set[str]) -> np.ndarray:
    mask = np.zeros(N_ELEMENTS, dtype=bool)
    mask[[i for i, s in enumerate(ELEMENTS) if s in members]] = True
    hit = np.where(mask[block.indices], block.amounts, 0.0)
    return block.rowsum(hit) / block.total


def tmetal_fraction(featurizer: Any, block: Block) -> np.ndarray:
    """``TMetalFraction``: fraction of atoms in matminer's magnetic transition-metal list."""
    return _member_fraction(block, set(featurizer.magn_elem))[:, None]


def element_group_fraction(featurizer: Any, block: Block) -> np.ndarray:
    """:class:`mi.features.extra.ElementGroupFraction`."""
    cols = [_member_fraction(block, set(m)) for m in featurizer.groups.values()]
    return np.stack(cols, axis=1)


def band_center(featurizer: Any, block: Block) -> np.ndarray:
    """``BandCenter``: weighted geometric mean of (IE + EA) / 2 / 96.48 (Butler & Ginley)."""
    first_ioniz = property_table(featurizer.deml_data, "first_ioniz") / 1000
    elec_aff = property_table(featurizer.magpie_data, "ElectronAffinity")
    base = (0.5 * (first_ioniz + elec_aff) / 96.48)[block.indices]
    with np.errstate(invalid="ignore"):
        terms = base ** (block.amounts / block.repeat(block.total))
    out = np.empty(block.m)
    for c, r0, r1, v in block.views(terms):  # sequential product, as matminer's loop
        acc = v[:, 0].copy()
        for k in range(1, c):
            acc *= v[:, k]
        out[r0:r1] = acc
    return out[:, None]


def _oxidation_table(data_source: Any) -> list[tuple[float, ...]]:
    from pymatgen.core import Element

    return [tuple(data_source.get_oxidation_states(Element(s))) for s in ELEMENTS]


_COMBO_CACHE: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}


def _combinations(data_source: Any, key: tuple[int, ...], ox_table: list[Any]) -> np.ndarray:
    """All choices of one oxidation state per element (rows), cached per element tuple."""
    cache_key = (id(data_source), key)
    combos = _COMBO_CACHE.get(cache_key)
    if combos is None:
        states = [ox_table[k] for k in key]
        combos = np.array(list(itertools.product(*states)), dtype=np.float64)
        if len(_COMBO_CACHE) > 100_000:
            _COMBO_CACHE.clear()
        _COMBO_CACHE[cache_key] = combos
    return combos


def ion_property(featurizer: Any, block: Block) -> np.ndarray:
    """``IonProperty(fast=True)``: compound possible, max and average ionic character."""
    elec = property_table(featurizer.data_source, "X")
    ox_table = _oxidation_table(featurizer.data_source)
    out = np.zeros((block.m, 3))
    out[:, 0] = 1.0
    # ionic character of every pair of elements, group by group (rows of c elements)
    for c, r0, r1, e0, e1 in block.groups:
        if c < 2:
            continue  # single element: compound possible, ionic characters 0
        zs = block.indices[e0:e1].reshape(r1 - r0, c)
        amts = block.amounts[e0:e1].reshape(r1 - r0, c)
        xa = elec[zs]
        frac = amts / amts.sum(axis=1, keepdims=True)
        max_ic = np.full(r1 - r0, -np.inf)
        avg_ic = np.zeros(r1 - r0)
        for i, j in itertools.combinations(range(c), 2):
            ic = 1.0 - np.exp(-0.25 * ((xa[:, i] - xa[:, j]) ** 2))
            max_ic = _nanaware_max(max_ic, ic)
            avg_ic += frac[:, i] * frac[:, j] * ic
        out[r0:r1, 1] = max_ic
        out[r0:r1, 2] = avg_ic
    # compound possible: some choice of one oxidation state per element balances the charge.
    # Rows with the same elements in the same order (candidates of one template) share the
    # list of oxidation-state combinations: test all of their rows with one matrix product.
    for c, r0, r1, e0, e1 in block.groups:
        if c < 2:
            continue
        zs = block.indices[e0:e1].reshape(r1 - r0, c)
        amts = block.amounts[e0:e1].reshape(r1 - r0, c)
        uniq, inverse = np.unique(zs, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
        for u in range(len(uniq)):
            rows = order[bounds[u] : bounds[u + 1]]
            key = tuple(uniq[u].tolist())
            states = [ox_table[k] for k in key]
            n_combos = math.prod(len(st) for st in states)
            if n_combos == 0:
                out[r0 + rows, 0] = 0.0
            elif n_combos <= _MAX_COMBOS:
                combos = _combinations(featurizer.data_source, key, ox_table)
                charge = amts[rows] @ combos.T
                out[r0 + rows, 0] = (np.abs(charge) <= _ISCLOSE_ATOL).any(axis=1)
            else:  # too many combinations to hold at once: matminer's loop, stops at a hit
                for r in rows.tolist():
                    found = any(
                        abs(float(np.dot(ox, amts[r]))) <= _ISCLOSE_ATOL
                        for ox in itertools.product(*states)
                    )
                    out[r0 + r, 0] = float(found)
    return out


def _nanaware_max(current: np.ndarray, new: np.ndarray) -> np.ndarray:
    # np.max over a list with NaN returns NaN: propagate NaN like numpy does.
    return np.where(np.isnan(current) | np.isnan(new), np.nan, np.maximum(current, new))


def _rare_earth_block(featurizer: Any, block: Block) -> np.ndarray:
    """:class:`mi.features.rare_earth.RareEarthPhysics` (imported on first use)."""
    from mi.features.rare_earth import rare_earth_block

    return rare_earth_block(featurizer, block)


def _substituted_block(featurizer: Any, block: Block) -> np.ndarray:
    """Array version of :class:`mi.features.substitution.SubstitutedPreset` over a block.

    The compositions with the replaced elements merged, featurized by the inner presets'
    array versions (looked up at call time in :data:`FAST_FEATURIZERS`).
    """
    mapping = np.arange(N_ELEMENTS)
    for old, new in featurizer.replace.items():
        mapping[element_index(old)] = element_index(new)
    row = np.repeat(np.arange(block.m), block.counts)
    mapped = mapping[block.indices]
    if getattr(featurizer, "scope", "all") == "rtm_magnets":
        from mi.features.substitution import rtm_magnet_rows

        mapped = np.where(rtm_magnet_rows(block)[row], mapped, block.indices)
    key = row * N_ELEMENTS + mapped
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    first = np.flatnonzero(np.r_[True, np.diff(key_sorted) != 0])
    amounts = np.add.reduceat(block.amounts[order], first) if first.size else block.amounts[:0]
    new_row, new_index = np.divmod(key_sorted[first], N_ELEMENTS)
    indptr = np.searchsorted(new_row, np.arange(block.m + 1))
    sub = Block(indptr, new_index.astype(block.indices.dtype), amounts)
    parts = []
    for f in featurizer.inner():
        if not has_fast_version(f):
            raise ValueError(
                f"SubstitutedPreset: {type(f).__name__} of preset {featurizer.preset!r} has no "
                "array version with these parameters."
            )
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            vals = FAST_FEATURIZERS[type(f).__name__][0](f, sub)
        out = np.empty_like(vals)
        out[sub.order] = vals  # the sub-block regroups rows by their new element count
        parts.append(out)
    return np.column_stack(parts) if parts else np.zeros((block.m, 0))


def _co_share_block(featurizer: Any, block: Block) -> np.ndarray:
    """:class:`mi.features.substitution.CoShareSplit` (imported on first use)."""
    from mi.features.substitution import co_share_block

    return co_share_block(featurizer, block)


def _oxidation_block(featurizer: Any, block: Block) -> np.ndarray:
    """:class:`mi.features.oxidation.OxidationStateBalance` (imported on first use)."""
    from mi.features.oxidation import oxidation_block

    return oxidation_block(featurizer, block)


#: matminer class name -> (array implementation, predicate "this instance is supported").
FAST_FEATURIZERS: dict[str, tuple[Callable[[Any, Block], np.ndarray], Callable[[Any], bool]]] = {
    "ElementProperty": (element_property, _element_property_ok),
    "ValenceOrbital": (valence_orbital, lambda f: True),
    "Stoichiometry": (stoichiometry, lambda f: f.p_list is not None and not f.num_atoms),
    "TMetalFraction": (tmetal_fraction, lambda f: True),
    "ElementGroupFraction": (element_group_fraction, lambda f: True),
    "BandCenter": (band_center, lambda f: True),
    "IonProperty": (ion_property, lambda f: bool(f.fast)),
    "RareEarthPhysics": (_rare_earth_block, lambda f: True),
    "SubstitutedPreset": (_substituted_block, lambda f: True),
    "CoShareSplit": (_co_share_block, lambda f: True),
    "OxidationStateBalance": (_oxidation_block, lambda f: True),
}


def has_fast_version(featurizer: Any) -> bool:
    """Whether this featurizer instance (with its parameters) has an array version."""
    entry = FAST_FEATURIZERS.get(type(featurizer).__name__)
    return entry is not None and entry[1](featurizer)

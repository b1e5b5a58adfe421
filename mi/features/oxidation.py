"""Charge balance from oxidation states: how far a composition is from a valence compound.

A composition whose atoms can take oxidation states that sum to zero is likely an ionic or
covalent compound with a gap; one that cannot (intermetallics, suboxides) is likely a metal.
matminer's ``IonProperty`` gives a yes/no with one list of states per element; this featurizer
gives the smallest charge left over per atom (0 for a balanced compound), for three lists of
states of increasing breadth (pymatgen's common, ICSD and all oxidation states), plus the
fraction of atoms that carry a negative state in the best assignment (the anion fraction) and
whether the formula has integer amounts (non-integer amounts mark alloys and doped phases).

The array version (:func:`oxidation_block`) and :meth:`OxidationStateBalance.featurize` compute
the same numbers; the fast backend uses the former.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

import numpy as np
from matminer.featurizers.base import BaseFeaturizer

from mi.chem import ELEMENTS

__all__ = ["OxidationStateBalance", "oxidation_block"]

#: pymatgen attribute of each list of oxidation states, with its label.
STATE_LISTS = (
    ("common", "common_oxidation_states"),
    ("icsd", "icsd_oxidation_states"),
    ("all", "oxidation_states"),
)

#: Assignments tested at most per composition; beyond, that list's features are NaN.
MAX_COMBINATIONS = 200_000

#: Leftover charge per atom below which a composition counts as balanced (amounts such as
#: 0.33 are rounded in formulas).
BALANCE_TOLERANCE = 1e-3


@lru_cache(maxsize=1)
def _state_tables() -> tuple[tuple[tuple[float, ...], ...], ...]:
    """Per list, per element (H..Lr): its oxidation states (``(0,)`` when it has none)."""
    from pymatgen.core import Element

    tables = []
    for _, attr in STATE_LISTS:
        rows = []
        for symbol in ELEMENTS:
            states = tuple(sorted({float(s) for s in (getattr(Element(symbol), attr) or ())}))
            rows.append(states or (0.0,))
        tables.append(tuple(rows))
    return tuple(tables)


@lru_cache(maxsize=4096)
def _combinations(list_index: int, columns: tuple[int, ...]) -> np.ndarray | None:
    """Every choice of one state per element, shape (choices, elements); None when too many.

    Cached per element set: the compositions of a screen share few element sets, so each row
    costs one matrix-vector product instead of rebuilding the product of the state lists.
    """
    states = [_state_tables()[list_index][k] for k in columns]
    if int(np.prod([len(s) for s in states])) > MAX_COMBINATIONS:
        return None
    combos = np.array(list(itertools.product(*states)), dtype=np.float64)
    combos.setflags(write=False)
    return combos


def _row_features(columns: np.ndarray, amounts: np.ndarray) -> list[float]:
    """Features of one composition given its element columns (Z - 1) and amounts."""
    total = float(amounts.sum())
    key = tuple(int(k) for k in columns)
    out: list[float] = []
    for list_index in range(len(STATE_LISTS)):
        combos = _combinations(list_index, key)
        if combos is None:
            out += [np.nan, np.nan, np.nan]
            continue
        leftover = np.abs(combos @ amounts) / total
        best = int(np.argmin(leftover))
        anion = float(amounts[combos[best] < 0].sum() / total)
        out += [float(leftover[best]), float(leftover[best] <= BALANCE_TOLERANCE), anion]
    out.append(float(np.allclose(amounts, np.round(amounts), rtol=0.0, atol=1e-6)))
    return out


class OxidationStateBalance(BaseFeaturizer):
    """Leftover charge per atom, balanced flag and anion fraction for three oxidation-state lists.

    Columns (10): ``ox <list> leftover charge per atom``, ``ox <list> balanced``,
    ``ox <list> anion fraction`` for ``<list>`` in common, icsd, all (pymatgen's
    ``common_oxidation_states``, ``icsd_oxidation_states``, ``oxidation_states``), then
    ``ox integer formula``. The leftover charge is the minimum over every choice of one state
    per element of ``|sum(amount * state)| / atoms``; the anion fraction is the fraction of
    atoms with a negative state in that best choice. A list with more than
    :data:`MAX_COMBINATIONS` choices gives NaN. Elements without states count as 0.

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> values = OxidationStateBalance().featurize(Composition("Al2O3"))
    >>> values[:3]
    [0.0, 1.0, 0.6]
    """

    def featurize(self, comp: Any) -> list[float]:
        """Features of one composition.

        Parameters
        ----------
        comp : pymatgen.core.Composition

        Returns
        -------
        list of float
        """
        el_amt = comp.element_composition.get_el_amt_dict()
        columns = np.array([ELEMENTS.index(el) for el in el_amt], dtype=np.int64)
        amounts = np.array(list(el_amt.values()), dtype=np.float64)
        return _row_features(columns, amounts)

    def feature_labels(self) -> list[str]:
        """Column labels."""
        labels = [
            f"ox {name} {what}"
            for name, _ in STATE_LISTS
            for what in ("leftover charge per atom", "balanced", "anion fraction")
        ]
        return [*labels, "ox integer formula"]

    def citations(self) -> list[str]:
        """Citation of pymatgen's oxidation-state lists."""
        return ["S. P. Ong et al., Comput. Mater. Sci. 68, 314 (2013) (pymatgen oxidation states)"]

    def implementors(self) -> list[str]:
        """Who wrote it."""
        return ["mi developers"]


def oxidation_block(featurizer: Any, block: Any) -> np.ndarray:
    """Array version for the fast backend: rows in the block's (grouped) order."""
    out = np.empty((block.m, len(featurizer.feature_labels())))
    indptr = block.indptr
    for r in range(block.m):
        lo, hi = int(indptr[r]), int(indptr[r + 1])
        out[r] = _row_features(block.indices[lo:hi], block.amounts[lo:hi])
    return out

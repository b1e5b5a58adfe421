"""Composition parsing and the composition matrix shared by features, criticality and candidates.

Examples
--------
>>> from mi.chem import parse_formulas, element_index
>>> m = parse_formulas(["Fe2O3", "(Nd0.8Dy0.2)2Fe14B"])
>>> m.n, m.amounts.shape
(2, (2, 103))
>>> round(float(m.fractions()[1, element_index("Dy")]), 4)
0.0235
"""

from __future__ import annotations

from mi.chem.elements import (
    ATOMIC_MASSES,
    ELEMENTS,
    LANTHANIDES,
    N_ELEMENTS,
    RARE_EARTHS,
    element_index,
)
from mi.chem.matrix import DENSE_MAX_ROWS, CompositionMatrix
from mi.chem.parse import AMOUNT_TOLERANCE, ParseResult, parse_formula, parse_formulas

__all__ = [
    "ELEMENTS",
    "ATOMIC_MASSES",
    "N_ELEMENTS",
    "LANTHANIDES",
    "RARE_EARTHS",
    "AMOUNT_TOLERANCE",
    "DENSE_MAX_ROWS",
    "element_index",
    "CompositionMatrix",
    "ParseResult",
    "parse_formula",
    "parse_formulas",
]

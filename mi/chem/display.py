"""Formulas as materials scientists write them, for every place a person reads one.

Internally compositions are identified by canonical keys with the symbols in alphabetical order
(``"BFe14Nd2"``); a reader expects ``"Nd2Fe14B"``. :func:`display_formula` reorders the
symbols of a flat formula by Pauling electronegativity, as pymatgen writes formulas
(``Composition.formula``; least electronegative first, ties by symbol), and keeps the amounts
exactly as given. A formula with parentheses or site brackets was written by a person and is
returned unchanged.

Examples
--------
>>> display_formula("BFe14Nd2")
'Nd2Fe14B'
>>> display_formula("BDy0.4Fe14Nd1.6")
'Nd1.6Dy0.4Fe14B'
>>> display_formula("(Nd0.8Dy0.2)2Fe14B")
'(Nd0.8Dy0.2)2Fe14B'
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Iterable

__all__ = ["display_formula", "display_formulas"]

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*(?:[eE][-+]?\d+)?)")


@functools.lru_cache(maxsize=1)
def _electronegativity() -> dict[str, float]:
    """Pauling electronegativity per symbol, pymatgen's values (NaN ones sort last)."""
    from pymatgen.core.periodic_table import Element

    from mi.chem.elements import ELEMENTS

    table: dict[str, float] = {}
    with warnings.catch_warnings():  # noble gases: "No Pauling electronegativity", NaN
        warnings.simplefilter("ignore", UserWarning)
        for symbol in ELEMENTS:
            try:
                x = float(Element(symbol).X)
            except (ValueError, KeyError):  # pragma: no cover - every symbol is an Element
                x = math.nan
            table[symbol] = math.inf if math.isnan(x) else x
    return table


@functools.lru_cache(maxsize=65536)
def display_formula(formula: str) -> str:
    """Return ``formula`` with its elements in electronegativity order, amounts as given.

    Parameters
    ----------
    formula : str
        A flat formula or canonical key (``"BFe14Nd2"``, ``"Co3Fe8.5Sm0.8Ti0.5Zr0.2"``).

    Returns
    -------
    str
        The reordered formula (``"Nd2Fe14B"``); anything that is not a flat formula of known
        symbols with each symbol once (parentheses, brackets, text) is returned unchanged.
    """
    text = str(formula)
    tokens = _TOKEN.findall(text)
    if not tokens or "".join(s + a for s, a in tokens) != text:
        return text
    order = _electronegativity()
    symbols = [s for s, _ in tokens]
    if any(s not in order for s in symbols) or len(set(symbols)) != len(symbols):
        return text
    ranked = sorted(tokens, key=lambda tok: (order[tok[0]], tok[0]))
    return "".join(s + a for s, a in ranked)


def display_formulas(formulas: Iterable[object]) -> list[str]:
    """Apply :func:`display_formula` to every entry (non-strings are shown as ``str``).

    Parameters
    ----------
    formulas : iterable
        Formulas or keys (a list, a pandas Series ...).

    Returns
    -------
    list of str
    """
    return [display_formula(str(f)) for f in formulas]

"""Validation of composition cells: every cell becomes a clean formula or a stated reason.

A table cell in a composition column is accepted when it is a chemical formula made of real
element symbols (Z = 1..103) with positive, finite amounts, optionally with parenthesised or
bracketed groups and fractional amounts (``(Nd0.8Dy0.2)2Fe14B``, ``Ba0.4K0.6Fe2As2``,
``Ag6 Ru2``). Everything else is rejected with a reason that quotes the value:

* a missing cell (``None``, ``NaN``, and the strings pandas reads as missing such as ``"NaN"``,
  ``"nan"``, ``"NA"``, ``""``) is *empty*, never the compound NaN (sodium nitride);
* unknown symbols, including pymatgen's dummy species (``Xx2O3``) and ``D``/``T``;
* zero amounts (``Fe0O``: pymatgen silently drops the Fe), negative amounts, exponents;
* characters outside the grammar (``+``, ``=``, ``*``, ``!`` ...).

The canonical key of a formula is its sorted atomic fractions (rounded to 1e-9), so
``Fe2O3``, ``Fe4O6`` and ``O3Fe2`` share a key and are merged as duplicates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["ELEMENTS", "MISSING_STRINGS", "FormulaCheck", "check_formulas", "parse_formula"]

#: Element symbols for Z = 1..103 (same order as ``mi.chem.ELEMENTS``).
ELEMENTS: tuple[str, ...] = tuple(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As
    Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd
    Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am
    Cm Bk Cf Es Fm Md No Lr""".split()
)
_Z = {symbol: z for z, symbol in enumerate(ELEMENTS, start=1)}

#: Strings that pandas reads as missing values; in a composition column they mean "empty".
MISSING_STRINGS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
        "none",
    }
)

_TOKEN = re.compile(r"\s*(?:([A-Z][a-z]*)|(\d+(?:\.\d*)?|\.\d+)|([(\[{])|([)\]}])|(\S))")
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_ISOTOPES = {"D": "deuterium", "T": "tritium"}


def parse_formula(text: str) -> dict[str, float]:
    """Parse one formula string into element amounts (insertion order kept).

    Parameters
    ----------
    text : str
        The formula, e.g. ``"(Nd0.8Dy0.2)2Fe14B"``.

    Returns
    -------
    dict of str to float
        Element symbol to amount (repeated elements summed).

    Raises
    ------
    ValueError
        With the reason, quoting the offending part.

    Examples
    --------
    >>> parse_formula("(Nd0.8Dy0.2)2Fe14B")
    {'Nd': 1.6, 'Dy': 0.4, 'Fe': 14.0, 'B': 1.0}
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:  # only trailing whitespace is left
            break
        pos = m.end()
        sym, num, opening, closing, other = m.groups()
        if sym is not None:
            tokens.append(("sym", sym))
        elif num is not None:
            tokens.append(("num", num))
        elif opening is not None:
            tokens.append(("open", opening))
        elif closing is not None:
            tokens.append(("close", closing))
        else:
            raise ValueError(f"unexpected character {other!r}")
    if not tokens:
        raise ValueError("empty formula")

    stack: list[tuple[str, dict[str, float]]] = [("", {})]
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        i += 1
        amount = 1.0
        if i < len(tokens) and tokens[i][0] == "num":
            amount = float(tokens[i][1])
            i += 1
            if not math.isfinite(amount) or amount <= 0:
                raise ValueError(f"amount {tokens[i - 1][1]!r} after {value!r} is not positive")
        if kind == "sym":
            if value not in _Z:
                if value in _ISOTOPES:
                    raise ValueError(
                        f"{value!r} is the {_ISOTOPES[value]} symbol, not an element "
                        "(write 'H' for hydrogen isotopes)"
                    )
                raise ValueError(f"unknown element symbol {value!r}")
            group = stack[-1][1]
            group[value] = group.get(value, 0.0) + amount
        elif kind == "open":
            if amount != 1.0 or (i > 0 and tokens[i - 1][0] == "num"):
                raise ValueError(f"number directly after {value!r}")
            stack.append((value, {}))
        elif kind == "close":
            opener, inner = stack.pop() if len(stack) > 1 else ("", {})
            if not opener or _CLOSE[opener] != value:
                raise ValueError(f"unbalanced {value!r}")
            if not inner:
                raise ValueError(f"empty group {opener}{value}")
            group = stack[-1][1]
            for sym, amt in inner.items():
                group[sym] = group.get(sym, 0.0) + amt * amount
        else:  # a number with nothing before it
            raise ValueError(f"number {value!r} without an element before it")
    if len(stack) != 1:
        raise ValueError(f"unclosed {stack[-1][0]!r}")
    result = stack[0][1]
    if not result:
        raise ValueError("no elements")
    return result


def _format_amount(x: float) -> str:
    if abs(x - 1.0) < 1e-12:
        return ""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.10f}".rstrip("0").rstrip(".")


def _format(amounts: dict[str, float]) -> str:
    return "".join(f"{s}{_format_amount(a)}" for s, a in amounts.items())


def _key(amounts: dict[str, float]) -> str:
    total = sum(amounts.values())
    items = sorted(amounts.items(), key=lambda kv: _Z[kv[0]])
    return " ".join(f"{s}:{a / total:.9f}" for s, a in items)


@dataclass
class FormulaCheck:
    """Result of :func:`check_formulas` for a column of cells.

    Attributes
    ----------
    formulas : list of (str or None)
        Clean formula per row (``None`` where rejected).
    keys : list of (str or None)
        Canonical reduced-composition key per row (``None`` where rejected).
    errors : dict of int to str
        Row position to the reason it was rejected.
    """

    formulas: list[str | None]
    keys: list[str | None]
    errors: dict[int, str] = field(default_factory=dict)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    return isinstance(value, str) and value.strip() in MISSING_STRINGS


def check_formulas(values: Sequence[object]) -> FormulaCheck:
    """Validate a column of composition cells.

    Parameters
    ----------
    values : sequence
        Cells (strings; missing values and non-strings are rejected with a reason).

    Returns
    -------
    FormulaCheck
        Clean formulas, canonical keys and the reason for every rejected row.

    Examples
    --------
    >>> check = check_formulas(["Fe2O3", "Xx2O3", "NaN", "O3Fe2"])
    >>> check.formulas
    ['Fe2O3', None, None, 'O3Fe2']
    >>> check.keys[0] == check.keys[3]
    True
    >>> check.errors[2]
    "empty formula (missing value 'NaN')"
    """
    formulas: list[str | None] = []
    keys: list[str | None] = []
    errors: dict[int, str] = {}
    memo: dict[str, tuple[str, str] | str] = {}
    for row, value in enumerate(values):
        if _is_missing(value):
            shown = "" if value is None or not isinstance(value, str) else value
            errors[row] = (
                f"empty formula (missing value {shown!r})"
                if shown.strip()
                else ("empty formula (missing value)")
            )
            formulas.append(None)
            keys.append(None)
            continue
        if not isinstance(value, str):
            errors[row] = f"not a formula: {value!r} is a {type(value).__name__}, not text"
            formulas.append(None)
            keys.append(None)
            continue
        cached = memo.get(value)
        if cached is None:
            try:
                amounts = parse_formula(value)
                cached = (_format(amounts), _key(amounts))
            except (ValueError, RecursionError) as exc:
                cached = f"invalid formula {value!r}: {exc}"
            memo[value] = cached
        if isinstance(cached, str):
            errors[row] = cached
            formulas.append(None)
            keys.append(None)
        else:
            formulas.append(cached[0])
            keys.append(cached[1])
    return FormulaCheck(formulas, keys, errors)

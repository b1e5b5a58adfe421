"""Validation of composition cells: every cell becomes a clean formula or a stated reason.

Parsing is :func:`mi.chem.parse_formulas` (pymatgen's grammar, stricter validation: unknown
symbols such as pymatgen's dummy ``Xx``, elements beyond Lr, zero, negative or non-finite
amounts and stray characters are rejected; ``D``/``T`` count as hydrogen, as in pymatgen).
This module adds what matters for table cells:

* a missing cell (``None``, ``NaN``, and the strings pandas reads as missing such as ``"NaN"``,
  ``"nan"``, ``"NA"``, ``""``) is reported as an *empty* formula, never parsed as the compound
  NaN (sodium nitride);
* a cell that is not text (a number, a list ...) is reported as such;
* each row gets a clean formula (``CompositionMatrix.formulas()``: alphabetical symbols,
  amounts as given) and a canonical reduced-composition key
  (``CompositionMatrix.canonical_keys()``: ``Fe2O3``, ``Fe4O6`` and ``O3Fe2`` share one), which
  is what duplicates are merged on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mi.chem import ELEMENTS, ParseResult, parse_formulas

_ISOTOPE = re.compile(r"[DT](?![a-z])")

__all__ = ["ELEMENTS", "MISSING_STRINGS", "FormulaCheck", "check_formulas"]

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
    isotopes : list of int
        Accepted rows whose text uses ``D`` or ``T`` (read as hydrogen, as pymatgen does);
        listed so that typos such as ``TI`` for ``Tl`` can be spotted.
    """

    formulas: list[str | None]
    keys: list[str | None]
    errors: dict[int, str] = field(default_factory=dict)
    isotopes: list[int] = field(default_factory=list)


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
    ['Fe2O3', None, None, 'Fe2O3']
    >>> check.keys[0] == check.keys[3]
    True
    >>> check.errors[2]
    "empty formula (missing value 'NaN')"
    """
    n = len(values)
    formulas: list[str | None] = [None] * n
    keys: list[str | None] = [None] * n
    errors: dict[int, str] = {}
    rows: list[int] = []
    texts: list[str] = []
    for row, value in enumerate(values):
        if _is_missing(value):
            shown = value.strip() if isinstance(value, str) else ""
            errors[row] = (
                f"empty formula (missing value {shown!r})"
                if shown
                else "empty formula (missing value)"
            )
        elif not isinstance(value, str):
            errors[row] = f"not a formula: {value!r} is a {type(value).__name__}, not text"
        else:
            rows.append(row)
            texts.append(value)
    if texts:
        result = parse_formulas(texts, on_error="report")
        assert isinstance(result, ParseResult)  # on_error="report" returns a ParseResult
        bad = {i: reason for i, _, reason in result.errors}
        clean = result.matrix.formulas()
        canonical = result.matrix.canonical_keys()
        for i, row in enumerate(rows):
            if i in bad:
                errors[row] = f"invalid formula {texts[i]!r}: {bad[i]}"
            else:
                formulas[row] = clean[i]
                keys[row] = canonical[i]
    isotopes = [
        row
        for row, text in zip(rows, texts, strict=True)
        if formulas[row] is not None and _ISOTOPE.search(text)
    ]
    return FormulaCheck(formulas, keys, dict(sorted(errors.items())), isotopes)

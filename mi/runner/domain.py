"""A simple applicability domain: what the training data covered, and who lies outside it.

The domain of a surrogate is recorded when it is trained (in its model card): the atomic
fraction range of every element present in the training compositions and the range of every
condition input. A candidate or a row to predict is outside the domain when it contains an
element never seen in training, has more of an element than any training composition, or sets
a condition outside its training range; the note says which. Tree ensembles predict a plateau
out there, so such predictions are flagged rather than trusted.

Examples
--------
>>> import pandas as pd
>>> dom = training_domain(["Cu99Cr1", "Cu98Cr2"], pd.DataFrame({"T": [300.0, 400.0]}), ["T"])
>>> rows = pd.DataFrame({"T": [350.0, 900, 300]})
>>> for note in domain_notes(["Cu97Cr3", "Cu98.5Cr1.5", "Cu99Au1"], rows, dom):
...     print(note)
Cr 3 at.% > training max 2
T = 900 outside training range [300, 400]
Au not in training data
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["training_domain", "domain_notes"]

#: Slack on the training maximum (at.% points) before a fraction counts as outside.
FRACTION_SLACK = 1e-6


def _fractions(formulas: Sequence[str]) -> np.ndarray:
    from mi.chem import parse_formulas

    return parse_formulas(list(formulas)).fractions()


def training_domain(
    compositions: Sequence[str], table: pd.DataFrame | None = None, conditions: Sequence[str] = ()
) -> dict[str, Any]:
    """Record the training ranges of a surrogate.

    Parameters
    ----------
    compositions : sequence of str
        Training formulas.
    table : pandas.DataFrame, optional
        Training table holding the condition columns.
    conditions : sequence of str
        Condition inputs.

    Returns
    -------
    dict
        ``{"elements": {symbol: [min, max] atomic %}, "conditions": {name: [min, max]}}``
        (JSON-able; stored in the model card).
    """
    from mi.chem import ELEMENTS

    frac = 100.0 * _fractions(compositions)
    present = np.flatnonzero((frac > 0).any(axis=0))
    elements = {ELEMENTS[j]: [float(frac[:, j].min()), float(frac[:, j].max())] for j in present}
    conds = {}
    for c in conditions:
        if table is not None and c in table:
            x = pd.to_numeric(table[c], errors="coerce")
            conds[c] = [float(x.min()), float(x.max())]
    return {"elements": elements, "conditions": conds}


def domain_notes(
    formulas: Sequence[str], conditions: pd.DataFrame | None, domain: dict[str, Any]
) -> list[str]:
    """One note per row ('' when the row lies inside the training domain).

    Parameters
    ----------
    formulas : sequence of str
    conditions : pandas.DataFrame, optional
        The rows' condition values (columns named as in the domain).
    domain : dict
        From :func:`training_domain`.

    Returns
    -------
    list of str
    """
    from mi.chem import ELEMENTS

    frac = 100.0 * _fractions(formulas)
    seen = domain.get("elements", {})
    notes: list[list[str]] = [[] for _ in formulas]
    for j in np.flatnonzero((frac > 0).any(axis=0)):
        sym = ELEMENTS[j]
        rows = np.flatnonzero(frac[:, j] > 0)
        if sym not in seen:
            for i in rows:
                notes[i].append(f"{sym} not in training data")
            continue
        top = seen[sym][1]
        for i in rows[frac[rows, j] > top + FRACTION_SLACK]:
            notes[i].append(f"{sym} {frac[i, j]:.3g} at.% > training max {top:.3g}")
    for name, (lo, hi) in domain.get("conditions", {}).items():
        if conditions is None or name not in conditions:
            continue
        x = conditions[name].to_numpy(dtype=np.float64)
        for i in np.flatnonzero((x < lo) | (x > hi)):
            notes[i].append(f"{name} = {x[i]:g} outside training range [{lo:g}, {hi:g}]")
    return ["; ".join(n) for n in notes]

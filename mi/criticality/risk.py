"""Per-element supply risk as of a date, with every value traced to its table row.

:func:`element_risk` computes, once per (as-of date, model file), five components per element,
each in [0, 1]:

``export_control``
    Largest severity among the element-specific export measures in force on the date
    (kind severity x scope factor, magnets in scope or not x destination factor), from
    ``export_controls_2023_2026``. No measure recorded = 0 (an events table).
``list_membership``
    Weighted mean of EU critical, EU strategic, USGS (the edition in force: 2022 or 2025) and
    DOE 2023 membership.
``concentration``
    Gaultois production HHI / 10000 (``hhi_2013``; every lanthanide shares 9500).
``price_level``, ``price_volatility``
    From :func:`mi.criticality.asof.price_signals`: the latest USD price on or before the date
    (log-scaled) and the largest max/min ratio within one price series; the basis is named.

The element risk is the weighted mean (weights from the model file). How a missing value is
treated is set per component in the model file: ``nan`` (the element's risk is NaN), ``gap``
(contributes 0 and is reported: :attr:`ElementRisk.gaps`, ``risk_gap``) or ``zero``.
Where a measure's status after a suspension is ``NOT VERIFIED`` the model's conservative choice
applies (default: in force again) and the element is named in :attr:`ElementRisk.unverified`
if its export-control value depends on that choice.

Examples
--------
>>> from mi.criticality.risk import element_risk
>>> r = element_risk("2026-12-01")
>>> order = r.frame.loc[["Dy", "Tb", "Nd", "Pr", "Ce", "La", "Y"], "risk"]
>>> bool(min(order["Dy"], order["Tb"]) > max(order["Nd"], order["Pr"]))
True
>>> float(element_risk("2024-12-31").frame.loc["Dy", "export_control"])
0.0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi.chem import ELEMENTS
from mi.criticality.asof import (
    export_exposure,
    list_memberships,
    parse_as_of,
    price_signals,
)
from mi.criticality.riskmodel import COMPONENTS, RiskModel, load_risk_model
from mi.criticality.tables import get_table

__all__ = ["ElementRisk", "element_risk"]


@dataclass(frozen=True)
class ElementRisk:
    """Per-element supply risk on one date.

    Attributes
    ----------
    as_of : datetime.date
    model : RiskModel
    frame : pandas.DataFrame
        Indexed by symbol (Z = 1..103): one column per component, its ``*_source``
        (``file:line``) and ``*_evidence``, details (``export_measure``, ``price_basis`` ...),
        ``risk``, ``risk_gap`` and ``unverified``.
    vectors : dict of str to numpy.ndarray
        Component values over :data:`mi.chem.ELEMENTS` (NaN = missing).
    gaps : dict of str to list of str
        For each ``gap`` component, the elements lacking a value.
    unverified : list of str
        Elements whose export-control value rests on a status the tables mark NOT VERIFIED.
    notes : list of str
        What a reader must know about this date (editions used, dates after the tables).
    """

    as_of: dt.date
    model: RiskModel
    frame: pd.DataFrame
    vectors: dict[str, np.ndarray]
    gaps: dict[str, list[str]]
    unverified: list[str]
    notes: list[str] = field(default_factory=list)

    def risk_vector(self, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(element risk, element risk gap) for normalised component ``weights``."""
        risk = np.zeros(len(ELEMENTS))
        gap = np.zeros(len(ELEMENTS))
        for name, w in weights.items():
            values = self.vectors[name]
            rule = self.model.missing[name]
            missing = np.isnan(values)
            if rule == "nan":
                risk = risk + w * values
            else:
                risk = risk + w * np.where(missing, 0.0, values)
                if rule == "gap":
                    gap = gap + w * missing
        return risk, gap


def element_risk(as_of: Any = None, model: str | Path | RiskModel | None = None) -> ElementRisk:
    """Supply-risk components of every element on ``as_of`` (cached per date and model).

    Parameters
    ----------
    as_of : str or datetime.date, optional
        ISO date; default today (see :func:`mi.criticality.asof.parse_as_of`).
    model : RiskModel or path, optional
        Model file (default: the shipped ``supply_risk.toml``).

    Returns
    -------
    ElementRisk
    """
    resolved = model if isinstance(model, RiskModel) else load_risk_model(model)
    return _element_risk(parse_as_of(as_of, resolved), resolved)


@lru_cache(maxsize=16)
def _element_risk(date: dt.date, model: RiskModel) -> ElementRisk:
    n = len(ELEMENTS)
    data: dict[str, Any] = {}

    # export control: conservative (model) and the opposite choice -> unverified elements
    exposure = export_exposure(date, model, model.unverified_in_force)
    other = export_exposure(date, model, not model.unverified_in_force)
    export = np.zeros(n)
    export_other = np.zeros(n)
    cols: dict[str, list[Any]] = {k: [None] * n for k in ("source", "evidence", "label")}
    for j, symbol in enumerate(ELEMENTS):
        if symbol in exposure.index:
            row = exposure.loc[symbol]
            export[j] = row["severity"]
            cols["source"][j] = row["source"]
            cols["evidence"][j] = row["evidence"]
            cols["label"][j] = row["label"]
        if symbol in other.index:
            export_other[j] = other.loc[symbol, "severity"]
    unverified = [ELEMENTS[j] for j in np.flatnonzero(~np.isclose(export, export_other))]
    data["export_control"] = export
    data["export_control_source"] = cols["source"]
    data["export_control_evidence"] = cols["evidence"]
    data["export_measure"] = cols["label"]

    lists = list_memberships(date, model)
    keys = list(model.list_weights)
    total = sum(model.list_weights.values())
    membership = sum(model.list_weights[k] / total * lists[k].to_numpy() for k in keys)
    data["list_membership"] = np.asarray(membership, dtype=np.float64)
    for k in keys:
        data[k] = lists[k].to_numpy()
    data["list_membership_source"] = [
        "; ".join(f"{k}: {lists.iloc[j][f'{k}_source']}" for k in keys) for j in range(n)
    ]
    data["list_membership_evidence"] = [
        "; ".join(f"{k}: {lists.iloc[j][f'{k}_evidence'] or '-'}" for k in keys) for j in range(n)
    ]

    hhi_edition = model.edition("hhi", date)
    assert hhi_edition is not None  # parse_as_of checked every role
    hhi = get_table(hhi_edition.table)
    data["concentration"] = hhi.values("hhi_production") / 10_000.0
    data["concentration_source"] = [
        f"{hhi.path.name}:{line}" if (line := hhi.line_of(s)) else f"{hhi.path.name}: no row"
        for s in ELEMENTS
    ]
    data["concentration_evidence"] = [
        "secondary (pymatgen HHIModel copy of Gaultois 2013)" if hhi.line_of(s) else ""
        for s in ELEMENTS
    ]

    prices = price_signals(date, model)
    for col in prices.columns:
        data[col] = prices[col].to_numpy()
    data["price_level_source"] = data.pop("price_source")
    data["price_level_evidence"] = data.pop("price_evidence")
    data["price_volatility_source"] = data.pop("volatility_source")
    data["price_volatility_evidence"] = data.pop("volatility_evidence")

    vectors = {k: np.asarray(data[k], dtype=np.float64) for k in COMPONENTS}
    frame = pd.DataFrame(data, index=pd.Index(ELEMENTS, name="symbol"))
    result = ElementRisk(
        as_of=date,
        model=model,
        frame=frame,
        vectors=vectors,
        gaps={
            k: [ELEMENTS[j] for j in np.flatnonzero(np.isnan(vectors[k]))]
            for k in COMPONENTS
            if model.missing[k] == "gap"
        },
        unverified=unverified,
        notes=_notes(date, model, lists.attrs["editions"]),
    )
    total_w = sum(model.weights.values())
    risk, gap = result.risk_vector({k: w / total_w for k, w in model.weights.items() if w > 0})
    frame["risk"] = risk
    frame["risk_gap"] = gap
    frame["unverified"] = [s in set(unverified) for s in ELEMENTS]
    first = [c for c in COMPONENTS] + ["risk", "risk_gap", "unverified"]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    return ElementRisk(result.as_of, model, frame, vectors, result.gaps, unverified, result.notes)


def _notes(date: dt.date, model: RiskModel, editions: dict[str, str]) -> list[str]:
    notes = [
        f"lists as of {date.isoformat()}: EU {editions['eu']}, USGS {editions['usgs']}, "
        f"DOE {editions['doe']}",
    ]
    if date > model.tables_compiled:
        notes.append(
            f"as-of date {date.isoformat()} is after the tables were compiled "
            f"({model.tables_compiled.isoformat()}): statuses are those of that day"
        )
    return notes

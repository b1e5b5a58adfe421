"""Element criticality tables (dated, cited) and composition-level supply-risk scores.

- Tables: :func:`list_tables`, :func:`get_table`, :func:`register_table` (shipped: ``hhi_2013``,
  ``eu_crm_2023``, ``eu_crm_2023_materials``, ``us_doe_2023``, ``usgs_2022``, ``ree_groups``,
  ``price``), each with source document, year, units and caveats.
- As of a date (:mod:`mi.criticality.asof`): :func:`measures` (export measures and their state:
  announced, in force, suspended, lifted, NOT VERIFIED after a suspension),
  :func:`list_memberships` (EU, USGS edition in force, DOE), :func:`price_signals` (latest USD
  price with its market basis, price moves); dated tables ``export_controls_2023_2026``,
  ``usgs_2025``, ``prices_2025_2026``, ``japan_designations``.
- Element risk (:func:`element_risk`): export control, list membership, concentration, price
  level and volatility per element as of a date, every value traced to its table row; weights
  in ``mi/_data/criticality/supply_risk.toml`` (:func:`load_risk_model`).
- Scores: :func:`score` (HREE and Dy+Tb fractions, EU/USGS/DOE-listed mass fractions, HHI,
  cost per kg, the dated components, ``supply_risk`` in [0, 1] as of a date, default today)
  vectorised over :class:`mi.chem.CompositionMatrix`.
- Constraints: :func:`max_mass_fraction`, :func:`exclude_elements`, :func:`allow_elements`,
  :func:`max_supply_risk`, :func:`all_of`.

Missing table values stay missing: a composition with an element absent from a table gets NaN
in the columns built from it, a ``*_known`` flag and a ``missing_elements`` entry.

Examples
--------
>>> from mi.criticality import score
>>> df = score(["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Ce2Fe14B"])
>>> df["dytb_mass_fraction"].round(4).tolist()
[0.0, 0.0597, 0.0]
"""

from __future__ import annotations

from mi.criticality.asof import list_memberships, measures, parse_as_of, price_signals
from mi.criticality.constraints import (
    Constraint,
    all_of,
    allow_elements,
    exclude_elements,
    max_atomic_fraction,
    max_mass_fraction,
    max_supply_risk,
)
from mi.criticality.risk import ElementRisk, element_risk
from mi.criticality.riskmodel import RiskModel, load_risk_model
from mi.criticality.scoring import (
    DEFAULT_TABLES,
    DEFAULT_WEIGHTS,
    HREE_CONVENTIONS,
    SUPPLY_RISK_COMPONENTS,
    hree_elements,
    score,
    supply_risk,
    weighted_property,
)
from mi.criticality.tables import (
    CriticalityTable,
    data_dir,
    get_table,
    list_tables,
    register_table,
    unregister_table,
    verify_checksums,
)

__all__ = [
    "Constraint",
    "CriticalityTable",
    "ElementRisk",
    "RiskModel",
    "DEFAULT_TABLES",
    "DEFAULT_WEIGHTS",
    "HREE_CONVENTIONS",
    "SUPPLY_RISK_COMPONENTS",
    "all_of",
    "allow_elements",
    "data_dir",
    "element_risk",
    "exclude_elements",
    "get_table",
    "hree_elements",
    "list_memberships",
    "list_tables",
    "load_risk_model",
    "max_atomic_fraction",
    "max_mass_fraction",
    "max_supply_risk",
    "measures",
    "parse_as_of",
    "price_signals",
    "register_table",
    "score",
    "supply_risk",
    "unregister_table",
    "verify_checksums",
    "weighted_property",
]

"""Composition-level criticality scores, vectorised over the composition matrix.

Every score is a product of the (sparse) atomic- or mass-fraction matrix with an element vector
from a registered table, so one call handles hundreds of thousands of compositions. The supply
risk is the mass-fraction-weighted mean of one per-element risk vector, computed once per as-of
date (:func:`mi.criticality.risk.element_risk`). A composition containing an element whose value
is missing from a table gets NaN in every column built from that value, ``False`` in the
matching ``*_known`` flag and an entry in ``missing_elements``; a ``gap`` component (prices) is
reported in ``risk_gap`` instead; nothing is imputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mi.chem import ATOMIC_MASSES, ELEMENTS, CompositionMatrix, parse_formulas
from mi.criticality.risk import ElementRisk, element_risk
from mi.criticality.riskmodel import COMPONENTS, RiskModel, load_risk_model
from mi.criticality.tables import CriticalityTable, get_table
from mi.exceptions import DataError, RegistryKeyError

__all__ = [
    "DEFAULT_TABLES",
    "DEFAULT_WEIGHTS",
    "HREE_CONVENTIONS",
    "SUPPLY_RISK_COMPONENTS",
    "as_composition_matrix",
    "hree_elements",
    "score",
    "supply_risk",
    "weighted_property",
]

_N_ELEMENTS = len(ELEMENTS)
_MASSES = np.asarray(ATOMIC_MASSES, dtype=np.float64)
_CHUNK_ROWS = 262_144


@dataclass(frozen=True)
class _Convention:
    column: str
    members: frozenset[str]
    description: str


#: Light/heavy rare-earth conventions: name -> (column of ``ree_groups``, heavy labels, text).
HREE_CONVENTIONS: dict[str, _Convention] = {
    "eu_2023": _Convention(
        "eu_2023_group",
        frozenset({"HREE"}),
        "EU 2023 CRM study: HREE = Y, Eu, Gd, Tb, Dy, Ho, Er, Tm, Yb, Lu",
    ),
    "usgs": _Convention(
        "usgs_group",
        frozenset({"HREE"}),
        "USGS (Cordier 2018): HREE = Y and Tb..Lu (Eu and Gd are light)",
    ),
    "gd_heavy": _Convention(
        "alt_gd_heavy_group",
        frozenset({"heavy"}),
        "Gd-heavy split (Barker & Pilbeam): heavy = Gd..Lu (Y and Sc separate, Eu light)",
    ),
}

#: Table used for each role; override any of them with ``score(..., tables={...})``.
DEFAULT_TABLES: dict[str, str] = {
    "hhi": "hhi_2013",
    "eu": "eu_crm_2023",
    "doe": "us_doe_2023",
    "usgs": "usgs_2022",
    "ree": "ree_groups",
    "price": "price",
}

#: Components of :func:`supply_risk` and the output column each one reads (all in [0, 1]).
#: The first five are the dated per-element components of the default model
#: (``supply_risk.toml``); the others are the composition fractions of earlier versions.
SUPPLY_RISK_COMPONENTS: dict[str, str] = {
    "export_control": "export_control",
    "list_membership": "list_membership",
    "concentration": "concentration",
    "price_level": "price_level",
    "price_volatility": "price_volatility",
    "dytb": "dytb_mass_fraction",
    "hree": "hree_mass_fraction",
    "eu_critical": "eu_critical_mass_fraction",
    "hhi_production": "hhi_production_mass",  # divided by 10000
    "hhi_reserve": "hhi_reserve_mass",  # divided by 10000
    "usgs_critical": "usgs_critical_mass_fraction",
    "doe_critical": "doe_critical_mass_fraction",
}

#: Default weights of :func:`supply_risk` (from ``mi/_data/criticality/supply_risk.toml``,
#: normalised to sum to 1 before use).
DEFAULT_WEIGHTS: dict[str, float] = dict(load_risk_model().weights)

_HHI_SCALE = 10_000.0


# ------------------------------------------------------------------ inputs
def as_composition_matrix(compositions: Any) -> CompositionMatrix:
    """Return ``compositions`` as a :class:`mi.chem.CompositionMatrix`.

    Parameters
    ----------
    compositions : CompositionMatrix or sequence of str
        A composition matrix, or formula strings (parsed with ``on_error="raise"``, so an
        invalid formula raises :class:`~mi.exceptions.FormulaError` quoting row and value).

    Returns
    -------
    CompositionMatrix
    """
    if isinstance(compositions, CompositionMatrix):
        return compositions
    if isinstance(compositions, str):
        return parse_formulas([compositions])  # type: ignore[return-value]
    return parse_formulas(compositions)  # type: ignore[return-value]


def _fraction_matrices(cm: CompositionMatrix) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Atomic- and mass-fraction CSR matrices (invalid rows are empty)."""
    csr = cm.to_csr() if hasattr(cm, "to_csr") else sparse.csr_matrix(cm.amounts)
    csr = sparse.csr_matrix(csr, dtype=np.float64)
    counts = np.diff(csr.indptr)
    starts = csr.indptr[:-1][counts > 0]

    def normalised(data: np.ndarray) -> sparse.csr_matrix:
        totals = np.zeros(csr.shape[0])
        if data.size:
            totals[counts > 0] = np.add.reduceat(data, starts)
        return sparse.csr_matrix(
            (data / np.repeat(totals, counts), csr.indices, csr.indptr), shape=csr.shape
        )

    return normalised(csr.data), normalised(csr.data * _MASSES[csr.indices])


# ------------------------------------------------------------ element data
def _table(role: str, tables: Mapping[str, str]) -> CriticalityTable:
    return get_table(tables[role])


def hree_elements(hree_convention: str = "eu_2023", table: str = "ree_groups") -> list[str]:
    """Heavy rare-earth elements under a named convention.

    Parameters
    ----------
    hree_convention : {"eu_2023", "usgs", "gd_heavy"}
        See :data:`HREE_CONVENTIONS`.
    table : str, default "ree_groups"
        Registered table holding the convention columns.

    Returns
    -------
    list of str
        Symbols in order of Z.

    Examples
    --------
    >>> hree_elements("usgs")
    ['Y', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu']
    """
    if hree_convention not in HREE_CONVENTIONS:
        raise RegistryKeyError("HREE convention", hree_convention, HREE_CONVENTIONS)
    conv = HREE_CONVENTIONS[hree_convention]
    labels = get_table(table).categories(conv.column)
    return [ELEMENTS[j] for j, label in enumerate(labels) if label in conv.members]


def _mask_vector(symbols: Iterable[str]) -> np.ndarray:
    index = {s: j for j, s in enumerate(ELEMENTS)}
    out = np.zeros(_N_ELEMENTS)
    out[[index[s] for s in symbols]] = 1.0
    return out


def _element_vectors(
    tables: Mapping[str, str], hree_convention: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, str]]:
    """Element vectors for the mass- and atomic-weighted columns, and the table of each."""
    ree = _table("ree", tables)
    hree = _mask_vector(hree_elements(hree_convention, tables["ree"]))
    dytb = ree.values("hree_magnet_target")
    hhi = _table("hhi", tables)
    eu = _table("eu", tables)
    mass = {
        "hree_mass_fraction": hree,
        "dytb_mass_fraction": dytb,
        "eu_critical_mass_fraction": eu.values("eu_critical"),
        "eu_strategic_mass_fraction": eu.values("eu_strategic"),
        "usgs_critical_mass_fraction": _usgs_vector(_table("usgs", tables)),
        "doe_critical_mass_fraction": _table("doe", tables).values(
            "doe_2023_critical_material_for_energy"
        ),
        "hhi_production_mass": hhi.values("hhi_production"),
        "hhi_reserve_mass": hhi.values("hhi_reserve"),
        "cost_per_kg": _table("price", tables).values("price_per_kg"),
    }
    atomic = {
        "hree_atomic_fraction": hree,
        "dytb_atomic_fraction": dytb,
        "hhi_production_atomic": hhi.values("hhi_production"),
        "hhi_reserve_atomic": hhi.values("hhi_reserve"),
    }
    source = {
        "hree_mass_fraction": tables["ree"],
        "hree_atomic_fraction": tables["ree"],
        "dytb_mass_fraction": tables["ree"],
        "dytb_atomic_fraction": tables["ree"],
        "eu_critical_mass_fraction": tables["eu"],
        "eu_strategic_mass_fraction": tables["eu"],
        "usgs_critical_mass_fraction": tables["usgs"],
        "doe_critical_mass_fraction": tables["doe"],
        "hhi_production_mass": tables["hhi"],
        "hhi_reserve_mass": tables["hhi"],
        "hhi_production_atomic": tables["hhi"],
        "hhi_reserve_atomic": tables["hhi"],
        "cost_per_kg": tables["price"],
    }
    return mass, atomic, source


def _usgs_vector(table: CriticalityTable) -> np.ndarray:
    """1.0 for elements on the USGS list (every row of the list table), 0.0 otherwise."""
    out = np.zeros(_N_ELEMENTS)
    symbols = table.categories("symbol")
    out[[j for j, s in enumerate(symbols) if s is not None]] = 1.0
    return out


def _weighted(
    frac: sparse.csr_matrix, presence: sparse.csr_matrix, vectors: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Fraction-weighted sums; NaN where a present element has a NaN value."""
    if not vectors:
        return {}
    names = list(vectors)
    stacked = np.column_stack([vectors[k] for k in names])
    missing = np.isnan(stacked)
    values = frac @ np.where(missing, 0.0, stacked)
    with_nan = np.flatnonzero(missing.any(axis=0))
    if with_nan.size:
        # columns share few distinct NaN patterns (one per table): count each pattern once
        patterns, inverse = np.unique(missing[:, with_nan], axis=1, return_inverse=True)
        n_missing = presence @ patterns.astype(np.float64)
        for col, k in zip(with_nan, np.asarray(inverse).ravel(), strict=True):
            values[n_missing[:, k] > 0, col] = np.nan
    return {k: values[:, i] for i, k in enumerate(names)}


# ----------------------------------------------------------------- scoring
def _check_weights(
    weights: Mapping[str, float] | None, model: RiskModel | None = None
) -> dict[str, float]:
    default = DEFAULT_WEIGHTS if model is None else model.weights
    chosen = dict(default if weights is None else weights)
    for key, value in chosen.items():
        if key not in SUPPLY_RISK_COMPONENTS:
            raise RegistryKeyError("supply-risk component", key, SUPPLY_RISK_COMPONENTS)
        if not np.isfinite(value) or value < 0:
            raise DataError(
                f"Supply-risk weight {key!r} must be a finite number >= 0; got {value!r}."
            )
    total = float(sum(chosen.values()))
    if total <= 0:
        raise DataError(
            f"Supply-risk weights must have a positive sum; got {chosen!r}. Give at least one "
            f"of {', '.join(SUPPLY_RISK_COMPONENTS)} a weight > 0."
        )
    return {k: float(v) / total for k, v in chosen.items() if v > 0}


def _risk_vectors(
    weights: Mapping[str, float],
    risk: ElementRisk,
    mass_vec: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Element risk and element gap vectors for normalised ``weights`` (one per as-of date).

    Dated components follow the model's missing-value rules; the older fraction components
    keep theirs (a missing value makes the element's risk NaN).
    """
    dated = {k: w for k, w in weights.items() if k in COMPONENTS}
    vec, gap = risk.risk_vector(dated)
    for name, w in weights.items():
        if name in COMPONENTS:
            continue
        values = mass_vec[SUPPLY_RISK_COMPONENTS[name]]
        vec = vec + w * (values / _HHI_SCALE if name.startswith("hhi_") else values)
    return vec, gap


def _element_text(cm: CompositionMatrix, valid: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """Per row, the flagged elements it contains (``"Dy, Tb"``), built once per pattern."""
    n = len(valid)
    out = np.full(n, "", dtype=object)
    flagged_idx = np.flatnonzero(flagged)
    if flagged_idx.size == 0 or n == 0:
        return out
    csr = sparse.csr_matrix(cm.to_csr() if hasattr(cm, "to_csr") else cm.amounts)
    hit = flagged[csr.indices]
    if not hit.any():
        return out
    # compact bit per flagged element (at most 64 are flagged: rows keyed by one uint64)
    bit = np.zeros(len(ELEMENTS), dtype=np.uint64)
    if flagged_idx.size > 64:
        raise DataError("More than 64 flagged elements cannot be reported per row.")
    bit[flagged_idx] = np.left_shift(np.uint64(1), np.arange(flagged_idx.size, dtype=np.uint64))
    row_of = np.repeat(np.arange(n), np.diff(csr.indptr))[hit]
    keys = np.zeros(n, dtype=np.uint64)
    np.bitwise_or.at(keys, row_of, bit[csr.indices[hit]])
    rows = np.flatnonzero((keys > 0) & valid)
    patterns, inverse = np.unique(keys[rows], return_inverse=True)
    texts = [
        ", ".join(ELEMENTS[j] for b, j in enumerate(flagged_idx.tolist()) if key >> b & 1)
        for key in patterns.tolist()
    ]
    out[rows] = np.asarray(texts, dtype=object)[np.asarray(inverse).ravel()]
    return out


def supply_risk(
    compositions: Any,
    weights: Mapping[str, float] | None = None,
    hree_convention: str = "eu_2023",
    tables: Mapping[str, str] | None = None,
    *,
    as_of: Any = None,
    risk_model: str | Path | RiskModel | None = None,
) -> np.ndarray:
    """Supply-risk score in [0, 1] per composition (the ``supply_risk`` column of :func:`score`).

    Parameters
    ----------
    compositions : CompositionMatrix or sequence of str
    weights, hree_convention, tables, as_of, risk_model
        As in :func:`score`.

    Returns
    -------
    numpy.ndarray
        float64, NaN where a weighted component is unknown.
    """
    return score(
        compositions,
        weights=weights,
        hree_convention=hree_convention,
        tables=tables,
        include_composition=False,
        as_of=as_of,
        risk_model=risk_model,
    )["supply_risk"].to_numpy()


def score(
    compositions: Any,
    weights: Mapping[str, float] | None = None,
    hree_convention: str = "eu_2023",
    *,
    tables: Mapping[str, str] | None = None,
    include_composition: bool | None = None,
    as_of: Any = None,
    risk_model: str | Path | RiskModel | None = None,
) -> pd.DataFrame:
    r"""Criticality scores per composition, as of a date.

    Parameters
    ----------
    compositions : CompositionMatrix or sequence of str
        Compositions to score; formula strings are parsed with :func:`mi.chem.parse_formulas`.
    weights : mapping of str to float, optional
        Weights of the supply-risk components (keys of :data:`SUPPLY_RISK_COMPONENTS`);
        default the model file's (:data:`DEFAULT_WEIGHTS`). They are normalised to sum to 1;
        components left out have weight 0.
    hree_convention : {"eu_2023", "usgs", "gd_heavy"}, default "eu_2023"
        Which elements count as heavy rare earths (:data:`HREE_CONVENTIONS`); stored in
        ``df.attrs["hree_convention"]``.
    tables : mapping of str to str, optional
        Override the table used for a role (``hhi``, ``eu``, ``doe``, ``usgs``, ``ree``,
        ``price``; see :data:`DEFAULT_TABLES`) with a registered table of the same schema. This
        applies to the fraction columns; the dated components read the editions of the model.
    include_composition : bool, optional
        Add a ``composition`` column: the input strings, or the matrix's formulas. Default:
        yes for formula strings (free), no for a ``CompositionMatrix`` (writing formulas
        costs more than scoring; pass True to get them).
    as_of : str or datetime.date, optional
        Date the dated components are computed for (ISO ``YYYY-MM-DD``); default today (UTC).
        See :func:`mi.criticality.asof.parse_as_of` for the accepted range.
    risk_model : path or RiskModel, optional
        Supply-risk model file (default ``mi/_data/criticality/supply_risk.toml``).

    Returns
    -------
    pandas.DataFrame
        One row per composition, in input order (nothing is dropped), with columns

        - ``hree_atomic_fraction``, ``hree_mass_fraction``: heavy rare earths (convention above).
        - ``dytb_atomic_fraction``, ``dytb_mass_fraction``: Dy + Tb (``hree_magnet_target``).
        - ``eu_critical_mass_fraction``, ``eu_strategic_mass_fraction``: elements under
          Annex II / Annex I of Regulation (EU) 2024/1252 (raw-material caveats apply: C counts
          via coking coal and graphite); ``eu_known``.
        - ``usgs_critical_mass_fraction``: elements on the USGS 2022 list.
        - ``doe_critical_mass_fraction``: elements on DOE's 2023 list of critical materials for
          energy (electrical steel and SiC, which have no element, are not mapped).
        - ``hhi_production_mass``, ``hhi_reserve_mass``: Gaultois HHI (0-10000) weighted by mass
          fraction (as ``pymatgen.analysis.hhi.HHIModel``); ``hhi_production_atomic``,
          ``hhi_reserve_atomic``: weighted by atomic fraction; ``hhi_known``.
        - ``cost_per_kg``: :math:`\sum_i w_i p_i` with mass fractions :math:`w_i` and element
          prices :math:`p_i` (``price`` table, 2013-2020 snapshots); ``cost_known``.
        - ``export_control``, ``list_membership``, ``concentration``, ``price_level``,
          ``price_volatility``: the dated components (:mod:`mi.criticality.risk`) weighted by
          mass fraction; a ``gap`` component counts only the elements that have a value.
        - ``supply_risk`` in [0, 1] (formula below); ``risk_gap``: how much it could rise if
          every missing ``gap`` value were at its maximum (0 = nothing missing).
        - ``unverified_elements``: elements of the row whose export-control value rests on a
          status the tables mark NOT VERIFIED (the model's conservative choice was used).
        - ``as_of``: the date (ISO) the row was scored for.
        - ``missing_elements``: ``"table: El, El; ..."`` naming each table lacking a value for an
          element of the row (``""`` when none); ``"invalid composition"`` for empty rows.

        ``df.attrs`` holds ``as_of``, ``hree_convention`` (+ its element list), the normalised
        ``weights``, the ``tables`` used (name, source, year; the list editions in force),
        ``risk_model`` (file, sha256), ``gaps``, ``unverified_elements``, ``notes`` and the
        ``supply_risk_formula``.

    Notes
    -----
    Supply risk is the mass-fraction-weighted mean of an element risk vector :math:`r`:

    .. math::

        \mathrm{supply\_risk} = \sum_i m_i r_i, \qquad
        r_i = \sum_k \tilde w_k c_{ik}, \qquad \tilde w_k = w_k / \textstyle\sum_j w_j,

    with per-element components :math:`c_{ik}` in [0, 1]. The default components (weights in
    ``supply_risk.toml``) are export-control exposure, list membership, production HHI,
    price level and price volatility as of ``as_of`` (:mod:`mi.criticality.risk`); the older
    keys ``dytb``, ``hree``, ``eu_critical``, ``hhi_production``, ``hhi_reserve``,
    ``usgs_critical``, ``doe_critical`` weight the matching element indicators. If a ``nan``
    component with a positive weight is missing for an element of the row, the supply risk is
    NaN; a missing ``gap`` component adds to ``risk_gap``; nothing is imputed. The default
    weights are a screening choice, not a published index: report them with any result.

    Examples
    --------
    >>> df = score(["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "Ce2Fe14B"], as_of="2026-12-01")
    >>> bool(df.loc[2, "supply_risk"] < df.loc[0, "supply_risk"] < df.loc[1, "supply_risk"])
    True
    >>> df.attrs["as_of"], df.attrs["hree_convention"]
    ('2026-12-01', 'eu_2023')
    >>> bool(score(["H2O"])["hhi_known"][0])
    False
    """
    if hree_convention not in HREE_CONVENTIONS:
        raise RegistryKeyError("HREE convention", hree_convention, HREE_CONVENTIONS)
    role_tables = dict(DEFAULT_TABLES)
    for role, name in (tables or {}).items():
        if role not in DEFAULT_TABLES:
            raise RegistryKeyError("criticality table role", role, DEFAULT_TABLES)
        get_table(name)  # unknown names raise here, with suggestions
        role_tables[role] = name
    model = risk_model if isinstance(risk_model, RiskModel) else load_risk_model(risk_model)
    norm_weights = _check_weights(weights, model)
    risk = element_risk(as_of, model)
    if not isinstance(compositions, CompositionMatrix | str):
        compositions = list(compositions)
    cm = as_composition_matrix(compositions)
    mass_vec, atomic_vec, source = _element_vectors(role_tables, hree_convention)
    risk_vec, gap_vec = _risk_vectors(norm_weights, risk, mass_vec)
    dated: dict[str, np.ndarray] = {}
    for name in COMPONENTS:
        values = risk.vectors[name]
        dated[name] = values if model.missing[name] == "nan" else np.nan_to_num(values, nan=0.0)
    editions = {r: e.table for r in ("eu", "hhi") if (e := model.edition(r, risk.as_of))}
    source.update(
        {
            "export_control": "export_controls_2023_2026",
            "list_membership": editions["eu"],
            "concentration": editions["hhi"],
            "price_level": "prices_2025_2026",
            "price_volatility": "prices_2025_2026",
        }
    )
    all_mass = {**mass_vec, **dated}

    n = len(cm)
    pieces: list[dict[str, np.ndarray]] = []
    for start in range(0, max(n, 1), _CHUNK_ROWS):
        part = cm if n <= _CHUNK_ROWS else cm.take(np.arange(start, min(n, start + _CHUNK_ROWS)))
        atomic, mass = _fraction_matrices(part)
        presence = atomic.copy()
        presence.data = np.ones_like(presence.data)
        cols = _weighted(mass, presence, {**all_mass, "supply_risk": risk_vec, "risk_gap": gap_vec})
        cols.update(_weighted(atomic, presence, atomic_vec))
        cols["_valid"] = np.diff(atomic.indptr) > 0
        pieces.append(cols)
    columns = {
        k: pieces[0][k] if len(pieces) == 1 else np.concatenate([p[k] for p in pieces])
        for k in pieces[0]
    }
    valid = columns.pop("_valid")
    for values in columns.values():
        values[~valid] = np.nan

    # Rounding can push a weighted mean of [0, 1] values a few ulp outside; clip that only.
    risk_col = np.clip(columns.pop("supply_risk"), 0.0, 1.0)
    gap_col = np.clip(columns.pop("risk_gap"), 0.0, 1.0)

    order = [
        "hree_atomic_fraction",
        "hree_mass_fraction",
        "dytb_atomic_fraction",
        "dytb_mass_fraction",
        "eu_critical_mass_fraction",
        "eu_strategic_mass_fraction",
        "usgs_critical_mass_fraction",
        "doe_critical_mass_fraction",
        "hhi_production_mass",
        "hhi_reserve_mass",
        "hhi_production_atomic",
        "hhi_reserve_atomic",
        "cost_per_kg",
    ]
    data: dict[str, Any] = {}
    if include_composition is None:
        include_composition = not isinstance(compositions, CompositionMatrix)
    if include_composition:
        if isinstance(compositions, CompositionMatrix):
            data["composition"] = cm.formulas()
        elif isinstance(compositions, str):
            data["composition"] = [compositions]
        else:
            data["composition"] = list(compositions)
    for name in order:
        data[name] = columns[name]
    data["eu_known"] = ~np.isnan(columns["eu_critical_mass_fraction"]) & ~np.isnan(
        columns["eu_strategic_mass_fraction"]
    )
    data["hhi_known"] = ~np.isnan(columns["hhi_production_mass"]) & ~np.isnan(
        columns["hhi_reserve_mass"]
    )
    data["cost_known"] = ~np.isnan(columns["cost_per_kg"])
    for name in COMPONENTS:
        data[name] = columns[name]
    data["supply_risk"] = risk_col
    data["risk_gap"] = gap_col
    unverified = np.zeros(len(ELEMENTS), dtype=bool)
    if norm_weights.get("export_control", 0) > 0:
        unverified[[ELEMENTS.index(s) for s in risk.unverified]] = True
    data["unverified_elements"] = _element_text(cm, valid, unverified)
    data["as_of"] = np.full(n, risk.as_of.isoformat(), dtype=object)
    data["missing_elements"] = _missing_report(cm, valid, columns, all_mass, source)
    frame = pd.DataFrame(data, copy=False)
    conv = HREE_CONVENTIONS[hree_convention]
    frame.attrs = {
        "as_of": risk.as_of.isoformat(),
        "hree_convention": hree_convention,
        "hree_convention_description": conv.description,
        "hree_elements": hree_elements(hree_convention, role_tables["ree"]),
        "weights": norm_weights,
        "tables": {
            role: {"name": name, "source": get_table(name).source, "year": get_table(name).year}
            for role, name in role_tables.items()
        },
        "dated_tables": _dated_tables(risk),
        "risk_model": {"file": str(model.path), "sha256": model.sha256},
        "gaps": {k: v for k, v in risk.gaps.items() if norm_weights.get(k, 0) > 0},
        "unverified_elements": list(risk.unverified)
        if norm_weights.get("export_control", 0) > 0
        else [],
        "notes": list(risk.notes),
        "supply_risk_formula": " + ".join(
            f"{w:.3g}*{SUPPLY_RISK_COMPONENTS[k]}" + ("/10000" if k.startswith("hhi_") else "")
            for k, w in norm_weights.items()
        ),
    }
    return frame


def _dated_tables(risk: ElementRisk) -> dict[str, str]:
    """Table answering each dated role on the score's date (``usgs`` -> ``usgs_2025`` ...)."""
    out = {}
    for role in ("export_controls", "eu", "usgs", "doe", "hhi"):
        edition = risk.model.edition(role, risk.as_of)
        if edition is not None:
            out[role] = edition.table
    out["prices"] = "prices_2025_2026, price (pymatgen)"
    return out


def _missing_report(
    cm: CompositionMatrix,
    valid: np.ndarray,
    columns: Mapping[str, np.ndarray],
    vectors: Mapping[str, np.ndarray],
    source: Mapping[str, str],
) -> np.ndarray:
    """``missing_elements`` text per row, built once per distinct pattern of missing elements."""
    out = np.full(len(valid), "", dtype=object)
    out[~valid] = "invalid composition"
    any_nan = np.zeros(len(valid), dtype=bool)
    for k, vec in vectors.items():
        if np.isnan(vec).any():  # a column without NaN elements has no NaN rows to report
            any_nan |= np.isnan(columns[k])
    rows = np.flatnonzero(valid & any_nan)
    if rows.size == 0:
        return out
    per_table: dict[str, np.ndarray] = {}
    for name, vec in vectors.items():
        table = source[name]
        per_table[table] = per_table.get(table, np.zeros(_N_ELEMENTS, bool)) | np.isnan(vec)
    lacking_any = np.logical_or.reduce(list(per_table.values()))
    csr = sparse.csr_matrix(cm.take(rows).to_csr() if hasattr(cm, "to_csr") else cm.amounts)
    # each row's set of lacking elements as two 64-bit masks (Z <= 64, Z > 64)
    cols = csr.indices.astype(np.int64)
    row_of = np.repeat(np.arange(rows.size), np.diff(csr.indptr))
    hit = lacking_any[cols]
    masks = np.zeros((rows.size, 2), dtype=np.uint64)
    bits = np.left_shift(np.uint64(1), (cols[hit] % 64).astype(np.uint64))
    np.bitwise_or.at(masks, (row_of[hit], cols[hit] // 64), bits)
    patterns, inverse = np.unique(masks, axis=0, return_inverse=True)
    texts = []
    for low, high in patterns.tolist():
        present = [j for j in range(64) if low >> j & 1] + [
            64 + j for j in range(64) if high >> j & 1
        ]
        parts = []
        for table, missing in per_table.items():
            lacking = [ELEMENTS[j] for j in present if missing[j]]
            if lacking:
                parts.append(f"{table}: {', '.join(lacking)}")
        texts.append("; ".join(parts))
    out[rows] = np.asarray(texts, dtype=object)[np.asarray(inverse).ravel()]
    return out


def weighted_property(
    compositions: Any, table: str, column: str, basis: str = "mass"
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction-weighted mean of any numeric column of a registered table.

    Parameters
    ----------
    compositions : CompositionMatrix or sequence of str
    table : str
        Registered table name (e.g. ``"eu_crm_2023"`` or one of your own).
    column : str
        Numeric or true/false column, e.g. ``"sr_2023"``.
    basis : {"mass", "atomic"}, default "mass"
        Weight by mass or by atomic fraction.

    Returns
    -------
    values : numpy.ndarray
        Weighted mean per composition; NaN where an element of the row lacks a value.
    known : numpy.ndarray of bool
        False exactly where ``values`` is NaN.

    Examples
    --------
    >>> v, ok = weighted_property(["Fe2O3", "Co"], "eu_crm_2023", "sr_2023")
    >>> ok.tolist()  # O has no EU supply-risk value
    [False, True]
    """
    if basis not in ("mass", "atomic"):
        raise DataError(f"basis must be 'mass' or 'atomic'; got {basis!r}.")
    cm = as_composition_matrix(compositions)
    vec = get_table(table).values(column)
    atomic, mass = _fraction_matrices(cm)
    presence = atomic.copy()
    presence.data = np.ones_like(presence.data)
    values = _weighted(mass if basis == "mass" else atomic, presence, {column: vec})[column]
    values[np.diff(atomic.indptr) == 0] = np.nan
    return values, ~np.isnan(values)

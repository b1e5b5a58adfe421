"""Criticality facts as of a date: measures in force, list memberships, latest prices.

The dated tables (``export_controls_2023_2026``, ``usgs_2025``, ``prices_2025_2026``, shipped
with their sha256 and the other tables) are read with their provenance: every answer names the
file and line of the row it comes from, the row's evidence kind (primary or secondary) and its
source address.

- :func:`parse_as_of`: the one accepted date format (ISO ``YYYY-MM-DD``), today by default.
- :func:`measures`: export measures and their status on a date (announced but not yet
  effective, in force, suspended, lifted, or suspension ended with the later status
  ``NOT VERIFIED``).
- :func:`list_memberships`: EU critical/strategic, USGS (the edition in force) and DOE 2023.
- :func:`price_signals`: per element the latest USD price on or before the date with its market
  basis, and the largest price move within one series.

Examples
--------
>>> from mi.criticality.asof import measures
>>> m = measures("2025-06-01", ["Dy"])
>>> m[["symbol", "state", "label"]].values.tolist()
[['Dy', 'in_force', 'China export licence since 2025-04-04']]
>>> measures("2024-12-31", ["Dy"]).empty
True
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mi.chem import ELEMENTS, RARE_EARTHS
from mi.criticality.riskmodel import RiskModel, load_risk_model
from mi.criticality.tables import CriticalityTable, get_table
from mi.exceptions import DataError, TableError

__all__ = [
    "Measure",
    "PricePoint",
    "list_memberships",
    "load_measures",
    "load_prices",
    "measures",
    "parse_as_of",
    "price_signals",
    "today",
]

_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SUSPENDED_RE = re.compile(r"suspended (\d{4}-\d{2}-\d{2}) until (\d{4}-\d{2}-\d{2})")
_LIFTED_RE = re.compile(r"lifted (\d{4}-\d{2}-\d{2})")
_COUNTRY = {"CN": "China", "CD": "DR Congo", "MY": "Malaysia", "EU": "EU"}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_TO_USD_PER_KG = {"USD/kg": 1.0, "USD/t": 1e-3, "USD/lb": 1 / 0.45359237}
_REE = frozenset(RARE_EARTHS)


def today() -> dt.date:
    """Today's date (UTC), the default as-of date."""
    return dt.datetime.now(dt.UTC).date()


def parse_as_of(value: Any = None, model: RiskModel | None = None) -> dt.date:
    """Read an as-of date and check that the tables can answer for it.

    Parameters
    ----------
    value : str, datetime.date or None
        ``"YYYY-MM-DD"`` (ISO 8601, the only text format accepted), a ``datetime.date`` /
        ``datetime.datetime`` / ``pandas.Timestamp``, or None for today (UTC).
    model : RiskModel, optional
        Model whose table editions set the earliest date (default: the shipped model).

    Returns
    -------
    datetime.date

    Raises
    ------
    DataError
        Another format (``2024/12/31``, ``31.12.2024``, ``2024-12``), an impossible date, or a
        date before the earliest table (the message names the table and its start).

    Examples
    --------
    >>> parse_as_of("2024-12-31")
    datetime.date(2024, 12, 31)
    """
    model = model or load_risk_model()
    if value is None:
        date = today()
    elif isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str) and _ISO_RE.match(value.strip()):
        try:
            date = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise DataError(f"As-of date {value!r} is not a calendar date: {exc}.") from None
    else:
        raise DataError(
            f"Unknown as-of date format {value!r}: give an ISO date YYYY-MM-DD (e.g. 2024-12-31)."
        )
    earliest, edition = model.earliest()
    if date < earliest:
        raise DataError(
            f"As-of date {date.isoformat()} is before the earliest table: {edition.table} "
            f"answers from {edition.start.isoformat()} ({edition.basis}); give a date on or "
            f"after {earliest.isoformat()}."
        )
    return date


def _iso(text: Any, where: str, required: bool) -> dt.date | None:
    if not isinstance(text, str) or not text.strip():
        if required:
            raise TableError(f"{where}: missing date.")
        return None
    found = _DATE_RE.search(text)
    if not found:
        raise TableError(f"{where}: no ISO date in {text!r}.")
    return dt.date.fromisoformat(found.group(0))


# --------------------------------------------------------------------- measures
@dataclass(frozen=True)
class Measure:
    """One row of ``export_controls_2023_2026`` with its dates parsed."""

    line: int
    symbol: str | None
    group: str | None
    jurisdiction: str
    measure_id: str
    kind: str
    scope: str
    announced: dt.date
    effective: dt.date | None
    suspended_from: dt.date | None
    suspended_until: dt.date | None
    lifted: dt.date | None
    after_suspension_unverified: bool
    status_text: str
    evidence: str
    source_url: str

    @property
    def short_id(self) -> str:
        """The measure's name without its parenthesised description."""
        return self.measure_id.split(" (")[0].strip()

    @property
    def address(self) -> str:
        """``file:line`` of the row."""
        return f"export_controls_2023_2026.csv:{self.line}"

    def state(self, date: dt.date, unverified_in_force: bool) -> tuple[str, bool, bool]:
        """(state, in force?, rests on unverified status?) on ``date``.

        States: ``not_announced``, ``announced`` (before its effective date, or no effective
        date), ``in_force``, ``suspended``, ``lifted``, ``unverified`` (a suspension has ended
        and the later status was not found; in force when ``unverified_in_force``).
        """
        if date < self.announced:
            return "not_announced", False, False
        if self.effective is None or date < self.effective:
            return "announced", False, False
        if self.lifted is not None and date >= self.lifted:
            return "lifted", False, False
        if self.suspended_from is not None and self.suspended_until is not None:
            if self.suspended_from <= date <= self.suspended_until:
                return "suspended", False, False
            if date > self.suspended_until:
                if self.after_suspension_unverified:
                    return "unverified", unverified_in_force, True
                return "in_force", True, False
        return "in_force", True, False


@lru_cache(maxsize=1)
def load_measures() -> tuple[Measure, ...]:
    """Parse every row of ``export_controls_2023_2026`` (sha256-checked on first load).

    Raises
    ------
    TableError
        A row whose dates or status cannot be read (names file and line).
    """
    table = get_table("export_controls_2023_2026")
    frame = table.to_frame()
    out = []
    for line, row in zip(table.line_numbers, frame.to_dict("records"), strict=True):
        where = f"{table.path.name} line {line}"
        status = str(row.get("status_2026_12_01") or "")
        suspended = _SUSPENDED_RE.search(status)
        lifted = _LIFTED_RE.search(status)
        if not (suspended or lifted or status.startswith(("in force", "announced"))):
            raise TableError(f"{where}: cannot read status {status!r}.")
        symbol = row.get("symbol")
        out.append(
            Measure(
                line=line,
                symbol=symbol if isinstance(symbol, str) else None,
                group=row["element_group"] if isinstance(row.get("element_group"), str) else None,
                jurisdiction=str(row.get("jurisdiction") or ""),
                measure_id=str(row.get("measure_id") or ""),
                kind=str(row.get("kind") or ""),
                scope=str(row.get("scope") or ""),
                announced=_iso(row.get("announced"), f"{where} announced", True),  # type: ignore[arg-type]
                effective=_iso(row.get("effective"), f"{where} effective", False),
                suspended_from=dt.date.fromisoformat(suspended.group(1)) if suspended else None,
                suspended_until=dt.date.fromisoformat(suspended.group(2)) if suspended else None,
                lifted=dt.date.fromisoformat(lifted.group(1)) if lifted else None,
                after_suspension_unverified="NOT VERIFIED" in status and suspended is not None,
                status_text=status,
                evidence=str(row.get("evidence") or ""),
                source_url=str(row.get("source_url") or ""),
            )
        )
    return tuple(out)


def _severity(m: Measure, model: RiskModel) -> tuple[float, str]:
    kind = m.kind.lower()
    rule = next((r for r in model.kind_rules if r.match in kind), None)
    if rule is None:
        return 0.0, m.kind
    severity = rule.severity
    if "magnet" not in m.scope.lower():
        severity *= model.magnets_not_in_scope
    if any(marker.lower() in kind for marker in model.destination_markers):
        severity *= model.destination_specific
    return severity, rule.label


def _label(m: Measure, state: str, rule_label: str) -> str:
    country = _COUNTRY.get(m.jurisdiction, m.jurisdiction)
    text = f"{country} {rule_label}"
    if m.symbol is None:
        text = f"{text} ({m.group}; group-level row, not scored)"
    if state == "in_force":
        return f"{text} since {m.effective.isoformat() if m.effective else m.announced}"
    if state == "announced":
        when = f"effective {m.effective.isoformat()}" if m.effective else "no effective date"
        return f"{text} announced {m.announced.isoformat()} ({when})"
    if state == "suspended":
        return f"{text} suspended until {m.suspended_until}"
    if state == "lifted":
        return f"{text} lifted {m.lifted}"
    return f"{text}: suspension ended {m.suspended_until}, later status NOT VERIFIED"


def measures(
    as_of: Any = None,
    elements: Iterable[str] | None = None,
    *,
    include_groups: bool = False,
    include_inactive: bool = True,
    model: RiskModel | None = None,
) -> pd.DataFrame:
    """Export measures known on ``as_of`` and their state on that date.

    Parameters
    ----------
    as_of : str or datetime.date, optional
        See :func:`parse_as_of` (default today).
    elements : iterable of str, optional
        Keep rows naming these elements (default all element rows).
    include_groups : bool, default False
        Also list group-level rows (all rare earths, all dual-use items); rare-earth group rows
        are listed for each rare earth in ``elements``. They are never scored.
    include_inactive : bool, default True
        Keep measures announced but not in force, suspended or lifted on the date.
    model : RiskModel, optional
        Severity rules and the treatment of unverified status (default: shipped model).

    Returns
    -------
    pandas.DataFrame
        One row per (element, measure) announced on or before the date: ``symbol``, ``group``,
        ``jurisdiction``, ``measure``, ``kind``, ``state``, ``in_force``, ``unverified``,
        ``severity`` (0 unless in force), ``magnets_in_scope``, ``label`` (e.g. "China export
        licence since 2025-04-04"), ``announced``, ``effective``, ``evidence``, ``source``
        (``file:line``), ``source_url``, ``status_2026_12_01``.
    """
    model = model or load_risk_model()
    date = parse_as_of(as_of, model)
    wanted = None if elements is None else set(elements)
    rows: list[dict[str, Any]] = []
    for m in load_measures():
        state, in_force, unverified = m.state(date, model.unverified_in_force)
        if state == "not_announced" or (not include_inactive and not in_force):
            continue
        if m.symbol is None:
            if not include_groups:
                continue
            members = sorted(_REE & wanted) if wanted and "rare earth" in (m.group or "") else []
            targets: list[str | None] = list(members) if members else [None]
            if wanted is not None and not members and "dual-use" not in (m.group or ""):
                continue
        else:
            if wanted is not None and m.symbol not in wanted:
                continue
            targets = [m.symbol]
        severity, rule_label = _severity(m, model)
        for symbol in targets:
            rows.append(
                {
                    "symbol": symbol,
                    "group": m.group,
                    "jurisdiction": m.jurisdiction,
                    "measure": m.short_id,
                    "kind": m.kind,
                    "state": state,
                    "in_force": in_force,
                    "unverified": unverified,
                    "severity": severity if (in_force and m.symbol) else 0.0,
                    "magnets_in_scope": "magnet" in m.scope.lower(),
                    "label": _label(m, state, rule_label),
                    "announced": m.announced.isoformat(),
                    "effective": m.effective.isoformat() if m.effective else None,
                    "evidence": m.evidence,
                    "source": m.address,
                    "source_url": m.source_url,
                    "status_2026_12_01": m.status_text,
                }
            )
    frame = pd.DataFrame(rows, columns=_MEASURE_COLUMNS)
    frame.attrs["as_of"] = date.isoformat()
    return frame


_MEASURE_COLUMNS = [
    "symbol",
    "group",
    "jurisdiction",
    "measure",
    "kind",
    "state",
    "in_force",
    "unverified",
    "severity",
    "magnets_in_scope",
    "label",
    "announced",
    "effective",
    "evidence",
    "source",
    "source_url",
    "status_2026_12_01",
]


def export_exposure(date: dt.date, model: RiskModel, unverified_in_force: bool) -> pd.DataFrame:
    """Per element the largest severity of its element-specific measures in force on ``date``.

    Returns a frame indexed by symbol (elements with a measure in force only): ``severity``,
    ``source``, ``evidence``, ``label``, ``unverified``.
    """
    best: dict[str, dict[str, Any]] = {}
    for m in load_measures():
        if m.symbol is None:
            continue
        state, in_force, unverified = m.state(date, unverified_in_force)
        if not in_force:
            continue
        severity, rule_label = _severity(m, model)
        current = best.get(m.symbol)
        if current is None or severity > current["severity"]:
            best[m.symbol] = {
                "severity": severity,
                "source": m.address,
                "evidence": m.evidence,
                "label": _label(m, state, rule_label),
                "unverified": unverified,
            }
    return pd.DataFrame.from_dict(best, orient="index")


# ------------------------------------------------------------------------ lists
def _flag_vector(table: CriticalityTable, column: str | None) -> np.ndarray:
    if column is None:  # list table: every mapped row is on the list
        out = np.zeros(len(ELEMENTS))
        symbols = table.categories("symbol")
        out[[j for j, s in enumerate(symbols) if s is not None]] = 1.0
        return out
    return table.values(column)


def _evidence(table: CriticalityTable, symbol: str) -> str:
    """Return the row's evidence kind (``evidence`` column) or its ``verification`` text."""
    frame = table.to_frame()
    for col in ("evidence", "verification"):
        if col in frame.columns:
            hit = frame.loc[frame["symbol"] == symbol, col]
            if len(hit) and isinstance(hit.iloc[0], str):
                return str(hit.iloc[0])
    return ""


def list_memberships(as_of: Any = None, model: RiskModel | None = None) -> pd.DataFrame:
    """EU critical/strategic, USGS and DOE membership of every element on ``as_of``.

    The USGS edition is the one in force on the date (2022 list before 2025-11-07, the 2025
    list from then); see ``[[editions]]`` of the model file for how each list is dated.

    Parameters
    ----------
    as_of : str or datetime.date, optional
        See :func:`parse_as_of`.
    model : RiskModel, optional

    Returns
    -------
    pandas.DataFrame
        Indexed by symbol (Z = 1..103): ``eu_critical``, ``eu_strategic``, ``usgs``, ``doe``
        (1.0 / 0.0; NaN where the table does not cover the element: the EU table stops at Pu)
        and for each a ``*_source`` (``file:line``, or ``file: no row`` = not on the list) and
        ``*_evidence``. ``attrs["editions"]`` names the table used per list.

    Examples
    --------
    >>> before = list_memberships("2024-12-31").loc["B", "usgs"]
    >>> after = list_memberships("2026-12-01").loc["B", "usgs"]
    >>> float(before), float(after)
    (0.0, 1.0)
    """
    model = model or load_risk_model()
    date = parse_as_of(as_of, model)
    eu, doe, usgs = (model.edition(r, date) for r in ("eu", "doe", "usgs"))
    assert eu is not None and doe is not None and usgs is not None  # parse_as_of checked
    specs = {
        "eu_critical": (get_table(eu.table), "eu_critical"),
        "eu_strategic": (get_table(eu.table), "eu_strategic"),
        "usgs": (get_table(usgs.table), None),
        "doe": (get_table(doe.table), "doe_2023_critical_material_for_energy"),
    }
    data: dict[str, Any] = {}
    for key, (table, column) in specs.items():
        values = _flag_vector(table, column)
        data[key] = values
        sources, evidence = [], []
        for symbol in ELEMENTS:
            line = table.line_of(symbol)
            sources.append(f"{table.path.name}:{line}" if line else f"{table.path.name}: no row")
            evidence.append(_evidence(table, symbol) if line else "")
        data[f"{key}_source"] = sources
        data[f"{key}_evidence"] = evidence
    frame = pd.DataFrame(data, index=pd.Index(ELEMENTS, name="symbol"))
    frame.attrs["as_of"] = date.isoformat()
    frame.attrs["editions"] = {"eu": eu.table, "doe": doe.table, "usgs": usgs.table}
    return frame


# ----------------------------------------------------------------------- prices
@dataclass(frozen=True)
class PricePoint:
    """One price row (dated table or pymatgen snapshot) with its date span and USD/kg value."""

    address: str
    date_text: str
    date_end: dt.date
    symbols: tuple[str, ...]
    material: str
    spec: str
    basis: str
    unit: str
    assessor: str
    mid: float
    usd_per_kg: float | None
    evidence: str

    @property
    def series(self) -> tuple[str, str, str, str, str]:
        """Key of the price series the point belongs to."""
        return (self.material, self.basis, self.unit, self.assessor, self.spec)


def _date_end(text: str, where: str) -> dt.date:
    text = text.strip()
    day = re.match(r"^(\d{4})-(\d{2})-(\d{2})\b", text)
    if day:
        return dt.date.fromisoformat(day.group(0))
    month = re.match(r"^(\d{4})-(\d{2})\b", text)
    if month:
        y, mo = int(month.group(1)), int(month.group(2))
        return dt.date(y, mo, calendar.monthrange(y, mo)[1])
    year = re.match(r"^(\d{4})\b", text)
    if year:
        return dt.date(int(year.group(1)), 12, 31)
    raise TableError(f"{where}: cannot read the date {text!r}.")


def _num(value: Any) -> float:
    return float(value) if value is not None and not pd.isna(value) else math.nan


@lru_cache(maxsize=1)
def load_prices() -> tuple[PricePoint, ...]:
    """Every price point: ``prices_2025_2026`` rows and the pymatgen snapshots (``price``).

    A point is usable on a date once its period has ended (a month-dated row from the last day
    of its month). Values are kept in their unit; ``usd_per_kg`` is set only for USD units (no
    currency conversion).
    """
    points: list[PricePoint] = []
    dated = get_table("prices_2025_2026")
    for line, row in zip(dated.line_numbers, dated.to_frame().to_dict("records"), strict=True):
        where = f"{dated.path.name} line {line}"
        avg, low, high = (_num(row.get(k)) for k in ("price_avg", "price_low", "price_high"))
        mid = avg if not math.isnan(avg) else (low + high) / 2
        if not mid > 0:
            raise TableError(f"{where}: no positive price.")
        unit = str(row.get("unit") or "")
        factor = _TO_USD_PER_KG.get(unit)
        symbols = tuple(str(row.get("constituent_symbols") or "").split())
        for s in symbols:
            if s not in ELEMENTS:
                raise TableError(f"{where}: unknown element {s!r} in constituent_symbols.")
        points.append(
            PricePoint(
                address=f"{dated.path.name}:{line}",
                date_text=str(row["date"]),
                date_end=_date_end(str(row["date"]), where),
                symbols=symbols,
                material=str(row.get("material") or ""),
                spec=str(row.get("spec") or "") if isinstance(row.get("spec"), str) else "",
                basis=str(row.get("basis") or ""),
                unit=unit,
                assessor=str(row.get("assessor") or ""),
                mid=mid,
                usd_per_kg=mid * factor if factor else None,
                evidence=str(row.get("evidence") or ""),
            )
        )
    snap = get_table("price")
    for line, row in zip(snap.line_numbers, snap.to_frame().to_dict("records"), strict=True):
        price = _num(row.get("price_per_kg"))
        if math.isnan(price):
            continue
        year = int(_num(row.get("source_year")))
        month = _MONTHS.get(str(row.get("source_month") or "").strip().lower(), 12)
        title = str(row.get("source_title") or "")
        points.append(
            PricePoint(
                address=f"{snap.path.name}:{line}",
                date_text=f"{year}-{month:02d}",
                date_end=dt.date(year, month, calendar.monthrange(year, month)[1]),
                symbols=(str(row["symbol"]),),
                material="element",
                spec="",
                basis=f"pymatgen costdb snapshot ({title})",
                unit="USD/kg (presumed)",
                assessor=title,
                mid=price,
                usd_per_kg=price,
                evidence="secondary",
            )
        )
    return tuple(points)


def _rank(basis: str, preference: tuple[str, ...]) -> int:
    return next(
        (i for i, p in enumerate(preference) if p.lower() in basis.lower()), len(preference)
    )


def price_signals(as_of: Any = None, model: RiskModel | None = None) -> pd.DataFrame:
    """Latest USD price and largest price move per element, as of a date.

    Parameters
    ----------
    as_of : str or datetime.date, optional
        See :func:`parse_as_of`.
    model : RiskModel, optional
        Price scaling, maximum age, basis preference and volatility window.

    Returns
    -------
    pandas.DataFrame
        Indexed by symbol (Z = 1..103):

        - ``price_usd_per_kg``, ``price_date``, ``price_basis``, ``price_material``,
          ``price_source`` (``file:line``), ``price_evidence``: the latest USD price whose
          period ended on or before the date and at most ``max_age_days`` old (ties: the
          model's basis preference); NaN / None when there is none.
        - ``price_level`` in [0, 1]: log-scaled between the model's low and high price.
        - ``volatility_ratio`` (max/min of one series within the window, any currency: a ratio
          needs no conversion), ``volatility_basis``, ``volatility_source`` (both rows),
          ``volatility_evidence``, ``price_volatility`` in [0, 1]; NaN where no series has
          two points in the window.

    Examples
    --------
    >>> p = price_signals("2026-12-01")
    >>> p.loc["Dy", "price_basis"], p.loc["Dy", "price_date"]
    ('FOB China', '2026-01-30')
    """
    model = model or load_risk_model()
    date = parse_as_of(as_of, model)
    points = [p for p in load_prices() if p.date_end <= date]
    index = {s: j for j, s in enumerate(ELEMENTS)}
    n = len(ELEMENTS)
    price = np.full(n, np.nan)
    vol_ratio = np.full(n, np.nan)
    text: dict[str, list[Any]] = {
        k: [None] * n
        for k in (
            "price_date",
            "price_basis",
            "price_material",
            "price_source",
            "price_evidence",
            "volatility_basis",
            "volatility_source",
            "volatility_evidence",
        )
    }
    chosen: dict[int, PricePoint] = {}
    for p in points:
        if p.usd_per_kg is None or (date - p.date_end).days > model.max_age_days:
            continue
        for s in p.symbols:
            j = index[s]
            old = chosen.get(j)
            key = (p.date_end, -_rank(p.basis, model.basis_preference))
            if old is None or key > (old.date_end, -_rank(old.basis, model.basis_preference)):
                chosen[j] = p
    for j, p in chosen.items():
        price[j] = p.usd_per_kg
        text["price_date"][j] = p.date_text
        text["price_basis"][j] = p.basis
        text["price_material"][j] = p.material + (f" {p.spec}" if p.spec else "")
        text["price_source"][j] = p.address
        text["price_evidence"][j] = p.evidence
    series: dict[tuple[str, ...], list[PricePoint]] = {}
    for p in points:
        if (date - p.date_end).days <= model.volatility_window_days:
            series.setdefault((*p.series, " ".join(p.symbols)), []).append(p)
    for members in series.values():
        if len(members) < 2:
            continue
        lo = min(members, key=lambda q: q.mid)
        hi = max(members, key=lambda q: q.mid)
        ratio = hi.mid / lo.mid
        for s in members[0].symbols:
            j = index[s]
            if np.isnan(vol_ratio[j]) or ratio > vol_ratio[j]:
                vol_ratio[j] = ratio
                text["volatility_basis"][j] = f"{lo.material}, {lo.basis}, {lo.unit}"
                text["volatility_source"][j] = (
                    f"{lo.address} ({lo.date_text}) to {hi.address} ({hi.date_text})"
                )
                ev = {lo.evidence, hi.evidence}
                text["volatility_evidence"][j] = "primary" if ev == {"primary"} else "secondary"
    span = math.log10(model.level_high) - math.log10(model.level_low)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.clip((np.log10(price) - math.log10(model.level_low)) / span, 0.0, 1.0)
        volatility = np.clip(
            np.log10(vol_ratio) / math.log10(model.volatility_full_scale_ratio), 0.0, 1.0
        )
    frame = pd.DataFrame(
        {
            "price_usd_per_kg": price,
            "price_level": level,
            **{k: v for k, v in text.items() if k.startswith("price_")},
            "volatility_ratio": vol_ratio,
            "price_volatility": volatility,
            **{k: v for k, v in text.items() if k.startswith("volatility_")},
        },
        index=pd.Index(ELEMENTS, name="symbol"),
    )
    frame.attrs["as_of"] = date.isoformat()
    return frame

"""The supply-risk model definition: weights, severities, price scaling and table editions.

The model is data: ``mi/_data/criticality/supply_risk.toml`` (documented line by line). A user
copy is loaded with :func:`load_risk_model`; a TOML file is parsed as data only (it names no
code). Invalid content raises :class:`~mi.exceptions.ConfigError` naming the file and key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from mi.criticality.tables import data_dir
from mi.exceptions import ConfigError, did_you_mean

__all__ = [
    "COMPONENTS",
    "Edition",
    "KindRule",
    "RiskModel",
    "default_model_path",
    "load_risk_model",
]

#: Per-element components of the default supply-risk model, in display order.
COMPONENTS: tuple[str, ...] = (
    "export_control",
    "list_membership",
    "concentration",
    "price_level",
    "price_volatility",
)
MissingRule = Literal["nan", "gap", "zero"]
_LIST_KEYS = ("eu_critical", "eu_strategic", "usgs", "doe")
_ROLES = ("eu", "doe", "usgs", "hhi", "export_controls")


@dataclass(frozen=True)
class Edition:
    """A table answering for ``role`` from date ``start`` on (until a later edition starts)."""

    role: str
    table: str
    start: dt.date
    basis: str


@dataclass(frozen=True)
class KindRule:
    """Severity of an export measure whose ``kind`` contains ``match`` (case-insensitive)."""

    match: str
    severity: float
    label: str


@dataclass(frozen=True, eq=False)
class RiskModel:
    """A parsed supply-risk model file (see ``supply_risk.toml``); hashed by identity."""

    path: Path
    sha256: str
    tables_compiled: dt.date
    weights: Mapping[str, float]
    missing: Mapping[str, MissingRule]
    list_weights: Mapping[str, float]
    kind_rules: tuple[KindRule, ...]
    magnets_not_in_scope: float
    destination_specific: float
    destination_markers: tuple[str, ...]
    unverified_in_force: bool
    level_low: float
    level_high: float
    max_age_days: int
    basis_preference: tuple[str, ...]
    volatility_window_days: int
    volatility_full_scale_ratio: float
    editions: tuple[Edition, ...]

    def edition(self, role: str, as_of: dt.date) -> Edition | None:
        """Return the edition of ``role`` in force on ``as_of`` (latest start on or before)."""
        valid = [e for e in self.editions if e.role == role and e.start <= as_of]
        return max(valid, key=lambda e: e.start) if valid else None

    def earliest(self) -> tuple[dt.date, Edition]:
        """Earliest as-of date every role can answer for, and the edition that sets it."""
        firsts: dict[str, Edition] = {}
        for e in self.editions:
            if e.role not in firsts or e.start < firsts[e.role].start:
                firsts[e.role] = e
        latest = max(firsts.values(), key=lambda e: e.start)
        return latest.start, latest


def default_model_path() -> Path:
    """Path of the shipped model file ``mi/_data/criticality/supply_risk.toml``."""
    return data_dir() / "supply_risk.toml"


def _number(value: Any, where: str, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number; got {value!r}.")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ConfigError(f"{where} must be {bound}; got {value!r}.")
    return float(value)


def _section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: missing section [{key}].")
    return value


def load_risk_model(path: str | Path | None = None) -> RiskModel:
    """Load a supply-risk model file (default: the shipped ``supply_risk.toml``).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A TOML file with the sections of the shipped one.

    Returns
    -------
    RiskModel

    Raises
    ------
    ConfigError
        Unreadable file, unknown component, weight < 0, missing section or key.

    Examples
    --------
    >>> model = load_risk_model()
    >>> sorted(model.weights)[:2], model.missing["price_level"]
    (['concentration', 'export_control'], 'gap')
    """
    resolved = Path(path) if path is not None else default_model_path()
    return _load(resolved.resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> RiskModel:
    where = f"supply-risk model {str(path)!r}"
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist; give the path of a TOML file.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.") from None
    weights_raw = _section(data, "weights", where)
    weights: dict[str, float] = {}
    for key, value in weights_raw.items():
        if key not in COMPONENTS:
            raise ConfigError(
                f"{where} [weights]: unknown component {key!r}; use {', '.join(COMPONENTS)}."
            )
        weights[key] = _number(value, f"{where} [weights] {key}")
    if sum(weights.values()) <= 0:
        raise ConfigError(f"{where} [weights] must have a positive sum.")
    missing_raw = _section(data, "missing", where)
    missing: dict[str, MissingRule] = {}
    for key in COMPONENTS:
        rule = missing_raw.get(key)
        if rule not in ("nan", "gap", "zero"):
            raise ConfigError(f"{where} [missing] {key} must be 'nan', 'gap' or 'zero'.")
        missing[key] = rule
    lists_raw = _section(data, "list_membership", where)
    list_weights = {
        k: _number(lists_raw.get(k), f"{where} [list_membership] {k}") for k in _LIST_KEYS
    }
    if sum(list_weights.values()) <= 0:
        raise ConfigError(f"{where} [list_membership] must have a positive sum.")
    ec = _section(data, "export_control", where)
    rules = []
    for i, rule in enumerate(ec.get("kind", [])):
        w = f"{where} [[export_control.kind]] #{i + 1}"
        if not isinstance(rule, Mapping) or not isinstance(rule.get("match"), str):
            raise ConfigError(f"{w} needs a text 'match'.")
        rules.append(
            KindRule(
                rule["match"].lower(),
                _number(rule.get("severity"), f"{w} severity", 0.0, 1.0),
                str(rule.get("label", rule["match"])),
            )
        )
    if not rules:
        raise ConfigError(f"{where}: no [[export_control.kind]] rules.")
    if ec.get("unverified") not in ("in_force", "lapsed"):
        raise ConfigError(f"{where} [export_control] unverified must be 'in_force' or 'lapsed'.")
    price = _section(data, "price", where)
    low = _number(price.get("level_low_usd_per_kg"), f"{where} [price] level_low_usd_per_kg")
    high = _number(price.get("level_high_usd_per_kg"), f"{where} [price] level_high_usd_per_kg")
    if not 0 < low < high:
        raise ConfigError(f"{where} [price]: need 0 < level_low_usd_per_kg < level_high.")
    ratio = _number(price.get("volatility_full_scale_ratio"), f"{where} [price] full scale")
    if ratio <= 1:
        raise ConfigError(f"{where} [price] volatility_full_scale_ratio must be > 1.")
    editions = []
    for i, ed in enumerate(data.get("editions", [])):
        w = f"{where} [[editions]] #{i + 1}"
        if not isinstance(ed, Mapping) or ed.get("role") not in _ROLES:
            hint = did_you_mean(ed.get("role"), _ROLES) if isinstance(ed, Mapping) else ""
            raise ConfigError(f"{w}: role must be one of {', '.join(_ROLES)}.{hint}")
        if not isinstance(ed.get("from"), dt.date) or isinstance(ed.get("from"), dt.datetime):
            raise ConfigError(f"{w}: 'from' must be a TOML date (YYYY-MM-DD).")
        editions.append(
            Edition(ed["role"], str(ed.get("table")), ed["from"], str(ed.get("basis", "")))
        )
    if {e.role for e in editions} != set(_ROLES):
        raise ConfigError(f"{where}: [[editions]] must cover the roles {', '.join(_ROLES)}.")
    compiled = data.get("tables_compiled")
    if not isinstance(compiled, dt.date):
        raise ConfigError(f"{where}: tables_compiled must be a TOML date.")
    return RiskModel(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        tables_compiled=compiled,
        weights=weights,
        missing=missing,
        list_weights=list_weights,
        kind_rules=tuple(rules),
        magnets_not_in_scope=_number(ec.get("magnets_not_in_scope"), f"{where} magnets", 0, 1),
        destination_specific=_number(ec.get("destination_specific"), f"{where} dest.", 0, 1),
        destination_markers=tuple(str(m) for m in ec.get("destination_markers", [])),
        unverified_in_force=ec["unverified"] == "in_force",
        level_low=low,
        level_high=high,
        max_age_days=int(_number(price.get("max_age_days"), f"{where} [price] max_age_days")),
        basis_preference=tuple(str(b) for b in price.get("basis_preference", [])),
        volatility_window_days=int(
            _number(price.get("volatility_window_days"), f"{where} [price] window")
        ),
        volatility_full_scale_ratio=ratio,
        editions=tuple(editions),
    )

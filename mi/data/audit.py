"""Label audit: one label per compound from several values, with stated plausibility rules.

Some targets hold several values per compound: the literature-mined Curie set keeps every value
mined for a compound from every paper, and merged tables pool rows from several sources. The
plain median of such a pool turns stray extractions into labels (a spin-reorientation or
measurement temperature of 4 K read as the Curie temperature of a 600 K magnet). The audit,
declared as data in the dataset manifest (``[targets.audit]``, :class:`~mi.data.spec.
LabelAuditSpec`), does what a careful reader of the papers would do, using only the values of
the compound itself and physics rules, never a model:

1. **Rules.** Each value is checked against the :class:`~mi.data.spec.AuditRule` s that apply to
   the composition (e.g. ``Tc <= 0``, ``Tc`` above the highest known Curie temperature, an
   Fe-rich rare-earth intermetallic far below any Curie temperature of its family). A failing
   value is dropped with the rule's name and reason.
2. **Consensus.** Two values agree when they differ by at most
   ``max(abs_tolerance, rel_tolerance * value)``. For every value, its window of agreeing values
   is scored by its support: the number of distinct sources (papers) in it, a value equal to a
   typical measurement temperature counting ``suspect_weight``. The label is the median of the
   best-supported window (ties: more values, then the higher window). Values outside it are
   outliers, listed but not used.
3. **No consensus.** When a window disjoint from the best one has as much support (e.g. two
   papers, 120 K and 1970 K), the values do not decide; ``no_consensus`` drops the label
   (default), or keeps the median or the higher window.

Every label the audit touches gets one row in the audit table (:data:`AUDIT_COLUMNS`), with
``action`` ``"changed"`` (the label differs from the plain median), ``"dropped"`` (no label
left) or ``"kept"`` (values were removed but the label equals the plain median). The dataset
report and the run report show it with per-rule counts (:func:`audit_counts`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.data.spec import ELEMENT_GROUPS, AuditRule, AuditWhere, LabelAuditSpec

__all__ = [
    "AUDIT_COLUMNS",
    "AuditOutcome",
    "audit_values",
    "audit_counts",
    "parse_sources",
    "rule_applies",
    "CONSENSUS_RULE",
    "NO_CONSENSUS_RULE",
]

#: Columns of the audit table (``dataset.report.audit``).
AUDIT_COLUMNS = (
    "composition",
    "target",
    "action",
    "rule",
    "raw_median",
    "label",
    "n_values",
    "n_used",
    "dropped_values",
    "outliers",
    "reason",
    "sources",
)

#: Rule name of a label moved by the cluster consensus (outliers left out).
CONSENSUS_RULE = "consensus"
#: Rule name of a label dropped because no cluster of values has a majority.
NO_CONSENSUS_RULE = "no_consensus"

_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def parse_sources(cell: object, n_values: int) -> list[str] | None:
    """Source ids of an array cell's values, or None when they cannot be matched one to one.

    Parameters
    ----------
    cell : object
        A list of ids, or a string such as ``"['10.1016/a' '10.1016/b']"`` (quoted items) or
        ``"a; b"``.
    n_values : int
        Number of values of the matching target cell.

    Returns
    -------
    list of str or None

    Examples
    --------
    >>> parse_sources("['10.1/a' '10.1/b']", 2)
    ['10.1/a', '10.1/b']
    >>> parse_sources("['10.1/a']", 2) is None
    True
    """
    if isinstance(cell, list | tuple | np.ndarray):
        items = [str(x) for x in cell]
    elif isinstance(cell, str):
        quoted = [a or b for a, b in _QUOTED.findall(cell)]
        items = quoted or [t for t in re.split(r"[;,\s]+", cell.strip("[] ")) if t]
    else:
        return None
    return items if len(items) == n_values else None


def _members(key: str, groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    return [e for part in key.split("+") for e in groups.get(part, (part,))]


def rule_applies(
    where: AuditWhere | None,
    fractions: Mapping[str, float],
    groups: Mapping[str, tuple[str, ...]] = ELEMENT_GROUPS,
) -> bool:
    """Whether a rule's composition condition holds.

    Parameters
    ----------
    where : AuditWhere or None
        The condition (None: every composition).
    fractions : mapping of str to float
        Atomic fractions of the compound (summing to 1).
    groups : mapping of str to tuple of str, optional
        Element groups the condition may name (default: :data:`~mi.data.spec.ELEMENT_GROUPS`).

    Returns
    -------
    bool

    Examples
    --------
    >>> from mi.data.spec import AuditWhere
    >>> w = AuditWhere(fractions={"R": (0.1, 0.13), "Fe+Co": (0.6, 1.0)})
    >>> rule_applies(w, {"Nd": 2 / 17, "Fe": 14 / 17, "B": 1 / 17})
    True
    >>> rule_applies(w, {"Sm": 1 / 6, "Co": 5 / 6})
    False
    """
    if where is None:
        return True
    named: set[str] = set()
    for key, (low, high) in where.fractions.items():
        members = _members(key, groups)
        x = sum(fractions.get(e, 0.0) for e in set(members))
        if not low - 1e-9 <= x <= high + 1e-9:
            return False
        named.update(members)
    if where.others_max is not None:
        others = sum(f for el, f in fractions.items() if el not in named)
        if others > where.others_max + 1e-9:
            return False
    return True


def _fails(rule: AuditRule, x: float) -> bool:
    if rule.always:
        return True
    if rule.min_value is not None:
        if x < rule.min_value or (rule.min_exclusive and x == rule.min_value):
            return True
    return rule.max_value is not None and x > rule.max_value


@dataclass(frozen=True)
class AuditOutcome:
    """The audited label of one compound.

    Attributes
    ----------
    value : float or None
        The label; None when it is dropped.
    n_used : int
        Values the label is the median of.
    std_used : float
        Their standard deviation (ddof = 0).
    record : dict or None
        The audit-table row (:data:`AUDIT_COLUMNS` without ``composition``, ``target`` and
        ``sources``) when the label changed or was dropped; None when the plain median stands.
    used : numpy.ndarray of bool or None
        Which of the input values the label is the median of (None: not recorded).
    """

    value: float | None
    n_used: int
    std_used: float
    record: dict[str, object] | None = field(default=None)
    used: np.ndarray | None = field(default=None, repr=False, compare=False)


def _fmt(values: Sequence[tuple[float, str]]) -> str:
    return ", ".join(f"{v:.6g}" + (f" ({why})" if why else "") for v, why in values)


def _support(idx: np.ndarray, sources: Sequence[str], weight: np.ndarray) -> float:
    best: dict[str, float] = {}
    for j in idx:
        best[sources[j]] = max(best.get(sources[j], 0.0), float(weight[j]))
    return float(sum(best.values()))


def _windows(v: np.ndarray, spec: LabelAuditSpec, among: np.ndarray) -> list[np.ndarray]:
    """For each value, the indices (within ``among``) of the values agreeing with it."""
    out = []
    for i in range(v.size):
        tol = max(spec.abs_tolerance, spec.rel_tolerance * abs(v[i]))
        out.append(np.flatnonzero(among & (np.abs(v - v[i]) <= tol)))
    return out


def _best_window(
    v: np.ndarray,
    sources: Sequence[str],
    weight: np.ndarray,
    spec: LabelAuditSpec,
    among: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Return the best-supported window among the values flagged in ``among``, its support."""
    best: tuple[float, int, float] | None = None
    chosen = np.array([], dtype=np.int64)
    for i, idx in enumerate(_windows(v, spec, among)):
        if not among[i]:
            continue
        score = (_support(idx, sources, weight), idx.size, float(v[i]))
        if best is None or score > best:
            best, chosen = score, idx
    return chosen, (best[0] if best else 0.0)


def audit_values(
    values: np.ndarray,
    sources: Sequence[str],
    fractions: Mapping[str, float],
    spec: LabelAuditSpec,
) -> AuditOutcome:
    """Audit the values of one compound into one label.

    Parameters
    ----------
    values : numpy.ndarray
        Every value of the compound (exact, reported ones).
    sources : sequence of str
        The source of each value (same length); support counts distinct sources.
    fractions : mapping of str to float
        Atomic fractions of the compound, for the rules' composition conditions.
    spec : LabelAuditSpec
        Rules, tolerances and the consensus method.

    Returns
    -------
    AuditOutcome

    Examples
    --------
    >>> from mi.data.spec import LabelAuditSpec, AuditRule
    >>> spec = LabelAuditSpec(rules=(AuditRule(name="positive", reason="T > 0",
    ...                                        min_value=0.0, min_exclusive=True),))
    >>> out = audit_values(np.array([0.0, 4.2, 580.0, 585.0, 590.0]),
    ...                    ["a", "b", "c", "d", "e"], {"Fe": 1.0}, spec)
    >>> out.value, out.record["rule"], out.record["outliers"]
    (585.0, 'positive; consensus', '4.2')
    """
    v = np.asarray(values, dtype=np.float64)
    src = list(sources)
    raw_median = float(np.median(v))
    rule_hits: list[str] = []
    dropped: list[tuple[float, str]] = []
    keep = np.ones(v.size, dtype=bool)
    groups = spec.all_groups
    for rule in spec.rules:
        if not rule_applies(rule.where, fractions, groups):
            continue
        hit = np.array([keep[i] and _fails(rule, float(x)) for i, x in enumerate(v)], dtype=bool)
        if hit.any():
            rule_hits.append(rule.name)
            dropped.extend((float(x), rule.name) for x in v[hit])
            keep &= ~hit
    base: dict[str, object] = {
        "raw_median": raw_median,
        "n_values": int(v.size),
        "dropped_values": _fmt(sorted(dropped)),
    }
    if not keep.any():
        last = rule_hits[-1]
        reason = next(r.reason for r in spec.rules if r.name == last)
        record = base | {
            "action": "dropped",
            "rule": "; ".join(rule_hits),
            "label": np.nan,
            "n_used": 0,
            "outliers": "",
            "reason": f"every value fails a rule: {reason}",
        }
        return AuditOutcome(None, 0, 0.0, record, np.zeros(v.size, dtype=bool))
    kept = np.flatnonzero(keep)
    vk = v[kept]
    sk = [src[i] for i in kept]
    use = np.ones(vk.size, dtype=bool)
    reason = ""
    label: float | None
    if spec.consensus == "median" or vk.size == 1:
        label = float(np.median(vk))
    else:
        suspect = np.zeros(vk.size, dtype=bool)
        for s in spec.suspect_values:
            suspect |= np.abs(vk - s) <= spec.suspect_tolerance
        weight = np.where(suspect, spec.suspect_weight, 1.0)
        everything = np.ones(vk.size, dtype=bool)
        window, support = _best_window(vk, sk, weight, spec, everything)
        rest = everything.copy()
        rest[window] = False
        _, runner_up = _best_window(vk, sk, weight, spec, rest) if rest.any() else (None, 0.0)
        use = ~rest
        n_src = len(set(sk))
        if runner_up >= support and runner_up > 0:
            if spec.no_consensus == "drop":
                record = base | {
                    "action": "dropped",
                    "rule": "; ".join([*rule_hits, NO_CONSENSUS_RULE]),
                    "label": np.nan,
                    "n_used": 0,
                    "outliers": _fmt([(x, "") for x in sorted(vk)]),
                    "reason": (
                        "no consensus: the values form disjoint clusters of equal support "
                        f"({support:g} source(s) each)"
                    ),
                }
                return AuditOutcome(None, 0, 0.0, record, np.zeros(v.size, dtype=bool))
            if spec.no_consensus == "median":
                use = everything
            reason = f"no consensus between clusters of support {support:g}; {spec.no_consensus}"
        label = float(np.median(vk[use]))
        if not reason:
            reason = (
                f"{int(use.sum())} of {vk.size} values ({support:g} of {n_src} sources) agree "
                f"within max({spec.abs_tolerance:g}, {100 * spec.rel_tolerance:g} %)"
            )
    outliers = sorted(float(x) for x in vk[~use])
    if outliers:
        rule_hits.append(CONSENSUS_RULE)
    used = vk[use]
    std = float(used.std())
    mask = np.zeros(v.size, dtype=bool)
    mask[kept[use]] = True
    if not rule_hits and label == raw_median:
        return AuditOutcome(label, int(used.size), std, None, mask)
    if dropped and not reason:
        reason = "values failing a rule dropped"
    elif dropped:
        reason = "values failing a rule dropped; " + reason
    record = base | {
        "action": "changed" if label != raw_median else "kept",
        "rule": "; ".join(rule_hits),
        "label": label,
        "n_used": int(used.size),
        "outliers": _fmt([(x, "") for x in outliers]),
        "reason": reason,
    }
    return AuditOutcome(label, int(used.size), std, record, mask)


def audit_counts(audit: pd.DataFrame) -> pd.DataFrame:
    """Labels changed and dropped per target and rule.

    Parameters
    ----------
    audit : pandas.DataFrame
        An audit table (:data:`AUDIT_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        Columns ``target, rule, changed, dropped, values_dropped``: per rule the labels it
        touched that changed or were dropped (a label touched by two rules counts under both),
        and the single values the rule removed.
    """
    columns = ["target", "rule", "changed", "dropped", "values_dropped"]
    if audit is None or audit.empty:
        return pd.DataFrame(columns=columns)
    rows: dict[tuple[str, str], list[int]] = {}
    for rec in audit.itertuples(index=False):
        rules = [r.strip() for r in str(rec.rule).split(";") if r.strip()]
        dropped_text = str(rec.dropped_values) if isinstance(rec.dropped_values, str) else ""
        for rule in rules:
            entry = rows.setdefault((str(rec.target), rule), [0, 0, 0])
            if rec.action == "changed":
                entry[0] += 1
            elif rec.action == "dropped":
                entry[1] += 1
            entry[2] += dropped_text.count(f"({rule})")
    out = [(t, r, *counts) for (t, r), counts in rows.items()]
    return pd.DataFrame(out, columns=columns).sort_values(["target", "rule"], ignore_index=True)

"""Turn raw tables into a :class:`~mi.data.dataset.Dataset`, accounting for every row.

Rules (the same for registered datasets and a user's own table):

1. **Validate.** A row is accepted when its composition is a valid formula (see
   :mod:`mi.data.formulas`) and every target cell parses (see :mod:`mi.data.values`). Every
   problem of a rejected row is listed with file, row, column, value and reason.
2. **Merge.** Accepted rows with the same reduced composition (and the same ``merge_by``
   values, e.g. the train/test ``split``) become one row. All their values are pooled (an
   array cell contributes all its values) and the target holds the **median** (or mean) of the
   pool, ``<target>_n`` the pool size and ``<target>_std`` its standard deviation (ddof = 0; 0
   for a single value). Censored values (``<1E-10``) enter the pool only when the group has
   no exact value; then ``<target>_censored`` is True. Values coded as "not reported"
   (``missing_value``) enter the pool only when the group has no reported value; then the
   ``reported_flag`` column is False. Other kept columns take the group's first value. Every
   merged group is listed in the report.
3. **Label audit.** A target with an enabled ``audit`` (:class:`~mi.data.spec.LabelAuditSpec`)
   takes the consensus of :func:`mi.data.audit.audit_values` instead of the plain median:
   implausible values are dropped by the stated rules, stray values left out of the consensus;
   ``<target>_n`` and ``<target>_std`` then describe the values the label is the median of. Every
   label changed or dropped is a row of ``report.audit``; a compound whose every target label
   is dropped is rejected (each of its input rows, with the rule as reason).
4. **Flags** derived from targets (``is_metal = Eg == 0``) are computed on merged values.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mi.data.audit import AUDIT_COLUMNS, AuditOutcome, audit_values, parse_sources
from mi.data.conditions import read_conditions
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.element_columns import element_columns, element_formulas
from mi.data.formulas import check_formulas
from mi.data.report import RejectLog, ValidationReport
from mi.data.spec import TableSpec, TargetSpec
from mi.data.values import ParsedValue, TransformDomainError, parse_target_cell
from mi.data.where import parse_where
from mi.exceptions import TableError, did_you_mean

__all__ = ["SourceFrame", "clean_frames"]

_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class SourceFrame:
    """One raw table read from one file, plus constant columns to add (e.g. ``split``)."""

    file: str
    df: pd.DataFrame
    constants: dict[str, object] = field(default_factory=dict)


@dataclass
class _Row:
    file: str
    row: int
    key: tuple[object, ...]
    formula: str
    structure: object
    values: dict[str, ParsedValue]
    kept: dict[str, object]
    sources: dict[str, object] = field(default_factory=dict)


def _require_columns(frame: SourceFrame, spec: TableSpec) -> None:
    needed = [spec.composition_col, spec.structure_col, *(t.source for t in spec.targets)]
    needed += [t.audit.sources_column for t in _audited(spec) if t.audit is not None]
    conditions = {c.name for c in spec.conditions}
    needed += [c for c in spec.merge_by if c not in frame.constants and c not in conditions]
    if spec.keep_columns:
        needed += list(spec.keep_columns)
    columns = [str(c) for c in frame.df.columns]
    for col in needed:
        if col is not None and col not in frame.df.columns:
            hint = did_you_mean(col, columns)
            raise TableError(
                f"Column {col!r} is not in {frame.file} (columns: {columns}).{hint} "
                "Name the right column."
            )


def _audited(spec: TableSpec) -> list[TargetSpec]:
    """Targets whose label audit is on."""
    return [t for t in spec.targets if t.audit is not None and t.audit.enabled]


def _fractions(formula: str) -> dict[str, float]:
    from mi.chem import parse_formula

    amounts = parse_formula(formula)
    total = sum(amounts.values())
    return {el: a / total for el, a in amounts.items()} if total > 0 else {}


def _audit_group(members: Sequence[_Row], t: TargetSpec) -> AuditOutcome | None:
    """Audit one merged group's values of target ``t`` (None: nothing to audit)."""
    assert t.audit is not None
    values: list[np.ndarray] = []
    sources: list[str] = []
    for m in members:
        p = m.values[t.name]
        if p.censored or not p.reported:
            continue
        ids = None
        if t.audit.sources_column is not None:
            ids = parse_sources(m.sources.get(t.name), p.values.size)
        if ids is None:  # one source per input row
            ids = [f"{m.file} row {m.row}"] * p.values.size
        values.append(p.values)
        sources.extend(ids)
    if not values:
        return None
    return audit_values(np.concatenate(values), sources, _fractions(members[0].formula), t.audit)


def _structure_formulas(cells: list[object], file: str, log: RejectLog, col: str):
    from pymatgen.core import Structure

    formulas: list[object] = []
    structures: list[object] = []
    for row, cell in enumerate(cells):
        struct = cell
        if isinstance(cell, dict):
            try:
                struct = Structure.from_dict(cell)
            except Exception as exc:  # pymatgen raises many types on bad dicts
                log.add(file, row, col, cell, f"not a structure: {exc}")
                struct = None
        if struct is not None and not isinstance(struct, Structure):
            log.add(file, row, col, cell, f"not a pymatgen Structure ({type(cell).__name__})")
            struct = None
        structures.append(struct)
        formulas.append(None if struct is None else struct.composition.element_composition.formula)
    return formulas, structures


def _aggregate(rows: Sequence[ParsedValue], spec: TargetSpec, rule: str):
    """Merge the parsed values of one group: (value, n, std, censored, reported)."""
    if len(rows) == 1 and rows[0].values.size == 1:  # fast path: a single value
        only = rows[0]
        x = float(only.values[0])
        return (bool(x >= 0.5) if spec.kind == "bool" else x), 1, 0.0, only.censored, only.reported
    use = [r for r in rows if r.values.size]
    if not use:  # an optional target measured in none of the group's rows
        return float("nan"), 0, float("nan"), False, True
    reported = True
    if spec.missing_value is not None:
        rep = [r for r in use if r.reported]
        reported = bool(rep)
        use = rep or use
    exact = [r for r in use if not r.censored]
    censored = not exact
    use = exact or use
    pool = np.concatenate([r.values for r in use])
    # near float64's limit, sums overflow (two 1e308 values would merge to inf): scale first
    big = float(np.max(np.abs(pool))) if pool.size and spec.kind != "bool" else 0.0
    scale = big if math.isfinite(big) and big > 1e150 else 1.0
    unit = pool / scale
    if spec.kind == "bool":
        value: float | bool = bool(pool.mean() >= 0.5)
    elif rule == "mean":
        value = float(unit.mean()) * scale
    else:
        value = float(np.median(unit)) * scale
    with np.errstate(over="ignore", invalid="ignore"):
        std = float(unit.std()) * scale
    return value, int(pool.size), std, censored, reported


def _show(p: ParsedValue) -> str:
    if p.values.size == 0:
        return "-"
    text = ",".join(f"{v:.6g}" for v in p.values)
    text = f"[{text}]" if p.values.size > 1 else text
    if p.censored:
        text = "censored " + text
    if not p.reported:
        text += " (not reported)"
    return text


def clean_frames(
    frames: Sequence[SourceFrame], spec: TableSpec, meta: DatasetMeta | None = None
) -> Dataset:
    """Validate, merge and flag raw tables into a :class:`Dataset` with its report.

    Parameters
    ----------
    frames : sequence of SourceFrame
        Raw tables (one per file) with the constants to add to their rows.
    spec : TableSpec
        Column roles and cleaning rules.
    meta : DatasetMeta, optional
        Provenance; units are filled in from the targets.

    Returns
    -------
    Dataset
        ``composition`` (clean formula), optional ``structure``, targets with ``_n``/``_std``
        (and ``_censored`` / reported flags where relevant), derived flags, constants and
        kept columns. ``dataset.report`` accounts for every input row.
    """
    meta = meta or DatasetMeta(name="table")
    log = RejectLog()
    accepted: list[_Row] = []
    n_input = 0
    generated = {"composition", "structure"}
    for t in spec.targets:
        generated |= {t.name, f"{t.name}_n", f"{t.name}_std", f"{t.name}_censored"}
        if t.reported_flag:
            generated.add(t.reported_flag)
    generated |= {f.name for f in spec.flags}
    kept_names: list[str] = []
    isotope_rows: list[str] = []
    renames: dict[str, str] = {}
    condition_names = [c.name for c in spec.conditions]
    generated |= set(condition_names)
    where = parse_where(spec.where) if spec.where else None
    filtered: list[tuple[str, int, str]] = []
    filled: dict[str, int] = {}
    for frame in frames:
        _require_columns(frame, spec)
        df = frame.df
        n = len(df)
        n_input += n
        flog = RejectLog()  # this frame's problems; rows the filter removes are left out
        cond = read_conditions(df, spec.conditions, frame.file)
        for name, k in cond.filled.items():
            filled[name] = filled.get(name, 0) + k
        skip: set[int] = set()
        if where is not None:
            view = df.assign(**{k: v for k, v in cond.values.items() if k not in df.columns})
            keep_mask = where.mask(view, frame.file)
            skip = {int(r) for r in np.flatnonzero(~keep_mask)}
            filtered.extend((frame.file, r, f"where {where.text}") for r in sorted(skip))
        for row, (col, value, reason) in cond.problems.items():
            flog.add(frame.file, row, col, value, reason)
        if spec.structure_col is not None:
            cells = df[spec.structure_col].tolist()
            s_formulas, structures = _structure_formulas(
                cells, frame.file, flog, spec.structure_col
            )
        else:
            structures = [None] * n
        no_formula: set[int] = set()
        if spec.elements is not None:
            made = element_formulas(df, spec.elements, frame.file, skip)
            for row, (col, value, reason) in made.problems.items():
                flog.add(frame.file, row, col, value, reason)
            no_formula = set(made.problems)
            comp_cells: list[object] = ["" if f is None else f for f in made.formulas]
            comp_col = made.span
        elif spec.composition_col is not None:
            comp_cells = df[spec.composition_col].tolist()
            comp_col = spec.composition_col
        else:
            comp_cells, comp_col = s_formulas, str(spec.structure_col)
        check = check_formulas(comp_cells)
        isotope_rows.extend(f"{frame.file} row {row} {comp_cells[row]!r}" for row in check.isotopes)
        for row, reason in check.errors.items():
            if row in no_formula:
                continue
            if spec.composition_col is not None or spec.elements is not None:
                flog.add(frame.file, row, comp_col, comp_cells[row], reason)
            elif structures[row] is not None:
                flog.add(frame.file, row, comp_col, comp_cells[row], reason)
        parsed: dict[str, list[ParsedValue | None]] = {}
        for t in spec.targets:
            out: list[ParsedValue | None] = []
            for row, cell in enumerate(df[t.source].tolist()):
                if row in skip:
                    out.append(None)
                    continue
                try:
                    out.append(parse_target_cell(cell, t))
                except TransformDomainError as exc:
                    if t.on_invalid_transform == "error":
                        raise TableError(
                            f"{frame.file}: row {row}, column {t.source!r}: value {cell!r} is "
                            f"{exc}. Remove the row (where = ...), or set "
                            "on_invalid_transform = 'reject' for this target."
                        ) from None
                    flog.add(frame.file, row, t.source, cell, str(exc))
                    out.append(None)
                except ValueError as exc:
                    flog.add(frame.file, row, t.source, cell, str(exc))
                    out.append(None)
            parsed[t.name] = out
        roles = {spec.composition_col, spec.structure_col, *(t.source for t in spec.targets)}
        roles |= {c.source for c in spec.conditions}
        if spec.elements is not None:
            roles |= set(element_columns([str(c) for c in df.columns], spec.elements, frame.file))
        if spec.keep_columns is None:
            keep = [c for c in df.columns if c not in roles and not str(c).startswith("Unnamed:")]
        else:
            keep = list(spec.keep_columns)
        for col in keep:
            name = spec.rename.get(str(col), str(col))
            if name in generated or name in frame.constants:
                name = f"{name}_source"
            renames[str(col)] = name
            if name not in kept_names:
                kept_names.append(name)
        keep_values = {c: df[c].tolist() for c in keep}
        source_cells = {
            t.name: df[t.audit.sources_column].tolist()
            for t in _audited(spec)
            if t.audit is not None and t.audit.sources_column is not None
        }
        for problem in flog._entries:
            if problem[1] not in skip:
                log._entries.append(problem)
        bad = {r for _, r in flog.rows()} | skip
        for row in range(n):
            if row in bad:
                continue
            kept = {renames[str(c)]: keep_values[c][row] for c in keep}
            kept.update({k: float(v[row]) for k, v in cond.values.items()})
            kept.update(frame.constants)
            extra = tuple(_key_value(kept.get(c)) for c in [*condition_names, *spec.merge_by])
            accepted.append(
                _Row(
                    frame.file,
                    row,
                    (check.keys[row], *extra),
                    str(check.formulas[row]),
                    structures[row],
                    {t.name: parsed[t.name][row] for t in spec.targets},  # type: ignore[misc]
                    kept,
                    {name: cells[row] for name, cells in source_cells.items()},
                )
            )
    constant_names = [c for f in frames for c in f.constants]
    constant_names = list(dict.fromkeys(constant_names))

    groups: dict[tuple[object, ...], list[_Row]] = {}
    for i, rec in enumerate(accepted):
        key = rec.key if spec.merge != "none" else (i,)
        groups.setdefault(key, []).append(rec)
    rule = "median" if spec.merge == "none" else spec.merge

    columns: dict[str, list[object]] = {"composition": []}
    if spec.structure_col is not None:
        columns["structure"] = []
    any_censored = {t.name: False for t in spec.targets}
    for t in spec.targets:
        columns[t.name], columns[f"{t.name}_n"], columns[f"{t.name}_std"] = [], [], []
        columns[f"{t.name}_censored"] = []
        if t.reported_flag:
            columns[t.reported_flag] = []
    for name in [*condition_names, *constant_names, *kept_names]:
        columns[name] = []
    differing: dict[str, int] = {}
    merged_rows: list[dict[str, object]] = []
    audit_rows: list[dict[str, object]] = []
    audited = _audited(spec)
    n_audit_rejected = 0
    for members in groups.values():
        first = members[0]
        outcomes: dict[str, AuditOutcome] = {}
        for t in audited:
            outcome = _audit_group(members, t)
            if outcome is None:
                continue
            outcomes[t.name] = outcome
            if outcome.record is not None:
                audit_rows.append(
                    {"composition": first.formula, "target": t.name}
                    | outcome.record
                    | {"sources": "; ".join(f"{m.file} row {m.row}" for m in members)}
                )
        if spec.targets and all(
            t.name in outcomes and outcomes[t.name].value is None for t in spec.targets
        ):  # no label left: the rows are rejected, with the audit's reason
            for member in members:
                for t in spec.targets:
                    why = outcomes[t.name].record or {}
                    log.add(
                        member.file,
                        member.row,
                        t.source,
                        _show(member.values[t.name]),
                        f"label audit ({why.get('rule')}): {why.get('reason')}",
                    )
            n_audit_rejected += len(members)
            continue
        columns["composition"].append(first.formula)
        if spec.structure_col is not None:
            columns["structure"].append(first.structure)
        for t in spec.targets:
            value, n, std, censored, reported = _aggregate(
                [m.values[t.name] for m in members], t, rule
            )
            if t.name in outcomes:
                audit = outcomes[t.name]
                value = np.nan if audit.value is None else audit.value
                n, std = audit.n_used, audit.std_used
            columns[t.name].append(value)
            columns[f"{t.name}_n"].append(n)
            columns[f"{t.name}_std"].append(std)
            columns[f"{t.name}_censored"].append(censored)
            any_censored[t.name] |= censored
            if t.reported_flag:
                columns[t.reported_flag].append(reported)
        for name in [*condition_names, *constant_names, *kept_names]:
            columns[name].append(first.kept.get(name))
        if len(members) > 1:
            differs = _differing(members, kept_names)
            for name in differs:
                differing[name] = differing.get(name, 0) + 1
            entry: dict[str, object] = {
                "composition": first.formula,
                **{c: first.kept.get(c) for c in [*condition_names, *spec.merge_by]},
                "n_rows": len(members),
                "sources": "; ".join(f"{m.file} row {m.row}" for m in members),
            }
            for t in spec.targets:
                entry[f"{t.name}_values"] = "; ".join(_show(m.values[t.name]) for m in members)
                entry[t.name] = columns[t.name][-1]
            how = "label audit consensus" if outcomes else f"{rule}"
            entry["rule"] = f"{how} of pooled values; other columns from the first row"
            entry["differs_in"] = ", ".join(differs)
            merged_rows.append(entry)

    for t in spec.targets:
        if t.censored is False or (t.censored is None and not any_censored[t.name]):
            del columns[f"{t.name}_censored"]
    df = pd.DataFrame(columns)
    for t in spec.targets:
        df[f"{t.name}_n"] = df[f"{t.name}_n"].astype("int64")
        df[t.name] = df[t.name].astype(bool if t.kind == "bool" else "float64")
        if f"{t.name}_censored" in df:
            df[f"{t.name}_censored"] = df[f"{t.name}_censored"].astype(bool)
        if t.reported_flag:
            df[t.reported_flag] = df[t.reported_flag].astype(bool)
    for flag in spec.flags:
        df[flag.name] = _OPS[flag.op](df[flag.target].astype(float), flag.value).astype(bool)

    notes: list[str] = []
    if differing:
        shown = ", ".join(f"{k!r} ({v} groups)" for k, v in sorted(differing.items()))
        notes.append(
            f"merged rows that differ in other columns: {shown}; those columns show the first "
            "row's value (see the merged report). Declare such a column as a condition or in "
            "merge_by to keep its rows apart, or use merge = 'none'."
        )
    for name, k in filled.items():
        cspec = next(c for c in spec.conditions if c.name == name)
        notes.append(f"condition {name}: {k} empty cells filled with {cspec.missing} {cspec.unit}")
    if isotope_rows:
        shown = "; ".join(isotope_rows[:10]) + (" ..." if len(isotope_rows) > 10 else "")
        notes.append(
            f"composition: {len(isotope_rows)} accepted rows use D/T, read as hydrogen "
            f"(check for typos such as 'TI' for 'Tl'): {shown}"
        )
    for t in spec.targets:
        if t.missing_value is not None:
            k = sum(1 for r in accepted if not r.values[t.name].reported)
            notes.append(
                f"{t.name}: {k} accepted rows carry the code {t.missing_value:g} ('not reported'); "
                f"kept, with {t.reported_flag} = False where no reported value exists"
            )
        if f"{t.name}_censored" in df:
            k = sum(1 for r in accepted if r.values[t.name].censored)
            notes.append(
                f"{t.name}: {k} censored input values kept ({int(df[t.name + '_censored'].sum())}"
                f" output rows flagged {t.name}_censored)"
            )
    audit_frame = pd.DataFrame(audit_rows, columns=list(AUDIT_COLUMNS))
    for t in audited:
        mine = audit_frame[audit_frame["target"] == t.name]
        n_changed = int((mine["action"] == "changed").sum())
        n_dropped = int((mine["action"] == "dropped").sum())
        rules = ", ".join(r.name for r in t.audit.rules) if t.audit else ""
        method = t.audit.consensus if t.audit else ""
        notes.append(
            f"{t.name}: label audit on (rules {rules}; {method} consensus): {n_changed} labels "
            f"changed, {n_dropped} dropped ({n_audit_rejected} input rows rejected); listed in "
            "report.audit"
        )
    report = ValidationReport(
        n_input=n_input,
        n_accepted=len(accepted) - n_audit_rejected,
        rejected=log.frame(),
        filtered=pd.DataFrame(filtered, columns=["file", "row", "rule"]),
        merged=pd.DataFrame(merged_rows),
        n_output=len(df),
        notes=notes,
        audit=audit_frame,
    )
    report.check()
    meta.units = {t.name: t.unit for t in spec.targets} | dict(meta.units)
    meta.transforms = {t.name: t.transform for t in spec.targets if t.transform} | dict(
        meta.transforms
    )
    meta.conditions = {c.name: c.unit for c in spec.conditions} | dict(meta.conditions)
    return Dataset(
        df,
        composition_col="composition",
        structure_col="structure" if spec.structure_col is not None else None,
        targets=[t.name for t in spec.targets],
        meta=meta,
        report=report,
    )


def _key_value(value: object) -> object:
    """Return a merge-key component: NaN becomes None so that two empty cells compare equal."""
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _differing(members: Sequence[_Row], names: Sequence[str]) -> list[str]:
    """Kept columns whose values are not the same in every member of a merged group."""
    out = []
    for name in names:
        first = _key_value(members[0].kept.get(name))
        if any(_key_value(m.kept.get(name)) != first for m in members[1:]):
            out.append(name)
    return out

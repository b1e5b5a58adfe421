"""A campaign's tables from its spec, and the check of every table of results.

- :func:`build_pool`, :func:`featurize_pool`: the pool (canonical key, composition, criticality
  columns, ``feasible`` with what each constraint removed) and its features, computed once when
  a campaign is created from the formulas of its candidate space
  (:class:`mi.candidates.space_spec.CandidateSpaceSpec`);
- :func:`read_initial`: results known before the campaign (a strict CSV, or any table through
  :func:`mi.data.read_table` with its row accounting);
- :func:`check_results`: the one check of a results table (the initial CSV and every
  ``observe``): one error naming every bad row, or the canonical keys and values.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mi._csv import read_csv_text
from mi.active.spec import CampaignSpec
from mi.candidates.constraint_spec import feasible_mask
from mi.exceptions import DataWarning, ObservationError, SpecError

__all__ = [
    "build_pool",
    "check_results",
    "featurize_pool",
    "read_initial",
    "row_list",
]

_MAX_LISTED = 10


def row_list(rows: Any, offset: int) -> str:
    """Return row positions plus ``offset`` as text, the first ten and how many more."""
    shown = ", ".join(str(int(r) + offset) for r in list(rows)[:_MAX_LISTED])
    more = f" (+{len(rows) - _MAX_LISTED} more)" if len(rows) > _MAX_LISTED else ""
    return shown + more


def check_results(
    df: pd.DataFrame,
    composition_col: str,
    columns: Mapping[str, str],
    *,
    where: str,
    offset: int,
    pool_index: Mapping[str, int] | None = None,
    measured: Collection[str] = (),
    tail: str = "",
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Check a table of measured results; return its formulas, canonical keys and values.

    Parameters
    ----------
    df : DataFrame
        The results.
    composition_col : str
        Column of the formulas.
    columns : mapping
        Target name -> its column in ``df``.
    where : str
        Name of the table in messages (a file name, or ``observe``).
    offset : int
        Added to row positions in messages (2 for CSV line numbers; 0 names rows).
    pool_index : mapping, optional
        Canonical keys allowed (the campaign's pool); any key when None.
    measured : collection of str
        Keys already measured (refused).
    tail : str
        Appended to the error message.

    Raises
    ------
    ObservationError
        One line naming every problem and its rows: missing columns, unparsable, unknown,
        duplicate or already measured compositions, missing or non-numeric values.
    """
    from mi.chem import parse_formulas

    missing = [c for c in (composition_col, *columns.values()) if c not in df]
    if missing:
        expected = " and ".join(repr(c) for c in (composition_col, *columns.values()))
        raise ObservationError(
            f"{where}: missing column(s) {missing}; expected {expected} (found {list(df.columns)})."
        )
    label = "line" if offset else "row"
    formulas = df[composition_col].astype(str).str.strip().tolist()
    parsed = parse_formulas(formulas, on_error="report")
    valid = np.asarray(parsed.valid, bool)
    keys = np.array(parsed.matrix.canonical_keys(), dtype=object)
    problems: list[str] = []

    def problem(what: str, rows: Any, example: bool = True) -> None:
        if len(rows):
            shown = f" (e.g. {formulas[rows[0]]!r})" if example else ""
            problems.append(f"{what} at {label}s {row_list(rows, offset)}{shown}")

    problem("unparsable compositions", np.flatnonzero(~valid))
    if pool_index is not None:
        unknown = [i for i in np.flatnonzero(valid) if keys[i] not in pool_index]
        problem("compositions not in this campaign's pool", unknown)
    duplicated = pd.Series(keys).duplicated(keep=False).to_numpy() & valid
    problem("duplicate compositions", np.flatnonzero(duplicated), example=False)
    problem("already measured", [i for i in np.flatnonzero(valid) if keys[i] in measured])
    values: dict[str, np.ndarray] = {}
    for target, column in columns.items():
        raw = df[column]
        text = raw.astype(str).str.strip().replace("", np.nan)
        values[target] = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(values[target]))
        if bad.size:
            problems.append(
                f"missing or non-numeric {column!r} at {label}s {row_list(bad, offset)} "
                f"(e.g. {str(raw.iloc[bad[0]])!r})"
            )
    if problems:
        raise ObservationError(f"{where}: " + "; ".join(problems) + "." + tail)
    return formulas, keys, values


def read_initial(spec: CampaignSpec) -> pd.DataFrame | None:
    """Read the initial results: key, composition and the targets.

    A plain CSV is read strictly (any bad row stops, naming its line); any other table goes
    through :func:`mi.data.read_table`, and the frame carries ``attrs["report"]`` (input,
    accepted, filtered, rejected and merged counts with the reasons, kept in the metadata).
    """
    init = spec.initial
    if init is None:
        return None
    path = spec.resolve(init.file)
    assert path is not None
    if not path.is_file():
        raise SpecError(f"initial.file {str(path)!r} does not exist.")
    # the file's column of each measured target (target_col renames a single target)
    columns = {spec.target: init.target_col or spec.target} | {t: t for t in spec.targets[1:]}
    if init.strict_csv:
        formulas, keys, values = check_results(
            read_csv_text(path), init.composition_col, columns, where=path.name, offset=2
        )
        return pd.DataFrame({"key": keys.astype(str), "composition": formulas, **values})
    from mi.chem import parse_formulas
    from mi.data import read_table

    ds = read_table(
        path,
        composition_col=init.composition_col,
        targets=columns,
        where=init.where,
        elements=init.elements,
        read_options=init.read_options or None,
        sheet=init.sheet,
        name=path.stem,
    )
    df = ds.df.dropna(subset=list(columns)).reset_index(drop=True)
    report = ds.report
    if len(df) == 0:
        raise ObservationError(
            f"{path.name}: no usable results ({report.n_input} rows read, "
            f"{report.n_rejected} rejected, {report.n_filtered} filtered)."
        )
    compositions = df["composition"].astype(str).tolist()
    out = pd.DataFrame(
        {
            "key": parse_formulas(compositions).canonical_keys(),
            "composition": compositions,
            **{t: df[t].to_numpy(np.float64) for t in columns},
        }
    )
    reasons = (
        report.rejected["reason"].value_counts().to_dict()
        if len(report.rejected) and "reason" in report.rejected
        else {}
    )
    counts = ("n_input", "n_accepted", "n_filtered", "n_rejected", "n_merged_groups")
    out.attrs["report"] = {
        "file": path.name,
        **{k: int(getattr(report, k)) for k in counts},
        "n_results": int(len(out)),
        "rejected_reasons": {str(k): int(v) for k, v in reasons.items()},
    }
    return out


def build_pool(
    spec: CampaignSpec, formulas: list[str], initial: pd.DataFrame | None
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Return the pool (criticality columns, ``feasible``), its atomic fractions and elements.

    The pool's ``attrs["constraint_report"]`` says what each constraint removed.
    """
    from mi.chem import ELEMENTS, parse_formulas
    from mi.criticality import exclude_elements, score

    parsed = parse_formulas(formulas, on_error="report")
    valid = np.asarray(parsed.valid, bool)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        raise SpecError(
            f"{(~valid).sum()} candidate formulas cannot be parsed, at rows {row_list(bad, 0)} "
            f"(e.g. {formulas[bad[0]]!r}); fix or remove them."
        )
    frame = pd.DataFrame(
        {"key": parsed.matrix.canonical_keys(), "composition": formulas, "in_candidates": True}
    )
    dup = frame["key"].duplicated()
    if dup.any():
        warnings.warn(
            f"{int(dup.sum())} candidates repeat an earlier composition (same reduced formula) "
            f"and were merged into it, e.g. {formulas[int(np.flatnonzero(dup)[0])]!r}.",
            DataWarning,
            stacklevel=3,
        )
        frame = frame[~dup]
    if initial is not None:
        extra = initial[~initial["key"].isin(set(frame["key"]))]
        frame = pd.concat(
            [frame, extra[["key", "composition"]].assign(in_candidates=False)], ignore_index=True
        )
    frame = frame.reset_index(drop=True)
    matrix = parse_formulas(frame["key"].tolist())
    crit = score(matrix, include_composition=False)
    for col in crit.columns:
        frame[col] = (crit[col].astype(str) if col == "missing_elements" else crit[col]).to_numpy()
    c = spec.constraints
    rules: list[tuple[str, np.ndarray]] = [
        (
            f"{label} <= {limit}{note}",
            np.nan_to_num(frame[col].to_numpy(float), nan=np.inf) <= limit,
        )
        for label, col, limit, note in (
            ("Dy+Tb mass fraction", "dytb_mass_fraction", c.max_dytb_mass_fraction, ""),
            ("HREE mass fraction", "hree_mass_fraction", c.max_hree_mass_fraction, ""),
            ("supply risk", "supply_risk", c.max_supply_risk, " (unknown risk is infeasible)"),
        )
        if limit is not None
    ]
    if c.exclude_elements:
        rule = exclude_elements(c.exclude_elements)
        rules.append((rule.description, np.asarray(rule(matrix), bool)))
    risk = frame[c.risk if c.risk in frame else "supply_risk"].to_numpy(np.float64)
    rules += [(r.describe(), feasible_mask([r], matrix, risk)[0]) for r in c.rules]
    feasible = np.ones(len(frame), bool)
    report = []
    for desc, ok in rules:
        report.append({"constraint": desc, "removed": int((feasible & ~ok).sum())})
        feasible &= ok
    frame["feasible"] = feasible
    frame.attrs["constraint_report"] = report
    fractions = matrix.fractions()
    present = np.flatnonzero(fractions.any(axis=0))
    return frame, fractions[:, present], [ELEMENTS[j] for j in present]


def featurize_pool(
    spec: CampaignSpec, pool: pd.DataFrame, fractions: np.ndarray, elements: list[str]
) -> pd.DataFrame:
    """Return the pool's features: the spec's preset, or its atomic fractions."""
    if spec.features.preset == "fractions":
        return pd.DataFrame(fractions, columns=[f"fraction {e}" for e in elements])
    from mi.features import featurize

    feats = featurize(
        pool["key"].tolist(),
        preset=spec.features.preset,
        backend=spec.features.backend,  # type: ignore[arg-type]
    )
    return feats.reset_index(drop=True).astype(np.float64)

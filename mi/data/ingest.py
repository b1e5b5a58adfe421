"""Chunked ingest of large CSV/TSV tables: bounded memory, the same result as one pass.

:func:`clean_csv_chunked` reads the file in chunks of ``chunk_rows`` rows and cleans each chunk
with :func:`mi.data.cleaning.clean_frames` without merging; every accepted row leaves only its
canonical key, clean formula, target values and row number, held in Arrow arrays (a few tens
of bytes per row instead of the ~1 kB of Python objects of the one-pass path). Duplicates are
then merged across the whole file with the same rule (``median`` / ``mean`` of the pooled
values, composition and other columns from the first row), and rejected rows keep their row
numbers in the file.

Cases the compact form does not hold (censored values, several values in one cell, flags,
``merge_by``, structures) make it return ``None``, and :func:`mi.data.read_table` falls back to
the one-pass path, so the result never differs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._csv import csv_source
from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.report import ValidationReport
from mi.data.spec import TableSpec

__all__ = ["CHUNK_ROWS", "CHUNKED_MIN_BYTES", "clean_csv_chunked"]

#: Rows cleaned at a time.
CHUNK_ROWS = 20_000
#: Files at least this large take the chunked path in :func:`mi.data.read_table`.
CHUNKED_MIN_BYTES = 5_000_000


def _supported(spec: TableSpec) -> bool:
    return (
        spec.structure_col is None
        and spec.composition_col is not None
        and not spec.merge_by
        and not spec.flags
        and spec.elements is None
        and not spec.conditions
        and spec.where is None
        and all(
            t.kind == "float"
            and t.reported_flag is None
            and t.transform is None
            and t.audit is None
            and t.array_index is None
            for t in spec.targets
        )
    )


def _only_composition_and_targets(path: Path, spec: TableSpec, sep: str) -> bool:
    """Whether the file holds no other column (a merge then never hides a differing value)."""
    import pandas as pd

    from mi._csv import csv_source

    header = pd.read_csv(csv_source(path), sep=sep, nrows=0, dtype=str).columns
    needed = {str(spec.composition_col), *(t.source for t in spec.targets)}
    return set(map(str, header)) <= needed


def _show(value: float) -> str:
    return f"{value:.6g}"


def _pool(values: np.ndarray, rule: str) -> tuple[float, float]:
    """Return the merged value and std of one group (as ``cleaning._aggregate`` does)."""
    big = float(np.max(np.abs(values)))
    scale = big if math.isfinite(big) and big > 1e150 else 1.0
    unit = values / scale
    value = float(unit.mean()) * scale if rule == "mean" else float(np.median(unit)) * scale
    with np.errstate(over="ignore", invalid="ignore"):
        std = float(unit.std()) * scale
    return value, std


def clean_csv_chunked(
    path: Path,
    spec: TableSpec,
    meta: DatasetMeta,
    *,
    sep: str = ",",
    chunk_rows: int = CHUNK_ROWS,
) -> Dataset | None:
    """Clean a CSV/TSV file chunk by chunk; ``None`` when the spec needs the one-pass path.

    The chunked path handles plain tables (a formula column and float targets, nothing else);
    a table with other columns goes through the one-pass path, which says in which columns the
    rows of a merged group differ.

    Parameters
    ----------
    path : Path
        The file.
    spec : TableSpec
        Column roles and cleaning rules.
    meta : DatasetMeta
        Provenance.
    sep : str, default ","
        Field separator.
    chunk_rows : int
        Rows per chunk.

    Returns
    -------
    Dataset or None
    """
    import pyarrow as pa

    from mi.chem import parse_formulas
    from mi.chem.hashing import row_hashes

    if not _supported(spec) or not _only_composition_and_targets(path, spec, sep):
        return None
    file = str(path)
    single = spec.model_copy(update={"merge": "none"})
    names = [t.name for t in spec.targets]
    keys: list[Any] = []
    formulas: list[Any] = []
    rows: list[np.ndarray] = []
    values: dict[str, list[np.ndarray]] = {n: [] for n in names}
    kept: dict[str, list[Any]] = {}
    rejected: list[pd.DataFrame] = []
    notes: list[str] = []
    n_input = 0
    reader = pd.read_csv(csv_source(path), sep=sep, chunksize=chunk_rows)
    for chunk in reader:
        chunk = chunk.reset_index(drop=True)
        ds = clean_frames([SourceFrame(file, chunk)], single, meta)
        df = ds.df
        if any(f"{n}_censored" in df.columns for n in names) or any(
            (df[f"{n}_n"] > 1).any() for n in names
        ):
            return None  # censored or multi-valued cells: the one-pass path handles them
        rej = ds.report.rejected
        bad = set(rej["row"].tolist()) if len(rej) else set()
        accepted = np.asarray([r for r in range(len(chunk)) if r not in bad], dtype=np.int64)
        if len(rej):
            rej = rej.copy()
            rej["row"] = rej["row"] + n_input
            rejected.append(rej)
        notes.extend(ds.report.notes)
        comp = df["composition"].tolist()
        # 8-byte hashes of the canonical keys; groups are verified against the keys below
        keys.append(row_hashes(parse_formulas(comp).to_csr()))
        formulas.append(pa.array(comp, pa.string()))
        rows.append((accepted + n_input).astype(np.int64 if n_input > 2**30 else np.int32))
        for n in names:
            values[n].append(df[n].to_numpy(dtype=np.float64))
        generated = {"composition"} | {f"{n}{sfx}" for n in names for sfx in ("", "_n", "_std")}
        for col in df.columns:
            if col in generated:
                continue
            kept.setdefault(col, []).append(df[col].reset_index(drop=True))
        n_input += len(chunk)
        del ds, df, chunk
    if n_input == 0:
        return None
    hashes = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
    del keys
    uniq, first, codes_wide = np.unique(hashes, return_index=True, return_inverse=True)
    del hashes, uniq
    codes = codes_wide.astype(np.int32 if len(first) < 2**31 else np.int64)
    del codes_wide
    row_no = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    del rows
    n_accepted = len(codes)
    group_order = np.sort(first)  # groups in order of first appearance, like the one pass
    del first
    counts = np.bincount(codes, minlength=len(group_order)) if n_accepted else np.zeros(0, int)
    group_of_first = codes[group_order]
    # the first formula of every group, and the formulas of rows in merged groups (to check
    # the hash groups), chunk by chunk: never a full copy of every formula at once
    is_first = np.zeros(n_accepted, dtype=bool)
    is_first[group_order] = True
    in_multi = counts[codes] > 1
    firsts, multis = [], []
    start = 0
    for i, chunk_formulas in enumerate(formulas):
        stop = start + len(chunk_formulas)
        firsts.append(chunk_formulas.filter(pa.array(is_first[start:stop])))
        multis.append(chunk_formulas.filter(pa.array(in_multi[start:stop])))
        formulas[i] = pa.array([], pa.string())
        start = stop
    del is_first, formulas
    out: dict[str, Any] = {
        "composition": pd.array(pa.chunked_array(firsts, pa.string()), dtype="string[pyarrow]")
    }
    del firsts
    multi_formulas = pa.chunked_array(multis, pa.string())
    multi_rank = np.cumsum(in_multi) - 1  # position of a merged row among the merged rows
    del multis
    multi = np.flatnonzero(counts[group_of_first] > 1)  # positions (output rows) to merge
    members: dict[int, np.ndarray] = {}
    if len(multi):
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for pos in multi.tolist():
            code = int(group_of_first[pos])
            members[pos] = order[bounds[code] : bounds[code + 1]]
        # a 64-bit hash collision would merge two compositions: check every merged group
        idx = np.concatenate(list(members.values()))
        grouped = multi_formulas.take(pa.array(multi_rank[idx])).to_pylist()
        check = parse_formulas(grouped).canonical_keys()
        start = 0
        for group in members.values():
            if len(set(check[start : start + len(group)])) != 1:
                return None  # never merge distinct compositions: the one-pass path decides
            start += len(group)
    del multi_formulas, multi_rank, in_multi
    rule = "median" if spec.merge == "none" else spec.merge
    merged_rows: list[dict[str, object]] = []
    for n in names:
        y_all = np.concatenate(values[n]) if values[n] else np.zeros(0)
        values[n] = []
        y = y_all[group_order]
        std = np.zeros(len(group_order))
        for pos, idx in members.items():
            y[pos], std[pos] = _pool(y_all[idx], rule)
        out[n] = y
        out[f"{n}_n"] = counts[group_of_first].astype(np.int64)
        out[f"{n}_std"] = std
        values[n] = [y_all]
    for col, arrays in kept.items():
        column = pd.concat(arrays, ignore_index=True)  # pandas unifies the chunks' dtypes
        out[col] = column.iloc[group_order].reset_index(drop=True)
    for pos, idx in members.items():
        entry: dict[str, object] = {
            "composition": out["composition"][pos],
            "n_rows": len(idx),
            "sources": "; ".join(f"{file} row {int(row_no[i])}" for i in idx),
        }
        for n in names:
            entry[f"{n}_values"] = "; ".join(_show(v) for v in values[n][0][idx])
            entry[n] = out[n][pos]
        entry["rule"] = f"{rule} of pooled values; other columns from the first row"
        entry["differs_in"] = ""  # the file has no other column (see _only_composition_...)
        merged_rows.append(entry)
    df = pd.DataFrame(out, copy=False)
    from mi.data.report import REJECTED_COLUMNS

    report = ValidationReport(
        n_input=n_input,
        n_accepted=n_accepted,
        rejected=pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=list(REJECTED_COLUMNS)),
        merged=pd.DataFrame(merged_rows),
        n_output=len(df),
        notes=notes,
    )
    report.check()
    meta.units = {t.name: t.unit for t in spec.targets} | dict(meta.units)
    return Dataset(
        df, composition_col="composition", structure_col=None, targets=names, meta=meta,
        report=report,
    )  # fmt: skip

"""Chunked ingest of large CSV/TSV tables: bounded memory, the same result as one pass.

:func:`clean_csv_chunked` reads the file in chunks of ``chunk_rows`` rows and cleans each chunk
with :func:`mi.data.cleaning.clean_frames` without merging; every accepted row leaves only a
64-bit hash of its canonical key, its clean formula, target values, row number and the cells
of its other columns, held in Arrow / numpy arrays (a few tens of bytes per row instead of the
~1 kB of Python objects of the one-pass path). Duplicates are then merged across the whole file
with the same rule (``median`` / ``mean`` of the pooled values, other columns from the first
row); a merged group whose rows differ in another column is named in the merged report
(``differs_in``) and counted in a note, as the one-pass path does. Rejected rows keep their row
numbers in the file.

Cases the compact form does not hold (censored values, several values in one cell, flags,
conditions, ``merge_by``, structures, a column holding numbers in some chunks and text in
others) make it return ``None``, and :func:`mi.data.read_table` falls back to the one-pass
path, so the result never differs. Differences in representation only: text columns come back
as ``string[pyarrow]`` (``<NA>`` for an empty cell) instead of Python objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mi._csv import csv_source
from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.report import REJECTED_COLUMNS, ValidationReport
from mi.data.spec import TableSpec

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CHUNK_ROWS", "CHUNKED_MIN_BYTES", "clean_csv_chunked"]

#: Rows cleaned at a time (the one-pass cleaning of a chunk holds ~3 kB per row).
CHUNK_ROWS = 5_000
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


class _NeedsOnePass(Exception):
    """The table holds something the compact form cannot (the one-pass path decides)."""


@dataclass
class _Pieces:
    """What the chunks leave of their accepted rows (aligned lists, one entry per chunk)."""

    hashes: list[np.ndarray] = field(default_factory=list)
    formulas: list[Any] = field(default_factory=list)  # pyarrow string arrays
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    kept: dict[str, list[Any]] = field(default_factory=dict)  # pyarrow arrays
    decimal: set[str] = field(default_factory=set)  # kept columns read as decimals somewhere
    rejected: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_input: int = 0


def _compact(column: pd.Series) -> pa.Array:
    """One chunk's kept column as an Arrow array (empty cells become nulls)."""
    import pyarrow as pa

    try:
        return pa.Array.from_pandas(column.reset_index(drop=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers and text mixed in one chunk
        raise _NeedsOnePass from None


def _unify(pieces: list[pa.Array], decimal: bool) -> list[pa.Array]:
    """Give every chunk's array of one column the same type, as one read of the file would.

    ``decimal``: some chunk read the column as decimals (an empty cell among integers, also in
    a rejected row), so one read of the whole file makes it a decimal column.
    """
    import pyarrow as pa

    types = {a.type for a in pieces if a.null_count < len(a)}
    if not types:
        target = pa.float64()  # an empty column reads as NaN
    elif len(types) == 1:
        target = types.pop()
    elif types <= {pa.int64(), pa.float64()}:
        target = pa.float64()  # integers in some chunks, decimals or empty cells in others
    else:
        raise _NeedsOnePass  # e.g. numbers in some chunks, text in others
    if pa.types.is_integer(target) and decimal:
        target = pa.float64()
    return [a if a.type == target else a.cast(target) for a in pieces]


def _to_pandas(array: pa.ChunkedArray) -> Any:
    """Arrow column to what the one-pass path holds (text stays in Arrow: no Python objects)."""
    import pyarrow as pa

    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.array(array, dtype="string[pyarrow]")
    if pa.types.is_boolean(kind) and array.null_count:
        out = np.asarray(array.to_pylist(), dtype=object)
        out[out == None] = np.nan  # noqa: E711 - elementwise test
        return out
    if pa.types.is_integer(kind) and array.null_count:
        return array.to_numpy().astype(np.float64)
    return array.to_numpy()


def _read_pieces(path: Path, spec: TableSpec, meta: DatasetMeta, sep: str, chunk_rows: int):
    """Clean the file chunk by chunk; keep the compact form of every accepted row."""
    import pyarrow as pa

    from mi.chem import parse_formulas
    from mi.chem.hashing import row_hashes

    file = str(path)
    single = spec.model_copy(update={"merge": "none"})
    names = [t.name for t in spec.targets]
    generated = {"composition"} | {f"{n}{sfx}" for n in names for sfx in ("", "_n", "_std")}
    out = _Pieces(values={n: [] for n in names})
    source = {v: k for k, v in spec.rename.items()}
    for chunk in pd.read_csv(csv_source(path), sep=sep, chunksize=chunk_rows):
        chunk = chunk.reset_index(drop=True)
        ds = clean_frames([SourceFrame(file, chunk)], single, meta)
        df = ds.df
        if any(f"{n}_censored" in df.columns for n in names) or any(
            (df[f"{n}_n"] > 1).any() for n in names
        ):
            raise _NeedsOnePass  # censored or multi-valued cells
        rej = ds.report.rejected
        if len(rej):
            rej = rej.copy()
            rej["row"] = rej["row"] + out.n_input
            out.rejected.append(rej)
        out.notes.extend(ds.report.notes)
        comp = df["composition"].tolist()
        # 8-byte hashes of the canonical keys; merged groups are verified against the keys
        out.hashes.append(row_hashes(parse_formulas(comp).to_csr()))
        out.formulas.append(pa.array(comp, pa.string()))
        for n in names:
            out.values[n].append(df[n].to_numpy(dtype=np.float64))
        for col in df.columns:
            if col not in generated:
                out.kept.setdefault(col, []).append(_compact(df[col]))
                raw = source.get(col, col)
                raw = raw if raw in chunk.columns else source.get(col[:-7], col[:-7])  # _source
                if raw in chunk.columns and chunk[raw].dtype.kind == "f":
                    out.decimal.add(col)
        out.n_input += len(chunk)
        del ds, df, chunk, comp
    return out


def _group_codes(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (group code of every row, first row of every group in order of appearance).

    Codes number the groups in order of first appearance, so output row ``g`` is group ``g``.
    This runs while every chunk's rows are held, so rows are grouped in 16 buckets of their
    hash's top bits (a sort of 1/16 of the rows at a time) with int32 indices where they fit.
    """
    n = len(hashes)
    index = np.int32 if n < 2**31 else np.int64
    first_of = np.empty(n, dtype=index)  # each row's group's first row
    is_first = np.zeros(n, dtype=bool)
    top = (hashes >> np.uint64(60)).astype(np.uint8)
    for bucket in range(16):
        rows = np.flatnonzero(top == bucket)
        order = np.argsort(hashes[rows], kind="stable")  # stable: file order within a group
        rows = rows[order]
        ordered = hashes[rows]
        starts = np.empty(len(rows), dtype=bool)
        starts[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        del ordered, order
        firsts = rows[starts]
        is_first[firsts] = True
        first_of[rows] = firsts[np.cumsum(starts) - 1]
        del rows, starts, firsts
    del top
    rank: np.ndarray = np.cumsum(is_first, dtype=index)  # 1 + group number by first row
    np.subtract(rank, 1, out=rank)
    codes = rank[first_of]
    del rank, first_of
    return codes, np.flatnonzero(is_first).astype(index)


def _filter(pieces: list[Any], mask: np.ndarray) -> list[Any]:
    """Rows of chunked Arrow arrays where ``mask`` holds, freeing each chunk once filtered."""
    import pyarrow as pa

    kept, start = [], 0
    for i, piece in enumerate(pieces):
        stop = start + len(piece)
        kept.append(piece.filter(pa.array(mask[start:stop])))
        pieces[i] = None  # the chunk's buffers are released here
        start = stop
    return kept


def _differing(multi: pd.DataFrame, codes: np.ndarray, names: list[str]) -> dict[int, list[str]]:
    """Kept columns whose values are not the same in every row of a merged group."""
    if not names or multi.empty:
        return {}
    counts = multi.groupby(codes, sort=False).nunique(dropna=False)
    out: dict[int, list[str]] = {}
    for code, row in zip(counts.index.tolist(), (counts.to_numpy() > 1).tolist(), strict=True):
        differs = [name for name, d in zip(names, row, strict=True) if d]
        if differs:
            out[int(code)] = differs
    return out


def clean_csv_chunked(
    path: Path,
    spec: TableSpec,
    meta: DatasetMeta,
    *,
    sep: str = ",",
    chunk_rows: int = CHUNK_ROWS,
) -> Dataset | None:
    """Clean a CSV/TSV file chunk by chunk; ``None`` when the spec needs the one-pass path.

    Other columns are carried over as the one-pass path does (the group's first value), and
    every merged group whose rows differ in one of them is reported (``differs_in``).

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
    if not _supported(spec):
        return None
    try:
        return _merge(_read_pieces(path, spec, meta, sep, chunk_rows), spec, meta, str(path))
    except _NeedsOnePass:
        return None


def _merge(pieces: _Pieces, spec: TableSpec, meta: DatasetMeta, file: str) -> Dataset | None:
    """Merge the accepted rows of every chunk into the dataset and its report.

    Steps free what they consume as they go (each chunk's arrays once filtered), so the peak
    is about the compact rows plus the output, not both plus copies.
    """
    import pyarrow as pa

    if pieces.n_input == 0:
        return None
    names = [t.name for t in spec.targets]
    kept = {col: _unify(arrays, col in pieces.decimal) for col, arrays in pieces.kept.items()}
    pieces.kept = {}
    hashes = np.concatenate(pieces.hashes) if pieces.hashes else np.zeros(0, np.uint64)
    values = {n: np.concatenate(pieces.values[n]) for n in names}
    pieces.hashes, pieces.values = [], {}
    _release_freed_memory()  # the chunks' small arrays, now copied into whole-file ones
    codes, group_order = _group_codes(hashes)
    del hashes
    n_accepted, n_groups = len(codes), len(group_order)
    counts = np.bincount(codes, minlength=n_groups)
    # rows of merged groups, grouped by code (stable: in file order within a group)
    in_multi = (counts > 1)[codes]
    multi_in_file = np.flatnonzero(in_multi)
    take_np = np.argsort(codes[multi_in_file], kind="stable")  # file-order rank, grouped
    multi_rows = multi_in_file[take_np]
    multi_codes = codes[multi_rows]
    del codes, multi_in_file
    take = pa.array(take_np, pa.int64())
    del take_np
    bounds = np.flatnonzero(np.diff(multi_codes)) + 1
    groups = np.split(multi_rows, bounds) if len(multi_rows) else []
    merged_codes = multi_codes[np.r_[0, bounds]].tolist() if groups else []
    row_no = _file_rows(pieces.rejected)
    sources = ["; ".join(f"{file} row {r}" for r in row_no(idx)) for idx in groups]
    multi_formulas = pa.chunked_array(_filter(list(pieces.formulas), in_multi), pa.string())
    _check_groups(multi_formulas.take(take).to_pylist(), bounds)
    del multi_formulas
    _release_freed_memory()  # the formula parser's temporaries
    differs = _differing(
        pd.DataFrame(
            {
                col: pa.chunked_array(_filter(list(arrays), in_multi), arrays[0].type)
                .take(take)
                .to_pandas()
                for col, arrays in kept.items()
            }
        ),
        multi_codes,
        list(kept),
    )
    del in_multi, take, multi_codes
    is_first = _mask(group_order, n_accepted)
    out: dict[str, Any] = {}
    out["composition"] = pd.array(
        pa.chunked_array(_filter(pieces.formulas, is_first), pa.string()), dtype="string[pyarrow]"
    )
    pieces.formulas = []
    rule = "median" if spec.merge == "none" else spec.merge
    pooled: dict[str, list[tuple[float, float]]] = {}
    shown: dict[str, list[str]] = {}
    for i, n in enumerate(names):
        y_all = values.pop(n)
        pooled[n] = [_pool(y_all[idx], rule) for idx in groups]
        shown[n] = ["; ".join(_show(v) for v in y_all[idx]) for idx in groups]
        y = y_all[group_order]
        del y_all
        std = np.zeros(n_groups)
        if groups:
            y[merged_codes] = [v for v, _ in pooled[n]]
            std[merged_codes] = [sd for _, sd in pooled[n]]
        out[n] = y
        out[f"{n}_n"] = counts.astype(np.int64, copy=i > 0)
        out[f"{n}_std"] = std
    del group_order, counts
    for col, arrays in kept.items():
        kind = arrays[0].type
        out[col] = _to_pandas(pa.chunked_array(_filter(arrays, is_first), kind))
    del kept, is_first
    merged_rows: list[dict[str, object]] = []
    differing: dict[str, int] = {}
    for i, (code, idx) in enumerate(zip(merged_codes, groups, strict=True)):
        for name in differs.get(code, []):
            differing[name] = differing.get(name, 0) + 1
        entry: dict[str, object] = {
            "composition": out["composition"][code],
            "n_rows": len(idx),
            "sources": sources[i],
        }
        for n in names:
            entry[f"{n}_values"] = shown[n][i]
            entry[n] = pooled[n][i][0]
        entry["rule"] = f"{rule} of pooled values; other columns from the first row"
        entry["differs_in"] = ", ".join(differs.get(code, []))
        merged_rows.append(entry)
    notes: list[str] = []
    if differing:
        listed = ", ".join(f"{k!r} ({v} groups)" for k, v in sorted(differing.items()))
        notes.append(
            f"merged rows that differ in other columns: {listed}; those columns show the first "
            "row's value (see the merged report). Declare such a column as a condition or in "
            "merge_by to keep its rows apart, or use merge = 'none'."
        )
    df = pd.DataFrame(out, copy=False)  # copy=False: no consolidation copy of the columns
    del out
    report = ValidationReport(
        n_input=pieces.n_input,
        n_accepted=n_accepted,
        rejected=pd.concat(pieces.rejected, ignore_index=True)
        if pieces.rejected
        else pd.DataFrame(columns=list(REJECTED_COLUMNS)),
        merged=pd.DataFrame(merged_rows),
        n_output=len(df),
        notes=notes + pieces.notes,
    )
    report.check()
    meta.units = {t.name: t.unit for t in spec.targets} | dict(meta.units)
    return Dataset(
        df, composition_col="composition", structure_col=None, targets=names, meta=meta,
        report=report,
    )  # fmt: skip


def _check_groups(formulas: list[str], bounds: np.ndarray) -> None:
    """Refuse to merge distinct compositions: a 64-bit hash collision goes one-pass."""
    from mi.chem import parse_formulas

    if not formulas:
        return
    step = 20_000  # the vectorised parser's temporaries grow with its input
    keys = np.asarray(
        [k for lo in range(0, len(formulas), step)
         for k in parse_formulas(formulas[lo : lo + step]).canonical_keys()]
    )  # fmt: skip
    for group in np.split(keys, bounds):
        if len(set(group.tolist())) != 1:
            raise _NeedsOnePass


def _file_rows(rejected: list[pd.DataFrame]):
    """Return a function from accepted-row positions to row numbers in the file.

    The ``i``-th accepted row is file row ``i + k``, ``k`` the number of rejected rows before
    it; that saves holding a row number for every accepted row.
    """
    bad = np.unique(np.concatenate([r["row"].to_numpy(np.int64) for r in rejected] or [[]]))
    # accepted rows before each rejected row: nondecreasing, so k is a binary search
    before = bad.astype(np.int64) - np.arange(len(bad))

    def rows(positions: np.ndarray) -> list[int]:
        positions = np.asarray(positions, dtype=np.int64)
        return (positions + np.searchsorted(before, positions, side="right")).tolist()

    return rows


def _release_freed_memory() -> None:
    """Hand memory freed on the C heap back to the system (glibc only; elsewhere a no-op).

    glibc keeps freed small blocks (each chunk's arrays are tens of kB) in the process until
    the heap is trimmed, so without this the peak counts them twice.
    """
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the C library in this process
    except (OSError, TypeError):  # no C library to open this way (Windows)
        return
    if trim is not None:
        trim(0)


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of length ``n`` true at ``rows``."""
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask

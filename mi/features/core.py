"""``featurize``: compositions (or structures) to a feature table by preset name."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mi._progress import ProgressArg, StageProgress
from mi.chem import CompositionMatrix, parse_formulas
from mi.exceptions import FallbackWarning, FeaturizationError, FormulaError
from mi.features.fast import FAST_FEATURIZERS, Block, has_fast_version
from mi.features.presets import Preset, built_featurizers, get_preset

__all__ = ["featurize", "featurize_to_parquet", "DEFAULT_CHUNK_ROWS"]

Backend = Literal["fast", "matminer"]
OnError = Literal["raise", "nan", "report"]

#: Rows per block of the fast backend (temporaries of ~10 MB for magpie stay in cache).
DEFAULT_CHUNK_ROWS = 16_384


def _threads(n_jobs: int | None) -> int:
    """Threads for the fast backend: ``resolve_n_jobs``, and 1 on an already saturated machine.

    With the default ``n_jobs=None``, a machine whose 1-minute load average already reaches its
    CPU count gets one thread: extra threads there only queue behind other processes (measured
    slower on the shared 2-core development machine). An explicit ``n_jobs`` is honoured
    (capped at the CPU quota).
    """
    from mi.config import resolve_n_jobs

    jobs = resolve_n_jobs(n_jobs)
    if n_jobs is None and jobs > 1:
        try:
            busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
        except OSError:
            busy = False
        if busy:
            return 1
    return jobs


def _check_args(backend: str, on_error: str) -> None:
    if backend not in ("fast", "matminer"):
        raise ValueError(f"backend must be 'fast' or 'matminer', got {backend!r}.")
    if on_error not in ("raise", "nan", "report"):
        raise ValueError(f"on_error must be 'raise', 'nan' or 'report', got {on_error!r}.")


# -- input -------------------------------------------------------------------------------------
def _as_matrix(
    compositions: Any, on_error: OnError
) -> tuple[CompositionMatrix, list[tuple[int, object, str]], np.ndarray | None]:
    """Parse input; returns (matrix, parse errors, original strings or None)."""
    if isinstance(compositions, CompositionMatrix):
        return compositions, [], None
    if isinstance(compositions, str):
        raise FormulaError(
            f"featurize expects a list of formulas, got the single string {compositions!r}; "
            "wrap it in a list."
        )
    if isinstance(compositions, pd.Series | pd.Index):
        values = compositions.to_numpy(dtype=object)
    else:
        items = list(compositions)
        values = np.empty(len(items), dtype=object)  # not np.asarray: Compositions are mappings
        values[:] = items
    if values.size and not isinstance(values[0], str) and hasattr(values[0], "element_composition"):
        # pymatgen Composition objects: go through their formula (exact amounts)
        from mi.chem import CompositionMatrix as CM

        rows = [{str(e): a for e, a in c.element_composition.items()} for c in values]
        return CM.from_dict_rows(rows), [], None
    if on_error == "raise":
        return parse_formulas(values, on_error="raise"), [], values  # type: ignore[return-value]
    res = parse_formulas(values, on_error="report")
    return res.matrix, res.errors, values  # type: ignore[union-attr]


def _index_of(compositions: Any, n: int) -> pd.Index:
    if isinstance(compositions, pd.Series):
        return compositions.index
    return pd.RangeIndex(n)


# -- fast backend ------------------------------------------------------------------------------
def _blocks(matrix: CompositionMatrix, rows: np.ndarray, chunk: int) -> Iterator[tuple[int, Block]]:
    csr = matrix.to_csr()
    for start in range(0, len(rows), chunk):
        sel = rows[start : start + chunk]
        if len(sel) and sel[-1] - sel[0] + 1 == len(sel):  # contiguous: slice, no copy
            a, b = int(csr.indptr[sel[0]]), int(csr.indptr[sel[-1] + 1])
            indptr = csr.indptr[sel[0] : sel[-1] + 2] - a
            yield start, Block(indptr, csr.indices[a:b], csr.data[a:b])
        else:
            sub = csr[sel]
            yield start, Block(sub.indptr, sub.indices, sub.data)


def _run_fast(
    featurizers: list[Any],
    matrix: CompositionMatrix,
    rows: np.ndarray,
    out: np.ndarray,
    dest: np.ndarray,
    n_jobs: int,
    chunk: int,
    errors: list[tuple[int, object, str]],
    on_error: OnError,
) -> None:
    """Fill ``out[dest[i]]`` with the features of matrix row ``rows[i]`` (all valid)."""
    slow = [f for f in featurizers if not has_fast_version(f)]
    if slow:
        names = ", ".join(sorted({type(f).__name__ for f in slow}))
        warnings.warn(
            f"No fast version of {names} (with these parameters); running matminer for "
            "those featurizers (about 250 compositions/s).",
            FallbackWarning,
            stacklevel=4,
        )
    widths = [len(f.feature_labels()) for f in featurizers]
    offsets = np.concatenate([[0], np.cumsum(widths)])

    def work(item: tuple[int, Block]) -> None:
        start, block = item
        stop = start + block.m
        target = dest[start + block.order]  # blocks regroup rows by element count
        for f, a, b in zip(featurizers, offsets[:-1], offsets[1:], strict=True):
            if has_fast_version(f):
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    out[target, a:b] = FAST_FEATURIZERS[type(f).__name__][0](f, block)
            else:
                sub = matrix.take(rows[start:stop]).to_compositions()
                vals, errs = _matminer_rows(f, sub, rows[start:stop], on_error)
                out[dest[start:stop], a:b] = vals
                errors.extend(errs)

    items = _blocks(matrix, rows, chunk)
    if n_jobs > 1 and len(rows) > chunk:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(work, items))
    else:
        for item in items:
            work(item)


# -- matminer backend --------------------------------------------------------------------------
def _matminer_rows(
    featurizer: Any, entries: Sequence[Any], row_ids: np.ndarray, on_error: OnError
) -> tuple[np.ndarray, list[tuple[int, object, str]]]:
    width = len(featurizer.feature_labels())
    out = np.full((len(entries), width), np.nan)
    errors: list[tuple[int, object, str]] = []
    for i, entry in enumerate(entries):
        try:
            out[i] = np.asarray(featurizer.featurize(entry), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - any matminer failure is a row error
            row = int(row_ids[i])
            reason = f"{type(featurizer).__name__} failed: {type(exc).__name__}: {exc}"
            if on_error == "raise":
                raise FeaturizationError(
                    f"Row {row} ({entry}): {reason}. Pass on_error='nan' or 'report' to keep going."
                ) from exc
            errors.append((row, str(entry), reason))
    return out, errors


def _run_matminer(
    featurizers: list[Any],
    entries: Sequence[Any],
    rows: np.ndarray,
    out: np.ndarray,
    errors: list[tuple[int, object, str]],
    on_error: OnError,
) -> None:
    col = 0
    for f in featurizers:
        with warnings.catch_warnings():
            # pymatgen's noise while matminer imputes a missing electronegativity
            warnings.filterwarnings("ignore", "No Pauling electronegativity", UserWarning)
            vals, errs = _matminer_rows(f, entries, rows, on_error)
        out[:, col : col + vals.shape[1]] = vals
        col += vals.shape[1]
        errors.extend(errs)


# -- public ------------------------------------------------------------------------------------
def featurize(
    compositions: Any,
    preset: str | Preset = "magpie",
    backend: Backend = "fast",
    on_error: OnError = "raise",
    cache: bool = False,
    dtype: Any = np.float64,
    n_jobs: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    progress: ProgressArg = True,
) -> pd.DataFrame:
    """Compute a preset's features for compositions (or structures).

    Parameters
    ----------
    compositions : list of str, pandas.Series, CompositionMatrix, or list of Structure
        Formula strings (``"Ba0.4K0.6Fe2As2"``), a composition matrix, pymatgen
        ``Composition`` objects, or pymatgen ``Structure`` objects for structure presets.
    preset : str or Preset, default "magpie"
        Preset name (see :func:`list_presets`).
    backend : {"fast", "matminer"}, default "fast"
        ``"matminer"`` runs matminer's ``featurize`` row by row (one process). ``"fast"``
        computes the same numbers as array operations; a featurizer without an array version
        runs through matminer with a :class:`~mi.exceptions.FallbackWarning`.
    on_error : {"raise", "nan", "report"}, default "raise"
        What to do with an invalid formula or a featurizer failure: raise (quoting row and
        value), give the row NaN features, or give NaN and list the errors in
        ``df.attrs["errors"]`` (a list of ``(row, value, reason)``). Rows are never dropped.
    cache : bool, default False
        Read/write the Parquet feature cache (see :class:`~mi.features.cache.FeatureCache`).
    dtype : numpy dtype, default float64
        Output dtype (``np.float32`` halves memory; values are computed in float64).
    n_jobs : int, optional
        Threads for the fast backend, capped at the CPU quota (default: the ``n_jobs``
        setting, else the quota, but one thread while the machine's load average already
        reaches its CPU count). matminer always runs in one process.
    chunk_size : int, default 16384
        Rows per block of the fast backend.
    progress : bool or callable, default True
        A bar in a terminal or notebook once featurizing has run 2 s (one line in a log when
        it took 2 s or more); ``False`` for silence (see :mod:`mi._progress`).

    Returns
    -------
    pandas.DataFrame
        One row per input (same index as a Series input), columns exactly matminer's labels.

    Raises
    ------
    FormulaError
        Invalid formula with ``on_error="raise"``.
    FeaturizationError
        A featurizer failed on a row with ``on_error="raise"``.

    Examples
    --------
    >>> df = featurize(["Fe2O3", "NaCl"], preset="magpie")  # doctest: +SKIP
    >>> df.loc[0, "MagpieData mean Number"]  # doctest: +SKIP
    14.4
    """
    name = preset if isinstance(preset, str) else getattr(preset, "name", "preset")
    with StageProgress(progress, f"featurize ({name})", None, "rows") as st:
        df = _featurize(compositions, preset, backend, on_error, cache, dtype, n_jobs, chunk_size)
        st.update(len(df))
    return df


def _featurize(
    compositions: Any,
    preset: str | Preset,
    backend: Backend,
    on_error: OnError,
    cache: bool,
    dtype: Any,
    n_jobs: int | None,
    chunk_size: int,
) -> pd.DataFrame:
    _check_args(backend, on_error)
    spec = get_preset(preset)
    labels = spec.feature_labels()
    if spec.kind == "structure":
        return _featurize_structures(compositions, spec, labels, backend, on_error, dtype)
    if backend == "fast" and not cache:
        featurizers = built_featurizers(spec)
        if all(has_fast_version(f) for f in featurizers):
            return _featurize_fast_chunked(
                compositions, featurizers, labels, on_error, dtype, _threads(n_jobs),
                chunk_size,
            )  # fmt: skip
    matrix, errors, strings = _as_matrix(compositions, on_error)
    n = matrix.n
    index = _index_of(compositions, n)
    out = np.empty((n, len(labels)), dtype=dtype)  # every row is written below
    valid_mask = matrix.valid
    out[~valid_mask] = np.nan
    valid_rows = np.flatnonzero(valid_mask)
    todo = valid_rows
    cache_obj = None
    keys: list[str] = []
    if cache and len(valid_rows):
        from mi.features.cache import FeatureCache

        cache_obj = FeatureCache(spec, backend)
        keys = matrix.take(valid_rows).exact_keys()
        found, cached = cache_obj.lookup(keys)
        out[valid_rows[found]] = cached[found]
        todo = valid_rows[~found]
    if len(todo):
        featurizers = built_featurizers(spec)
        # with the cache, compute into a float64 side table (stored), else straight into out
        computed = np.empty((len(todo), len(labels))) if cache_obj is not None else out
        dest = np.arange(len(todo)) if cache_obj is not None else todo
        row_errors: list[tuple[int, object, str]] = []
        if backend == "fast":
            jobs = _threads(n_jobs)
            _run_fast(
                featurizers, matrix, todo, computed, dest, jobs, chunk_size, row_errors, on_error
            )
        else:
            if strings is not None:
                from pymatgen.core import Composition

                entries: list[Any] = [Composition(strings[i]) for i in todo]
            else:
                entries = matrix.take(todo).to_compositions()
            values = np.full((len(todo), len(labels)), np.nan)
            _run_matminer(featurizers, entries, todo, values, row_errors, on_error)
            computed[dest] = values
        failed = np.isin(todo, [r for r, _, _ in row_errors])
        if failed.any():  # a row with any failing featurizer gets NaN everywhere
            computed[dest[failed]] = np.nan
        errors = errors + row_errors
        if cache_obj is not None:
            out[todo] = computed
            pos = np.searchsorted(valid_rows, todo)
            cache_obj.store([keys[p] for p in pos[~failed]], computed[~failed])
    df = pd.DataFrame(out, columns=labels, index=index, copy=False)
    if on_error == "report":
        df.attrs["errors"] = sorted(errors, key=lambda e: e[0])
    return df


def _featurize_fast_chunked(
    compositions: Any,
    featurizers: list[Any],
    labels: list[str],
    on_error: OnError,
    dtype: Any,
    n_jobs: int,
    chunk_size: int,
) -> pd.DataFrame:
    """Parse and featurize chunk by chunk (threads share the chunks; all fast featurizers)."""
    matrix: CompositionMatrix | None = None
    values: np.ndarray | None = None
    if isinstance(compositions, CompositionMatrix):
        matrix = compositions
        n = matrix.n
    else:
        if isinstance(compositions, str):
            raise FormulaError(
                f"featurize expects a list of formulas, got the single string {compositions!r}; "
                "wrap it in a list."
            )
        if isinstance(compositions, pd.Series | pd.Index):
            values = compositions.to_numpy(dtype=object)
        else:
            items = list(compositions)
            values = np.empty(len(items), dtype=object)
            values[:] = items
        if len(values) and hasattr(values[0], "element_composition"):
            matrix, _, _ = _as_matrix(values, on_error)
            values = None
        n = len(values) if values is not None else matrix.n  # type: ignore[union-attr]
    out = np.empty((n, len(labels)), dtype=dtype)

    def work(a: int) -> list[tuple[int, object, str]]:
        b = min(a + chunk_size, n)
        errs: list[tuple[int, object, str]] = []
        if values is not None:
            res = parse_formulas(values[a:b], on_error="report")
            sub = res.matrix  # type: ignore[union-attr]
            errs = [(a + r, v, why) for r, v, why in res.errors]  # type: ignore[union-attr]
            if errs and on_error == "raise":
                row, value, why = errs[0]
                raise FormulaError(
                    f"Invalid formula {value!r} in row {row}: {why}. Fix the formula, or pass "
                    "on_error='nan' / 'report' to keep going and list bad rows."
                )
        else:
            sub = matrix[a:b]  # type: ignore[index]
        valid = sub.valid
        out[a + np.flatnonzero(~valid)] = np.nan
        rows = np.flatnonzero(valid)
        _run_fast(featurizers, sub, rows, out, a + rows, 1, max(len(rows), 1), [], on_error)
        return errs

    starts = range(0, n, chunk_size)
    if n_jobs > 1 and n > chunk_size:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(work, starts))
    else:
        results = [work(a) for a in starts]
    df = pd.DataFrame(out, columns=labels, index=_index_of(compositions, n), copy=False)
    if on_error == "report":
        df.attrs["errors"] = [e for errs in results for e in errs]
    return df


def _featurize_structures(
    structures: Any, spec: Preset, labels: list[str], backend: str, on_error: OnError, dtype: Any
) -> pd.DataFrame:
    if isinstance(structures, CompositionMatrix) or isinstance(structures, str):
        raise FeaturizationError(
            f"Preset {spec.name!r} needs pymatgen Structure objects, "
            f"got {type(structures).__name__}."
        )
    entries = list(structures.tolist() if isinstance(structures, pd.Series) else structures)
    index = _index_of(structures, len(entries))
    featurizers = built_featurizers(spec)
    if backend == "fast":
        warnings.warn(
            f"Preset {spec.name!r} has no fast version (structure featurizers); running matminer.",
            FallbackWarning,
            stacklevel=3,
        )
    errors: list[tuple[int, object, str]] = []
    ok = [i for i, s in enumerate(entries) if s is not None and hasattr(s, "lattice")]
    for i, s in enumerate(entries):
        if i not in set(ok):
            reason = f"not a pymatgen Structure but {type(s).__name__}"
            if on_error == "raise":
                raise FeaturizationError(f"Row {i}: {reason}. Read structures with mi.data first.")
            errors.append((i, s, reason))
    out = np.full((len(entries), len(labels)), np.nan)
    computed = np.full((len(ok), len(labels)), np.nan)
    _run_matminer(featurizers, [entries[i] for i in ok], np.asarray(ok), computed, errors, on_error)
    out[ok] = computed
    df = pd.DataFrame(out.astype(dtype, copy=False), columns=labels, index=index)
    if on_error == "report":
        df.attrs["errors"] = sorted(errors, key=lambda e: e[0])
    return df


def featurize_to_parquet(
    compositions: Iterable[Any],
    path: str | Path,
    preset: str | Preset = "magpie",
    chunk_size: int = 250_000,
    dtype: Any = np.float32,
    on_error: OnError = "nan",
    n_jobs: int | None = None,
    include_input: bool = True,
) -> Path:
    """Stream features of many compositions to a Parquet file with bounded memory.

    Parameters
    ----------
    compositions : iterable
        Formula strings (consumed ``chunk_size`` at a time), or an iterable of chunks
        (lists of formulas or :class:`~mi.chem.CompositionMatrix`), e.g.
        ``Template.iter_chunks(...)``.
    path : str or Path
        Output Parquet file (one row group per chunk).
    preset : str or Preset, default "magpie"
    chunk_size : int, default 250000
        Formulas per chunk when ``compositions`` yields strings.
    dtype : numpy dtype, default float32
    on_error : {"nan", "raise"}, default "nan"
        Invalid rows get NaN features (never dropped).
    n_jobs : int, optional
        Threads (capped at the CPU quota).
    include_input : bool, default True
        Add a ``composition`` column (the input formula, or the matrix's formula).

    Returns
    -------
    Path
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if on_error == "report":
        raise ValueError("featurize_to_parquet supports on_error='nan' or 'raise'.")
    path = Path(path)
    writer: Any = None
    tmp = path.with_suffix(path.suffix + ".tmp")
    pending: Any = None
    with ThreadPoolExecutor(max_workers=1) as io:  # write chunk k while computing chunk k+1
        try:
            for chunk in _chunks(compositions, chunk_size):
                df = featurize(chunk, preset=preset, on_error=on_error, dtype=dtype, n_jobs=n_jobs)
                values = np.asfortranarray(df.to_numpy())  # contiguous columns: zero-copy arrow
                arrays = [pa.array(values[:, j]) for j in range(values.shape[1])]
                names = list(df.columns)
                if include_input:
                    if isinstance(chunk, CompositionMatrix):
                        inputs = chunk.formulas()
                    else:
                        inputs = [str(c) for c in chunk]
                    arrays.insert(0, pa.array(inputs, type=pa.string()))
                    names.insert(0, "composition")
                table = pa.Table.from_arrays(arrays, names=names)
                if writer is None:
                    # dictionary encoding triples the write time of float columns for ~10% size
                    writer = pq.ParquetWriter(tmp, table.schema, use_dictionary=False)
                if pending is not None:
                    pending.result()
                pending = io.submit(writer.write_table, table)
                del df, values, arrays
            if pending is not None:
                pending.result()
        finally:
            if writer is not None:
                writer.close()
    if writer is None:
        raise FeaturizationError("featurize_to_parquet got no compositions.")
    tmp.replace(path)
    return path


def _chunks(items: Iterable[Any], size: int) -> Iterator[Any]:
    buf: list[Any] = []
    for item in items:
        if isinstance(item, CompositionMatrix | list | tuple | np.ndarray | pd.Series):
            if buf:
                yield buf
                buf = []
            yield item if isinstance(item, CompositionMatrix) else list(item)
            continue
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf

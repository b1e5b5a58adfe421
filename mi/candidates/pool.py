"""``CandidatePool``: candidate compositions keyed by canonical reduced formula, with columns."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mi.candidates.constraints import Constraint, apply_constraints, evaluate_constraints
from mi.candidates.report import ConstraintReport
from mi.chem import N_ELEMENTS, CompositionMatrix, parse_formulas
from mi.exceptions import DataError, StateVersionError, TableError

__all__ = ["CandidatePool", "POOL_FORMAT_VERSION"]

#: Version of the Parquet layout written by :meth:`CandidatePool.to_parquet`.
POOL_FORMAT_VERSION = 1
_META_KEY = b"mi.candidates.pool"
_RESERVED = ("key", "formula", "_element_index", "_amount")


class CandidatePool:
    """Candidate compositions keyed by their canonical reduced formula, plus data columns.

    Parameters
    ----------
    matrix : CompositionMatrix
        One row per candidate.
    data : pandas.DataFrame, optional
        Extra columns (same number of rows, in the same order): where a candidate came from
        (``source``, ``seed``, ``substitution``), template parameters, constraint flags,
        criticality scores ...
    report : ConstraintReport, optional
        How the pool was generated and filtered.
    on_duplicate : {"raise", "first"}, default "raise"
        Two rows with the same canonical key: raise a ``DataError`` naming them, or keep the
        first.

    Examples
    --------
    >>> pool = CandidatePool.from_formulas(["Fe2O3", "Nd2Fe14B"], source=["a", "b"])
    >>> pool.to_frame().reset_index()[["key", "formula", "source"]].values.tolist()
    [['Fe2O3', 'Fe2O3', 'a'], ['BFe14Nd2', 'BFe14Nd2', 'b']]
    """

    def __init__(
        self,
        matrix: CompositionMatrix,
        data: pd.DataFrame | None = None,
        *,
        report: ConstraintReport | None = None,
        on_duplicate: str = "raise",
    ) -> None:
        if not isinstance(matrix, CompositionMatrix):
            raise DataError(
                f"CandidatePool needs a CompositionMatrix; got {type(matrix).__name__}. Use "
                "CandidatePool.from_formulas(...) for strings."
            )
        data = pd.DataFrame(index=range(matrix.n)) if data is None else data
        if len(data) != matrix.n:
            raise DataError(
                f"CandidatePool data has {len(data)} rows for {matrix.n} compositions; give one "
                "row per composition."
            )
        bad = [c for c in data.columns if c in _RESERVED]
        if bad:
            raise DataError(f"Column names {bad} are reserved by CandidatePool; rename them.")
        if not matrix.valid.all():
            row = int(np.flatnonzero(~matrix.valid)[0])
            raise DataError(f"Row {row} of the CandidatePool matrix is an empty composition.")
        keys = np.asarray(matrix.canonical_keys(), dtype=object)
        data = data.reset_index(drop=True)
        dup = pd.Series(keys).duplicated(keep="first").to_numpy()
        if dup.any():
            if on_duplicate == "raise":
                rows = np.flatnonzero(dup)[:5].tolist()
                raise DataError(
                    f"CandidatePool keys must be unique: row(s) {rows} repeat an earlier "
                    f"composition ({keys[rows[0]]!r}). Pass on_duplicate='first' to keep the "
                    "first occurrence."
                )
            if on_duplicate != "first":
                raise DataError(f"on_duplicate must be 'raise' or 'first'; got {on_duplicate!r}.")
            matrix = matrix.take(~dup)
            keys = keys[~dup]
            data = data.loc[~dup].reset_index(drop=True)
            if report is not None:
                report.record("duplicate reduced composition (in pool)", int(dup.sum()))
                report.n_output -= int(dup.sum())
        self._matrix = matrix
        frame = data.copy()
        frame.insert(0, "formula", matrix.formulas())
        frame.index = pd.Index(keys, name="key")
        self._frame = frame
        self.report = report

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_formulas(
        cls, formulas: Sequence[str], *, on_duplicate: str = "raise", **columns: Any
    ) -> CandidatePool:
        """Build from formula strings (parsed with :func:`mi.chem.parse_formulas`).

        Parameters
        ----------
        formulas : sequence of str
            Compositions.
        on_duplicate : {"raise", "first"}
            See :class:`CandidatePool`.
        **columns
            Extra columns, one value per formula.

        Returns
        -------
        CandidatePool
        """
        matrix = parse_formulas(list(formulas), on_error="raise")
        assert isinstance(matrix, CompositionMatrix)
        return cls(matrix, pd.DataFrame(columns) if columns else None, on_duplicate=on_duplicate)

    @staticmethod
    def concat(pools: Sequence[CandidatePool], on_duplicate: str = "first") -> CandidatePool:
        """Stack pools (columns missing in one pool are NA there).

        Parameters
        ----------
        pools : sequence of CandidatePool
        on_duplicate : {"first", "raise"}, default "first"

        Returns
        -------
        CandidatePool
        """
        matrix = CompositionMatrix.concat([p._matrix for p in pools])
        data = pd.concat([p._data_columns() for p in pools], ignore_index=True)
        return CandidatePool(matrix, data, on_duplicate=on_duplicate)

    # -- views ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._matrix.n

    def __repr__(self) -> str:
        cols = list(self._frame.columns)
        return f"CandidatePool(n={len(self)}, columns={cols})"

    @property
    def matrix(self) -> CompositionMatrix:
        """The compositions (hand this to featurization)."""
        return self._matrix

    @property
    def keys(self) -> list[str]:
        """Canonical reduced-formula keys, in row order."""
        return self._frame.index.tolist()

    @property
    def formulas(self) -> list[str]:
        """Readable formulas, in row order."""
        return self._frame["formula"].tolist()

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the table: index ``key``, columns ``formula`` and the data columns."""
        return self._frame.copy()

    def _data_columns(self) -> pd.DataFrame:
        return self._frame.drop(columns="formula").reset_index(drop=True)

    def take(self, idx: Any) -> CandidatePool:
        """Rows selected by integer positions or a bool mask."""
        index = np.asarray(idx)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        data = self._data_columns().iloc[index].reset_index(drop=True)
        return CandidatePool(self._matrix.take(index), data)

    # -- columns --------------------------------------------------------------------------
    def with_columns(self, **columns: Any) -> CandidatePool:
        """Return a new pool with added or replaced data columns (one value per row)."""
        data = self._data_columns()
        for name, values in columns.items():
            data[name] = np.asarray(values) if not isinstance(values, pd.Series) else values.values
        return CandidatePool(self._matrix, data, report=self.report)

    def with_constraints(self, constraints: Sequence[Constraint]) -> CandidatePool:
        """Return a new pool with a bool column ``"ok: <description>"`` per constraint (no filter).

        Parameters
        ----------
        constraints : sequence of callables
            Predicates (True = keep) with a ``.description``.

        Returns
        -------
        CandidatePool
        """
        flags = evaluate_constraints(self._matrix, constraints)
        data = self._data_columns()
        for c in flags.columns:
            data[c] = flags[c].to_numpy()
        return CandidatePool(self._matrix, data, report=self.report)

    def filter(
        self, constraints: Sequence[Constraint], report: ConstraintReport | None = None
    ) -> CandidatePool:
        """Keep the rows that pass every constraint; ``.report`` of the result counts removals."""
        report = ConstraintReport() if report is None else report
        report.add_input(len(self))
        _, mask = apply_constraints(self._matrix, constraints, report)
        report.add_output(int(mask.sum()))
        out = self.take(mask)
        out.report = report
        return out

    def with_criticality(self, **score_kwargs: Any) -> CandidatePool:
        """Return a new pool with the columns of :func:`mi.criticality.score` added.

        Parameters
        ----------
        **score_kwargs
            Passed to ``mi.criticality.score`` (``weights``, ``hree_convention`` ...).

        Returns
        -------
        CandidatePool
        """
        from mi.criticality import score

        scores = score(self._matrix, **score_kwargs).reset_index(drop=True)
        data = self._data_columns()
        for c in scores.columns:
            if c in ("formula", "composition", "key"):
                continue
            data[c] = scores[c].to_numpy()
        return CandidatePool(self._matrix, data, report=self.report)

    # -- Parquet --------------------------------------------------------------------------
    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the pool to one Parquet file (atomically: temporary file, then rename).

        The amounts are stored exactly, as two list columns (element indices and amounts),
        next to ``key``, ``formula`` and the data columns; the report goes into the metadata.

        Parameters
        ----------
        path : str or path-like
            Target file.

        Returns
        -------
        pathlib.Path
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        csr = self._matrix.to_csr()
        table = pa.Table.from_pandas(self._frame.reset_index(), preserve_index=False)
        offsets = pa.array(csr.indptr.astype(np.int32))
        table = table.append_column(
            "_element_index",
            pa.ListArray.from_arrays(offsets, pa.array(csr.indices.astype(np.int16))),
        )
        table = table.append_column(
            "_amount", pa.ListArray.from_arrays(offsets, pa.array(csr.data.astype(np.float64)))
        )
        meta = {
            "version": POOL_FORMAT_VERSION,
            "report": self.report.to_dict() if self.report is not None else None,
        }
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[_META_KEY] = json.dumps(meta).encode()
        table = table.replace_schema_metadata(schema_meta)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def read_parquet(cls, path: str | os.PathLike[str]) -> CandidatePool:
        """Read a pool written by :meth:`to_parquet`.

        Parameters
        ----------
        path : str or path-like
            Parquet file.

        Returns
        -------
        CandidatePool

        Raises
        ------
        TableError
            When the file is not a candidate pool.
        StateVersionError
            When it was written in a newer, unknown layout.
        """
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_META_KEY)
        if raw is None or "_amount" not in table.column_names:
            raise TableError(
                f"{os.fspath(path)!r} is not a candidate pool (no {_META_KEY.decode()!r} "
                "metadata); write pools with CandidatePool.to_parquet."
            )
        meta = json.loads(raw)
        if int(meta.get("version", -1)) != POOL_FORMAT_VERSION:
            raise StateVersionError(
                f"{os.fspath(path)!r} holds pool format version {meta.get('version')!r}; this "
                f"mi reads version {POOL_FORMAT_VERSION}. Regenerate the pool."
            )
        idx_col = table.column("_element_index").combine_chunks()
        amt_col = table.column("_amount").combine_chunks()
        # copies: Arrow buffers are read-only
        indptr = np.array(amt_col.offsets, dtype=np.int64)
        csr = sparse.csr_matrix(
            (
                np.array(amt_col.values, dtype=np.float64),
                np.array(idx_col.values, dtype=np.int32),
                indptr,
            ),
            shape=(len(indptr) - 1, N_ELEMENTS),
        )
        matrix = CompositionMatrix.from_amounts(csr)
        frame = table.drop(["_element_index", "_amount"]).to_pandas()
        stored_keys = frame.pop("key").tolist()
        frame = frame.drop(columns="formula")
        report = ConstraintReport.from_dict(meta["report"]) if meta.get("report") else None
        pool = cls(matrix, frame, report=report)
        if pool.keys != stored_keys:
            raise TableError(
                f"{os.fspath(path)!r}: stored keys do not match the stored amounts; the file is "
                "corrupt or was edited. Regenerate it."
            )
        return pool

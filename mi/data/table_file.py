"""A local table file used directly as a dataset, declared in a workflow or by ``mi ingest``.

A :class:`TableFile` is a :class:`~mi.data.spec.TableSpec` (composition as a formula column
or element columns, targets with units and transforms, condition columns, a ``where`` filter,
the merge rule) plus the file and how to read it::

    [targets.table]
    path = "my_measurements.xlsx"
    composition_col = "formula"
    where = "T_K >= 280 and T_K <= 320"
    conditions = [{ name = "T_K", column = "T (K)", unit = "K" }]
    targets = [{ name = "sigma", column = "sigma (S/cm)", unit = "S/cm", transform = "log10" }]

The file's sha256 is recorded in the dataset's metadata (and so in every model card and run
summary). Reading options are data only (separator, encoding, rows to skip ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from mi.data.dataset import Dataset, DatasetMeta
from mi.data.spec import TableSpec

__all__ = ["TableFile", "load_table_file", "READ_OPTIONS"]

#: pandas reading options a table declaration may set (plain values, never code).
READ_OPTIONS = (
    "sep",
    "encoding",
    "skiprows",
    "decimal",
    "thousands",
    "na_values",
    "comment",
    "header",
)

_MEMO: dict[tuple[object, ...], Dataset] = {}


class TableFile(TableSpec):
    """A table file and its column roles (see the module docstring)."""

    path: str = Field(min_length=1, description="The table file (CSV, TSV, Parquet, JSON, xlsx).")
    format: Literal["csv", "tsv", "parquet", "json", "jsonl", "xlsx"] | None = Field(
        default=None, description="Default: from the suffix."
    )
    sheet: str | int | None = Field(default=None, description="Excel sheet (default: first).")
    read_options: dict[str, str | int | float | bool | list[str]] = Field(
        default_factory=dict, description=f"pandas reading options: {', '.join(READ_OPTIONS)}."
    )
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="Dataset name (letters, digits, _ . -); default: the file stem.",
    )

    @field_validator("read_options")
    @classmethod
    def _plain_options(
        cls, v: dict[str, str | int | float | bool | list[str]]
    ) -> dict[str, str | int | float | bool | list[str]]:
        bad = sorted(set(v) - set(READ_OPTIONS))
        if bad:
            raise ValueError(f"read_options {bad} not allowed; use {', '.join(READ_OPTIONS)}")
        return v

    def resolved(self, base: str | Path | None = None) -> TableFile:
        """Return a copy whose relative ``path`` is resolved against ``base`` when found there."""
        p = Path(self.path).expanduser()
        if not p.is_absolute() and base is not None and not p.exists():
            candidate = Path(base) / p
            if candidate.exists():
                p = candidate
        return self.model_copy(update={"path": str(p.resolve())})

    @property
    def dataset_name(self) -> str:
        """Name used in reports and output file names: ``name`` or the file stem (made safe)."""
        import re

        if self.name:
            return self.name
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(self.path).name.split(".")[0])
        return stem.lstrip(".-") or "table"


def load_table_file(spec: TableFile) -> Dataset:
    """Read and clean a declared table file (memoised on the file's size and mtime).

    Parameters
    ----------
    spec : TableFile

    Returns
    -------
    Dataset
        With conditions, transforms and the row report (accepted, filtered, merged, rejected).

    Raises
    ------
    TableError
        The file is missing or unreadable, or a declared column, unit or rule is wrong (one
        line naming file, row and column).
    """
    from mi.data.cleaning import SourceFrame, clean_frames
    from mi.data.tables import read_raw_table, sha256_file

    path = Path(spec.path)
    stat = path.stat() if path.is_file() else None
    key = (str(path), stat.st_size if stat else -1, stat.st_mtime_ns if stat else -1)
    memo = (*key, spec.model_dump_json())
    if stat is not None and memo in _MEMO:
        return _MEMO[memo].copy()
    saved = _saved_dataset(path, spec)
    if saved is not None:
        _MEMO[memo] = saved.copy()
        return saved
    df = read_raw_table(path, format=spec.format, sheet=spec.sheet, read_options=spec.read_options)
    table = TableSpec.model_validate(
        spec.model_dump(exclude={"path", "format", "sheet", "read_options", "name"})
    )
    meta = DatasetMeta(
        name=spec.dataset_name, source=str(path.resolve()), sha256={path.name: sha256_file(path)}
    )
    ds = clean_frames([SourceFrame(str(path), df)], table, meta)
    _MEMO[memo] = ds.copy()
    return ds


def _saved_dataset(path: Path, spec: TableFile) -> Dataset | None:
    """Read a Parquet file written by ``mi ingest`` / :meth:`Dataset.save` with its roles.

    Such a file is already cleaned (its conditions, transforms and row report are stored in
    it), so it is read as it is; the declaration only has to name targets it holds.
    """
    if path.suffix.lower() not in {".parquet", ".pq"} or not path.is_file():
        return None
    import pyarrow.parquet as pq

    from mi.exceptions import TableError

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # not a Parquet file pyarrow can read: the table reader says why
        return None
    if b"mi.dataset" not in meta:
        return None
    ds = Dataset.load(path)
    missing = [t.name for t in spec.targets if t.name not in ds.targets]
    if missing:
        raise TableError(
            f"{path} was written by mi with targets {ds.targets}; the declaration names "
            f"{missing}. Use those names."
        )
    return ds

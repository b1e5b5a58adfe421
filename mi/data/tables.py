"""Read property tables (CSV, TSV, Parquet, JSON, XLSX) into a cleaned :class:`Dataset`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.spec import TableSpec
from mi.exceptions import TableError

__all__ = ["read_table", "read_raw_table", "TABLE_FORMATS", "sha256_file"]

#: File suffix to format name.
TABLE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".xlsx": "xlsx",
    ".xls": "xlsx",
}


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in set(TABLE_FORMATS.values()):
            raise TableError(
                f"Unknown table format {fmt!r}; use one of {sorted(set(TABLE_FORMATS.values()))}."
            )
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".xz", ".zip"}:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in TABLE_FORMATS:
        return TABLE_FORMATS[suffixes[-1]]
    raise TableError(
        f"Cannot tell the format of {path} from its suffix; pass format= one of "
        f"{sorted(set(TABLE_FORMATS.values()))}."
    )


def read_raw_table(
    path: str | Path,
    format: str | None = None,  # noqa: A002 - the natural name
    sheet: str | int | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a table file as it is (no validation).

    Parameters
    ----------
    path : str or Path
        The file.
    format : {"csv", "tsv", "parquet", "json", "jsonl", "xlsx"}, optional
        Default: from the suffix (compressed ``.csv.gz`` works too).
    sheet : str or int, optional
        Excel sheet (default: the first).
    read_options : mapping, optional
        Extra keyword arguments for the pandas reader.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TableError
        When the file is missing or cannot be parsed; the message quotes the reader's error.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"Table file {path} does not exist. Check the path.")
    fmt = _format_of(path, format)
    opts = dict(read_options or {})
    try:
        if fmt == "csv":
            df = pd.read_csv(path, **opts)
        elif fmt == "tsv":
            df = pd.read_csv(path, sep="\t", **opts)
        elif fmt == "parquet":
            df = pd.read_parquet(path, **opts)
        elif fmt == "json":
            df = pd.read_json(path, **opts)
        elif fmt == "jsonl":
            df = pd.read_json(path, lines=True, **opts)
        else:
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, **opts)
    except Exception as exc:  # every reader raises its own types; all mean "cannot read"
        raise TableError(
            f"Cannot read {path} as {fmt}: {type(exc).__name__}: {exc}. Check the file or pass "
            "format=/read_options=."
        ) from exc
    if not isinstance(df, pd.DataFrame):
        raise TableError(f"{path} does not hold a table (got {type(df).__name__}).")
    if df.columns.duplicated().any():
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise TableError(f"{path} has duplicate column names {dup}; rename them.")
    return df.reset_index(drop=True)


def read_table(
    path: str | Path | pd.DataFrame,
    composition_col: str = "composition",
    targets: Sequence[str] | Mapping[str, str] = (),
    units: Mapping[str, str] | None = None,
    *,
    structure_col: str | None = None,
    merge: str = "median",
    merge_by: Sequence[str] = (),
    keep_columns: Sequence[str] | None = None,
    censored: bool | None = None,
    format: str | None = None,  # noqa: A002
    sheet: str | int | None = None,
    read_options: Mapping[str, Any] | None = None,
    name: str | None = None,
    conditions: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    where: str | None = None,
    transforms: Mapping[str, str] | None = None,
    elements: str | Mapping[str, Any] | None = None,
) -> Dataset:
    """Read and clean a property table; every row is accepted or reported with its reason.

    Parameters
    ----------
    path : str, Path or pandas.DataFrame
        CSV, TSV, Parquet, JSON/JSONL or XLSX file (format from the suffix), or a DataFrame.
    composition_col : str, default "composition"
        Column of formulas. The dataset's ``composition`` column holds the clean formula.
    targets : sequence of str or mapping of str to str
        Target columns; a mapping renames ``{dataset name: source column}``.
    units : mapping of str to str, optional
        Unit of each target (dataset names).
    structure_col : str, optional
        Column of pymatgen Structures (or their dicts), kept as ``structure``.
    merge : {"median", "mean", "none"}, default "median"
        Rule for rows with the same reduced composition (see :mod:`mi.data.cleaning`).
    merge_by : sequence of str
        Columns that must also match to merge.
    keep_columns : sequence of str, optional
        Other columns to carry over; default all.
    censored : bool, optional
        ``None``: accept ``<x``/``>x`` as censored and flag them when present; ``True``:
        always add ``<target>_censored``; ``False``: reject such cells.
    format, sheet, read_options
        See :func:`read_raw_table`.
    name : str, optional
        Dataset name; default the file stem.
    conditions : mapping of str to str, or sequence of mappings, optional
        Condition columns kept as model inputs and merge keys: ``{column: unit}``, or full
        :class:`~mi.data.spec.ConditionSpec` tables (``name, column, unit, kind, missing``).
    where : str, optional
        Row filter (:mod:`mi.data.where`), e.g. ``"T_K >= 280 and T_K <= 320"``; the rows it
        leaves out are listed in ``report.filtered``.
    transforms : mapping of str to str, optional
        Target to transform (``log10``, ``ln``, ``reciprocal``).
    elements : {"wt%", "at%"} or mapping, optional
        The composition is given as element columns (every column named by an element symbol,
        or an :class:`~mi.data.spec.ElementColumnsSpec` table); ``composition_col`` is ignored.

    Returns
    -------
    Dataset
        With ``.report`` listing rejected rows (file, row, column, value, reason) and merged
        groups.

    Raises
    ------
    TableError
        When the file cannot be read or a named column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"formula": ["Fe2O3", "Fe4O6", "Xx2O3"], "Eg": [2.0, 2.2, 1.0]})
    >>> ds = read_table(raw, composition_col="formula", targets=["Eg"], units={"Eg": "eV"})
    >>> ds.df[["composition", "Eg", "Eg_n"]].values.tolist()
    [['Fe2O3', 2.1, 2]]
    >>> ds.report.n_input, ds.report.n_accepted, ds.report.n_rejected
    (3, 2, 1)
    """
    units = dict(units or {})
    if isinstance(targets, str):
        targets = [targets]
    mapping = dict(targets) if isinstance(targets, Mapping) else {t: t for t in targets}
    if isinstance(path, pd.DataFrame):
        frame = SourceFrame("<DataFrame>", path.reset_index(drop=True))
        meta = DatasetMeta(name=name or "table", source="<DataFrame>", units=units)
    else:
        p = Path(path)
        df = read_raw_table(p, format=format, sheet=sheet, read_options=read_options)
        frame = SourceFrame(str(p), df)
        meta = DatasetMeta(
            name=name or p.name.split(".")[0],
            source=str(p.resolve()),
            units=units,
            sha256={p.name: sha256_file(p)},
        )
    if structure_col is not None and composition_col not in frame.df.columns:
        comp: str | None = None  # derive compositions from the structures
    else:
        comp = composition_col
    if isinstance(conditions, Mapping):
        cond_specs = [
            {"name": _identifier(col), "column": col, "unit": unit}
            for col, unit in conditions.items()
        ]
    else:
        cond_specs = [dict(c) for c in conditions or []]
    if isinstance(elements, str):
        elements = {"basis": elements}
    transforms = dict(transforms or {})
    try:
        spec = TableSpec.model_validate(
            {
                "composition_col": None if elements is not None else comp,
                "structure_col": structure_col,
                "elements": elements,
                "conditions": cond_specs,
                "where": where,
                "targets": [
                    {
                        "name": n,
                        "column": c,
                        "unit": units.get(n, ""),
                        "censored": censored,
                        "transform": transforms.get(n),
                    }
                    for n, c in mapping.items()
                ],
                "merge": merge,
                "merge_by": tuple(merge_by),
                "keep_columns": None if keep_columns is None else tuple(keep_columns),
            }
        )
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        if callable(errors) and errors():
            first = errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "arguments"
            text = f"{where}: {first['msg']}"
        else:
            text = str(exc)
        raise TableError(f"{frame.file}: invalid table declaration: {text}.") from None
    return clean_frames([frame], spec, meta)


def _identifier(column: str) -> str:
    """Return a condition name for a column header: ``"Tag (K)"`` -> ``"Tag_K"``."""
    import re

    name = re.sub(r"[^A-Za-z0-9_]+", "_", column).strip("_") or "condition"
    return name if not name[0].isdigit() else f"c_{name}"

"""Read property tables (CSV, TSV, Parquet, JSON, XLSX) into a cleaned :class:`Dataset`."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mi._csv import csv_source
from mi.data.cleaning import SourceFrame, clean_frames
from mi.data.dataset import Dataset, DatasetMeta
from mi.data.spec import TableSpec, TargetSpec
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


#: Columns every cleaned dataset has; a target may not take these names.
_GENERATED = ("composition", "structure")
_TARGET_SUFFIXES = ("_n", "_std", "_censored")


def _read_large_csv(
    p: Path,
    composition_col: str,
    mapping: Mapping[str, str],
    units: Mapping[str, str],
    structure_col: str | None,
    merge: str,
    merge_by: Sequence[str],
    keep_columns: Sequence[str] | None,
    censored: bool | None,
    format: str | None,  # noqa: A002
    read_options: Mapping[str, Any] | None,
    name: str | None,
) -> Dataset | None:
    """Large CSV/TSV files: the chunked path of :mod:`mi.data.ingest` (bounded memory)."""
    from mi.data.ingest import CHUNKED_MIN_BYTES, clean_csv_chunked

    if read_options or structure_col is not None or merge_by or not p.is_file():
        return None
    fmt = _format_of(p, format)
    if fmt not in ("csv", "tsv") or p.suffix.lower() not in (".csv", ".tsv", ".tab", ".txt"):
        return None
    if p.stat().st_size < CHUNKED_MIN_BYTES:
        return None
    _check_csv_header(p, fmt, {})
    try:
        spec = TableSpec(
            composition_col=composition_col,
            targets=tuple(
                TargetSpec(name=n, column=c, unit=units.get(n, ""), censored=censored)
                for n, c in mapping.items()
            ),
            merge=merge,  # type: ignore[arg-type]
            keep_columns=None if keep_columns is None else tuple(keep_columns),
        )
    except ValueError as exc:
        raise TableError(f"Invalid read_table arguments: {exc}") from exc
    meta = DatasetMeta(
        name=name or p.name.split(".")[0],
        source=str(p.resolve()),
        units=dict(units),
        sha256={p.name: sha256_file(p)},
    )
    try:
        return clean_csv_chunked(p, spec, meta, sep="\t" if fmt == "tsv" else ",")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"Cannot read {p} as {fmt}: {type(exc).__name__}: {exc}.") from exc


def _check_target_names(mapping: Mapping[str, str], units: Mapping[str, str]) -> None:
    """Refuse target names that collide with generated columns, and units of non-targets."""
    for name in mapping:
        clash = name in _GENERATED or any(
            name == f"{other}{sfx}" for other in mapping for sfx in _TARGET_SUFFIXES
        )
        if clash:
            raise TableError(
                f"Target name {name!r} collides with a column the cleaned dataset generates "
                f"({', '.join(_GENERATED)}, <target>_n, <target>_std, <target>_censored); "
                "rename it, e.g. targets={'my_name': " + repr(mapping[name]) + "}."
            )
    extra = sorted(set(units) - set(mapping))
    if extra:
        raise TableError(
            f"Unit given for {extra[0]!r}, which is not a target (targets: "
            f"{', '.join(mapping) or '(none)'}); add it as a target or drop the unit."
        )


def _check_csv_header(path: Path, fmt: str, opts: dict[str, Any]) -> None:
    """Refuse repeated column names, which pandas would silently rename to ``y.1``."""
    head_opts = {k: v for k, v in opts.items() if k in ("sep", "delimiter", "encoding", "comment")}
    if fmt == "tsv":
        head_opts.setdefault("sep", "\t")
    try:
        with warnings.catch_warnings():  # a regex separator: pandas warns of its slower engine
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            header = pd.read_csv(csv_source(path), header=None, nrows=1, dtype=str, **head_opts)
    except Exception:  # noqa: BLE001 - the full read already succeeded; nothing more to check
        return
    names = [str(c) for c in header.iloc[0].tolist()] if len(header) else []
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise TableError(f"{path} has duplicate column names {dup}; rename them.")


_NO_CACHE = "formula without a cached value"


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read one sheet with openpyxl, keeping rows whose cells are formulas without a value.

    pandas reads such cells as empty and drops trailing empty rows, so those rows would be
    lost before counting. Here every row is kept, and an uncached formula cell holds its
    formula text with a note, so the cleaning step rejects the row with that reason.
    """
    import openpyxl

    values_wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:

        def pick(wb: Any) -> Any:
            if sheet is None:
                return wb.worksheets[0]
            if isinstance(sheet, int):
                return wb.worksheets[sheet]
            return wb[sheet]

        rows: list[list[Any]] = []
        for vals, forms in zip(
            pick(values_wb).iter_rows(values_only=True),
            pick(formulas_wb).iter_rows(values_only=True),
            strict=False,
        ):
            row = []
            for v, f in zip(vals, forms, strict=False):
                if v is None and isinstance(f, str) and f.startswith("="):
                    v = f"{f} ({_NO_CACHE}: open and save the file in a spreadsheet program)"
                row.append(v)
            rows.append(row)
    finally:
        values_wb.close()
        formulas_wb.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    header = [f"Unnamed: {j}" if c is None else c for j, c in enumerate(rows[0])]
    header += [f"Unnamed: {j}" for j in range(len(header), width)]
    body = [r + [None] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header).infer_objects()


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
        with warnings.catch_warnings():  # a regex separator: pandas warns of its slower engine
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = _read_by_format(path, fmt, opts, sheet)
    except Exception as exc:  # every reader raises its own types; all mean "cannot read"
        raise TableError(
            f"Cannot read {path} as {fmt}: {type(exc).__name__}: {exc}. Check the file or pass "
            "format=/read_options=."
        ) from exc
    if not isinstance(df, pd.DataFrame):
        raise TableError(f"{path} does not hold a table (got {type(df).__name__}).")
    if fmt in ("csv", "tsv") and "header" not in opts and "names" not in opts:
        _check_csv_header(path, fmt, opts)
    if df.columns.duplicated().any():
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise TableError(f"{path} has duplicate column names {dup}; rename them.")
    return df.reset_index(drop=True)


def _read_by_format(path: Path, fmt: str, opts: dict[str, Any], sheet: str | int | None) -> Any:
    """Read a table file with the reader of its format."""
    if fmt == "csv":
        return pd.read_csv(csv_source(path), **opts)
    if fmt == "tsv":
        return pd.read_csv(csv_source(path), sep="\t", **opts)
    if fmt == "parquet":
        return pd.read_parquet(path, **opts)
    if fmt == "json":
        return pd.read_json(path, **opts)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, **opts)
    if fmt == "xlsx" and not opts and path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, sheet)
    return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, **opts)


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
    _check_target_names(mapping, units)
    if isinstance(path, pd.DataFrame):
        frame = SourceFrame("<DataFrame>", path.reset_index(drop=True))
        meta = DatasetMeta(name=name or "table", source="<DataFrame>", units=units)
    elif not (conditions or where or transforms or elements) and (chunked := _read_large_csv(
        Path(path), composition_col, mapping, units, structure_col, merge, merge_by,
        keep_columns, censored, format, read_options, name,
    )) is not None:  # fmt: skip
        return chunked
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

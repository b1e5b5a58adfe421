"""``mi ingest PATH``: validate a property table, write Parquet plus the row reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "ingest"]


def _pairs(items: list[str] | None, option: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` items of a repeatable option."""
    from mi.exceptions import DataError

    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise DataError(f"{option} expects KEY=VALUE (e.g. {option} {example}); got {item!r}.")
        out[key.strip()] = value.strip()
    return out


def _condition_specs(items: list[str] | None) -> list[dict[str, object]]:
    """``COLUMN=UNIT[,missing=keep|reject|NUMBER][,flag]`` items as condition tables."""
    from mi.data.tables import _identifier
    from mi.exceptions import DataError

    specs: list[dict[str, object]] = []
    for column, value in _pairs(items, "--condition", "'T (K)=K'").items():
        unit, *extras = [part.strip() for part in value.split(",")]
        spec: dict[str, object] = {"name": _identifier(column), "column": column, "unit": unit}
        for extra in extras:
            key, _, arg = extra.partition("=")
            if key == "flag" and not arg:
                spec["kind"] = "flag"
            elif key == "missing" and arg in ("keep", "reject"):
                spec["missing"] = arg
            elif key == "missing":
                try:
                    spec["missing"] = float(arg)
                except ValueError:
                    raise DataError(
                        f"--condition {column}={value}: missing= takes keep, reject or a number."
                    ) from None
            else:
                raise DataError(
                    f"--condition {column}={value}: unknown part {extra!r}; write "
                    "COLUMN=UNIT[,missing=keep|reject|NUMBER][,flag]."
                )
        specs.append(spec)
    return specs


def ingest(
    path: Path,
    composition_col: str,
    targets: list[str],
    out: Path,
    units: list[str] | None = None,
    merge: str = "median",
    *,
    conditions: list[str] | None = None,
    where: str | None = None,
    transforms: list[str] | None = None,
    elements: str | None = None,
    merge_by: list[str] | None = None,
    read_options: list[str] | None = None,
    on_bad_sum: str = "error",
) -> list[Path]:
    """Read, clean and save a table; return the files written.

    Parameters
    ----------
    path : Path
        Input table (CSV, TSV, Parquet, JSON, XLSX).
    composition_col : str
        Formula column (ignored with ``elements``).
    targets : list of str
        Target columns.
    out : Path
        Parquet file to write; ``<stem>.rejected.csv``, ``<stem>.merged.csv`` (and
        ``<stem>.filtered.csv``) go beside it.
    units : list of str, optional
        ``TARGET=UNIT`` items.
    merge : str, default "median"
        Rule for rows whose composition and conditions agree ("median", "mean", "none").
    conditions : list of str, optional
        ``COLUMN=UNIT[,missing=keep|reject|NUMBER][,flag]`` items: condition columns kept as
        model inputs and merge keys (an empty cell rejects the row unless ``missing`` says
        otherwise; ``flag`` reads Y/N as 1/0).
    where : str, optional
        Row filter (:mod:`mi.data.where`).
    transforms : list of str, optional
        ``TARGET=log10|ln|reciprocal`` items.
    elements : {"wt%", "at%"}, optional
        The composition is given as element columns in this basis.
    merge_by : list of str, optional
        Other columns that must also agree to merge.
    read_options : list of str, optional
        ``sep=;`` / ``encoding=latin-1`` style pandas reading options.
    on_bad_sum : {"error", "reject"}, default "error"
        Element-column rows that do not sum to 100: stop, or reject them with the reason.

    Returns
    -------
    list of Path
    """
    from mi.data import read_table

    unit_map = _pairs(units, "--unit", "Tc=K")
    transform_map = _pairs(transforms, "--transform", "sigma=log10")
    options = _pairs(read_options, "--read-option", "sep=';'")
    ds = read_table(
        path,
        composition_col=composition_col,
        targets=targets,
        units=unit_map,
        merge=merge,
        merge_by=list(merge_by or []),
        conditions=_condition_specs(conditions),
        where=where,
        transforms=transform_map,
        elements=None if elements is None else {"basis": elements, "on_bad_sum": on_bad_sum},
        read_options=options,
    )
    written = ds.save(out)
    typer.echo(ds.summary())
    differs = ds.report.merged.get("differs_in")
    if differs is not None and (differs.astype(str) != "").any():
        n = int((differs.astype(str) != "").sum())
        typer.secho(
            f"warning: {n} merged groups combine rows that differ in other columns (see "
            f"'differs_in' in {out.with_suffix('')}.merged.csv); pass them as --condition or "
            "--merge-by to keep them apart, or --merge none.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    for p in written:
        typer.echo(f"wrote {p}")
    return written


def register(app: typer.Typer) -> None:
    """Add ``mi ingest`` to the root CLI."""

    @app.command("ingest")
    def ingest_cmd(
        path: Annotated[Path, typer.Argument(help="Table: CSV, TSV, Parquet, JSON or XLSX.")],
        composition_col: Annotated[
            str, typer.Option("--composition-col", "-c", help="Column holding formulas.")
        ] = "composition",
        target: Annotated[
            list[str] | None, typer.Option("--target", "-t", help="Target column (repeat).")
        ] = None,
        unit: Annotated[
            list[str] | None, typer.Option("--unit", help="TARGET=UNIT (repeatable).")
        ] = None,
        condition: Annotated[
            list[str] | None,
            typer.Option(
                "--condition",
                help="COLUMN=UNIT[,missing=keep|reject|NUMBER][,flag]: a condition kept as "
                "model input and merge key (repeatable).",
            ),
        ] = None,
        where: Annotated[
            str | None,
            typer.Option("--where", help="Row filter, e.g. 'T_K >= 280 and T_K <= 320'."),
        ] = None,
        transform: Annotated[
            list[str] | None,
            typer.Option("--transform", help="TARGET=log10|ln|reciprocal (repeatable)."),
        ] = None,
        elements: Annotated[
            str | None,
            typer.Option("--elements", help="Composition as element columns in wt% or at%."),
        ] = None,
        merge: Annotated[
            str,
            typer.Option(help="Rows with equal composition and conditions: median, mean, none."),
        ] = "median",
        merge_by: Annotated[
            list[str] | None,
            typer.Option("--merge-by", help="Another column that must agree to merge."),
        ] = None,
        read_option: Annotated[
            list[str] | None,
            typer.Option("--read-option", help="pandas reading option, e.g. 'sep=;'."),
        ] = None,
        on_bad_sum: Annotated[
            str,
            typer.Option("--on-bad-sum", help="Element rows not summing to 100: error or reject."),
        ] = "error",
        out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")] = Path(
            "dataset.parquet"
        ),
    ) -> None:
        """Validate a table: write clean Parquet plus rejected/filtered/merged rows as CSV."""
        ingest(
            path,
            composition_col,
            list(target or []),
            out,
            list(unit or []),
            merge,
            conditions=list(condition or []),
            where=where,
            transforms=list(transform or []),
            elements=elements,
            merge_by=list(merge_by or []),
            read_options=list(read_option or []),
            on_bad_sum=on_bad_sum,
        )

"""``mi ingest PATH``: validate a property table, write Parquet plus the rejection report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "ingest"]


def ingest(
    path: Path,
    composition_col: str,
    targets: list[str],
    out: Path,
    units: list[str] | None = None,
    merge: str = "median",
) -> list[Path]:
    """Read, clean and save a table; return the files written.

    Parameters
    ----------
    path : Path
        Input table (CSV, TSV, Parquet, JSON, XLSX).
    composition_col : str
        Formula column.
    targets : list of str
        Target columns.
    out : Path
        Parquet file to write; ``<stem>.rejected.csv`` and ``<stem>.merged.csv`` go beside it.
    units : list of str, optional
        ``TARGET=UNIT`` items.
    merge : str, default "median"
        Duplicate rule ("median", "mean", "none").

    Returns
    -------
    list of Path
    """
    from mi.data import read_table
    from mi.exceptions import DataError

    unit_map: dict[str, str] = {}
    for item in units or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(f"--unit expects TARGET=UNIT (e.g. --unit Tc=K); got {item!r}.")
        unit_map[key.strip()] = value.strip()
    ds = read_table(
        path, composition_col=composition_col, targets=targets, units=unit_map, merge=merge
    )
    written = ds.save(out)
    typer.echo(ds.summary())
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
        merge: Annotated[
            str, typer.Option(help="Duplicate compositions: median, mean or none.")
        ] = "median",
        out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")] = Path(
            "dataset.parquet"
        ),
    ) -> None:
        """Validate a table: write clean Parquet plus rejected/merged rows as CSV."""
        ingest(path, composition_col, list(target or []), out, list(unit or []), merge)

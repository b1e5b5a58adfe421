"""``mi datasets list`` and ``mi datasets show NAME``: the dataset registry."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]

datasets_app = typer.Typer(
    help="Registered datasets: list them, show one with its row accounting.",
    no_args_is_help=True,
)


@datasets_app.command("list")
def list_cmd() -> None:
    """List registered datasets (name, kind, targets, rows, availability, licence)."""
    from rich.markup import escape
    from rich.table import Table

    from mi.cli._console import make_console
    from mi.data.catalog import catalog_rows  # manifests only: no pandas, answers at once

    table = Table(title="mi datasets", show_lines=False)
    for col in ("name", "kind", "targets", "rows", "available", "licence"):
        table.add_column(col, overflow="fold", max_width=48 if col == "licence" else None)
    for row in catalog_rows():
        rows = "" if row["rows"] is None else f"{int(row['rows']):,}"
        licence = row["licence"] if len(row["licence"]) <= 60 else row["licence"][:57] + "..."
        cells = (row["name"], row["kind"], row["targets"], rows, row["available"], licence)
        table.add_row(*(escape(str(c)) for c in cells))
    make_console().print(table)


def show_dataset(name: str, n_rejected: int = 10) -> str:
    """Text shown by ``mi datasets show``: summary plus the first rejected rows.

    Parameters
    ----------
    name : str
        Registered dataset.
    n_rejected : int, default 10
        How many rejected rows to list.

    Returns
    -------
    str
    """
    from mi.data import get_manifest, load_dataset

    manifest = get_manifest(name)
    ds = load_dataset(name)
    lines = [ds.summary(), f"manifest : {manifest.path}"]
    rej = ds.report.rejected
    if len(rej):
        lines.append(
            f"first {min(n_rejected, len(rej))} of {len(rej)} rejection entries "
            "(rows are 0-based data rows; the header is not counted):"
        )
        for r in rej.head(n_rejected).itertuples(index=False):
            lines.append(f"  {r.file} row {r.row} [{r.column}] {r.value!r}: {r.reason}")
    merged = ds.report.merged
    if len(merged):
        lines.append(f"first {min(3, len(merged))} of {len(merged)} merged groups:")
        for r in merged.head(3).to_dict("records"):
            lines.append(f"  {r['composition']}: {r['n_rows']} rows ({r['sources']})")
    return "\n".join(lines)


@datasets_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="Registered dataset name, e.g. supercon.")],
    rejected: Annotated[int, typer.Option(help="How many rejected rows to print.")] = 10,
) -> None:
    """Load one dataset and print source, licence, rows, targets and the row accounting."""
    typer.echo(show_dataset(name, rejected))


@datasets_app.command("path")
def path_cmd(
    name: Annotated[str, typer.Argument(help="Registered dataset name.")],
) -> None:
    """Print the verified local path of each file of a dataset (downloading it if needed)."""
    from mi.data import get_manifest
    from mi.data.cache import fetch
    from mi.exceptions import DataError

    manifest = get_manifest(name)
    if manifest.kind != "files" or manifest.folder is None:
        raise DataError(f"Dataset {name!r} is a {manifest.kind} source, not files.")
    for spec in manifest.files:
        typer.echo(str(fetch(manifest.folder, spec, dataset=manifest.name)))


def register(app: typer.Typer) -> None:
    """Add the ``datasets`` sub-app to the root CLI."""
    app.add_typer(datasets_app, name="datasets")

"""``mi features presets`` and ``mi features run``: featurizer presets and featurizing a table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

features_app = typer.Typer(
    help="Featurizer presets (matminer featurizers by name) and featurizing formulas.",
    no_args_is_help=True,
)


@features_app.command("presets")
def presets_cmd() -> None:
    """List the featurizer presets (name, kind, featurizers, description, file).

    Reads the preset TOML files only (no matminer import), so it answers in well under a
    second; ``mi.features.get_preset(NAME).n_features`` builds the featurizers and counts.
    """
    from rich.markup import escape
    from rich.table import Table

    from mi.cli._console import make_console
    from mi.features.presets import _preset_files, get_preset

    table = Table(title="mi featurizer presets")
    for col in ("name", "kind", "featurizers", "description", "source"):
        table.add_column(col, overflow="fold")
    for name, path in _preset_files().items():
        preset = get_preset(name)
        featurizers = ", ".join(spec.cls for spec in preset.featurizers)
        cells = (name, preset.kind, featurizers, preset.description, path)
        table.add_row(*(escape(str(c)) for c in cells))
    make_console().print(table)


@features_app.command("run")
def run_cmd(
    source: Annotated[
        str, typer.Argument(help="A CSV/Parquet file with formulas, or a registered dataset name.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .parquet or .csv file.")],
    preset: Annotated[str, typer.Option(help="Featurizer preset.")] = "magpie",
    column: Annotated[str, typer.Option(help="Formula column of a file.")] = "composition",
    backend: Annotated[str, typer.Option(help="fast or matminer.")] = "fast",
    on_error: Annotated[str, typer.Option(help="raise, nan or report.")] = "report",
    float32: Annotated[bool, typer.Option(help="Write float32 features.")] = False,
    cache: Annotated[bool, typer.Option(help="Use the Parquet feature cache.")] = False,
) -> None:
    """Featurize the formulas of a file or dataset; writes composition + feature columns."""
    import numpy as np
    import pandas as pd

    from mi.exceptions import DataError
    from mi.features import featurize

    path = Path(source)
    if path.is_file():
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        if column not in df.columns:
            raise DataError(
                f"{path} has no column {column!r}; columns: {', '.join(map(str, df.columns))}. "
                "Pass --column."
            )
        formulas = df[column]
    else:
        from mi.data import load_dataset

        ds = load_dataset(source)
        formulas = ds.df[ds.composition_col]
    feats = featurize(
        formulas.reset_index(drop=True),
        preset=preset,
        backend=backend,  # type: ignore[arg-type]
        on_error=on_error,  # type: ignore[arg-type]
        cache=cache,
        dtype=np.float32 if float32 else np.float64,
    )
    errors = feats.attrs.get("errors", [])
    feats.insert(0, "composition", formulas.astype(str).to_numpy())
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        feats.to_csv(out, index=False)
    else:
        feats.to_parquet(out, index=False)
    typer.echo(f"{len(feats):,} rows x {feats.shape[1] - 1} features ({preset}) -> {out}")
    for row, value, reason in errors[:10]:
        typer.echo(f"  row {row} {value!r}: {reason}")
    if len(errors) > 10:
        typer.echo(f"  ... {len(errors) - 10} more rows with NaN features")


def register(app: typer.Typer) -> None:
    """Add the ``features`` sub-app to the root CLI."""
    app.add_typer(features_app, name="features")

"""``mi predict MODEL_DIR INPUT --out FILE``: apply saved surrogates to new compositions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def _parse_conditions(items: list[str]) -> dict[str, float]:
    from mi.exceptions import DataError

    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise DataError(
                f"--condition expects NAME=NUMBER (e.g. --condition Tag_K=723); got {item!r}."
            ) from None
    return out


def register(app: typer.Typer) -> None:
    """Add ``mi predict`` to the root CLI."""

    @app.command("predict")
    def predict_cmd(
        model_dir: Annotated[
            Path, typer.Argument(help="A saved model folder, or a run folder (all its models).")
        ],
        inputs: Annotated[
            list[str],
            typer.Argument(help="A table file (CSV/TSV/Parquet/JSON/xlsx) or formulas."),
        ],
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write .csv or .parquet.")
        ] = None,
        composition_col: Annotated[
            str | None, typer.Option("--composition-col", "-c", help="Formula column.")
        ] = None,
        elements: Annotated[
            str | None,
            typer.Option("--elements", help="Composition as element columns: wt% or at%."),
        ] = None,
        condition: Annotated[
            list[str] | None,
            typer.Option("--condition", help="NAME=VALUE for a condition input (repeatable)."),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    ) -> None:
        """Predict mean, calibrated 95 % interval and an applicability flag for new rows."""
        import pandas as pd

        from mi.runner.predict import predict_table, write_table

        one_file = len(inputs) == 1 and Path(inputs[0]).is_file()
        source: str | list[str] = inputs[0] if one_file else inputs
        result = predict_table(
            model_dir,
            source,
            composition_col=composition_col,
            elements=elements,
            conditions=_parse_conditions(list(condition or [])),
            progress=not quiet,
        )
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            shown = [c for c in result.columns if not c.endswith("_domain_note")]
            typer.echo(result[shown].head(20).to_string(index=False, float_format="{:.4g}".format))
        flagged = [c for c in result.columns if c.endswith("_applicable")]
        for col in flagged:
            n_out = int((~result[col]).sum())
            if n_out:
                note = result.loc[~result[col], col.replace("_applicable", "_domain_note")].iloc[0]
                typer.echo(
                    f"{col}: {n_out} of {len(result)} rows outside the model's domain "
                    f"(first: {note})"
                )
        if out is not None:
            typer.echo(f"wrote {write_table(result, out)}")

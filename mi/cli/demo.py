"""``mi demo --out DIR``: the main job of ``make demo``.

For now it loads a registered dataset, prints its summary and rejection report, and writes
the cleaned table with its reports to ``DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "run_demo"]


def run_demo(out: Path, dataset: str = "supercon") -> list[Path]:
    """Load ``dataset``, print its summary and rejections, save it under ``out``.

    Parameters
    ----------
    out : Path
        Output folder.
    dataset : str, default "supercon"
        Registered dataset name.

    Returns
    -------
    list of Path
        Files written.
    """
    from mi.cli.datasets import show_dataset
    from mi.data import load_dataset

    typer.echo(show_dataset(dataset))
    ds = load_dataset(dataset)
    written = ds.save(Path(out) / f"{dataset}.parquet")
    for p in written:
        typer.echo(f"wrote {p}")
    return written


def register(app: typer.Typer) -> None:
    """Add ``mi demo`` to the root CLI."""

    @app.command("demo")
    def demo_cmd(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
            "runs/demo"
        ),
        dataset: Annotated[str, typer.Option(help="Registered dataset to load.")] = "supercon",
    ) -> None:
        """Run the demo: load a dataset, show its row accounting, write it to --out."""
        run_demo(out, dataset)

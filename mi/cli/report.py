"""``mi report RUN_DIR``: (re)write the self-contained report.html of a finished run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def report(
    run_dir: Annotated[Path, typer.Argument(help="Output folder of a finished `mi run`.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write (default: RUN_DIR/report.html)."),
    ] = None,
    svg: Annotated[
        bool, typer.Option("--svg", help="Embed the figures as SVG instead of PNG.")
    ] = False,
) -> None:
    """Write report.html for a finished run (figures embedded; opens offline in any browser)."""
    from mi.report import write_report

    path = write_report(run_dir, out, fmt="svg" if svg else "png")
    size = path.stat().st_size / 1e6
    typer.echo(f"report: {path.resolve()} ({size:.1f} MB)")


def register(app: typer.Typer) -> None:
    """Add ``mi report`` to the CLI."""
    app.command("report")(report)

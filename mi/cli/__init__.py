"""The ``mi`` command line: a thin Typer front end over the library.

One sub-app per noun (``mi datasets ...``, ``mi campaign ...``) plus a few verbs
(``mi ingest``, ``mi run``, ``mi criticality``). Each command parses its arguments, calls one
library function and renders the result. Modules here import only ``typer`` at import time
(heavy libraries are imported inside the commands) so that ``mi --help`` stays under a second.

Errors: a known :class:`mi.exceptions.MIError` prints one red line on stderr and exits 1;
``mi --debug ...`` shows the full traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="mi",
    help="Screen magnet and conductor compositions that use fewer supply-critical elements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Modules under ``mi.cli`` that each expose ``register(app)``; one job per module.
_COMMAND_MODULES: tuple[str, ...] = (
    "criticality",
    "datasets",
    "ingest",
    "demo",
    "run",
    "submit",
    "campaign",
    "benchmark",
    "features",
    "report",
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """Screen magnet and conductor compositions that use fewer supply-critical elements."""
    _state["debug"] = debug


@app.command("version")
def _version() -> None:
    """Print the versions of mi and its main dependencies."""
    import mi

    mi.show_versions()


for _name in _COMMAND_MODULES:
    importlib.import_module(f"mi.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (used by the ``mi`` console script).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on a known error, 2 on a usage error.
    """
    import click

    from mi.exceptions import MIError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, standalone_mode=False, prog_name="mi")
    except MIError as exc:
        if debug:
            raise
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        return 1
    except click.exceptions.Abort:
        typer.secho("Aborted.", fg=typer.colors.RED, err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        typer.secho("Interrupted.", fg=typer.colors.RED, err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

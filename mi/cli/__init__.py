"""The ``mi`` command line: a thin Typer front end over the library.

One sub-app per noun (``mi datasets ...``, ``mi campaign ...``) plus a few verbs
(``mi ingest``, ``mi run``, ``mi criticality``). Each command parses its arguments, calls one
library function and renders the result. Modules here import only ``typer`` at import time
(heavy libraries are imported inside the commands) so that ``mi --help`` stays under a second.

Errors: a known :class:`mi.exceptions.MIError` prints one red line on stderr and exits 1; a
usage error (missing or unknown option, unknown command, bad value) prints one red line and
exits 2, whichever Click the installed Typer ships; ``mi --debug ...`` shows the traceback.
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


# Each command module imports only typer at import time and exposes ``register(app)``; the
# order here is the order of ``mi --help``.
from mi.cli import (  # noqa: E402
    benchmark,
    campaign,
    criticality,
    datasets,
    demo,
    features,
    ingest,
    predict,
    report,
    run,
    submit,
)

for _module in (
    criticality,
    datasets,
    ingest,
    demo,
    run,
    submit,
    campaign,
    benchmark,
    features,
    report,
    predict,
):
    _module.register(app)


_ExceptionTypes = tuple[type[BaseException], ...]


def _click_exception_classes() -> tuple[_ExceptionTypes, _ExceptionTypes]:
    """Return the (``ClickException``, ``Abort``) classes of every Click that Typer may raise.

    Recent Typer releases bundle their own copy of Click (``typer._click``) whose exceptions do
    not derive from the standalone ``click`` package's; older ones use ``click`` itself. Both
    are collected, so the handler matches whichever Click the installed Typer ships.

    Returns
    -------
    tuple
        The usage-error base classes and the abort classes found.
    """
    errors: list[type[BaseException]] = []
    aborts: list[type[BaseException]] = [typer.Abort]
    for module_name in ("typer._click.exceptions", "click.exceptions"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name, found in (("ClickException", errors), ("Abort", aborts)):
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
                found.append(cls)
    return tuple(errors), tuple(aborts)


def _usage_line(exc: BaseException) -> str:
    """Format a Click usage error as one line: the message and where to find help.

    Parameters
    ----------
    exc : BaseException
        A ``ClickException`` of either Click.

    Returns
    -------
    str
        ``Error: <message> Try 'mi <command> --help'.`` without line breaks.
    """
    message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" Try '{ctx.command_path} --help'."
    return f"Error: {message}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (used by the ``mi`` console script).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on a known error, 2 on a usage error. Known errors and usage errors
        print exactly one red line on stderr; ``--debug`` re-raises them with the traceback.
    """
    from mi.exceptions import MIError

    click_errors, aborts = _click_exception_classes()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, standalone_mode=False, prog_name="mi")
    except MIError as exc:
        if debug:
            raise
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        return 1
    except aborts:
        typer.secho("Aborted.", fg=typer.colors.RED, err=True)
        return 1
    except click_errors as exc:
        if debug:
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # ``mi`` or ``mi campaign`` alone: help
            text = str(exc.format_message())  # type: ignore[attr-defined]
            if text.strip():  # (Typer's rich help is printed already and leaves this empty)
                typer.echo(text)
        else:
            typer.secho(_usage_line(exc), fg=typer.colors.RED, err=True)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        typer.secho("Interrupted.", fg=typer.colors.RED, err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

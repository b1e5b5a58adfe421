"""One rich console for every command: terminal width, or wide enough when output is piped."""

from __future__ import annotations

from typing import Any

#: Width used when stdout is not a terminal (cluster job logs, pipes): never truncate cells.
PIPED_WIDTH = 160


def make_console(**kwargs: Any) -> Any:
    """Return a ``rich.console.Console`` that does not squeeze tables into 80 columns.

    Parameters
    ----------
    **kwargs
        Passed to ``Console``.

    Returns
    -------
    rich.console.Console
        Uses the terminal's width in a terminal, and at least :data:`PIPED_WIDTH` otherwise.
    """
    from rich.console import Console

    probe = Console()
    width = probe.width if probe.is_terminal else max(probe.width, PIPED_WIDTH)
    return Console(width=width, **kwargs)

"""Every exception and warning class of ``mi``.

All errors derive from :class:`MIError`, and each also derives from the builtin exception a
user would naturally catch (``DataError`` is a ``ValueError``, ``DatasetNotFoundError`` a
``LookupError`` ...), so ``except ValueError`` keeps working for code that does not know ``mi``.

Messages follow one rule: say what is wrong, quote the offending value, and say the fix.
A message is always one line (the CLI prints it as ``Error: <message>``): line breaks in the
text, often from a library's own error quoted in it, are joined with spaces by
:meth:`MIError.__str__`. Several problems go on that line too, the first in full and the rest
after it (``... (+2 more: a | b)``, as ``--check`` reports a workflow); nothing is printed on
further lines.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "MIError",
    "ConfigError",
    "DataError",
    "FormulaError",
    "TableError",
    "StructureError",
    "ChecksumError",
    "DatasetNotFoundError",
    "DataUnavailableError",
    "RegistryKeyError",
    "FeaturizationError",
    "ModelError",
    "ModelLoadError",
    "NotFittedError",
    "CampaignError",
    "ObservationError",
    "StateVersionError",
    "SpecError",
    "SchedulerError",
    "MissingDependencyError",
    "MIWarning",
    "DataWarning",
    "FallbackWarning",
    "closest_names",
    "did_you_mean",
]


_BREAK = re.compile(r"\s*[\r\n]+\s*")


def _one_line(text: str) -> str:
    """Join the lines of a message with spaces (none before a following ``.``, ``,``, ``;``)."""
    return _BREAK.sub(lambda m: "" if text[m.end() : m.end() + 1] in ".,;:" else " ", text.strip())


class MIError(Exception):
    """Root of every error raised on purpose by ``mi``; its message is one line."""

    def __str__(self) -> str:
        return _one_line(super().__str__())


class ConfigError(MIError, ValueError):
    """A setting (environment variable ``MI_*`` or config file) has an invalid value."""


class DataError(MIError, ValueError):
    """Input data is invalid: a file, a table cell, a formula or a structure."""


class FormulaError(DataError):
    """A chemical formula cannot be parsed or names something that is not an element."""


class TableError(DataError):
    """A property table cannot be read, or lacks a required column."""


class StructureError(DataError):
    """A structure file cannot be read."""


class ChecksumError(DataError):
    """A downloaded or cached file does not match the sha256 in its manifest."""


class DatasetNotFoundError(MIError, LookupError):
    """A dataset name is not in the registry."""


class DataUnavailableError(MIError, FileNotFoundError):
    """A registered dataset's file is neither in the cache nor downloadable (offline)."""


class RegistryKeyError(MIError, KeyError):
    """A name (preset, acquisition, criticality table, oracle ...) is not in its registry.

    Parameters
    ----------
    kind : str
        What was looked up, e.g. ``"preset"``.
    name : str
        The name that was not found.
    choices : iterable of str
        The names that exist.
    """

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(choices)
        message = (
            f"Unknown {kind} {name!r}. Available: {', '.join(self.choices) or '(none)'}."
            f"{did_you_mean(name, self.choices)}"
        )
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return _one_line(str(self.args[0]))


class FeaturizationError(MIError, ValueError):
    """A composition or structure could not be featurized."""


class ModelError(MIError, ValueError):
    """A surrogate model was given invalid parameters or data."""


class ModelLoadError(ModelError):
    """A saved model folder is damaged or crafted; it was refused before any native code ran."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit``."""


class CampaignError(MIError, RuntimeError):
    """An active-learning campaign cannot perform the requested step."""


class ObservationError(CampaignError, ValueError):
    """Measured results handed to ``Campaign.observe`` are invalid; state was not changed."""


class StateVersionError(CampaignError):
    """A saved state was written by an incompatible version of ``mi``."""


class SpecError(MIError, ValueError):
    """A workflow or campaign spec file is invalid."""


class SchedulerError(MIError, ConnectionError):
    """A Dask scheduler or cluster cannot be reached or started."""


class MissingDependencyError(MIError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class MIWarning(UserWarning):
    """Root of every warning emitted by ``mi``."""


class DataWarning(MIWarning):
    """Something in the data deserves attention but did not stop processing."""


class FallbackWarning(MIWarning):
    """A fast path was not available and a slower, equivalent path was used."""


def closest_names(name: str, choices: Iterable[str], n: int = 1) -> list[str]:
    """Return the choices closest to ``name`` (for "did you mean" hints).

    Parameters
    ----------
    name : str
        The misspelt name.
    choices : iterable of str
        Valid names.
    n : int, default 1
        How many suggestions at most.

    Returns
    -------
    list of str
        Up to ``n`` close matches, best first; empty when nothing is close.

    Examples
    --------
    >>> closest_names("magpi", ["magpie", "magnet"])
    ['magpie']
    """
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)


def did_you_mean(name: object, choices: Iterable[object]) -> str:
    """Return the hint ``" Did you mean 'x'?"`` for the closest choice, or ``""``.

    Every "did you mean" in ``mi`` is written by this function, so the hints read the same
    everywhere: appended to a message that ends in a full stop.

    Parameters
    ----------
    name : object
        The misspelt name (compared as text).
    choices : iterable
        Valid names (compared as text).

    Returns
    -------
    str
        ``" Did you mean 'x'?"`` (with the leading space), or ``""`` when nothing is close.

    Examples
    --------
    >>> "Unknown preset 'magpi'." + did_you_mean("magpi", ["magpie", "magnet"])
    "Unknown preset 'magpi'. Did you mean 'magpie'?"
    >>> did_you_mean("zzz", ["magpie"])
    ''
    """
    close = closest_names(str(name), [str(c) for c in choices])
    return f" Did you mean {close[0]!r}?" if close else ""

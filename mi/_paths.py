"""Names that become file or folder names, and paths kept inside an output folder.

Every name a user writes in a definition file (a workflow's target names, dataset, preset and
campaign names) may end up as part of a path. :func:`check_name` accepts only a safe
identifier; :func:`inside` resolves a path under a root folder and refuses anything that
would land outside it (``..``, absolute parts, symlinks pointing elsewhere). The runner calls
:func:`inside` before every write and every removal.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mi.exceptions import SpecError

__all__ = [
    "NAME_PATTERN",
    "UnsafePathError",
    "check_name",
    "inside",
    "is_safe_name",
    "unsafe_name_message",
]

#: A safe name: starts with a letter or digit; then letters, digits, ``_ . + -``; at most 64.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,63}")


class UnsafePathError(SpecError):
    """A path the runner was about to write or remove lies outside the output folder."""


def is_safe_name(name: object) -> bool:
    """Whether ``name`` is a safe identifier (:data:`NAME_PATTERN`).

    Parameters
    ----------
    name : object
        The candidate name.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_safe_name("Tc"), is_safe_name("../x"), is_safe_name("/abs")
    (True, False, False)
    """
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def unsafe_name_message(what: str) -> str:
    """Return the reason given when a name is refused (without the key and the value).

    Parameters
    ----------
    what : str
        What the name is, e.g. ``"target name"``.

    Returns
    -------
    str
    """
    return (
        f"not a safe {what}: use 1-64 letters, digits, '_', '.', '+' or '-', starting with "
        "a letter or digit (it becomes a file name)"
    )


def check_name(name: object, what: str) -> str:
    """Return ``name`` if it is a safe identifier, else raise a one-line error.

    Parameters
    ----------
    name : object
        The value from the definition file.
    what : str
        What the name is, e.g. ``"target name"`` (quoted in the error, which the caller
        prefixes with the key and suffixes with the value).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Not a safe identifier (pydantic validators turn it into a :class:`SpecError`).
    """
    if not is_safe_name(name):
        raise ValueError(unsafe_name_message(what))
    assert isinstance(name, str)
    return name


def inside(root: str | os.PathLike[str], *parts: str | os.PathLike[str]) -> Path:
    """Join ``parts`` under ``root`` and check that the result stays inside ``root``.

    Parameters
    ----------
    root : path
        The output folder.
    *parts : str or path
        Path components below it.

    Returns
    -------
    Path
        ``root / parts...`` (not resolved, so messages show the user's spelling).

    Raises
    ------
    UnsafePathError
        A part is absolute, contains ``..`` or a NUL byte, or the resolved path (symlinks followed)
        is not below the resolved ``root``.

    Examples
    --------
    >>> inside("out", "models", "Tc").as_posix()
    'out/models/Tc'
    """
    base = Path(root)
    path = base
    for part in parts:
        text = os.fspath(part)
        if "\0" in text or Path(text).is_absolute() or ".." in Path(text).parts:
            raise UnsafePathError(
                f"refusing to touch {text!r}: not a relative path inside the output folder {base}"
            )
        path = path / text
    real_root = Path(os.path.realpath(base))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise UnsafePathError(
            f"refusing to touch {path}: it resolves to {real}, outside the output folder {base}"
        )
    return path

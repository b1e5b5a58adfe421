"""Definition files read the same way everywhere: UTF-8 with or without a BOM, bounded nesting.

A byte-order mark (as Windows editors write) is skipped instead of making the file "invalid",
and a file nested so deeply that the parser would recurse out of the stack is refused with a
``tomllib.TOMLDecodeError`` / ``json.JSONDecodeError``-compatible ``ValueError`` rather than a
``RecursionError`` traceback.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["load_json", "load_toml", "read_text"]

_BOM = b"\xef\xbb\xbf"


def read_text(path: str | Path) -> str:
    """Return a file's text decoded as UTF-8, without a leading byte-order mark.

    Raises
    ------
    ValueError
        The bytes are not UTF-8.
    """
    data = Path(path).read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc})") from None


def load_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file (BOM tolerated).

    Raises
    ------
    tomllib.TOMLDecodeError
        Invalid TOML, not UTF-8, or nested too deeply to parse.
    """
    try:
        text = read_text(path)
    except ValueError as exc:
        raise tomllib.TOMLDecodeError(str(exc)) from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("nested too deeply to read") from None


def load_json(path: str | Path) -> Any:
    """Parse a JSON file (BOM tolerated).

    Raises
    ------
    ValueError
        Invalid JSON, not UTF-8, or nested too deeply to parse.
    """
    text = read_text(path)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None

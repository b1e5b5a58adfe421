"""Refuse damaged CIF files before pymatgen reads them.

pymatgen's CIF reader is lenient: it skips an atom-site row it cannot read, takes ``N`` from
a type symbol ``N?`` or ``pNa``, and shifts a loop's columns when a header line is damaged,
so a file with a few flipped bytes can be read as a different compound (NaCl as Na3NCl4).
:func:`cif_damage` checks what decides the compound and the cell, and says what is wrong:

- no control bytes anywhere (text files never hold them);
- tag names, ``data_`` names and every atom-site row in plain ASCII;
- every loop holds whole rows and closes its quotes; symmetry operations are ``x, y, z``
  terms;
- each atom-site loop holds a whole number of rows, every type symbol is an element (an
  oxidation state may follow: ``Fe3+``, ``O2-``), every coordinate and occupancy is a number
  (with an optional standard uncertainty, ``0.2513(4)``) or ``?`` / ``.``, and occupancies
  lie between 0 and 1;
- cell lengths and angles are numbers.

Free text (titles, author names in quotes or ``;`` fields) may hold any character. A file
without ``_atom_site_type_symbol`` (elements taken from the labels) gets every check but the
symbol one: labels are free-form (``Ow1``, ``M2``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["cif_damage"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\(\d+\))?$")
_SYMBOL = re.compile(r"^([A-Za-z]{1,2})([\d.]*[+-]|[+-][\d.]*|\d*)$")
_NUMERIC_SITE_TAGS = (
    "_atom_site_fract_x",
    "_atom_site_fract_y",
    "_atom_site_fract_z",
    "_atom_site_cartn_x",
    "_atom_site_cartn_y",
    "_atom_site_cartn_z",
    "_atom_site_occupancy",
)
_SYMOP_TAGS = ("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz")
_TERM = r"\s*[-+xyzXYZ0-9./* ]+\s*"
_SYMOP = re.compile(rf"^{_TERM},{_TERM},{_TERM}$")
_CELL_TAGS = (
    "_cell_length_a",
    "_cell_length_b",
    "_cell_length_c",
    "_cell_angle_alpha",
    "_cell_angle_beta",
    "_cell_angle_gamma",
)


def _is_element(letters: str) -> bool:
    from pymatgen.core.periodic_table import Element

    symbol = letters.capitalize()
    return symbol in ("D", "T") or Element.is_valid_symbol(symbol)


def _number_or_unknown(value: str) -> bool:
    return value in ("?", ".") or bool(_NUMBER.match(value))


_UNQUOTED = re.compile(r"\S+")
_QUOTED = {q: re.compile(q + r"(.*?)" + q + r"(?=\s|$)") for q in ("'", '"')}


def _split(line: str) -> list[str] | None:
    """CIF value tokens of one line; None when a quoted value is not closed.

    A quote opens a value only at the start of a token (``O1'`` is a plain label) and closes
    at the same quote followed by a space or the line end; ``#`` there starts a comment.
    """
    out: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n or line[pos] == "#":
            return out
        if line[pos] in _QUOTED:
            match = _QUOTED[line[pos]].match(line, pos)
            if match is None:
                return None
            out.append(match[1])
        else:
            match = _UNQUOTED.match(line, pos)
            assert match is not None
            out.append(match[0])
        pos = match.end()


def _loops(lines: list[str]) -> Iterator[tuple[int, list[str], list[str], int | None]]:
    """Yield ``(line of loop_, tags, value tokens, line of a broken quote or None)`` per loop."""
    i, n = 0, len(lines)
    in_text = False
    while i < n:
        if lines[i].startswith(";"):
            in_text = not in_text
        if in_text or lines[i].strip().lower() != "loop_":
            i += 1
            continue
        start = i + 1
        i += 1
        tags: list[str] = []
        while i < n and lines[i].strip().startswith("_"):
            tags.append(lines[i].split()[0].lower())
            i += 1
        values: list[str] = []
        broken: int | None = None
        while i < n:
            stripped = lines[i].strip()
            if stripped.lower().startswith(("_", "loop_", "data_", "save_", "global_")):
                break
            if lines[i].startswith(";"):  # a text field: one value up to the closing ';'
                i += 1
                while i < n and not lines[i].startswith(";"):
                    i += 1
                values.append("<text>")
                i += 1
                continue
            tokens = _split(lines[i])
            if tokens is None:
                broken = broken or i + 1
            else:
                values.extend(tokens)
            i += 1
        yield start, tags, values, broken


def _loop_problem(start: int, tags: list[str], values: list[str], broken: int | None):
    """Why a loop is damaged: an unclosed quote, or values that do not fill whole rows."""
    if broken is not None:
        return f"line {broken}: a quoted value is not closed (loop at line {start})"
    if tags and len(values) % len(tags):
        return (
            f"the loop at line {start} has {len(values)} values for {len(tags)} columns "
            "(a damaged row or header)"
        )
    if not tags and values:
        return f"the loop at line {start} has no column names (a damaged header)"
    xyz = [j for j, t in enumerate(tags) if t.endswith(_SYMOP_TAGS)]
    for r in range(len(values) // max(1, len(tags))):
        for j in xyz:
            op = values[r * len(tags) + j]
            if not _SYMOP.match(op):
                return f"symmetry operation {op!r} (loop at line {start}) is not x, y, z terms"
    return None


def _site_loop_problem(start: int, tags: list[str], values: list[str]) -> str | None:
    width = len(tags)
    numeric = [j for j, t in enumerate(tags) if t in _NUMERIC_SITE_TAGS]
    symbol_col = tags.index("_atom_site_type_symbol") if "_atom_site_type_symbol" in tags else None
    occupancy = tags.index("_atom_site_occupancy") if "_atom_site_occupancy" in tags else None
    for r in range(len(values) // width):
        row = values[r * width : (r + 1) * width]
        if any(not v.isascii() for v in row):
            return f"atom-site row {r + 1} (loop at line {start}) holds non-text bytes"
        if symbol_col is not None:
            symbol = row[symbol_col]
            match = _SYMBOL.match(symbol)
            if not match or not _is_element(match[1]):
                return (
                    f"atom-site row {r + 1} (loop at line {start}) has type symbol {symbol!r}, "
                    "not an element"
                )
        for j in numeric:
            if not _number_or_unknown(row[j]):
                return (
                    f"atom-site row {r + 1} (loop at line {start}): {tags[j]} {row[j]!r} is "
                    "not a number"
                )
        if occupancy is not None and row[occupancy] not in ("?", "."):
            value = float(row[occupancy].split("(")[0])
            if not 0 <= value <= 1.05:  # pymatgen drops a site with a negative occupancy
                return (
                    f"atom-site row {r + 1} (loop at line {start}): occupancy {row[occupancy]!r} "
                    "is not between 0 and 1"
                )
    return None


def cif_damage(text: str) -> str | None:
    r"""Return why a CIF text is damaged (one line), or None when nothing is found.

    Parameters
    ----------
    text : str
        The file's text (undecodable bytes as U+FFFD).

    Returns
    -------
    str or None

    Examples
    --------
    >>> good = "data_x\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\nNa 0.0\nCl 0.5\n"
    >>> cif_damage(good) is None
    True
    >>> cif_damage(good.replace("Na 0.0", "pNa 0.0"))
    "atom-site row 1 (loop at line 2) has type symbol 'pNa', not an element"
    """
    bad = _CONTROL.search(text)
    if bad:
        where = text.count("\n", 0, bad.start()) + 1
        return f"control byte 0x{ord(bad[0]):02x} at line {where} (a damaged file)"
    lines = text.splitlines()
    in_text = False
    for number, line in enumerate(lines, start=1):
        if line.startswith(";"):
            in_text = not in_text
            continue
        stripped = line.strip()
        if in_text or not stripped.startswith(("_", "data_")):
            continue
        name = stripped.split()[0]
        if not name.isascii() or "\ufffd" in name:
            return f"line {number}: name {name!r} is not plain text (a damaged file)"
        rest = stripped.split(maxsplit=1)[1:]
        if name.lower() in _CELL_TAGS and rest and not _number_or_unknown(rest[0].strip()):
            return f"line {number}: {name} {rest[0].strip()!r} is not a number"
    for start, tags, values, broken in _loops(lines):
        problem = _loop_problem(start, tags, values, broken)
        if problem:
            return problem
        if any(t.startswith("_atom_site_") for t in tags) and (
            "_atom_site_fract_x" in tags or "_atom_site_cartn_x" in tags
        ):
            problem = _site_loop_problem(start, tags, values)
            if problem:
                return problem
    return None

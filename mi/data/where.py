"""Row filters written as text, parsed by a small grammar (never evaluated as Python).

Grammar::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := operand OP operand          OP: == != < <= > >=
    operand    := NUMBER | 'string' | "string" | NAME | `any column name`

A ``NAME`` is a column (letters, digits, ``_``, ``.``); a column whose name has spaces or
brackets is written in backquotes: ```Tag (K)` >= 673``. A cell that is empty or not a number
compared with a number is False (the row is filtered out, and the report says by which rule).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"T_K": [10, 300, 500], "phase": ["a", "b", "b"]})
>>> rule = parse_where("T_K >= 280 and T_K <= 320 or phase == 'x'")
>>> rule.mask(df).tolist()
[False, True, False]
>>> sorted(rule.columns)
['T_K', 'phase']
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mi.exceptions import TableError, did_you_mean

__all__ = ["Where", "parse_where"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<op>==|!=|<=|>=|<|>)
    | (?P<paren>[()])
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<quoted>`[^`]+`)
    | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_KEYWORDS = {"and", "or", "not"}


@dataclass(frozen=True)
class _Operand:
    kind: str  # "column", "number", "string"
    value: Any


@dataclass(frozen=True)
class _Node:
    op: str  # "and", "or", "not", or a comparison operator
    args: tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise TableError(
                f"where = {text!r}: cannot read {text[pos:].strip()[:20]!r} at character "
                f"{pos}. Write comparisons such as 'T_K >= 280 and phase == \"fcc\"'."
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "name" and value in _KEYWORDS:
            kind = "kw"
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _fail(self, what: str) -> TableError:
        tok = self._peek()
        got = "the end" if tok is None else repr(tok[1])
        return TableError(f"where = {self.text!r}: expected {what}, got {got}.")

    def parse(self) -> _Node:
        node = self._or()
        if self._peek() is not None:
            raise self._fail("'and', 'or' or the end")
        return node

    def _or(self) -> _Node:
        node = self._and()
        while self._peek() == ("kw", "or"):
            self.i += 1
            node = _Node("or", (node, self._and()))
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._peek() == ("kw", "and"):
            self.i += 1
            node = _Node("and", (node, self._not()))
        return node

    def _not(self) -> _Node:
        tok = self._peek()
        if tok == ("kw", "not"):
            self.i += 1
            return _Node("not", (self._not(),))
        if tok == ("paren", "("):
            self.i += 1
            node = self._or()
            if self._peek() != ("paren", ")"):
                raise self._fail("')'")
            self.i += 1
            return node
        left = self._operand()
        tok = self._peek()
        if tok is None or tok[0] != "op":
            raise self._fail("a comparison operator (== != < <= > >=)")
        self.i += 1
        right = self._operand()
        if left.kind != "column" and right.kind != "column":
            raise TableError(f"where = {self.text!r}: a comparison needs at least one column.")
        return _Node(tok[1], (left, right))

    def _operand(self) -> _Operand:
        tok = self._peek()
        if tok is None:
            raise self._fail("a column, number or quoted string")
        kind, value = tok
        self.i += 1
        if kind == "num":
            return _Operand("number", float(value))
        if kind == "str":
            return _Operand("string", value[1:-1])
        if kind == "quoted":
            return _Operand("column", value[1:-1])
        if kind == "name":
            return _Operand("column", value)
        self.i -= 1
        raise self._fail("a column, number or quoted string")


def _columns(node: _Node) -> set[str]:
    found: set[str] = set()
    for arg in node.args:
        if isinstance(arg, _Node):
            found |= _columns(arg)
        elif arg.kind == "column":
            found.add(arg.value)
    return found


@dataclass(frozen=True)
class Where:
    """A parsed row filter.

    Attributes
    ----------
    text : str
        The rule as written (quoted in the row report).
    """

    text: str
    _tree: _Node

    @property
    def columns(self) -> set[str]:
        """Column names the rule uses."""
        return _columns(self._tree)

    def check_columns(self, available: Sequence[str], file: str) -> None:
        """Raise :class:`TableError` when the rule names a column the table lacks."""
        names = [str(c) for c in available]
        for col in sorted(self.columns):
            if col not in names:
                hint = did_you_mean(col, names)
                raise TableError(
                    f"{file}: where = {self.text!r} names column {col!r}, which is not in the "
                    f"table (columns: {names}).{hint} Write names with spaces in backquotes."
                )

    def mask(self, df: pd.DataFrame, file: str = "<table>") -> np.ndarray:
        """Boolean mask of the rows the rule keeps.

        Parameters
        ----------
        df : pandas.DataFrame
        file : str
            Named in the error when a column is missing.

        Returns
        -------
        numpy.ndarray of bool
        """
        self.check_columns(list(df.columns), file)
        return np.asarray(self._eval(self._tree, df), dtype=bool)

    def _value(self, operand: _Operand, df: pd.DataFrame, numeric: bool) -> Any:
        if operand.kind == "column":
            col = df[operand.value]
            return pd.to_numeric(col, errors="coerce").to_numpy(float) if numeric else col
        return operand.value

    def _eval(self, node: _Node, df: pd.DataFrame) -> np.ndarray:
        if node.op == "and":
            return self._eval(node.args[0], df) & self._eval(node.args[1], df)
        if node.op == "or":
            return self._eval(node.args[0], df) | self._eval(node.args[1], df)
        if node.op == "not":
            return ~self._eval(node.args[0], df)
        left, right = node.args
        numeric = "number" in (left.kind, right.kind)
        a = self._value(left, df, numeric)
        b = self._value(right, df, numeric)
        if numeric:
            with np.errstate(invalid="ignore"):
                out = _OPS[node.op](a, b)
            return np.asarray(out, dtype=bool)
        a = a.astype(str).str.strip() if isinstance(a, pd.Series) else a
        b = b.astype(str).str.strip() if isinstance(b, pd.Series) else b
        return np.asarray(_OPS[node.op](a, b), dtype=bool)


def parse_where(text: str) -> Where:
    """Parse a row filter (see the module docstring for the grammar).

    Parameters
    ----------
    text : str
        e.g. ``"temperature_K >= 280 and temperature_K <= 320"``.

    Returns
    -------
    Where

    Raises
    ------
    TableError
        Naming the rule and what could not be read.
    """
    if not text or not text.strip():
        raise TableError("where = '': the row filter is empty.")
    return Where(text.strip(), _Parser(text.strip()).parse())

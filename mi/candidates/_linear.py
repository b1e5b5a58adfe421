"""Linear expressions in the variables of a template (``1-x-y``, ``0.2*s``, ``x + y <= 0.5``).

Amounts in a template are linear in its variables, so a whole chunk of grid points is evaluated
with one matrix product, and the non-negativity of every amount is a linear inequality that can
be checked exactly per variable group.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

from mi.exceptions import FormulaError

__all__ = ["Linear", "parse_linear", "parse_inequality"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Linear:
    """``const + sum(coef[v] * v)``, immutable.

    Parameters
    ----------
    const : float
        Constant term.
    coefs : dict of str to float
        Coefficient per variable (zero coefficients are dropped).
    """

    const: float = 0.0
    coefs: dict[str, float] = field(default_factory=dict)

    @property
    def variables(self) -> frozenset[str]:
        """Variables with a non-zero coefficient."""
        return frozenset(k for k, v in self.coefs.items() if v != 0.0)

    @property
    def is_constant(self) -> bool:
        """True when no variable appears."""
        return not self.variables

    def __add__(self, other: Linear) -> Linear:
        coefs = dict(self.coefs)
        for k, v in other.coefs.items():
            coefs[k] = coefs.get(k, 0.0) + v
        return Linear(self.const + other.const, {k: v for k, v in coefs.items() if v != 0.0})

    def __neg__(self) -> Linear:
        return Linear(-self.const, {k: -v for k, v in self.coefs.items()})

    def __sub__(self, other: Linear) -> Linear:
        return self + (-other)

    def scale(self, factor: float) -> Linear:
        """Multiply by a number."""
        if factor == 0.0:
            return Linear(0.0, {})
        return Linear(self.const * factor, {k: v * factor for k, v in self.coefs.items()})

    def __mul__(self, other: Linear) -> Linear:
        if other.is_constant:
            return self.scale(other.const)
        if self.is_constant:
            return other.scale(self.const)
        raise ValueError("product of two variable expressions is not linear")

    def __str__(self) -> str:
        parts = [f"{self.const:g}"] if self.const or not self.coefs else []
        for k, v in self.coefs.items():
            parts.append(f"{v:+g}*{k}" if parts else f"{v:g}*{k}")
        return "".join(parts)


def _to_linear(node: ast.AST, text: str) -> Linear:
    if isinstance(node, ast.Expression):
        return _to_linear(node.body, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        value = float(node.value)
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {node.value!r}")
        return Linear(value, {})
    if isinstance(node, ast.Name):
        return Linear(0.0, {node.id: 1.0})
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _to_linear(node.operand, text)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left = _to_linear(node.left, text)
        right = _to_linear(node.right, text)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if not right.is_constant or right.const == 0.0:
                raise ValueError("division only by a non-zero number")
            return left.scale(1.0 / right.const)
    raise ValueError(f"unsupported syntax {ast.dump(node)[:40]!r}")


def parse_linear(text: str) -> Linear:
    """Parse a linear expression such as ``"1-x-y"``, ``"0.2*(1-s)"`` or ``"x/2"``.

    Parameters
    ----------
    text : str
        Expression with numbers, variable names, ``+ - * /`` and parentheses.

    Returns
    -------
    Linear
        The parsed expression.

    Raises
    ------
    FormulaError
        When the text is not a linear expression (quotes the text and says what is allowed).

    Examples
    --------
    >>> e = parse_linear("1-x-y")
    >>> e.const, sorted(e.coefs.items())
    (1.0, [('x', -1.0), ('y', -1.0)])
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _to_linear(tree, text)
    except (SyntaxError, ValueError) as exc:
        raise FormulaError(
            f"Invalid amount expression {text!r}: {exc}. Use numbers, variable names, "
            "+, -, * and / by a number, e.g. '1-x-y' or '0.2*(1-s)'."
        ) from None


_INEQ = re.compile(r"^(?P<lhs>.+?)(?P<op><=|>=|<|>)(?P<rhs>.+)$")


def parse_inequality(text: str) -> tuple[Linear, bool]:
    """Parse ``"x + y <= 0.5"`` into an expression ``e`` meaning ``e >= 0`` (or ``e > 0``).

    Parameters
    ----------
    text : str
        A linear inequality with one of ``<=``, ``>=``, ``<``, ``>``.

    Returns
    -------
    tuple of (Linear, bool)
        The expression that must be non-negative, and whether the inequality is strict.

    Raises
    ------
    FormulaError
        When the text is not a single linear inequality.

    Examples
    --------
    >>> e, strict = parse_inequality("x + y <= 0.5")
    >>> e.const, sorted(e.coefs.items()), strict
    (0.5, [('x', -1.0), ('y', -1.0)], False)
    """
    match = _INEQ.match(text.strip()) if isinstance(text, str) else None
    if match is None or any(op in match["rhs"] for op in "<>"):
        raise FormulaError(
            f"Invalid constraint {text!r}: write one linear inequality such as 'x + y <= 0.5'."
        )
    lhs = parse_linear(match["lhs"])
    rhs = parse_linear(match["rhs"])
    op = match["op"]
    expr = rhs - lhs if op in ("<=", "<") else lhs - rhs
    return expr, op in ("<", ">")


def is_identifier(name: str) -> bool:
    """Return True when ``name`` can be a template variable or site name."""
    return bool(_IDENT.match(name))

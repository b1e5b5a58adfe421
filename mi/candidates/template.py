"""Formula templates: lazy, streaming grids of compositions.

A template is a formula whose amounts may be linear expressions in fraction variables, written
in braces, and whose element positions may be substitution sites, written in square brackets::

    (Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}Co{z})14B          ranges x, y, z
    (Nd0.8[M]{0.2})2Fe14B                             site M: any of Ce, La, Pr, Y

The candidate space is the product of the variable grids and the site choices, restricted to
points where every amount is >= 0 (and to optional linear constraints such as ``x + y <= 0.5``).
It is never materialised: :attr:`Template.size` is computed from the variable groups without
generating anything, and :meth:`Template.iter_chunks` decodes consecutive grid indices chunk by
chunk (a mixed-radix counter over the variable groups), builds each chunk's amounts with one
matrix product, and hands them out as :class:`~mi.chem.CompositionMatrix` objects built directly
from arrays, deduplicated by reduced composition on the fly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mi.candidates._dedup import SeenHashes, SeenKeys, row_hashes
from mi.candidates._linear import Linear, is_identifier, parse_inequality, parse_linear
from mi.candidates.constraints import Constraint, apply_constraints, describe
from mi.candidates.report import ConstraintReport
from mi.chem import ELEMENTS, N_ELEMENTS, CompositionMatrix, element_index
from mi.exceptions import DataError, FormulaError, RegistryKeyError

__all__ = ["ElementChoice", "Substitution", "Template", "grid_values"]

#: Amounts closer to zero than this count as zero (absorbs float noise such as 1-0.7-0.3).
AMOUNT_TOL = 1e-9
#: Variable groups whose full grid has at most this many points are tabulated (feasible points
#: only) when the template is built; larger groups are filtered chunk by chunk.
TABLE_CAP = 1 << 22
#: Most points one variable's range may have (its grid is held in memory).
MAX_RANGE_POINTS = 10_000_000
DEDUP_STEP = "duplicate reduced composition"
EMPTY_STEP = "empty composition (all amounts zero)"
SURPLUS_STEP = "drawn beyond n (not needed)"
INFEASIBLE_STEP = "amount < 0 or variable constraint unmet"


@dataclass(frozen=True, init=False)
class ElementChoice:
    """A substitution site: exactly one element out of ``elements`` at each candidate.

    Parameters
    ----------
    elements : sequence of str
        Element symbols, e.g. ``["Ce", "La", "Pr", "Y"]``.

    Examples
    --------
    >>> ElementChoice(["Ce", "La", "Y"]).elements
    ('Ce', 'La', 'Y')
    """

    elements: tuple[str, ...]

    def __init__(self, elements: Sequence[str]) -> None:
        if isinstance(elements, str):
            elements = [elements]
        elems = tuple(dict.fromkeys(str(e) for e in elements))
        if not elems:
            raise DataError("An ElementChoice needs at least one element symbol.")
        for e in elems:
            element_index(e)  # raises FormulaError quoting the symbol
        object.__setattr__(self, "elements", elems)


@dataclass(frozen=True)
class Substitution:
    """Replace (part of) an element by any of several others.

    ``Substitution("Dy", ["Ce", "La", "Pr", "Y"], fractions=(0, 1, 0.05))`` turns every ``Dy``
    with amount ``a`` in the base formula into ``Dy{a*(1-f)}[M]{a*f}`` with ``f`` on the grid and
    ``M`` any of the listed elements.

    Parameters
    ----------
    element : str
        Element of the base formula to replace.
    by : sequence of str
        Replacement elements.
    fractions : tuple (start, stop, step) or sequence of float, default (1.0,)
        Fraction of the element that is replaced (grid, stop included).
    variable : str, optional
        Name of the fraction variable (default ``"f_<element>"``).
    site : str, optional
        Name of the site (default ``"M_<element>"``).
    """

    element: str
    by: Sequence[str]
    fractions: Any = (1.0,)
    variable: str | None = None
    site: str | None = None


def grid_values(spec: Any, name: str = "x") -> np.ndarray:
    """Grid of a variable from ``(start, stop, step)`` (stop included), values, or a number.

    Values are rounded to 12 decimals so that ``0.1 * 3`` is ``0.3``.

    Parameters
    ----------
    spec : tuple, sequence of float, or float
        ``(start, stop, step)``; an explicit list/array of values; or one fixed value.
    name : str
        Variable name, for error messages.

    Returns
    -------
    numpy.ndarray
        Sorted distinct values.

    Examples
    --------
    >>> grid_values((0, 0.2, 0.05)).tolist()
    [0.0, 0.05, 0.1, 0.15, 0.2]
    """
    if isinstance(spec, int | float | np.integer | np.floating):
        values = np.asarray([float(spec)])
    elif isinstance(spec, tuple) and len(spec) == 3:
        start, stop, step = (float(v) for v in spec)
        if not (math.isfinite(start) and math.isfinite(stop) and math.isfinite(step)):
            raise DataError(f"Range of {name!r} must be finite numbers; got {spec!r}.")
        if step <= 0 or stop < start:
            raise DataError(
                f"Range of {name!r} must be (start, stop, step) with step > 0 and stop >= start; "
                f"got {spec!r}. For explicit values pass a list, e.g. [0.1, 0.2]."
            )
        count_f = math.floor((stop - start) / step + 1e-9) + 1
        if count_f > MAX_RANGE_POINTS:  # checked before allocating anything
            raise DataError(
                f"Range of {name!r} {spec!r} has {count_f:.3g} points, more than "
                f"{MAX_RANGE_POINTS:,}; use a larger step."
            )
        count = int(count_f)
        values = start + step * np.arange(count, dtype=np.float64)
    else:
        try:
            values = np.asarray(list(spec), dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise DataError(
                f"Range of {name!r} must be (start, stop, step), a list of values or a number; "
                f"got {spec!r}."
            ) from None
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise DataError(f"Values of {name!r} must be finite and not empty; got {spec!r}.")
    return np.unique(np.round(values, 12))


# -- template text ----------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|\[(?P<site>[^\]]*)\]|(?P<el>[A-Z][a-z]?)"
    r"|\{(?P<expr>[^{}]*)\}|(?P<num>\d+(?:\.\d*)?|\.\d+))"
)

# a slot: (target, amount) where target is an element column (int) or a site name (str)
Slot = tuple[int | str, Linear]


def _parse_template(text: str) -> list[Slot]:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(f"A template must be a non-empty formula string; got {text!r}.")
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            raise FormulaError(
                f"Cannot read template {text!r} at position {pos} ({stripped[pos : pos + 10]!r}). "
                "Write elements (Fe), amounts (2, 0.5 or {1-x}), groups ((...)2) and sites ([M])."
            )
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind), pos))
        pos = m.end()

    index = 0

    def amount() -> Linear:
        nonlocal index
        if index < len(tokens) and tokens[index][0] in ("num", "expr"):
            kind, value, _ = tokens[index]
            index += 1
            return Linear(float(value), {}) if kind == "num" else parse_linear(value)
        return Linear(1.0, {})

    def sequence(depth: int) -> list[Slot]:
        nonlocal index
        slots: list[Slot] = []
        while index < len(tokens):
            kind, value, at = tokens[index]
            index += 1
            if kind == "open":
                inner = sequence(depth + 1)
                if index > len(tokens) or tokens[index - 1][0] != "close":
                    raise FormulaError(f"Unbalanced '(' at position {at} in template {text!r}.")
                mult = amount()
                try:
                    slots.extend((t, a * mult) for t, a in inner)
                except ValueError:
                    raise FormulaError(
                        f"Template {text!r}: a group with variable amounts cannot have a variable "
                        "multiplier (the amounts would not be linear); use a number."
                    ) from None
            elif kind == "close":
                if depth == 0:
                    raise FormulaError(f"Unbalanced ')' at position {at} in template {text!r}.")
                return slots
            elif kind == "el":
                try:
                    col = element_index(value)
                except FormulaError:
                    raise FormulaError(
                        f"Unknown element {value!r} at position {at} in template {text!r}."
                    ) from None
                slots.append((col, amount()))
            elif kind == "site":
                name = value.strip()
                if not is_identifier(name):
                    raise FormulaError(
                        f"Site name {value!r} at position {at} in template {text!r} must be an "
                        "identifier such as 'M' or 'RE'."
                    )
                slots.append((name, amount()))
            else:
                raise FormulaError(
                    f"Amount {value!r} at position {at} in template {text!r} follows no element, "
                    "site or group."
                )
        if depth > 0:
            raise FormulaError(f"Unbalanced '(' in template {text!r}: missing ')'.")
        return slots

    slots = sequence(0)
    if not slots:
        raise FormulaError(f"Template {text!r} names no element.")
    return slots


def _lin(values: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``values @ coef`` as a loop over the few variables (BLAS threads are slower here)."""
    out = np.zeros((values.shape[0], coef.shape[1]))
    for i in range(coef.shape[0]):
        for j in np.flatnonzero(coef[i]):
            out[:, j] += coef[i, j] * values[:, i]
    return out


class _UnionFind:
    def __init__(self, names: Sequence[str]) -> None:
        self.parent = {n: n for n in names}

    def find(self, a: str) -> str:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _product_grid(grids: Sequence[np.ndarray]) -> np.ndarray:
    mesh = np.meshgrid(*grids, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


@dataclass
class _Group:
    """A set of variables linked by inequalities (or a single variable)."""

    variables: list[int]  # positions in Template.variables
    grids: list[np.ndarray]
    ineq: list[tuple[np.ndarray, float, bool]]  # (coef over group vars, const, strict)
    table: np.ndarray | None = None  # feasible points (m, k) when tabulated

    def feasible(self, values: np.ndarray) -> np.ndarray:
        ok = np.ones(values.shape[0], dtype=bool)
        for coef, const, strict in self.ineq:
            v = values @ coef + const
            ok &= (v > AMOUNT_TOL) if strict else (v >= -AMOUNT_TOL)
        return ok

    @property
    def raw_size(self) -> int:
        return math.prod(int(g.size) for g in self.grids)


class Template:
    """A lazy grid of compositions from a formula template.

    Parameters
    ----------
    template : str
        Formula with amounts that may be linear expressions in braces (``Nd{1-x-y}``), groups
        with numeric multipliers (``(...)2``) and substitution sites in brackets (``[M]{x}``).
    ranges : mapping of str to spec
        Grid of every variable: ``(start, stop, step)`` with stop included, a list of values,
        or a fixed number.
    sites : mapping of str to ElementChoice or sequence of str, optional
        Element choices of the sites. A site used twice takes the same element at both places.
    constraints : sequence of str, optional
        Extra linear inequalities between variables, e.g. ``["x + y <= 0.3"]``. That every
        amount is >= 0 (``1-x-y >= 0``) is always enforced.

    Examples
    --------
    >>> t = Template("(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}Co{z})14B",
    ...              ranges={"x": (0, 0.5, 0.05), "y": (0, 0.5, 0.05), "z": (0, 0.2, 0.05)})
    >>> t.grid_size, t.size
    (605, 605)
    >>> chunk = next(t.iter_chunks(100))
    >>> chunk.n, chunk.formulas()[0]
    (100, 'BFe14Nd2')
    """

    def __init__(
        self,
        template: str,
        ranges: Mapping[str, Any] | None = None,
        sites: Mapping[str, ElementChoice | Sequence[str]] | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        self.template = template
        self._build(_parse_template(template), ranges or {}, sites or {}, constraints)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_substitutions(
        cls,
        base: str,
        substitutions: Substitution | Sequence[Substitution],
        ranges: Mapping[str, Any] | None = None,
        sites: Mapping[str, ElementChoice | Sequence[str]] | None = None,
        constraints: Sequence[str] = (),
    ) -> Template:
        """Template that replaces elements of a base formula by element choices.

        Parameters
        ----------
        base : str
            Base formula (may itself be a template).
        substitutions : Substitution or sequence of Substitution
            What to replace, by what, at which fractions.
        ranges, sites, constraints
            As for :class:`Template`, for variables and sites already in ``base``.

        Returns
        -------
        Template

        Examples
        --------
        >>> t = Template.from_substitutions(
        ...     "(Nd0.8Dy0.2)2Fe14B", Substitution("Dy", ["Ce", "La", "Pr", "Y"], (0, 1, 0.05)))
        >>> t.variables, t.size
        (('f_Dy',), 84)
        """
        if isinstance(substitutions, Substitution):
            substitutions = [substitutions]
        slots = _parse_template(base)
        ranges = dict(ranges or {})
        sites = dict(sites or {})
        for sub in substitutions:
            col = element_index(sub.element)
            var = sub.variable or f"f_{sub.element}"
            site = sub.site or f"M_{sub.element}"
            if var in ranges or site in sites:
                raise DataError(
                    f"Substitution of {sub.element!r}: name {var!r} or {site!r} is already used; "
                    "pass variable=... and site=... to Substitution."
                )
            if not any(t == col for t, _ in slots):
                raise DataError(
                    f"Substitution of {sub.element!r}: the base formula {base!r} has no "
                    f"{sub.element}."
                )
            ranges[var] = sub.fractions
            sites[site] = ElementChoice(list(sub.by))
            frac = Linear(0.0, {var: 1.0})
            new: list[Slot] = []
            for target, amt in slots:
                if target != col:
                    new.append((target, amt))
                    continue
                try:
                    new.append((target, amt * (Linear(1.0, {}) - frac)))
                    new.append((site, amt * frac))
                except ValueError:
                    raise FormulaError(
                        f"Substitution of {sub.element!r} in {base!r}: its amount {amt} is "
                        "variable; substitute an element with a numeric amount."
                    ) from None
            slots = new
        obj = cls.__new__(cls)
        subs = "; ".join(f"{s.element} -> {'|'.join(s.by)}" for s in substitutions)
        obj.template = f"{base} [{subs}]"
        obj._build(slots, ranges, sites, constraints)
        return obj

    def _build(
        self,
        slots: list[Slot],
        ranges: Mapping[str, Any],
        sites: Mapping[str, ElementChoice | Sequence[str]],
        constraints: Sequence[str],
    ) -> None:
        text = self.template
        # variables in order of first appearance
        seen: dict[str, None] = {}
        for _, amt in slots:
            for v in amt.coefs:
                seen.setdefault(v, None)
        parsed_constraints = []
        for c in [constraints] if isinstance(constraints, str) else constraints:
            expr, strict = parse_inequality(c)
            parsed_constraints.append((expr, strict))
            for v in expr.coefs:
                seen.setdefault(v, None)
        variables = list(seen)
        missing = [v for v in variables if v not in ranges]
        if missing:
            raise DataError(
                f"Template {text!r} uses variable(s) {missing} without a range; pass "
                f"ranges={{{missing[0]!r}: (start, stop, step)}}."
            )
        for name in ranges:
            if name not in seen:
                raise RegistryKeyError("template variable", name, variables)
        site_names = list(dict.fromkeys(t for t, _ in slots if isinstance(t, str)))
        for name in site_names:
            if name not in sites:
                raise DataError(
                    f"Template {text!r} has site [{name}] without elements; pass "
                    f"sites={{{name!r}: ['Ce', 'La', ...]}}."
                )
        for name in sites:
            if name not in site_names:
                raise RegistryKeyError("template site", name, site_names)
        self.variables: tuple[str, ...] = tuple(variables)
        self.sites: dict[str, ElementChoice] = {
            n: s if isinstance(s, ElementChoice) else ElementChoice(s)
            for n, s in ((n, sites[n]) for n in site_names)
        }
        self.constraints: tuple[str, ...] = tuple(
            [constraints] if isinstance(constraints, str) else constraints
        )
        vpos = {v: i for i, v in enumerate(variables)}
        n_vars = len(variables)
        self._grids = [grid_values(ranges[v], v) for v in variables]

        # slot amounts: S = values @ A + b
        n_slots = len(slots)
        self._A = np.zeros((n_vars, n_slots))
        self._b = np.zeros(n_slots)
        for j, (_, amt) in enumerate(slots):
            self._b[j] = amt.const
            for name, coef in amt.coefs.items():
                self._A[vpos[name], j] = coef
        # element universe: every column a slot can touch
        universe = sorted(
            {t for t, _ in slots if isinstance(t, int)}
            | {element_index(e) for s in self.sites.values() for e in s.elements}
        )
        self._ucols = np.asarray(universe, dtype=np.int32)
        upos = {c: i for i, c in enumerate(universe)}
        self._slot_fixed = [(j, upos[t]) for j, (t, _) in enumerate(slots) if isinstance(t, int)]
        self._site_order = site_names
        spos = {n: i for i, n in enumerate(site_names)}
        self._site_u = [
            np.asarray([upos[element_index(e)] for e in self.sites[n].elements], dtype=np.int64)
            for n in site_names
        ]
        self._slot_site = [(j, spos[t]) for j, (t, _) in enumerate(slots) if isinstance(t, str)]

        # inequalities (amount >= 0 and user constraints); constant ones checked now
        ineqs: list[tuple[Linear, bool, str]] = [(amt, False, "amount") for _, amt in slots]
        ineqs += [(e, s, "constraint") for e, s in parsed_constraints]
        uf = _UnionFind(variables)
        for expr, _, _ in ineqs:
            vs = [v for v in expr.coefs if expr.coefs[v] != 0]
            for a, b in zip(vs, vs[1:], strict=False):
                uf.union(a, b)
        self._always_empty = False
        for expr, strict, kind in ineqs:
            if expr.is_constant:
                bad = expr.const <= AMOUNT_TOL if strict else expr.const < -AMOUNT_TOL
                if bad and kind == "amount":
                    raise FormulaError(f"Template {text!r} has a negative amount ({expr.const}).")
                if bad:
                    self._always_empty = True
        groups: dict[str, list[str]] = {}
        for v in variables:
            groups.setdefault(uf.find(v), []).append(v)
        self._groups: list[_Group] = []
        for members in groups.values():
            idx = [vpos[v] for v in members]
            g_ineq: list[tuple[np.ndarray, float, bool]] = []
            for expr, strict, _ in ineqs:
                if expr.is_constant or not set(expr.coefs) <= set(members):
                    continue
                row = np.asarray([expr.coefs.get(v, 0.0) for v in members])
                g_ineq.append((row, float(expr.const), strict))
            group = _Group(idx, [self._grids[i] for i in idx], g_ineq)
            if group.raw_size <= TABLE_CAP:
                pts = _product_grid(group.grids) if len(idx) > 1 else group.grids[0][:, None]
                group.table = pts[group.feasible(pts)]
            self._groups.append(group)
        # dims of the flat index (slowest first): one per tabulated group, one per variable of
        # an untabulated group, one per site
        dims: list[tuple[str, int, int]] = []  # (kind, group or site index, position)
        for gi, g in enumerate(self._groups):
            if g.table is not None:
                dims.append(("table", gi, -1))
            else:
                dims += [("raw", gi, k) for k in range(len(g.variables))]
        dims += [("site", si, -1) for si in range(len(site_names))]
        self._dims = dims
        self._dim_sizes = [self._dim_size(d) for d in dims]
        self._size: int | None = None
        # precomputed contributions: fixed slots go straight into the element universe (U
        # columns), site slots stay per slot (their column depends on the chosen element)
        n_u = self._ucols.size
        fixed_map = np.zeros((n_slots, n_u))
        for j, u in self._slot_fixed:
            fixed_map[j, u] = 1.0
        self._site_slots = np.asarray([j for j, _ in self._slot_site], dtype=np.int64)
        self._w0 = self._b @ fixed_map
        self._s0 = self._b[self._site_slots]
        self._fixed_map = fixed_map
        self._wc: dict[int, np.ndarray] = {}
        self._sc: dict[int, np.ndarray] = {}
        for gi, g in enumerate(self._groups):
            if g.table is None:
                continue
            contrib = _lin(g.table, self._A[g.variables])
            self._wc[gi] = np.ascontiguousarray(contrib @ fixed_map)
            self._sc[gi] = np.ascontiguousarray(contrib[:, self._site_slots])

    def _dim_size(self, dim: tuple[str, int, int]) -> int:
        kind, i, k = dim
        if kind == "table":
            table = self._groups[i].table
            assert table is not None
            return int(table.shape[0])
        if kind == "raw":
            return int(self._groups[i].grids[k].size)
        return len(self._site_u[i])

    # -- sizes ----------------------------------------------------------------------------
    @property
    def grid_size(self) -> int:
        """Points of the full Cartesian product (variables x sites), before any filtering."""
        sizes = [g.size for g in self._grids] + [len(u) for u in self._site_u]
        return math.prod(int(s) for s in sizes)

    @property
    def n_positions(self) -> int:
        """Length of the index space that :meth:`iter_chunks` walks through."""
        return 0 if self._always_empty else math.prod(self._dim_sizes)

    @property
    def size(self) -> int:
        """Exact number of grid points with all amounts >= 0 and the constraints met.

        This is what generation yields before deduplication, hence an upper bound on the
        number of distinct compositions. Known without generating (variable groups of up to
        ``TABLE_CAP`` points are tabulated; larger groups are counted once, in chunks).
        """
        if self._size is None:
            if self._always_empty:
                self._size = 0
            else:
                total = math.prod(len(u) for u in self._site_u)
                for g in self._groups:
                    total *= g.table.shape[0] if g.table is not None else self._count_raw(g)
                self._size = int(total)
        return self._size

    @staticmethod
    def _count_raw(group: _Group, chunk: int = 1 << 20) -> int:
        count = 0
        sizes = [int(g.size) for g in group.grids]
        total = math.prod(sizes)
        for start in range(0, total, chunk):
            idx = np.arange(start, min(start + chunk, total), dtype=np.int64)
            cols = []
            for s in reversed(sizes):
                idx, r = np.divmod(idx, s)
                cols.append(r)
            vals = np.stack(
                [g[r] for g, r in zip(group.grids, reversed(cols), strict=True)], axis=1
            )
            count += int(group.feasible(vals).sum())
        return count

    @property
    def elements(self) -> tuple[str, ...]:
        """Every element a candidate can contain."""
        return tuple(ELEMENTS[c] for c in self._ucols)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (
            f"Template({self.template!r}, variables={list(self.variables)}, "
            f"sites={ {k: list(v.elements) for k, v in self.sites.items()} }, size={self.size:,})"
        )

    # -- generation -----------------------------------------------------------------------
    def _decode(self, positions: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.empty(0, np.int64)] * len(self._dims)
        idx = positions
        for d in range(len(self._dims) - 1, -1, -1):
            idx, out[d] = np.divmod(idx, self._dim_sizes[d])
        return out

    def _evaluate(
        self, dim_index: list[np.ndarray], n: int
    ) -> tuple[sparse.csr_matrix, np.ndarray, int, int]:
        """Amounts of the candidates at the given per-dimension indices.

        Returns the CSR amounts of the kept rows, their positions among the ``n`` given, the
        number of infeasible rows (untabulated groups only) and the number of empty rows.
        """
        n_u = self._ucols.size
        w: np.ndarray | None = None
        ss = np.broadcast_to(self._s0, (n, self._s0.size)).copy() if self._s0.size else None
        feasible: np.ndarray | None = None
        raw_vals: dict[int, np.ndarray] = {}
        for (kind, i, k), r in zip(self._dims, dim_index, strict=True):
            if kind == "table":
                part = self._wc[i][r]
                if w is None:
                    w = part
                else:
                    w += part
                if ss is not None:
                    ss += self._sc[i][r]
            elif kind == "raw":
                g = self._groups[i]
                vals = raw_vals.setdefault(i, np.empty((n, len(g.variables))))
                vals[:, k] = g.grids[k][r]
        if w is None:
            w = np.zeros((n, n_u))
        w += self._w0
        for i, vals in raw_vals.items():
            g = self._groups[i]
            ok = g.feasible(vals)
            feasible = ok if feasible is None else feasible & ok
            contrib = _lin(vals, self._A[g.variables])
            for j, u in self._slot_fixed:
                w[:, u] += contrib[:, j]
            if ss is not None:
                ss += contrib[:, self._site_slots]
        kept = np.arange(n)
        n_infeasible = 0
        if feasible is not None and not feasible.all():
            n_infeasible = int(n - feasible.sum())
            kept = kept[feasible]
            w = w[feasible]
            ss = ss[feasible] if ss is not None else None
        m = kept.size
        if ss is not None:
            rows = np.arange(m)
            for t, (_, s) in enumerate(self._slot_site):
                choice = dim_index[len(self._dims) - len(self._site_u) + s][kept]
                w[rows, self._site_u[s][choice]] += ss[:, t]
        nz = w > AMOUNT_TOL
        counts = np.count_nonzero(nz, axis=1)
        empty = counts == 0
        n_empty = int(empty.sum())
        if n_empty:
            w, nz, counts, kept = w[~empty], nz[~empty], counts[~empty], kept[~empty]
        flat = np.flatnonzero(nz)
        indptr = np.zeros(w.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        csr = sparse.csr_matrix(
            (w.ravel()[flat], self._ucols[flat % n_u], indptr), shape=(w.shape[0], N_ELEMENTS)
        )
        return csr, kept, n_infeasible, n_empty

    def _empty_params(self) -> pd.DataFrame:
        empty = np.empty(0, dtype=np.int64)
        return self._params([empty] * len(self._dims), empty)

    def _params(self, dim_index: list[np.ndarray], kept: np.ndarray) -> pd.DataFrame:
        values = np.empty((kept.size, len(self.variables)))
        cols: dict[str, Any] = {}
        for (kind, i, k), r in zip(self._dims, dim_index, strict=True):
            g = self._groups[i] if kind != "site" else None
            if kind == "table":
                assert g is not None and g.table is not None
                values[:, g.variables] = g.table[r[kept]]
            elif kind == "raw":
                assert g is not None
                values[:, g.variables[k]] = g.grids[k][r[kept]]
        for j, v in enumerate(self.variables):
            cols[v] = values[:, j]
        n_sites = len(self._site_u)
        for s, name in enumerate(self._site_order):
            r = dim_index[len(self._dims) - n_sites + s][kept]
            labels = list(self.sites[name].elements)
            cols[name] = pd.Categorical.from_codes(r, categories=labels)
        return pd.DataFrame(cols)

    def iter_chunks(
        self,
        chunk_size: int = 65536,
        *,
        dedup: bool | str = "hash",
        constraints: Sequence[Constraint] = (),
        report: ConstraintReport | None = None,
        with_params: bool = False,
    ) -> Iterator[Any]:
        """Generate the candidates chunk by chunk, in a fixed order.

        Parameters
        ----------
        chunk_size : int, default 65536
            Grid points evaluated per chunk; a yielded chunk has at most this many rows
            (fewer after deduplication and constraints; empty chunks are skipped).
        dedup : {"hash", "exact", False}, default "hash"
            Drop candidates whose reduced composition was already generated. ``"hash"`` keeps a
            64-bit hash per distinct composition (8 bytes each plus a fixed 16 MB filter: about
            100 MB for 10^7 candidates; see ``mi.candidates._dedup`` for the collision bound);
            ``"exact"`` keeps the key strings (~100-150 bytes each);
            ``False`` keeps duplicates. ``True`` means ``"hash"``.
        constraints : sequence of callables
            Predicates applied to every chunk after deduplication (see
            :mod:`mi.candidates.constraints` and ``mi.criticality``).
        report : ConstraintReport, optional
            Filled as generation proceeds: grid points in, rows removed per step, rows out.
        with_params : bool, default False
            Yield ``(matrix, params)`` where ``params`` is a DataFrame of the variable values and
            site elements of each row.

        Yields
        ------
        CompositionMatrix or tuple of (CompositionMatrix, pandas.DataFrame)
        """
        if int(chunk_size) < 1:
            raise DataError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
        chunk_size = int(chunk_size)
        mode = _dedup_mode(dedup)
        seen: SeenHashes | SeenKeys | None = (
            SeenHashes() if mode == "hash" else SeenKeys() if mode == "exact" else None
        )
        if report is not None:
            steps = []
            if any(g.table is None for g in self._groups):
                steps.append(INFEASIBLE_STEP)
            steps.append(EMPTY_STEP)
            if seen is not None:
                steps.append(DEDUP_STEP)
            report.start(steps + [describe(c) for c in constraints])
        total = self.n_positions
        if total >= 2**63:
            raise DataError(
                f"Template {self.template!r} has {total:.3g} grid positions, too many to walk "
                "through; use Template.sample(n) for random candidates, or narrow the ranges."
            )
        for start in range(0, total, chunk_size):
            n = min(chunk_size, total - start)
            dim_index = self._decode(np.arange(start, start + n, dtype=np.int64))
            out = self._finish(dim_index, n, seen, constraints, report, with_params)
            if out is not None:
                yield out

    def _finish(
        self,
        dim_index: list[np.ndarray],
        n: int,
        seen: SeenHashes | SeenKeys | None,
        constraints: Sequence[Constraint],
        report: ConstraintReport | None,
        with_params: bool,
    ) -> Any:
        csr, kept, n_infeasible, n_empty = self._evaluate(dim_index, n)
        if report is not None:
            report.add_input(n)
            if n_infeasible:
                report.record(INFEASIBLE_STEP, n_infeasible)
            report.record(EMPTY_STEP, n_empty)
        matrix = _wrap_valid_csr(csr)
        keep: np.ndarray | None = None
        if isinstance(seen, SeenHashes):
            keep = seen.add_new(row_hashes(matrix.to_csr()))
        elif isinstance(seen, SeenKeys):
            keep = seen.add_new_keys(matrix.canonical_keys())
        if keep is not None:
            if report is not None:
                report.record(DEDUP_STEP, int(keep.size - keep.sum()))
            if not keep.all():
                matrix = matrix.take(keep)
                kept = kept[keep]
        if constraints:
            matrix, ok = apply_constraints(matrix, constraints, report)
            if not ok.all():
                kept = kept[ok]
        if report is not None:
            report.add_output(matrix.n)
        if matrix.n == 0:
            return None
        return (matrix, self._params(dim_index, kept)) if with_params else matrix

    def sample(
        self,
        n: int,
        random_state: int | np.random.Generator | None = None,
        *,
        constraints: Sequence[Constraint] = (),
        report: ConstraintReport | None = None,
        max_draws: int | None = None,
    ) -> tuple[CompositionMatrix, pd.DataFrame]:
        """Draw up to ``n`` distinct random candidates without walking the grid.

        Grid points are drawn uniformly from the feasible space (rejection for untabulated
        variable groups), then deduplicated by reduced composition and filtered by the
        constraints; draws repeat until ``n`` candidates are kept or ``max_draws`` (default
        ``20 * n``) grid points were drawn. Works for spaces of any size (e.g. 10^20 points).

        Parameters
        ----------
        n : int
            Number of candidates wanted.
        random_state : int, numpy Generator or None
            Seed for reproducible draws.
        constraints : sequence of callables
            Predicates to apply.
        report : ConstraintReport, optional
            Receives the counts.
        max_draws : int, optional
            Give up after this many grid points.

        Returns
        -------
        tuple of (CompositionMatrix, pandas.DataFrame)
            The candidates (possibly fewer than ``n`` when the space is small) and their
            variable values and site elements.
        """
        rng = np.random.default_rng(random_state)
        max_draws = 20 * int(n) if max_draws is None else int(max_draws)
        seen = SeenHashes()
        mats: list[CompositionMatrix] = []
        params: list[pd.DataFrame] = []
        got = drawn = 0
        if report is not None:
            steps = [EMPTY_STEP, DEDUP_STEP] + [describe(c) for c in constraints]
            if any(g.table is None for g in self._groups):
                steps.insert(0, INFEASIBLE_STEP)
            report.start(steps + [SURPLUS_STEP])
        while got < n and drawn < max_draws and self.n_positions > 0:
            batch = min(max(2 * (n - got), 64), max_draws - drawn)
            dim_index = [rng.integers(0, s, size=batch) for s in self._dim_sizes]
            drawn += batch
            out = self._finish(dim_index, batch, seen, constraints, report, True)
            if out is None:
                continue
            mat, par = out
            take = min(mat.n, n - got)
            if take < mat.n and report is not None:
                report.record(SURPLUS_STEP, mat.n - take)
                report.n_output -= mat.n - take
            mats.append(mat[:take])
            params.append(par.iloc[:take])
            got += take
        matrix = CompositionMatrix.concat(mats)
        frame = pd.concat(params, ignore_index=True) if params else self._empty_params()
        return matrix, frame

    def to_pool(
        self,
        *,
        constraints: Sequence[Constraint] = (),
        dedup: bool | str = "hash",
        chunk_size: int = 65536,
        max_candidates: int | None = 2_000_000,
    ) -> Any:
        """Generate everything into a :class:`~mi.candidates.CandidatePool` (with parameters).

        Parameters
        ----------
        constraints : sequence of callables
            Predicates to apply.
        dedup : {"hash", "exact", False}
            As for :meth:`iter_chunks`.
        chunk_size : int
            Grid points per chunk.
        max_candidates : int or None, default 2_000_000
            Refuse templates whose :attr:`size` is larger (a pool keeps key strings in memory);
            None disables the check. Stream with :meth:`iter_chunks` for larger spaces.

        Returns
        -------
        CandidatePool
            With columns ``source`` and one per variable and site; ``.report`` holds the counts.
        """
        from mi.candidates.pool import CandidatePool

        if max_candidates is not None and self.size > max_candidates:
            raise DataError(
                f"Template {self.template!r} has {self.size:,} candidates, more than "
                f"max_candidates={max_candidates:,}. Stream it with iter_chunks(), draw a "
                "subset with sample(n), or raise max_candidates."
            )
        report = ConstraintReport()
        mats: list[CompositionMatrix] = []
        frames: list[pd.DataFrame] = []
        for mat, par in self.iter_chunks(
            chunk_size, dedup=dedup, constraints=constraints, report=report, with_params=True
        ):
            mats.append(mat)
            frames.append(par)
        matrix = CompositionMatrix.concat(mats)
        data = pd.concat(frames, ignore_index=True) if frames else self._empty_params()
        data.insert(0, "source", self.template)
        return CandidatePool(matrix, data, report=report, on_duplicate="first")


def _wrap_valid_csr(csr: sparse.csr_matrix) -> CompositionMatrix:
    """Wrap a CSR built here (sorted indices, no duplicates, only positive finite amounts).

    ``CompositionMatrix.from_amounts`` re-validates its input, including a hash-based duplicate
    check that costs more than generating the chunk; chunks built by ``_evaluate`` are valid by
    construction (``tests/test_candidates.py`` checks that both paths agree), so they are
    wrapped directly through ``mi.chem``'s validated-CSR constructor when it exists.
    """
    wrap = getattr(CompositionMatrix, "_from_csr", None)
    if wrap is None:  # pragma: no cover - older/newer mi.chem
        return CompositionMatrix.from_amounts(csr)
    return wrap(csr)


def _dedup_mode(dedup: bool | str) -> str | None:
    if dedup is True:
        return "hash"
    if dedup is False or dedup is None:
        return None
    if dedup in ("hash", "exact"):
        return str(dedup)
    raise RegistryKeyError("dedup mode", str(dedup), ["hash", "exact"])

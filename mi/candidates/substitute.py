"""Candidates from known compounds: substitute elements by chemically similar ones.

Two similarity rules are available (``method``):

``"probability"``
    Hautier et al.'s data-mined ionic substitution probabilities (pymatgen's
    ``SubstitutionProbability``, ICSD statistics; Inorg. Chem. 50, 656 (2011)), marginalised
    from species to elements: the score of replacing element ``A`` by ``B`` is
    ``P(B | A) = sum_{b, a} exp(lambda(b, a)) / sum_a p(a)`` over the oxidation states ``a`` of A
    and ``b`` of B with an observed pair in the table (``p`` is pymatgen's species marginal). A
    substitution is proposed when its score is at least ``threshold`` (pymatgen's default 1e-3).
``"group"``
    Same periodic-table group (the rare earths Sc, Y, La-Lu form one family, as pymatgen's group
    3), scored ``1 / (1 + |row difference|)``; ``threshold`` keeps those with score >= it.

Elements that are radioactive (Tc, Pm, Po and heavier) are never proposed unless
``exclude_radioactive=False``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mi.candidates._dedup import row_hashes
from mi.candidates.constraints import Constraint, apply_constraints, describe
from mi.candidates.pool import CandidatePool
from mi.candidates.report import ConstraintReport
from mi.chem import ELEMENTS, N_ELEMENTS, CompositionMatrix, element_index, parse_formulas
from mi.exceptions import DataError, RegistryKeyError

__all__ = ["substitute", "similar_elements", "SIMILARITY_METHODS"]

SIMILARITY_METHODS = ("probability", "group")
_RADIOACTIVE = {element_index("Tc"), element_index("Pm")} | set(range(element_index("Po"), 103))
SEED_STEP = "equal to a seed (known compound)"
DEDUP_STEP = "duplicate reduced composition"


#: pymatgen's weight exponent for never-observed species pairs (``SubstitutionProbability``).
_ALPHA = -5.0


@functools.lru_cache(maxsize=1)
def _probability_table() -> np.ndarray:
    """Element x element conditional substitution probabilities ``P(new | old)`` (row = old).

    ``P(B | A) = sum_{b in B, a in A} exp(lambda(b, a)) / sum_{a in A} p(a)`` over the
    oxidation states ``a`` of A and ``b`` of B in Hautier's table, with ``p(a)`` pymatgen's
    species marginal ``p(a) = sum_t exp(lambda(a, t))`` (never-observed pairs weigh
    ``exp(alpha)``, alpha = -5, as in ``SubstitutionProbability``). Only observed pairs enter the
    numerator (the alpha weight would otherwise favour elements with many oxidation states).
    The diagonal ("keep A") is set to 0. Read straight from pymatgen's ``lambda.json``:
    building ``SubstitutionProbability`` loops over all species pairs in Python (seconds).
    """
    import inspect
    import json
    from pathlib import Path

    from pymatgen.core import Species
    from pymatgen.core.structure_prediction import substitution_probability

    path = Path(inspect.getfile(substitution_probability)).parent / "data" / "lambda.json"
    lambdas: dict[frozenset[str], float] = {}
    names: set[str] = set()
    for s1, s2, lam in json.loads(path.read_text()):
        if "D1+" in (s1, s2):  # pymatgen skips deuterium rows too
            continue
        lambdas[frozenset((s1, s2))] = float(lam)
        names.update((s1, s2))
    species = sorted(names)
    pos = {name: i for i, name in enumerate(species)}
    z = np.asarray([element_index(Species.from_str(n).symbol) for n in species])
    weights = np.full((len(species), len(species)), np.exp(_ALPHA))
    observed = np.zeros_like(weights)
    for pair, lam in lambdas.items():
        a, b = (tuple(pair) * 2)[:2]
        i, j = pos[a], pos[b]
        weights[i, j] = weights[j, i] = observed[i, j] = observed[j, i] = np.exp(lam)
    px = weights.sum(axis=1)
    marginal = np.zeros(N_ELEMENTS)
    np.add.at(marginal, z, px)
    joint = np.zeros((N_ELEMENTS, N_ELEMENTS))
    np.add.at(joint, (z[:, None], z[None, :]), observed)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = np.where(marginal[:, None] > 0, joint / marginal[:, None], 0.0)
    np.fill_diagonal(table, 0.0)
    return table


@functools.lru_cache(maxsize=1)
def _group_rows() -> tuple[np.ndarray, np.ndarray]:
    from pymatgen.core import Element

    groups = np.zeros(N_ELEMENTS, dtype=np.int64)
    rows = np.zeros(N_ELEMENTS, dtype=np.int64)
    for j, sym in enumerate(ELEMENTS):
        el = Element(sym)
        groups[j], rows[j] = el.group, el.row
    return groups, rows


def _scores(method: str) -> np.ndarray:
    if method == "probability":
        return _probability_table()
    if method == "group":
        groups, rows = _group_rows()
        same = groups[:, None] == groups[None, :]
        out = np.where(same, 1.0 / (1.0 + np.abs(rows[:, None] - rows[None, :])), 0.0)
        np.fill_diagonal(out, 0.0)
        return out
    raise RegistryKeyError("similarity method", method, SIMILARITY_METHODS)


def _candidates_for(
    method: str,
    threshold: float,
    allowed: set[int] | None,
    denied: set[int],
    exclude_radioactive: bool,
) -> dict[int, list[tuple[int, float]]]:
    scores = _scores(method)
    out: dict[int, list[tuple[int, float]]] = {}
    for old in range(N_ELEMENTS):
        row = scores[old]
        idx = np.flatnonzero(row >= threshold) if threshold > 0 else np.flatnonzero(row > 0)
        pairs = []
        for new in idx[np.argsort(-row[idx], kind="stable")].tolist():
            if new in denied or (allowed is not None and new not in allowed):
                continue
            if exclude_radioactive and new in _RADIOACTIVE:
                continue
            pairs.append((new, float(row[new])))
        out[old] = pairs
    return out


def similar_elements(
    element: str,
    method: str = "probability",
    threshold: float = 1e-3,
    *,
    exclude_radioactive: bool = True,
) -> list[tuple[str, float]]:
    """Elements that can replace ``element``, best first, with their scores.

    Parameters
    ----------
    element : str
        Element to replace.
    method : {"probability", "group"}, default "probability"
        Similarity rule (see the module docstring).
    threshold : float, default 1e-3
        Smallest score kept.
    exclude_radioactive : bool, default True
        Never propose Tc, Pm, Po and heavier elements.

    Returns
    -------
    list of (str, float)

    Examples
    --------
    >>> [s for s, _ in similar_elements("Dy", method="group")][:4]
    ['La', 'Ce', 'Pr', 'Nd']
    """
    table = _candidates_for(method, threshold, None, set(), exclude_radioactive)
    return [(ELEMENTS[j], s) for j, s in table[element_index(element)]]


def _as_seeds(seeds: Any) -> tuple[CompositionMatrix, list[str]]:
    if isinstance(seeds, CompositionMatrix):
        return seeds, seeds.formulas()
    if hasattr(seeds, "df") and hasattr(seeds, "composition_col"):  # mi.data.Dataset
        seeds = seeds.df[seeds.composition_col]
    if isinstance(seeds, pd.Series):
        seeds = seeds.tolist()
    if isinstance(seeds, str):
        seeds = [seeds]
    labels = [str(s) for s in seeds]
    matrix = parse_formulas(labels, on_error="raise")
    assert isinstance(matrix, CompositionMatrix)
    return matrix, labels


def _fractions(fractions: Any) -> list[float]:
    from mi.candidates.template import grid_values

    values = grid_values(fractions, "fractions").tolist()
    if not values or min(values) <= 0 or max(values) > 1:
        raise DataError(
            f"Substitution fractions must lie in (0, 1]; got {fractions!r} (1 replaces the "
            "element completely)."
        )
    return values


def substitute(
    seeds: Any,
    *,
    method: str = "probability",
    threshold: float = 1e-3,
    fractions: Any = (1.0,),
    max_substitutions: int = 1,
    elements: Iterable[str] | None = None,
    allowed: Iterable[str] | None = None,
    denied: Iterable[str] = (),
    exclude_radioactive: bool = True,
    exclude_seeds: bool = True,
    constraints: Sequence[Constraint] = (),
) -> CandidatePool:
    """Propose new compositions by replacing elements of known compounds by similar ones.

    For every seed, every choice of ``1..max_substitutions`` of its elements (restricted to
    ``elements`` when given) and every similar replacement, a fraction ``f`` of each chosen
    element is replaced (``f = 1``: completely). The route with the highest score wins when
    several give the same reduced composition.

    Parameters
    ----------
    seeds : sequence of str, pandas.Series, CompositionMatrix or mi.data.Dataset
        Known compounds (a Dataset's composition column is used).
    method : {"probability", "group"}, default "probability"
        Similarity rule (see the module docstring).
    threshold : float, default 1e-3
        Smallest similarity score of a single replacement.
    fractions : tuple (start, stop, step), sequence of float or float, default (1.0,)
        Fractions of the element that are replaced, in (0, 1].
    max_substitutions : int, default 1
        How many different elements of a seed are replaced at once (score = product).
    elements : iterable of str, optional
        Only these elements of the seeds are replaced (e.g. ``["Dy", "Tb"]``).
    allowed : iterable of str, optional
        Only these elements may be introduced.
    denied : iterable of str
        These elements are never introduced.
    exclude_radioactive : bool, default True
        Never introduce Tc, Pm, Po and heavier elements.
    exclude_seeds : bool, default True
        Drop candidates equal (as reduced compositions) to any seed.
    constraints : sequence of callables
        Predicates applied to the candidates.

    Returns
    -------
    CandidatePool
        Columns ``seed`` (the seed as given), ``seed_row`` (its position), ``substitution``
        (e.g. ``"Dy->Ce"`` or ``"Dy->Ce (0.5)"``), ``score`` and ``n_routes`` (how many
        routes led to the composition); ``.report`` counts what each step removed.

    Examples
    --------
    >>> pool = substitute(["Dy2Fe14B"], method="group", elements=["Dy"], allowed=["Ce", "La"])
    >>> pool.to_frame()[["seed", "substitution"]].values.tolist()
    [['Dy2Fe14B', 'Dy->La'], ['Dy2Fe14B', 'Dy->Ce']]
    """
    if int(max_substitutions) != max_substitutions or max_substitutions < 1:
        raise DataError(f"max_substitutions must be an integer >= 1; got {max_substitutions!r}.")
    matrix, labels = _as_seeds(seeds)
    fracs = _fractions(fractions)
    only = None if elements is None else {element_index(e) for e in _iter_symbols(elements)}
    allow = None if allowed is None else {element_index(e) for e in _iter_symbols(allowed)}
    deny = {element_index(e) for e in _iter_symbols(denied)}
    options = _candidates_for(method, float(threshold), allow, deny, exclude_radioactive)

    csr = matrix.to_csr()
    indptr, indices, data = csr.indptr.tolist(), csr.indices.tolist(), csr.data.tolist()
    out_ptr = [0]
    out_cols: list[int] = []
    out_vals: list[float] = []
    seed_row: list[int] = []
    subs: list[str] = []
    scores: list[float] = []
    for i in range(matrix.n):
        a, b = indptr[i], indptr[i + 1]
        base = dict(zip(indices[a:b], data[a:b], strict=True))
        targets = [c for c in indices[a:b] if only is None or c in only]
        for k in range(1, int(max_substitutions) + 1):
            for combo in itertools.combinations(targets, k):
                for choice in itertools.product(*(options[c] for c in combo)):
                    score = float(np.prod([s for _, s in choice]))
                    for f in fracs:
                        new = dict(base)
                        parts = []
                        for old, (nc, _) in zip(combo, choice, strict=True):
                            moved = base[old] * f
                            new[old] -= moved
                            new[nc] = new.get(nc, 0.0) + moved
                            tail = "" if f == 1.0 else f" ({f:g})"
                            parts.append(f"{ELEMENTS[old]}->{ELEMENTS[nc]}{tail}")
                        for c, v in new.items():
                            if v > 1e-12:
                                out_cols.append(c)
                                out_vals.append(v)
                        out_ptr.append(len(out_cols))
                        seed_row.append(i)
                        subs.append(", ".join(parts))
                        scores.append(score)
    cand_csr = sparse.csr_matrix(
        (np.asarray(out_vals), np.asarray(out_cols, dtype=np.int32), np.asarray(out_ptr)),
        shape=(len(out_ptr) - 1, N_ELEMENTS),
    )
    cand_csr.sum_duplicates()
    cands = CompositionMatrix.from_amounts(cand_csr)
    report = ConstraintReport()
    steps = ([SEED_STEP] if exclude_seeds else []) + [DEDUP_STEP]
    report.start(steps + [describe(c) for c in constraints])
    report.add_input(cands.n)

    h = row_hashes(cands.to_csr())
    score_arr = np.asarray(scores, dtype=np.float64)
    keep = np.ones(cands.n, dtype=bool)
    if exclude_seeds:
        known = np.isin(h, row_hashes(csr))
        report.record(SEED_STEP, int(known.sum()))
        keep &= ~known
    # best-scoring route per composition (ties: first generated), counting all routes
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((idx, -score_arr[idx], h[idx]))]
    uniq, first, routes = np.unique(h[order], return_index=True, return_counts=True)
    winners = np.sort(order[first])
    report.record(DEDUP_STEP, int(idx.size - winners.size))
    n_routes = np.zeros(cands.n, dtype=np.int64)
    n_routes[order[first]] = routes
    cands = cands.take(winners)
    frame = pd.DataFrame(
        {
            "seed": [labels[seed_row[j]] for j in winners.tolist()],
            "seed_row": np.asarray(seed_row, dtype=np.int64)[winners],
            "substitution": [subs[j] for j in winners.tolist()],
            "score": score_arr[winners],
            "n_routes": n_routes[winners],
        }
    )
    if constraints:
        cands, ok = apply_constraints(cands, constraints, report)
        frame = frame.loc[ok].reset_index(drop=True)
    report.add_output(cands.n)
    return CandidatePool(cands, frame, report=report)


def _iter_symbols(elements: Iterable[str] | str) -> list[str]:
    return [elements] if isinstance(elements, str) else [str(e) for e in elements]

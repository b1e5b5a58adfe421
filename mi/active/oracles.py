"""Oracles: what measures a suggested candidate.

- :class:`LookupOracle` returns hidden labels of a known table (retrospective runs, benchmarks);
- :class:`CallableOracle` wraps a user's own evaluator (a DFT code, an ML potential ...).

An oracle is called with a list of formulas and returns one float per formula; candidates are
matched by canonical reduced composition (``"Fe2O3"`` finds ``"O3Fe2"`` and ``"Fe4O6"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mi.exceptions import CampaignError, DataError, RegistryKeyError

__all__ = ["Oracle", "LookupOracle", "CallableOracle", "get_oracle", "ORACLES", "canonical_keys"]


def canonical_keys(formulas: Sequence[str]) -> list[str]:
    """Canonical reduced-composition keys of formulas (raises FormulaError naming the row)."""
    from mi.chem import parse_formulas

    return parse_formulas(list(formulas)).canonical_keys()


class Oracle:
    """Base class: ``oracle(formulas) -> ndarray`` of measured values."""

    def __call__(self, formulas: Sequence[str]) -> np.ndarray:  # pragma: no cover
        """Return one measured value per formula."""
        raise NotImplementedError


class LookupOracle(Oracle):
    """Hidden labels of a table, looked up by canonical composition.

    Parameters
    ----------
    compositions : sequence of str
        Formulas of the labelled table.
    values : sequence of float
        The hidden property values.

    Raises
    ------
    DataError
        Two rows with the same composition but different values (merge duplicates first).

    Examples
    --------
    >>> oracle = LookupOracle(["Fe2O3", "NiO"], [2.1, 3.7])
    >>> oracle(["O3Fe2"]).tolist()
    [2.1]
    """

    def __init__(self, compositions: Sequence[str], values: ArrayLike) -> None:
        compositions = list(compositions)
        values = np.asarray(values, dtype=np.float64).ravel()
        if len(compositions) != values.size:
            raise DataError(
                f"LookupOracle got {len(compositions)} compositions and {values.size} values."
            )
        keys = canonical_keys(compositions)
        table: dict[str, float] = {}
        for row, (key, value) in enumerate(zip(keys, values, strict=True)):
            if key in table and table[key] != value:
                raise DataError(
                    f"LookupOracle: composition {compositions[row]!r} (row {row}) appears twice "
                    f"with values {table[key]} and {value}; merge duplicates first."
                )
            table[key] = float(value)
        self._table = table

    @classmethod
    def from_frame(cls, df: pd.DataFrame, composition_col: str, target: str) -> LookupOracle:
        """Build from a DataFrame's composition and target columns."""
        return cls(df[composition_col].astype(str).tolist(), df[target].to_numpy(float))

    def __len__(self) -> int:
        return len(self._table)

    def lookup_keys(self, keys: Sequence[str]) -> np.ndarray:
        """Values for canonical keys (fast path used by the benchmark)."""
        try:
            return np.array([self._table[k] for k in keys], dtype=np.float64)
        except KeyError as exc:
            raise CampaignError(
                f"LookupOracle has no label for composition {exc.args[0]!r}."
            ) from None

    def __call__(self, formulas: Sequence[str]) -> np.ndarray:
        """Return the hidden value of each formula (CampaignError for an unknown one)."""
        return self.lookup_keys(canonical_keys(formulas))


class CallableOracle(Oracle):
    """A user's evaluator ``fn(list_of_formulas) -> sequence of float``, with checks.

    Parameters
    ----------
    fn : callable
        Called with a list of formulas; must return one finite float per formula.
    name : str, optional
        For error messages.

    Examples
    --------
    >>> oracle = CallableOracle(lambda fs: [len(f) for f in fs], name="length")
    >>> oracle(["NiO", "Fe2O3"]).tolist()
    [3.0, 5.0]
    """

    def __init__(self, fn: Callable[[list[str]], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "oracle")

    def __call__(self, formulas: Sequence[str]) -> np.ndarray:
        """Evaluate the formulas; CampaignError when the output has a wrong length or NaN."""
        formulas = list(formulas)
        out = np.asarray(self.fn(formulas), dtype=np.float64).ravel()
        if out.size != len(formulas):
            raise CampaignError(
                f"Oracle {self.name!r} returned {out.size} values for {len(formulas)} formulas."
            )
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            rows = ", ".join(f"{formulas[i]!r}" for i in bad[:5])
            raise CampaignError(f"Oracle {self.name!r} returned non-finite values for {rows}.")
        return out


ORACLES: dict[str, type[Oracle]] = {"lookup": LookupOracle, "callable": CallableOracle}


def get_oracle(name: str, *args: Any, **kwargs: Any) -> Oracle:
    """Build an oracle by registry name (``"lookup"`` or ``"callable"``)."""
    try:
        cls = ORACLES[name]
    except KeyError:
        raise RegistryKeyError("oracle", name, ORACLES) from None
    return cls(*args, **kwargs)

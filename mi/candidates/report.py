"""``ConstraintReport``: how many candidates each generation step and constraint removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ConstraintReport"]


@dataclass
class ConstraintReport:
    """Counts of a generation or filtering run, step by step.

    Steps are applied in order, each to the candidates the previous steps kept, so the
    ``removed`` counts add up to ``n_input - n_output``.

    Attributes
    ----------
    n_input : int
        Candidates that entered (grid points visited, or substitutions proposed).
    removed : dict of str to int
        Candidates removed by each step, in the order the steps are applied.
    n_output : int
        Candidates kept.

    Examples
    --------
    >>> r = ConstraintReport()
    >>> r.start(["duplicate", "at most 3 elements"])
    >>> r.add_input(10)
    >>> r.record("duplicate", 4)
    >>> r.record("at most 3 elements", 1)
    >>> r.add_output(5)
    >>> r.to_frame()["remaining"].tolist()
    [6, 5]
    """

    n_input: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    n_output: int = 0

    def start(self, steps: list[str]) -> None:
        """Register steps (so that steps that remove nothing are listed with 0)."""
        for step in steps:
            self.removed.setdefault(step, 0)

    def add_input(self, n: int) -> None:
        """Count ``n`` more candidates entering."""
        self.n_input += int(n)

    def record(self, step: str, n_removed: int) -> None:
        """Add ``n_removed`` to the count of ``step``."""
        self.removed[step] = self.removed.get(step, 0) + int(n_removed)

    def add_output(self, n: int) -> None:
        """Count ``n`` more candidates kept."""
        self.n_output += int(n)

    def to_frame(self) -> pd.DataFrame:
        """One row per step: ``step``, ``removed``, ``remaining`` (after the step)."""
        steps = list(self.removed)
        removed = [self.removed[s] for s in steps]
        remaining = []
        left = self.n_input
        for r in removed:
            left -= r
            remaining.append(left)
        return pd.DataFrame({"step": steps, "removed": removed, "remaining": remaining})

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"n_input": self.n_input, "removed": dict(self.removed), "n_output": self.n_output}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConstraintReport:
        """Inverse of :meth:`to_dict`."""
        return cls(
            n_input=int(data["n_input"]),
            removed={str(k): int(v) for k, v in data["removed"].items()},
            n_output=int(data["n_output"]),
        )

    def __str__(self) -> str:
        lines = [f"{self.n_input:>14,d}  candidates in"]
        lines += [f"{-v:>14,d}  {k}" for k, v in self.removed.items()]
        lines.append(f"{self.n_output:>14,d}  kept")
        return "\n".join(lines)

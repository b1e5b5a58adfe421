"""``RunResult``: what a finished run produced, in memory or read back from its folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mi.report.summary import RunSummary
from mi.runner.spec import RunSpec, parse_spec

__all__ = ["RunResult", "load_result", "read_cv_predictions"]


def read_cv_predictions(out: Path, spec: RunSpec) -> dict[str, pd.DataFrame]:
    """Out-of-fold predictions per target found in ``out/cv`` (``y_true``, ``y_pred``, ...)."""
    cv = {}
    for t in spec.targets:
        path = out / "cv" / f"{t.name}_oof.parquet"
        if path.is_file():
            cv[t.name] = pd.read_parquet(path)
    return cv


@dataclass
class RunResult:
    """What a finished run produced (also readable back from its folder: :func:`load_result`).

    Attributes
    ----------
    spec : RunSpec
        The workflow.
    out_dir : Path
        The run's folder.
    top : pandas.DataFrame
        The top-N candidates, best first.
    candidates : pandas.DataFrame
        Every retained candidate, ranked (``rank`` column; ``pareto_rank``, ``on_front``).
    summary : RunSummary
        The content of ``summary.json``.
    cv_predictions : dict of str to DataFrame
        Out-of-fold predictions per target (``y_true``, ``y_pred``, ``y_std``).
    """

    spec: RunSpec
    out_dir: Path
    top: pd.DataFrame
    candidates: pd.DataFrame
    summary: RunSummary
    cv_predictions: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage of the last invocation."""
        return dict(self.summary.timings)

    @property
    def counts(self) -> dict[str, int]:
        """Candidates generated, passing the constraints, scored and retained (empty: no screen)."""
        counts = self.summary.counts
        return {} if counts is None else counts.model_dump()

    @property
    def report_path(self) -> Path | None:
        """``report.html`` if it was written."""
        path = self.out_dir / "report.html"
        return path if path.is_file() else None

    def __repr__(self) -> str:
        return (
            f"RunResult({self.spec.name!r}, out_dir={str(self.out_dir)!r}, "
            f"candidates={len(self.candidates)}, top={len(self.top)})"
        )


def load_result(out_dir: str | Path) -> RunResult:
    """Read a finished run back from its folder.

    Parameters
    ----------
    out_dir : path
        The ``--out`` folder of a finished run.

    Returns
    -------
    RunResult

    Raises
    ------
    DataError
        No finished run there, or a ``summary.json`` this mi cannot read (one line: the fix).
    """
    out = Path(out_dir)
    summary = RunSummary.read(out / "summary.json")
    spec = parse_spec(json.loads((out / "spec.json").read_text()), str(out / "spec.json"))
    results = out / "results.parquet"
    candidates = pd.read_parquet(results) if results.is_file() else pd.DataFrame()
    top = candidates.head(spec.outputs.top_n).reset_index(drop=True)
    return RunResult(spec, out, top, candidates, summary, read_cv_predictions(out, spec))

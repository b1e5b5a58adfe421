"""The run report: one self-contained ``report.html`` per run.

:func:`write_report` turns a finished run (its output folder, or the ``RunResult`` that
:func:`mi.runner.run_workflow` returned) into an HTML page with the figures embedded as base64
images: top candidates with uncertainty and criticality, the Pareto front against supply risk,
cross-validation metrics with parity and calibration plots, the data rejection summary, and
the versions and dataset hashes needed to reproduce it. The page needs no network and no
JavaScript, so it opens anywhere (a laptop, a cluster's web portal, an e-mail attachment).

Examples
--------
>>> from mi.report import write_report
>>> path = write_report("runs/demo")  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'report.html'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mi.report.collect import coverage_curve
from mi.report.model import DataReport, ReportData, TargetReport
from mi.report.render import figure_to_data_uri, render_html

__all__ = [
    "write_report",
    "collect_run",
    "coverage_curve",
    "render_html",
    "figure_to_data_uri",
    "ReportData",
    "TargetReport",
    "DataReport",
]


def collect_run(source: Any) -> ReportData:
    """Gather what the report shows from a run folder or a ``RunResult``.

    Parameters
    ----------
    source : str, Path, RunResult or ReportData
        A finished run's output folder, the result object of
        :func:`mi.runner.run_workflow` (its ``out_dir`` is read), or ready-made report data.

    Returns
    -------
    ReportData
    """
    if isinstance(source, ReportData):
        return source
    from mi.report.collect import collect_run_dir

    out_dir = getattr(source, "out_dir", None)
    if out_dir is not None:
        return collect_run_dir(Path(out_dir))
    return collect_run_dir(Path(source))


def write_report(
    source: Any,
    path: str | Path | None = None,
    *,
    fmt: str = "png",
    dpi: int = 100,
) -> Path:
    """Write the run's self-contained ``report.html`` and return its path.

    Parameters
    ----------
    source : str, Path, RunResult or ReportData
        A finished run's output folder, a ``RunResult``, or :class:`ReportData`.
    path : str or Path, optional
        Where to write; default ``<run folder>/report.html`` (required for ReportData).
    fmt : {"png", "svg"}, default "png"
        Format of the embedded figures.
    dpi : int, default 100
        Resolution of PNG figures.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    DataError
        When the run folder does not exist or holds no finished run.
    """
    data = collect_run(source)
    if path is None:
        if isinstance(source, ReportData):
            raise TypeError("write_report(ReportData) needs an explicit path")
        base = Path(getattr(source, "out_dir", None) or source)
        path = base / "report.html"
    path = Path(path)
    if path.is_dir():
        path = path / "report.html"
    text = render_html(data, fmt=fmt, dpi=dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path

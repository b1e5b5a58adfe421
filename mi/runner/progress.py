"""Progress for headless runs: bars in a terminal, plain periodic lines in job logs.

A :class:`Progress` is handed stages (``load``, ``featurize``, ``train``, ``screen`` ...). In a
terminal each stage with a known total gets a tqdm bar; when the output is not a TTY (a SLURM
job log, a pipe) it writes one plain line when a stage starts, at most every ``interval``
seconds while it runs, and when it ends. :meth:`Progress.summary` gives the time per stage.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["Progress", "Stage"]


def _columns() -> int:
    """Terminal width (100 when unknown or reported as 0, e.g. under ``script``)."""
    import shutil

    return shutil.get_terminal_size((100, 20)).columns or 100


def _in_notebook() -> bool:
    """Return True inside a Jupyter kernel (bars are drawn as widgets there)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _rate(rate: float, unit: str) -> str:
    """``1,234 rows/s``, or ``18 s per fold`` for slow units."""
    if 0 < rate < 1:
        return f"{1.0 / rate:.0f} s per {unit.rstrip('s')}"
    return f"{rate:,.0f} {unit}/s"


@dataclass
class Stage:
    """One timed stage; ``update(n)`` advances its counter."""

    name: str
    total: int | None
    unit: str
    progress: Progress
    done: int = 0
    seconds: float = 0.0
    resumed: bool = False
    note: str = ""
    _t0: float = field(default_factory=time.perf_counter)
    _last_line: float = field(default_factory=time.perf_counter)
    _bar: Any = None

    def update(self, n: int = 1) -> None:
        """Advance the stage by ``n`` units."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.perf_counter()
        if now - self._last_line >= self.progress.interval:
            self._last_line = now
            self.progress._line(self._status_text(now))

    def set_note(self, note: str) -> None:
        """Attach a short note shown in the closing summary (e.g. ``"resumed 3/10 chunks"``)."""
        self.note = note

    def _status_text(self, now: float) -> str:
        elapsed = now - self._t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            pct = 100.0 * self.done / self.total
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            return (
                f"{self.name}: {self.done:,}/{self.total:,} {self.unit} ({pct:.0f}%), "
                f"{_rate(rate, self.unit)}, {elapsed:.0f}s elapsed, ~{left:.0f}s left"
            )
        return f"{self.name}: {self.done:,} {self.unit}, {elapsed:.0f}s elapsed"


class Progress:
    """Stage timer and progress reporter.

    Parameters
    ----------
    stream : file-like, optional
        Where to write (default ``sys.stderr``).
    tty : bool, optional
        Force bars (True) or plain lines (False); default: ``stream.isatty()``.
    interval : float, default 10
        Seconds between plain progress lines.
    quiet : bool, default False
        Write nothing (stages are still timed).

    Examples
    --------
    >>> import io
    >>> p = Progress(stream=io.StringIO(), tty=False)
    >>> with p.stage("count", total=3, unit="items") as s:
    ...     s.update(3)
    >>> [st.name for st in p.stages]
    ['count']
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        tty: bool | None = None,
        interval: float = 10.0,
        quiet: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.notebook = stream is None and _in_notebook()
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
            tty = tty or self.notebook
        self.tty = tty
        self.interval = interval
        self.quiet = quiet
        self.stages: list[Stage] = []
        self._t0 = time.perf_counter()

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        stamp = time.strftime("%H:%M:%S")
        print(f"[mi {stamp}] {text}", file=self.stream, flush=True)

    def log(self, text: str) -> None:
        """Write one plain message line (also in a terminal)."""
        if self.tty and not self.quiet:
            from tqdm import tqdm

            tqdm.write(f"[mi] {text}", file=self.stream)
        else:
            self._line(text)

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "items") -> Iterator[Stage]:
        """Time a stage and report its progress.

        Parameters
        ----------
        name : str
            Stage name shown in lines and the summary.
        total : int, optional
            Units expected (enables percentage and ETA).
        unit : str
            Unit name, e.g. ``"candidates"``.

        Yields
        ------
        Stage
        """
        st = Stage(name=name, total=total, unit=unit, progress=self)
        self.stages.append(st)
        if self.tty and not self.quiet and total:
            if self.notebook:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm

            st._bar = tqdm(
                total=total,
                desc=name,
                unit=f" {unit}",
                file=self.stream,
                ncols=None if self.notebook else _columns(),
                unit_scale=total >= 10_000,
                leave=True,
            )
        elif not self.tty:
            extra = f" ({total:,} {unit})" if total else ""
            self._line(f"{name}: started{extra}")
        elif not self.quiet:  # a terminal stage without a bar still says what is running
            self.log(f"{name} ...")
        try:
            yield st
        finally:
            st.seconds = time.perf_counter() - st._t0
            if st._bar is not None:
                st._bar.close()
            if not self.tty:
                done = f", {st.done:,} {unit}" if st.done else ""
                note = f" [{st.note}]" if st.note else ""
                self._line(f"{name}: finished in {st.seconds:.1f}s{done}{note}")

    @property
    def total_seconds(self) -> float:
        """Wall time since this object was created."""
        return time.perf_counter() - self._t0

    def timings(self) -> dict[str, float]:
        """Seconds per stage (stages with the same name are summed).

        Returns
        -------
        dict of str to float
        """
        out: dict[str, float] = {}
        for st in self.stages:
            out[st.name] = out.get(st.name, 0.0) + st.seconds
        return out

    def summary(self) -> str:
        """Return the closing table: time, share and throughput per stage.

        Returns
        -------
        str
        """
        total = self.total_seconds
        width = max([len(st.name) for st in self.stages] + [10])
        rows = [f"{'stage':<{width}} {'seconds':>8} {'share':>7}  throughput"]
        for st in self.stages:
            share = 100.0 * st.seconds / total if total > 0 else 0.0
            rate = ""
            if st.done >= 100 and st.seconds >= 0.01 and not st.note.startswith("from"):
                rate = f"{st.done / st.seconds:,.0f} {st.unit}/s"
            note = f"  ({st.note})" if st.note else ""
            rows.append(f"{st.name:<{width}} {st.seconds:8.1f} {share:6.1f}%  {rate}{note}")
        rows.append(f"{'total':<{width}} {total:8.1f}")
        return "\n".join(rows)

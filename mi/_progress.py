"""Progress of one library call (``evaluate``, ``featurize``): a bar, one line, or nothing.

``progress=True`` (the default of the Python API): in a terminal or a notebook a
``tqdm.auto`` bar that appears once the stage has run for 2 s; elsewhere (a job log, a pipe)
one line on stderr when a stage that took 2 s or more ends. ``progress=False``: nothing.
A callable receives the number of units done at each step (the workflow runner passes its own
stage's ``update``).

This module imports only the standard library and tqdm, so any layer may use it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = ["ProgressArg", "StageProgress"]

#: What the ``progress=`` argument of the library accepts.
ProgressArg = bool | Callable[[int], Any]

#: Seconds before a bar appears / below which no line is written.
DELAY_S = 2.0


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


class StageProgress:
    """Context manager reporting one stage of a library call.

    Parameters
    ----------
    progress : bool or callable
        See the module docstring.
    desc : str
        Stage name, e.g. ``"cross-validate (5 folds)"``.
    total : int, optional
        Units expected.
    unit : str
        Unit name.

    Examples
    --------
    >>> with StageProgress(False, "count", total=3) as st:
    ...     st.update(3)
    >>> st.done
    3
    """

    def __init__(
        self, progress: ProgressArg, desc: str, total: int | None = None, unit: str = "it"
    ) -> None:
        self.progress = progress
        self.desc = desc
        self.total = total
        self.unit = unit
        self.done = 0
        self._bar: Any = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> StageProgress:
        self._t0 = time.perf_counter()
        if self.progress is True and _interactive():
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total, desc=self.desc, unit=f" {self.unit}", delay=DELAY_S, leave=False
            )
        return self

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done."""
        self.done += n
        if callable(self.progress) and self.progress is not True:
            self.progress(n)
        elif self._bar is not None:
            self._bar.update(n)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        seconds = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.close()
        elif self.progress is True and exc is None and seconds >= DELAY_S:
            stamp = time.strftime("%H:%M:%S")
            print(
                f"[mi {stamp}] {self.desc}: {self.done:,} {self.unit} in {seconds:.1f}s",
                file=sys.stderr,
                flush=True,
            )

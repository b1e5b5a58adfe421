"""Thread sizing for xgboost and other OpenMP code.

On a container with a CPU quota, OpenMP workers that spin-wait ("ACTIVE" policy, and libgomp's
default spin-then-sleep) with more threads than free cores were measured 4-6 times slower than a
single thread (``benchmarks/model_threads.py``). Two guards:

1. Importing :mod:`mi.models` sets ``OMP_WAIT_POLICY=PASSIVE`` when the variable is unset, so idle
   OpenMP workers sleep instead of burning the shared cores. libgomp reads the variable once, when
   it is loaded; if it was loaded earlier (``import sklearn`` or ``import xgboost`` before
   ``import mi.models``), the setting comes too late.
2. :func:`xgb_threads` turns an ``n_jobs`` argument into a thread count that never exceeds the CPU
   quota (:func:`mi.config.cpu_quota`) and the ``MI_N_JOBS`` setting, and falls back to one thread
   (with a :class:`~mi.exceptions.FallbackWarning`) when the passive policy could not take effect.
   Every xgboost model in :mod:`mi.models` passes it explicitly as ``nthread``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from mi.config import resolve_n_jobs
from mi.exceptions import FallbackWarning

__all__ = ["xgb_threads", "set_passive_omp_default", "omp_passive"]

_STATE: dict[str, bool] = {}


def _libgomp_loaded() -> bool | None:
    """Whether an OpenMP runtime is already mapped into this process (None: cannot tell)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    return "libgomp" in maps or "libomp" in maps or "libiomp" in maps


def set_passive_omp_default() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy; remember if it works.

    Only effective before the OpenMP runtime is loaded; the first call records whether the
    passive policy is (or will be) in force, for :func:`omp_passive`.
    """
    if "passive" in _STATE:
        return
    before = os.environ.get("OMP_WAIT_POLICY")
    if before is None:
        loaded = _libgomp_loaded()
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        _STATE["passive"] = loaded is False
    else:
        _STATE["passive"] = before.strip().upper() == "PASSIVE"
    _STATE["user_policy"] = before is not None


def omp_passive() -> bool:
    """Whether OpenMP idle threads in this process sleep (passive wait policy in force)."""
    set_passive_omp_default()
    return _STATE["passive"]


def xgb_threads(n_jobs: int | None = None) -> int:
    """Return the number of threads to give one xgboost model.

    Parameters
    ----------
    n_jobs : int or None
        ``None``: the ``MI_N_JOBS`` setting, else the CPU quota. Positive: at most that many
        (capped at the quota). Negative: counts back from the quota (-1 = all).

    Returns
    -------
    int
        Between 1 and the container's CPU quota; 1 when OpenMP threads would spin-wait
        because the passive policy could not be set (a warning says how to fix it). A policy
        the user exported explicitly is respected.

    Examples
    --------
    >>> xgb_threads(1)
    1
    """
    threads = resolve_n_jobs(n_jobs)
    if threads > 1 and not omp_passive() and not _STATE.get("user_policy"):
        if not _STATE.get("warned"):
            _STATE["warned"] = True
            warnings.warn(
                "OpenMP was loaded before mi.models could set OMP_WAIT_POLICY=PASSIVE, so "
                "xgboost runs with 1 thread instead of "
                f"{threads} (spinning threads were measured 4-6x slower on shared cores). "
                "Import mi.models before scikit-learn/xgboost, or export OMP_WAIT_POLICY=PASSIVE.",
                FallbackWarning,
                stacklevel=2,
            )
        return 1
    return threads

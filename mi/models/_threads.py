"""Thread sizing for xgboost and other OpenMP code.

On a container with a CPU quota, OpenMP runtimes that spin-wait with more threads than the
quota allows were measured six times slower than a single thread. :func:`xgb_threads` turns an
``n_jobs`` argument into a thread count that never exceeds the quota (:func:`mi.config.cpu_quota`)
and the ``MI_N_JOBS`` setting; every xgboost model in :mod:`mi.models` passes it explicitly as
``nthread``. Importing :mod:`mi.models` also sets ``OMP_WAIT_POLICY=PASSIVE`` when the variable is
unset, so idle OpenMP workers sleep instead of burning the shared cores.
"""

from __future__ import annotations

import os

from mi.config import resolve_n_jobs

__all__ = ["xgb_threads", "set_passive_omp_default"]


def set_passive_omp_default() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy already.

    Must run before the OpenMP runtime is loaded (before ``import xgboost``) to take effect.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
        Between 1 and the container's CPU quota.

    Examples
    --------
    >>> xgb_threads(1)
    1
    """
    return resolve_n_jobs(n_jobs)

"""Lower confidence bound: the cautious counterpart of UCB."""

from __future__ import annotations

from mi.active.analytic import UpperConfidenceBound
from mi.active.registry import register_acquisition

__all__ = ["LowerConfidenceBound"]


@register_acquisition
class LowerConfidenceBound(UpperConfidenceBound):
    """Pessimism under uncertainty: ``a(x) = s * mu(x) - beta * sigma(x)``.

    Ranks candidates by the value they reach with high probability (for ``beta = 2``, about
    97.7 % under a Gaussian predictive distribution), so an uncertain candidate never outranks a
    sure one of the same mean. Use it to pick a confirmation batch, where a miss costs more than
    a missed discovery; for exploration use ``ucb`` or ``ei``. For minimization the score is the
    negated upper bound ``-(mu + beta sigma)``.

    Parameters
    ----------
    maximize : bool, default True
    beta : float, default 2.0
        Width of the bound in standard deviations (>= 0).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> p = SimpleNamespace(mean=np.array([1.0, 1.2]), std=np.array([0.0, 0.5]))
    >>> LowerConfidenceBound(beta=2.0)(p).tolist()
    [1.0, 0.19999999999999996]
    """

    name = "lcb"
    side = -1.0

"""Active learning: acquisitions, batch selection, criticality-aware objectives, campaigns.

- acquisitions (``get_acquisition(name, **kw)``, ``list_acquisitions()``): greedy, ucb, ei, pi,
  max_std, thompson, random, lcb; criticality-aware constrained, penalized and ehvi (closed-form
  expected hypervolume improvement for property vs known supply risk) with :func:`pareto_front`;
- :func:`select_batch`: ``q`` diverse candidates (no near-duplicate compositions);
- :class:`Campaign`: ``suggest(n)`` / ``observe(df)`` / ``status()``, DataFrames in and out, in
  memory (JSON round trip) or in a folder committed atomically after every step;
- oracles (:class:`LookupOracle`, :class:`CallableOracle`) and the retrospective
  :func:`benchmark` with Rohr / Liang / Borg discovery metrics (:mod:`mi.active.metrics`).

Examples
--------
>>> from types import SimpleNamespace
>>> import numpy as np
>>> ei = get_acquisition("ei", maximize=True)
>>> p = SimpleNamespace(mean=np.array([0.0, 1.0]), std=np.array([1.0, 0.0]), members=None)
>>> ei(p, best=0.5).round(4).tolist()
[0.1978, 0.5]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mi.active.analytic import (
    ExpectedImprovement,
    GreedyMean,
    MaxStd,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    expected_improvement,
)
from mi.active.base import Acquisition, AcquisitionContext
from mi.active.batch import BatchSelection, composition_distance, select_batch
from mi.active.constrained import Constrained, PenalizedScalarization
from mi.active.lcb import LowerConfidenceBound
from mi.active.pareto import (
    ExpectedHypervolumeImprovement,
    hypervolume_2d,
    hypervolume_improvement,
    pareto_front,
)
from mi.active.registry import get_acquisition, list_acquisitions, register_acquisition
from mi.active.sampling import RandomSearch, ThompsonSampling

if TYPE_CHECKING:  # imported lazily at run time (see __getattr__), typed for checkers
    from mi.active.campaign import Campaign, run_loop
    from mi.active.cases import DISCOVERY_CASES, run_discovery_case
    from mi.active.oracles import CallableOracle, LookupOracle, get_oracle
    from mi.active.retrospective import BenchmarkResult, benchmark
    from mi.active.spec import CampaignSpec

__all__ = [
    "Acquisition",
    "AcquisitionContext",
    "GreedyMean",
    "UpperConfidenceBound",
    "LowerConfidenceBound",
    "ExpectedImprovement",
    "ProbabilityOfImprovement",
    "MaxStd",
    "ThompsonSampling",
    "RandomSearch",
    "Constrained",
    "PenalizedScalarization",
    "ExpectedHypervolumeImprovement",
    "expected_improvement",
    "pareto_front",
    "hypervolume_2d",
    "hypervolume_improvement",
    "get_acquisition",
    "list_acquisitions",
    "register_acquisition",
    "select_batch",
    "BatchSelection",
    "composition_distance",
    "Campaign",
    "CampaignSpec",
    "LookupOracle",
    "CallableOracle",
    "get_oracle",
    "run_loop",
    "benchmark",
    "BenchmarkResult",
    "DISCOVERY_CASES",
    "run_discovery_case",
]


def __getattr__(name: str) -> Any:
    # Campaigns, oracles and the benchmarks pull in mi.candidates, mi.features and pydantic:
    # import them on first use, so that scoring with an acquisition stays light.
    if name in {"Campaign", "run_loop"}:
        from mi.active import campaign

        return getattr(campaign, name)
    if name == "CampaignSpec":
        from mi.active import spec

        return spec.CampaignSpec
    if name in {"LookupOracle", "CallableOracle", "get_oracle"}:
        from mi.active import oracles

        return getattr(oracles, name)
    if name in {"benchmark", "BenchmarkResult"}:
        from mi.active import retrospective

        return getattr(retrospective, name)
    if name in {"DISCOVERY_CASES", "run_discovery_case"}:
        from mi.active import cases

        return getattr(cases, name)
    raise AttributeError(f"module 'mi.active' has no attribute {name!r}")

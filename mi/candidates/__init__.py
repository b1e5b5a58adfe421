"""Candidate generation: formula templates, substitutions from seeds, constraints, pools.

Examples
--------
>>> from mi.candidates import Template, DenyElements, ConstraintReport
>>> t = Template("(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}Co{z})14B",
...              ranges={"x": (0, 0.5, 0.05), "y": (0, 0.5, 0.05), "z": (0, 0.2, 0.05)})
>>> t.size
605
>>> report = ConstraintReport()
>>> n = sum(m.n for m in t.iter_chunks(256, constraints=[DenyElements(["Dy"])], report=report))
>>> n, report.removed["none of {Dy}"]
(55, 550)
"""

from __future__ import annotations

from mi.candidates.constraints import (
    AllowElements,
    ChargeBalanced,
    DenyElements,
    MaxElements,
    apply_constraints,
    evaluate_constraints,
)
from mi.candidates.pool import CandidatePool
from mi.candidates.report import ConstraintReport
from mi.candidates.substitute import similar_elements, substitute
from mi.candidates.template import ElementChoice, Substitution, Template, grid_values

__all__ = [
    "Template",
    "ElementChoice",
    "Substitution",
    "grid_values",
    "substitute",
    "similar_elements",
    "CandidatePool",
    "ConstraintReport",
    "AllowElements",
    "DenyElements",
    "MaxElements",
    "ChargeBalanced",
    "apply_constraints",
    "evaluate_constraints",
]

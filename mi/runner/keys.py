"""Checkpoint keys: what each checkpointed step of a workflow depends on.

A step is redone when its key changes: the data step on the target's dataset settings and the
seed, the features on the data and the preset, the model on the features, the surrogate and its
parameters, the screen's chunks on every model and on the candidates, constraints, scoring and
selection settings.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mi.runner.spec import RunSpec, TargetSpec

__all__ = ["step_key", "target_keys", "screen_key", "calibrates"]

#: Target settings the data step reads (the dataset, the column and the row filters).
_DATA_FIELDS = (
    "dataset",
    "table",
    "column",
    "task",
    "positive",
    "min_value",
    "max_value",
    "label_audit",
)


def step_key(*parts: Any) -> str:
    """Return a stable hash of JSON-able parts (what a checkpointed step depends on)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibrates(target: TargetSpec) -> bool:
    """Whether the screened model's std is recalibrated on the cross-validation."""
    return target.task == "regression" and target.cv.enabled and target.cv.calibration != "none"


def target_keys(spec: RunSpec, target: TargetSpec) -> dict[str, str]:
    """Checkpoint keys of the data, features, cv and model steps of one target."""
    t = target.model_dump(mode="json")
    data = step_key("data", {k: t[k] for k in _DATA_FIELDS}, t["max_rows"], spec.seed)
    features = step_key("features", data, t["preset"])
    fit = step_key("model", features, t["model"], t["model_params"], spec.seed)
    cv = step_key("cv", fit, t["cv"])
    # the saved model carries the std calibration fitted on the cross-validation
    model = step_key("calibrated", fit, cv) if calibrates(target) else fit
    return {"data": data, "features": features, "model": model, "cv": cv}


def screen_key(spec: RunSpec) -> str:
    """Checkpoint key of the screen's chunks: models, candidates, scoring and selection."""
    models = [target_keys(spec, t)["model"] for t in spec.targets]
    d = spec.model_dump(mode="json")
    return step_key(
        "screen",
        models,
        [t["name"] for t in d["targets"]],
        [t["objective"] for t in d["targets"]],
        d["candidates"],
        d["constraints"],
        d["criticality"],
        d["acquisition"],
        d["outputs"]["keep_per_chunk"] or d["outputs"]["top_n"],
        d["outputs"]["write_all"],
        d["execution"]["chunk_size"],
        spec.seed,
    )

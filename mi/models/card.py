"""Model cards: what a saved model was trained on, how, and how well it did."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["ModelCard", "make_card", "package_versions"]


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a model file depends on."""
    import numpy
    import scipy
    import sklearn
    import xgboost

    import mi

    return {
        "python": platform.python_version(),
        "mi": mi.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
    }


def _jsonable(value: Any) -> Any:
    """Best-effort conversion to JSON types (numpy scalars/arrays, estimators by repr)."""
    import numpy as np

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return repr(value)


@dataclass
class ModelCard:
    """Metadata saved with every model (see :func:`mi.models.save_model`).

    Attributes
    ----------
    model_class : str
        Estimator class name.
    params : dict
        Estimator parameters (``get_params(deep=True)``, JSON-converted).
    target : str or None
        Target column and unit, e.g. ``"Tc (K)"``.
    task : str or None
        ``"regression"`` or ``"classification"``.
    dataset : dict
        ``name``, ``sha256`` (file -> hash), ``n_rows`` and any cleaning notes.
    preset : str or None
        Feature preset (e.g. ``"magpie"``).
    feature_names : list of str
        Feature columns in order.
    metrics : dict
        Cross-validated metrics (``EvaluationResult.to_dict()`` output or similar).
    calibration : dict
        Calibration report(s) and the calibrator used.
    versions : dict
        Python and package versions at training time.
    created_utc : str
        ISO timestamp.
    notes : str
        Free text (protocol, caveats).
    extra : dict
        Any other caller-supplied metadata (kept verbatim, JSON-converted).
    """

    model_class: str
    params: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    task: str | None = None
    dataset: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    feature_names: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=package_versions)
    created_utc: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        """Rebuild from :meth:`to_dict` output; unknown keys are kept in ``extra``.

        A string ``dataset`` becomes ``{"name": dataset}``.
        """
        return cls(**_split_fields(data))

    def to_markdown(self) -> str:
        """Render a short human-readable card."""
        lines = [f"# Model card: {self.model_class}", ""]
        if self.target:
            lines.append(f"- target: {self.target} ({self.task or 'task not stated'})")
        if self.dataset:
            lines.append(f"- dataset: {json.dumps(self.dataset, sort_keys=True)}")
        if self.preset:
            lines.append(f"- features: preset {self.preset!r}, {len(self.feature_names)} columns")
        lines.append(f"- created (UTC): {self.created_utc}")
        lines.append(f"- versions: {json.dumps(self.versions, sort_keys=True)}")
        lines += ["", "## Parameters", "", "```json", json.dumps(self.params, indent=1), "```"]
        if self.metrics:
            lines += ["", "## Metrics", "", "```json", json.dumps(self.metrics, indent=1), "```"]
        if self.calibration:
            lines += ["", "## Calibration", "", "```json", json.dumps(self.calibration, indent=1)]
            lines.append("```")
        if self.extra:
            lines += ["", "## Other metadata", "", "```json", json.dumps(self.extra, indent=1)]
            lines.append("```")
        if self.notes:
            lines += ["", "## Notes", "", self.notes]
        return "\n".join(lines) + "\n"


def _split_fields(data: dict[str, Any]) -> dict[str, Any]:
    known = set(ModelCard.__dataclass_fields__)
    out = {k: v for k, v in data.items() if k in known}
    extra = dict(out.get("extra") or {})
    extra.update({k: v for k, v in data.items() if k not in known})
    out["extra"] = _jsonable(extra)
    if isinstance(out.get("dataset"), str):
        out["dataset"] = {"name": out["dataset"]}
    return out


def make_card(model: Any, **fields: Any) -> ModelCard:
    """Build a :class:`ModelCard` for a fitted model, filling class, params and features.

    Parameters
    ----------
    model : estimator
        The (fitted) model.
    **fields
        Any :class:`ModelCard` field (``dataset``, ``preset``, ``target``, ``metrics`` ...);
        other keys go to ``extra``.

    Returns
    -------
    ModelCard

    Examples
    --------
    >>> from mi.models import XGBEnsembleRegressor
    >>> card = make_card(XGBEnsembleRegressor(), dataset={"name": "supercon"}, preset="magpie")
    >>> card.model_class
    'XGBEnsembleRegressor'
    """
    params = _jsonable(model.get_params(deep=True)) if hasattr(model, "get_params") else {}
    names = getattr(model, "feature_names_in_", None)
    fields.setdefault("feature_names", [] if names is None else [str(c) for c in names])
    fields.setdefault("params", params)
    fields.pop("model_class", None)
    return ModelCard(model_class=type(model).__name__, **_split_fields(fields))

"""The surrogates a workflow or campaign file can name: ``get_model``, ``list_models``.

Each surrogate is one :class:`ModelSpec` line at the end of this module, so adding one is its
module plus that line. Workflow files (``[[targets]] model = ..., model_params = {...}``) and
campaign files (``[model] name = ..., params = {...}``) both build their surrogate through
:meth:`ModelSpec.build`, so the same name and parameters give the same estimator in both, and
both check parameters with :meth:`ModelSpec.validate_params` before any work starts.

Examples
--------
>>> get_model("random_forest", n_estimators=50).n_estimators
50
>>> get_model_spec("gp").members
False
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from mi._spec import choice_message
from mi.exceptions import MIError, ModelError, RegistryKeyError, SpecError
from mi.models.forest import RandomForestUncertaintyRegressor
from mi.models.gp import GPRegressor
from mi.models.physics import PhysicsResidualRegressor
from mi.models.two_stage import TwoStageGapRegressor
from mi.models.xgb import XGBClassifierModel, XGBEnsembleRegressor

__all__ = [
    "MODELS",
    "ModelSpec",
    "ModelName",
    "get_model",
    "get_model_spec",
    "list_models",
    "register_model",
]


@dataclass(frozen=True)
class ModelSpec:
    """One surrogate a spec file can name.

    What it predicts, whether it gives ensemble members and its description are read from the
    class itself, so a registry line cannot disagree with the model.

    Parameters
    ----------
    name : str
        The name spec files use (``model = "xgb_ensemble"``).
    cls : type
        The scikit-learn-style estimator class.
    summary : str, optional
        One line for :func:`list_models`; default the first line of the class docstring.
    """

    name: str
    cls: type
    summary: str = ""

    @property
    def kind(self) -> Literal["regressor", "classifier"]:
        """``"classifier"`` for scikit-learn classifiers, else ``"regressor"``."""
        return "classifier" if issubclass(self.cls, ClassifierMixin) else "regressor"

    @property
    def members(self) -> bool:
        """Whether it gives ensemble members (``predict_members``).

        Sample-based acquisitions (Thompson sampling, qParEGO) draw from the members; every
        regressor gives a std.
        """
        return hasattr(self.cls, "predict_members")

    @property
    def description(self) -> str:
        """One line saying what the surrogate is."""
        doc = (self.cls.__doc__ or "").strip().splitlines()
        return self.summary or (doc[0] if doc else self.cls.__name__)

    @property
    def params(self) -> list[str]:
        """Names of the constructor parameters, in signature order."""
        return list(inspect.signature(self.cls).parameters)

    @property
    def defaults(self) -> dict[str, Any]:
        """Constructor defaults (what a spec that sets no parameter gets)."""
        return {
            name: p.default
            for name, p in inspect.signature(self.cls).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

    def build(
        self, params: Mapping[str, Any] | None = None, *, random_state: int | None = None
    ) -> Any:
        """Return an unfitted estimator.

        Parameters
        ----------
        params : mapping, optional
            Constructor arguments (a spec's ``model_params`` / ``params``).
        random_state : int, optional
            Seed used when ``params`` sets none.

        Raises
        ------
        ModelError
            A parameter the class does not take (with the allowed names and the closest).
        """
        kwargs = dict(params or {})
        self._check_names(kwargs, "params", ModelError)
        if random_state is not None and "random_state" in self.params:
            kwargs.setdefault("random_state", random_state)
        return self.cls(**kwargs)

    def validate_params(self, params: Mapping[str, Any], *, key: str = "model_params") -> None:
        """Check parameter names and values with the class's own checks, without fitting.

        mi.models check their parameters first thing in ``fit`` (scikit-learn's convention),
        so ``fit`` on an empty table raises the parameter error when there is one, and a data
        error (no rows) otherwise.

        Parameters
        ----------
        params : mapping
            Constructor arguments as written in the spec.
        key : str, default "model_params"
            Where they were written (quoted in the message).

        Raises
        ------
        SpecError
            One line naming ``key.<parameter>``, the allowed names and the closest match, or
            the class's own message for a bad value.
        """
        self._check_names(params, key, SpecError)
        try:
            self.cls(**params).fit(np.empty((0, 2)), np.empty(0))
        except (ValueError, TypeError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "parameter of" in message or isinstance(exc, TypeError):
                raise SpecError(f"{key}: {message}") from None
        except MIError as exc:
            message = str(exc).strip().splitlines()[0]
            if "parameter of" in message:
                raise SpecError(f"{key}: {message}") from None

    def _check_names(self, params: Mapping[str, Any], key: str, error: type[MIError]) -> None:
        allowed = sorted(self.params)
        for name in params:
            if name not in allowed:
                what = f"parameter of {self.name}"
                raise error(choice_message(f"{key}.{name}", name, allowed, what))


#: Name -> surrogate, in the order :func:`list_models` shows them.
MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a surrogate under ``spec.name`` (one line per surrogate, below)."""
    MODELS[spec.name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    """Return the registry entry of ``name``.

    Raises
    ------
    RegistryKeyError
        Unknown name (lists the choices and the closest one).
    """
    try:
        return MODELS[name]
    except KeyError:
        raise RegistryKeyError("model", name, MODELS) from None


def get_model(name: str, /, **params: Any) -> Any:
    """Build an unfitted surrogate by name.

    Parameters
    ----------
    name : str
        One of :func:`list_models` (``"xgb_ensemble"``, ``"gp"`` ...).
    **params
        Constructor arguments.

    Raises
    ------
    RegistryKeyError
        Unknown name (lists the choices and the closest one).
    ModelError
        A parameter the class does not take.
    """
    return get_model_spec(name).build(params)


def list_models() -> pd.DataFrame:
    """Return a table of the surrogates: name, class, kind, members, description."""
    return pd.DataFrame(
        [
            {
                "name": s.name,
                "class": s.cls.__name__,
                "kind": s.kind,
                "members": s.members,
                "description": s.description,
            }
            for s in MODELS.values()
        ]
    )


register_model(ModelSpec("xgb_ensemble", XGBEnsembleRegressor))
register_model(ModelSpec("random_forest", RandomForestUncertaintyRegressor))
register_model(ModelSpec("gp", GPRegressor))
register_model(ModelSpec("xgb_classifier", XGBClassifierModel))
register_model(ModelSpec("physics_residual", PhysicsResidualRegressor))
register_model(ModelSpec("two_stage_gap", TwoStageGapRegressor))

if TYPE_CHECKING:
    ModelName = str
else:
    #: Names a workflow's ``model`` may take: a Literal, so a typo gets the choices and the
    #: closest name from the spec error formatter.
    ModelName = Literal[tuple(MODELS)]

"""Check a :class:`RunSpec` against the registries before any work starts.

The schema check (unknown keys, wrong types) happens when the file is parsed; this module
checks the names that live elsewhere: datasets and their target columns, featurizer presets,
model parameters, acquisitions and their parameters, element symbols in constraints,
candidate templates, criticality settings. Every failure is one :class:`SpecError` naming the
key, the bad value, the allowed choices and the closest match.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from typing import Any

from mi.exceptions import MIError, RegistryKeyError, SpecError, closest_names
from mi.runner.spec import RunSpec

__all__ = ["check_spec", "require", "model_class"]


def _choices(key: str, value: Any, choices: Iterable[str], what: str = "") -> SpecError:
    choices = sorted(map(str, choices))
    close = closest_names(str(value), choices)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    what = f" {what}" if what else ""
    return SpecError(
        f"{key} = {value!r} is not a known{what}. Choices: {', '.join(choices) or '(none)'}.{hint}"
    )


def require(module: str, feature: str) -> Any:
    """Import a library module the workflow needs, or fail with a clear :class:`SpecError`.

    Parameters
    ----------
    module : str
        e.g. ``"mi.candidates"``.
    feature : str
        What the workflow wanted from it (quoted in the error).

    Returns
    -------
    module
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SpecError(
            f"This workflow needs {feature} from {module}, which is not available in this "
            f"installation ({exc}). Install a complete mi, or remove that part of the workflow."
        ) from None


def _names(table: Any) -> list[str]:
    """Names from a registry listing (a DataFrame with a 'name' column, or a list)."""
    if hasattr(table, "columns") and "name" in table.columns:
        return [str(n) for n in table["name"].tolist()]
    if hasattr(table, "index") and hasattr(table, "columns"):
        return [str(n) for n in table.index.tolist()]
    if isinstance(table, dict):
        return [str(n) for n in table]
    return [str(n) for n in table]


def model_class(kind: str) -> type:
    """Return the estimator class for a workflow's ``model`` value."""
    models = require("mi.models", f"the model {kind!r}")
    names = {
        "xgb_ensemble": "XGBEnsembleRegressor",
        "random_forest": "RandomForestUncertaintyRegressor",
        "gp": "GPRegressor",
        "xgb_classifier": "XGBClassifierModel",
        "two_stage_gap": "TwoStageGapRegressor",
    }
    cls = getattr(models, names[kind], None)
    if cls is None:
        raise SpecError(
            f"model = {kind!r} needs mi.models.{names[kind]}, which this installation lacks."
        )
    return cls


def _check_params(key: str, params: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    for name in params:
        if name not in allowed:
            raise _choices(f"{key}.{name}", name, allowed, "parameter")


def check_spec(spec: RunSpec) -> None:
    """Check every registry name and parameter of a spec; raise on the first problem.

    Parameters
    ----------
    spec : RunSpec
        A parsed workflow.

    Raises
    ------
    SpecError
        Naming the key, the value, the choices and the closest match.
    """
    data = require("mi.data", "datasets")
    datasets = _names(data.list_datasets())
    features = require("mi.features", "featurizer presets")
    presets = _names(features.list_presets())
    for i, target in enumerate(spec.targets):
        key = f"targets[{i}]"
        if target.dataset not in datasets:
            raise _choices(f"{key}.dataset", target.dataset, datasets, "dataset")
        if target.preset not in presets:
            raise _choices(f"{key}.preset", target.preset, presets, "featurizer preset")
        _check_columns(data, key, target)
        cls = model_class(target.model)
        allowed = list(inspect.signature(cls).parameters)
        _check_params(f"{key}.model_params", target.model_params, allowed)

    _check_acquisition(spec)
    _check_constraints(spec)
    _check_criticality(spec)
    _check_templates(spec)


def _check_columns(data: Any, key: str, target: Any) -> None:
    """Target column and classification rule against the dataset's real columns."""
    ds = data.load_dataset(target.dataset)  # memoised by mi.data: the run reuses it
    if target.column is not None and target.column not in ds.targets:
        raise _choices(f"{key}.column", target.column, ds.targets, f"target of {target.dataset}")
    if target.positive is not None:
        lhs = target.positive
        for op in ("==", ">=", "<=", ">", "<"):
            if op in lhs:
                lhs, rhs = (part.strip() for part in lhs.split(op, 1))
                try:
                    float(rhs)
                except ValueError:
                    raise SpecError(
                        f"{key}.positive = {target.positive!r}: {rhs!r} is not a number; write "
                        "'<column> <op> <number>', e.g. 'Eg == 0'."
                    ) from None
                break
        if lhs not in ds.df.columns:
            raise _choices(
                f"{key}.positive",
                lhs,
                [str(c) for c in ds.df.columns],
                f"column of {target.dataset}",
            )


def _check_acquisition(spec: RunSpec) -> None:
    active = require("mi.active", f"the acquisition {spec.acquisition.name!r}")
    names = _names(active.list_acquisitions())
    if spec.acquisition.name not in names:
        raise _choices("acquisition.name", spec.acquisition.name, names, "acquisition")
    params = dict(spec.acquisition.params)
    if "maximize" in params:
        raise SpecError(
            "acquisition.params.maximize is set from the target's 'objective'; remove it."
        )
    try:
        active.get_acquisition(spec.acquisition.name, maximize=True, **params)
    except TypeError:
        import dataclasses

        cls = type(active.get_acquisition(spec.acquisition.name))
        if dataclasses.is_dataclass(cls):
            allowed = [f.name for f in dataclasses.fields(cls) if f.init and f.name != "maximize"]
        else:
            allowed = [p for p in inspect.signature(cls).parameters if p != "maximize"]
        bad = [p for p in params if p not in allowed] or list(params)
        raise _choices(
            f"acquisition.params.{bad[0]}", bad[0], allowed, f"parameter of {spec.acquisition.name}"
        ) from None
    except (MIError, ValueError) as exc:
        raise SpecError(f"acquisition: {exc}") from None


def _check_constraints(spec: RunSpec) -> None:
    chem = require("mi.chem", "element symbols")
    for i, con in enumerate(spec.constraints):
        for sym in getattr(con, "elements", []) or []:
            if sym not in chem.ELEMENTS:
                raise _choices(f"constraints[{i}].elements", sym, chem.ELEMENTS, "element symbol")


def _check_criticality(spec: RunSpec) -> None:
    crit = require("mi.criticality", "supply-risk scores")
    try:
        scores = crit.score(
            ["Fe2O3"],
            weights=spec.criticality.weights,
            hree_convention=spec.criticality.hree_convention,
        )
    except RegistryKeyError as exc:
        raise SpecError(f"criticality: {exc}") from None
    except (MIError, ValueError, TypeError) as exc:
        raise SpecError(f"criticality: {exc}") from None
    numeric = [c for c in scores.columns if str(scores[c].dtype).startswith(("float", "int"))]
    if spec.criticality.objective not in numeric:
        raise _choices("criticality.objective", spec.criticality.objective, numeric, "score column")


def _check_templates(spec: RunSpec) -> None:
    from mi.runner.candidates import build_template

    for i, tpl in enumerate(spec.candidates.templates):
        try:
            build_template(tpl)
        except SpecError:
            raise
        except (MIError, ValueError, TypeError) as exc:
            raise SpecError(f"candidates.templates[{i}].formula = {tpl.formula!r}: {exc}") from None

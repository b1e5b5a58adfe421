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

from mi._paths import is_safe_name, unsafe_name_message
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
        "physics_residual": "PhysicsResidualRegressor",
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
    needed: list[str] = []
    for i, target in enumerate(spec.targets):
        key = f"targets[{i}]"
        for field in ("name", "dataset", "preset"):  # again: model_copy() skips validators
            value = getattr(target, field)
            if field == "dataset" and target.table is not None and value is None:
                continue
            if not is_safe_name(value):
                what = "target name" if field == "name" else f"{field} name"
                raise SpecError(f"{key}.{field} = {value!r}: {unsafe_name_message(what)}.")
        if target.table is None and target.dataset not in datasets:
            from pathlib import Path

            from mi.data.tables import TABLE_FORMATS

            if Path(str(target.dataset)).suffix.lower() in TABLE_FORMATS:
                raise SpecError(
                    f"{key}.dataset = {target.dataset!r} is a file, not a registered dataset. "
                    f"Declare it as a table: [{key.replace('[0]', '')}.table] path = "
                    f"{target.dataset!r}, composition_col = ..., targets = [...] (README: "
                    "'Bring your own data')."
                )
            raise _choices(f"{key}.dataset", target.dataset, datasets, "dataset")
        if target.preset not in presets:
            raise _choices(f"{key}.preset", target.preset, presets, "featurizer preset")
        needed += [c for c in _check_columns(data, key, target) if c not in needed]
        cls = model_class(target.model)
        allowed = list(inspect.signature(cls).parameters)
        _check_params(f"{key}.model_params", target.model_params, allowed)
        _check_model_values(f"{key}.model_params", cls, target.model_params)

    from mi.runner.bounds import check_work_bounds

    n_features = max((features.get_preset(t.preset).n_features for t in spec.targets), default=200)
    check_work_bounds(spec, n_features)  # O(spec): before any template is built
    _check_acquisition(spec)
    _check_constraints(spec)
    _check_criticality(spec)
    _check_templates(spec)
    if spec.candidates is not None:
        from mi.runner.own_data import condition_grid

        condition_grid(dict(spec.candidates.conditions), needed)


def _check_model_values(key: str, cls: type, params: dict[str, Any]) -> None:
    """Check parameter values with the model's own checks, without fitting anything.

    mi.models check their parameters first thing in ``fit`` (scikit-learn's convention), so
    ``fit`` on an empty table raises the parameter error when there is one, and a data error
    (no rows) otherwise.
    """
    import numpy as np

    try:
        model = cls(**params)
        model.fit(np.empty((0, 2)), np.empty(0))
    except (ValueError, TypeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "parameter of" in message or isinstance(exc, TypeError):
            raise SpecError(f"{key}: {message}") from None
    except MIError as exc:
        message = str(exc).strip().splitlines()[0]
        if "parameter of" in message:
            raise SpecError(f"{key}: {message}") from None


def _check_acquisition_values(name: str, acq: Any, params: dict[str, Any]) -> None:
    """Check acquisition parameter types and ranges on a two-row prediction."""
    import dataclasses
    import numbers

    import numpy as np

    if dataclasses.is_dataclass(acq):
        defaults = {f.name: f.default for f in dataclasses.fields(acq)}
        for pname, value in params.items():
            default = defaults.get(pname, dataclasses.MISSING)
            numeric = isinstance(default, numbers.Real) and not isinstance(default, bool)
            if numeric and (not isinstance(value, numbers.Real) or isinstance(value, bool)):
                raise SpecError(
                    f"acquisition.params.{pname} = {value!r}: the {pname!r} parameter of {name} "
                    f"must be a number (default {default!r})."
                )
            if isinstance(default, bool) and not isinstance(value, bool):
                raise SpecError(
                    f"acquisition.params.{pname} = {value!r}: the {pname!r} parameter of {name} "
                    "must be true or false."
                )
    from mi.models import Prediction

    pred = Prediction(np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    ctx = {
        "y_best": 1.0,
        "y_observed": np.array([0.0, 1.0]),
        "risk": np.array([0.1, 0.2]),
        "risk_observed": np.array([0.1, 0.2]),
    }
    try:
        acq(pred, **ctx)
    except (ValueError, TypeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if "parameter of" in message:
            raise SpecError(f"acquisition.params: {message}") from None
    except Exception:  # noqa: BLE001 - a context this probe lacks is not the user's error
        return


def _check_columns(data: Any, key: str, target: Any) -> list[str]:
    """Target column and classification rule against the dataset's real columns.

    Returns the dataset's condition columns (inputs the candidates must set).
    """
    from mi.runner.own_data import target_dataset

    ds = target_dataset(target)  # memoised by mi.data: the run reuses it
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
    return list(ds.conditions)


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
    _check_acquisition_values(
        spec.acquisition.name,
        active.get_acquisition(spec.acquisition.name, maximize=True, **params),
        params,
    )


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
            as_of=spec.criticality.as_of,
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

    for i, tpl in enumerate(spec.candidates.templates if spec.candidates else []):
        try:
            template = build_template(tpl)
        except SpecError:
            raise
        except (MIError, ValueError, TypeError) as exc:
            raise SpecError(f"candidates.templates[{i}].formula = {tpl.formula!r}: {exc}") from None
        # the exact count is cheap while the grid is small; larger grids are counted when run
        if template.n_positions == 0 or (template.grid_size <= 1 << 22 and template.size == 0):
            raise SpecError(
                f"candidates.templates[{i}] ({tpl.formula!r}) yields no candidates: check its "
                "ranges, values and 'where' inequalities (no amount may be negative)."
            )

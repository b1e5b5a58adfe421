"""Check a :class:`RunSpec` against the registries before any work starts.

The schema check (unknown keys, wrong types) happens when the file is parsed; this module
checks the names that live elsewhere: datasets and their target columns, featurizer presets,
model parameters, acquisitions and their parameters, element symbols in constraints,
candidate templates, criticality settings. Every failure is one :class:`SpecError` naming the
key, the bad value, the allowed choices and the closest match.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mi._paths import is_safe_name, unsafe_name_message
from mi._spec import choice_message
from mi.active import AcquisitionContext, get_acquisition, list_acquisitions
from mi.chem import ELEMENTS
from mi.data import list_datasets
from mi.data.tables import TABLE_FORMATS
from mi.exceptions import MIError, SpecError
from mi.features import get_preset, list_presets
from mi.models import Prediction
from mi.models.registry import get_model_spec
from mi.runner.bounds import check_work_bounds
from mi.runner.own_data import condition_grid, target_dataset
from mi.runner.spec import RunSpec

__all__ = ["check_spec"]


def _choices(key: str, value: Any, choices: Iterable[str], what: str) -> SpecError:
    return SpecError(choice_message(key, value, sorted(map(str, choices)), what))


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
    datasets = list(list_datasets()["name"])
    presets = list(list_presets()["name"])
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
        needed += [c for c in _check_columns(key, target) if c not in needed]
        get_model_spec(target.model).validate_params(target.model_params, key=f"{key}.model_params")

    n_features = max((get_preset(t.preset).n_features for t in spec.targets), default=200)
    check_work_bounds(spec, n_features)  # O(spec): before any template is built
    _check_acquisition(spec)
    _check_constraints(spec)
    _check_criticality(spec)
    _check_templates(spec)
    if spec.candidates is not None:
        condition_grid(dict(spec.candidates.conditions), needed)


def _check_acquisition_values(name: str, acq: Any, params: dict[str, Any]) -> None:
    """Check acquisition parameter types and ranges on a two-row prediction."""
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
    pred = Prediction(np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    ctx = AcquisitionContext(
        best=1.0,
        y_observed=np.array([0.0, 1.0]),
        risk=np.array([0.1, 0.2]),
        risk_observed=np.array([0.1, 0.2]),
    )
    try:
        acq(pred, ctx)
    except (ValueError, TypeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if "parameter of" in message:
            raise SpecError(f"acquisition.params: {message}") from None
    except Exception:  # noqa: BLE001 - a context this probe lacks is not the user's error
        return


def _check_columns(key: str, target: Any) -> list[str]:
    """Target column and classification rule against the dataset's real columns.

    Returns the dataset's condition columns (inputs the candidates must set).
    """
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
    names = list(list_acquisitions()["name"])
    if spec.acquisition.name not in names:
        raise _choices("acquisition.name", spec.acquisition.name, names, "acquisition")
    params = dict(spec.acquisition.params)
    if "maximize" in params:
        raise SpecError(
            "acquisition.params.maximize is set from the target's 'objective'; remove it."
        )
    try:
        acquisition = get_acquisition(spec.acquisition.name, maximize=True, **params)
    except TypeError:
        cls = type(get_acquisition(spec.acquisition.name))
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
    _check_acquisition_values(spec.acquisition.name, acquisition, params)


def _check_constraints(spec: RunSpec) -> None:
    for i, con in enumerate(spec.constraints):
        for sym in getattr(con, "elements", []) or []:
            if sym not in ELEMENTS:
                raise _choices(f"constraints[{i}].elements", sym, ELEMENTS, "element symbol")


def _check_criticality(spec: RunSpec) -> None:
    try:
        scores = spec.criticality.score(["Fe2O3"])
    except (MIError, ValueError, TypeError) as exc:
        raise SpecError(f"criticality: {exc}") from None
    numeric = [c for c in scores.columns if str(scores[c].dtype).startswith(("float", "int"))]
    if spec.criticality.objective not in numeric:
        raise _choices("criticality.objective", spec.criticality.objective, numeric, "score column")


def _check_templates(spec: RunSpec) -> None:
    for i, tpl in enumerate(spec.candidates.templates if spec.candidates else []):
        try:
            template = tpl.build()
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

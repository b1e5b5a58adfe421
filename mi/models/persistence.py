"""Save and load models without pickle.

A saved model is a folder:

- ``model.json``: format version, the model tree (class names from a fixed allow-list,
  parameters, fitted scalars), the model card and package versions;
- ``*.ubj``: xgboost boosters in xgboost's own UBJSON format (one per ensemble member);
- ``arrays.npz``: numeric arrays (scikit-learn tree node tables, GP training data), zip-deflated
  (a 150-tree forest's node tables take about a fifth of their raw size) and read with
  ``allow_pickle=False``; a file whose members claim more than :data:`MAX_ARRAY_BYTES` once
  inflated is refused before anything is inflated;
- ``card.md``: the model card for humans.

Loading only instantiates classes from the allow-list below and reads plain numbers, so a model
file cannot run code. Random-forest trees are stored as scikit-learn's node tables and rebuilt
with the same scikit-learn version family; a mismatch raises :class:`~mi.exceptions.ModelError`.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.tree._tree import Tree

from mi.exceptions import ModelError, ModelLoadError
from mi.models._load_checks import (
    check_array,
    check_booster_blob,
    check_common,
    check_forest,
    check_gp,
)
from mi.models._threads import xgb_threads
from mi.models._ubjson import check_booster
from mi.models.calibrated import CalibratedRegressor
from mi.models.calibration import CalibrationReport, calibrator_from_dict
from mi.models.card import ModelCard, make_card, package_versions
from mi.models.forest import RandomForestUncertaintyRegressor
from mi.models.gp import GPRegressor
from mi.models.physics import PhysicsResidualRegressor
from mi.models.two_stage import TwoStageGapRegressor, TwoStageRegressor
from mi.models.xgb import XGBClassifierModel, XGBEnsembleRegressor, xgb

__all__ = ["save_model", "load_model", "load_card", "FORMAT_VERSION"]

FORMAT_VERSION = 1

#: Largest total size the arrays of a model file may inflate to (bytes). A saved model of this
#: package stays far below it (the flagship's Curie forest: 35 MB); the bound keeps a damaged or
#: crafted file from exhausting memory when it is read.
MAX_ARRAY_BYTES = 4 * 1024**3

_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (
        XGBEnsembleRegressor,
        XGBClassifierModel,
        RandomForestUncertaintyRegressor,
        GPRegressor,
        TwoStageRegressor,
        TwoStageGapRegressor,
        CalibratedRegressor,
        PhysicsResidualRegressor,
    )
}

#: Regressors whose std map is fitted at ``fit`` (out-of-bag / leave-one-out).
_SELF_CALIBRATED = (XGBEnsembleRegressor, RandomForestUncertaintyRegressor, GPRegressor)


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.count = 0

    def blob(self, data: bytes, suffix: str) -> str:
        name = f"part_{self.count:03d}{suffix}"
        self.count += 1
        (self.folder / name).write_bytes(data)
        return name

    def array(self, value: np.ndarray) -> str:
        key = f"a{len(self.arrays):03d}"
        self.arrays[key] = np.ascontiguousarray(value)
        return key


class _Reader:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / "arrays.npz"
        self.arrays: Any = {}
        if path.is_file():
            self.arrays = np.load(path, allow_pickle=False)
            claimed = sum(info.file_size for info in self.arrays.zip.infolist())
            if claimed > MAX_ARRAY_BYTES:
                raise ModelLoadError(
                    f"arrays.npz: its arrays claim {claimed / 1024**3:.1f} GiB once inflated, more "
                    f"than the {MAX_ARRAY_BYTES / 1024**3:.0f} GiB a model may hold; not loaded."
                )

    def blob(self, name: str) -> bytes:
        path = (self.folder / name).resolve()
        if path.parent != self.folder.resolve():
            raise ModelError(f"Model file refers to {name!r} outside its folder; refusing to read.")
        return path.read_bytes()

    def array(self, key: str) -> np.ndarray:
        try:
            return self.arrays[key]
        except KeyError:
            raise ModelError(f"Model file is missing array {key!r} in arrays.npz.") from None


def _encode_param(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if type(value).__name__ in _CLASSES:
        return {"__estimator__": type(value).__name__, "params": _params(value)}
    if isinstance(value, list | tuple):  # plain data, e.g. a [low, high] range
        return [_encode_param(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if "__estimator__" not in value:
            return {k: _encode_param(v) for k, v in value.items()}
    raise ModelError(
        f"Cannot save parameter value {value!r} of type {type(value).__name__}: only numbers, "
        "strings, None, lists and string-keyed tables of those, and mi.models estimators can "
        "be saved (use an int random_state)."
    )


def _params(model: Any) -> dict[str, Any]:
    return {k: _encode_param(v) for k, v in model.get_params(deep=False).items()}


def _decode_param(value: Any) -> Any:
    if isinstance(value, dict) and "__estimator__" in value:
        return _new(value["__estimator__"], value["params"])
    return value


def _new(name: str, params: dict[str, Any]) -> Any:
    cls = _CLASSES.get(name)
    if cls is None:
        raise ModelError(
            f"Model file names class {name!r}, which is not a loadable mi.models estimator "
            f"({', '.join(sorted(_CLASSES))})."
        )
    return cls(**{k: _decode_param(v) for k, v in params.items()})


def _common(model: Any) -> dict[str, Any]:
    names = getattr(model, "feature_names_in_", None)
    return {
        "n_features_in_": int(model.n_features_in_),
        "feature_names_in_": None if names is None else [str(c) for c in names],
    }


def _set_common(model: Any, fitted: dict[str, Any]) -> None:
    model.n_features_in_ = int(fitted["n_features_in_"])
    if fitted.get("feature_names_in_") is not None:
        model.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)


def _dump(model: Any, w: _Writer) -> dict[str, Any]:
    name = type(model).__name__
    if name not in _CLASSES:
        raise ModelError(
            f"save_model cannot save a {name}: supported are {', '.join(sorted(_CLASSES))}."
        )
    if not hasattr(model, "n_features_in_"):
        raise ModelError(f"save_model needs a fitted model; this {name} is not fitted.")
    node: dict[str, Any] = {"class": name, "params": _params(model), "fitted": _common(model)}
    fitted = node["fitted"]
    if isinstance(model, XGBEnsembleRegressor):
        fitted["members"] = [
            w.blob(bytes(m.get_booster().save_raw(raw_format="ubj")), ".ubj")
            for m in model.members_
        ]
    elif isinstance(model, XGBClassifierModel):
        fitted["booster"] = w.blob(bytes(model.booster_.get_booster().save_raw("ubj")), ".ubj")
        fitted["classes"] = w.array(np.asarray(model.classes_))
    elif isinstance(model, RandomForestUncertaintyRegressor):
        states = [est.tree_.__getstate__() for est in model.estimators_]
        nodes = np.concatenate([s["nodes"] for s in states])
        fitted["trees"] = {
            "nodes": {f: w.array(nodes[f]) for f in nodes.dtype.names or ()},
            "values": w.array(np.concatenate([s["values"] for s in states])),
            "node_counts": [int(s["node_count"]) for s in states],
            "max_depths": [int(s["max_depth"]) for s in states],
            "max_features_": [int(est.max_features_) for est in model.estimators_],
        }
        fitted["inbag"] = w.array(model.inbag_)
    elif isinstance(model, GPRegressor):
        gp = model.gp_
        fitted["theta"] = gp.kernel_.theta.tolist()
        fitted["X_train"] = w.array(gp.X_train_)
        fitted["y_train"] = w.array(gp.y_train_ * gp._y_train_std + gp._y_train_mean)
        fitted["scaler_mean"] = w.array(model.scaler_.mean_)
        fitted["scaler_scale"] = w.array(model.scaler_.scale_)
    elif isinstance(model, TwoStageRegressor):
        fitted["negative_value_"] = model.negative_value_
        fitted["positive_fraction_"] = model.positive_fraction_
        fitted["std_scale_"] = float(getattr(model, "std_scale_", 1.0))
        fitted["classifier_"] = None if model.classifier_ is None else _dump(model.classifier_, w)
        fitted["regressor_"] = None if model.regressor_ is None else _dump(model.regressor_, w)
    elif isinstance(model, CalibratedRegressor):
        fitted["estimator_"] = _dump(model.estimator_, w)
        fitted["calibrator_"] = model.calibrator_.to_dict()
        fitted["calibration_before_"] = model.calibration_before_.to_dict()
    elif isinstance(model, PhysicsResidualRegressor):
        fitted["baseline_index_"] = int(model.baseline_index_)
        fitted["prior_std_"] = float(model.prior_std_)
        fitted["scope_index_"] = [int(i) for i in getattr(model, "scope_index_", [])]
        fitted["estimator_"] = _dump(model.estimator_, w)
        if model.shrink_outside:
            fitted["domain_radius_"] = float(model.domain_radius_)
            for key in ("scaler_mean_", "scaler_scale_", "train_"):
                fitted[key] = w.array(getattr(model, key))
    if isinstance(model, _SELF_CALIBRATED):
        cal, report = getattr(model, "calibrator_", None), getattr(model, "oob_calibration_", None)
        fitted["calibrator_"] = None if cal is None else cal.to_dict()
        fitted["oob_calibration_"] = None if report is None else report.to_dict()
    return node


def _load_self_calibration(model: Any, fitted: dict[str, Any]) -> None:
    """Restore the out-of-bag std map (absent in files written before it existed: raw std)."""
    cal, report = fitted.get("calibrator_"), fitted.get("oob_calibration_")
    model.calibrator_ = None if cal is None else calibrator_from_dict(cal)
    model.oob_calibration_ = None if report is None else CalibrationReport(**report)


def _load(node: dict[str, Any], r: _Reader) -> Any:
    model = _new(node["class"], node["params"])
    fitted = node["fitted"]
    check_common(fitted)
    _set_common(model, fitted)
    if isinstance(model, XGBEnsembleRegressor):
        model.members_ = []
        if not isinstance(fitted["members"], list) or not fitted["members"]:
            raise ModelLoadError("an xgb_ensemble model needs at least one member booster.")
        for name in fitted["members"]:
            member = xgb.XGBRegressor()
            blob = check_booster_blob(r.blob(name), name)
            check_booster(blob, name, int(fitted["n_features_in_"]))
            member.load_model(bytearray(blob))
            member.set_params(n_jobs=xgb_threads(model.n_jobs))
            model.members_.append(member)
    elif isinstance(model, XGBClassifierModel):
        model.classes_ = r.array(fitted["classes"])
        model.booster_ = xgb.XGBClassifier()
        blob = check_booster_blob(r.blob(fitted["booster"]), str(fitted["booster"]))
        check_booster(blob, str(fitted["booster"]), int(fitted["n_features_in_"]))
        model.booster_.load_model(bytearray(blob))
        model.booster_.set_params(n_jobs=xgb_threads(model.n_jobs))
    elif isinstance(model, RandomForestUncertaintyRegressor):
        _load_trees(model, fitted, r)
    elif isinstance(model, GPRegressor):
        check_gp(
            r.array(fitted["X_train"]),
            r.array(fitted["y_train"]),
            r.array(fitted["scaler_mean"]),
            r.array(fitted["scaler_scale"]),
            int(model.n_features_in_),
        )
        model.scaler_ = StandardScaler()
        model.scaler_.mean_ = r.array(fitted["scaler_mean"])
        model.scaler_.scale_ = r.array(fitted["scaler_scale"])
        model.scaler_.var_ = model.scaler_.scale_**2
        model.scaler_.n_features_in_ = model.n_features_in_
        kernel = model._kernel(model.n_features_in_).clone_with_theta(np.asarray(fitted["theta"]))
        model.gp_ = GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=True)
        model.gp_.fit(r.array(fitted["X_train"]), r.array(fitted["y_train"]))
    elif isinstance(model, TwoStageRegressor):
        model.negative_value_ = float(fitted["negative_value_"])
        model.positive_fraction_ = float(fitted["positive_fraction_"])
        model.std_scale_ = float(fitted.get("std_scale_", 1.0))  # absent in older files
        c, g = fitted["classifier_"], fitted["regressor_"]
        model.classifier_ = None if c is None else _load(c, r)
        model.regressor_ = None if g is None else _load(g, r)
    elif isinstance(model, CalibratedRegressor):
        model.estimator_ = _load(fitted["estimator_"], r)
        model.calibrator_ = calibrator_from_dict(fitted["calibrator_"])
        model.calibration_before_ = CalibrationReport(**fitted["calibration_before_"])
    elif isinstance(model, PhysicsResidualRegressor):
        model.baseline_index_ = int(fitted["baseline_index_"])
        model.prior_std_ = float(fitted["prior_std_"])
        model.scope_index_ = [int(i) for i in fitted.get("scope_index_", [])]
        try:
            model.scope_ranges_ = model._check_prior()  # from the saved baseline_scope
        except ValueError as exc:
            raise ModelLoadError(str(exc)) from None
        n = int(model.n_features_in_)
        if len(model.scope_ranges_) != len(model.scope_index_) or any(
            not 0 <= i < n for i in model.scope_index_
        ):
            raise ModelLoadError("a physics_residual model's baseline_scope and columns differ.")
        model.estimator_ = _load(fitted["estimator_"], r)
        if model.shrink_outside:
            model.domain_radius_ = float(fitted["domain_radius_"])
            for key in ("scaler_mean_", "scaler_scale_", "train_"):
                setattr(model, key, r.array(fitted[key]))
    if isinstance(model, _SELF_CALIBRATED):
        _load_self_calibration(model, fitted)
    return model


def _load_trees(model: RandomForestUncertaintyRegressor, fitted: dict[str, Any], r: _Reader):
    info = fitted["trees"]
    values = r.array(info["values"])
    expected = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
    dtype = expected.tree_.__getstate__()["nodes"].dtype
    saved = info["nodes"]
    if set(saved) != set(dtype.names):
        raise ModelError(
            "This random-forest file was written by a scikit-learn whose tree node fields "
            f"({sorted(saved)}) differ from the installed one's ({sorted(dtype.names)}); load it "
            "with the scikit-learn version in the model card, or refit."
        )
    check_forest(
        {name: r.array(saved[name]) for name in dtype.names},
        values,
        info["node_counts"],
        info["max_depths"],
        info["max_features_"],
        int(model.n_features_in_),
    )
    nodes = np.zeros(values.shape[0], dtype=dtype)
    for name in dtype.names:
        nodes[name] = r.array(saved[name])
    model.estimators_ = []
    start = 0
    n_classes = np.array([1], dtype=np.intp)
    for count, depth, mf in zip(
        info["node_counts"], info["max_depths"], info["max_features_"], strict=True
    ):
        tree = Tree(model.n_features_in_, n_classes, 1)
        tree.__setstate__(
            {
                "max_depth": depth,
                "node_count": count,
                "nodes": np.ascontiguousarray(nodes[start : start + count]),
                "values": np.ascontiguousarray(values[start : start + count]),
            }
        )
        est = DecisionTreeRegressor(**model._tree_params())
        est.tree_, est.n_features_in_, est.n_outputs_, est.max_features_ = (
            tree,
            model.n_features_in_,
            1,
            mf,
        )
        model.estimators_.append(est)
        start += count
    inbag = check_array(r.array(fitted["inbag"]), "inbag", 2, "iub")
    if inbag.shape[0] != len(model.estimators_):
        raise ModelLoadError(f"inbag has {inbag.shape[0]} rows for {len(model.estimators_)} trees.")
    model.inbag_ = inbag


def save_model(
    model: Any, path: str | Path, card: ModelCard | dict[str, Any] | None = None
) -> Path:
    """Save a fitted ``mi.models`` estimator to a folder, without pickle.

    Parameters
    ----------
    model : estimator
        Fitted :class:`XGBEnsembleRegressor`, :class:`XGBClassifierModel`,
        :class:`RandomForestUncertaintyRegressor`, :class:`GPRegressor`,
        :class:`TwoStageRegressor` or :class:`CalibratedRegressor`.
    path : str or Path
        Folder to create (it must not exist, or be empty).
    card : ModelCard or dict, optional
        Model card; a dict goes through :func:`make_card` (class, params, features and versions
        filled in; keys that are not card fields are kept under ``extra``).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from mi.models import XGBEnsembleRegressor, save_model, load_model
    >>> X = np.random.default_rng(0).normal(size=(50, 2)); y = X[:, 0]
    >>> m = XGBEnsembleRegressor(n_members=2, n_estimators=10, n_jobs=1, random_state=0).fit(X, y)
    >>> folder = save_model(m, tempfile.mkdtemp() + "/model")
    >>> np.allclose(load_model(folder).predict(X), m.predict(X))
    True
    """
    folder = Path(path)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ModelError(
            f"save_model: {folder} exists and is not an empty folder; pick a new path."
        )
    if card is None:
        card = make_card(model)
    elif isinstance(card, dict):
        card = make_card(model, **card)
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(folder)
    tree = _dump(model, writer)
    if writer.arrays:
        with open(folder / "arrays.npz", "wb") as fh:
            np.savez_compressed(fh, allow_pickle=False, **writer.arrays)
    doc = {
        "format": "mi-model",
        "format_version": FORMAT_VERSION,
        "versions": package_versions(),
        "model": tree,
        "card": card.to_dict(),
    }
    (folder / "model.json").write_text(json.dumps(doc, indent=1))
    (folder / "card.md").write_text(card.to_markdown())
    return folder


def _read_doc(path: str | Path) -> tuple[Path, dict[str, Any]]:
    folder = Path(path)
    meta = folder / "model.json"
    if not meta.is_file():
        raise ModelError(f"{folder} is not a saved mi model (no model.json); use save_model first.")
    try:
        doc = json.loads(meta.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelLoadError(f"{meta} is not valid JSON: {type(exc).__name__}: {exc}.") from None
    if not isinstance(doc, dict):
        raise ModelLoadError(f"{meta} does not hold a JSON object.")
    if doc.get("format") != "mi-model":
        raise ModelError(f"{meta} is not an mi model file (format {doc.get('format')!r}).")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{meta} has format_version {doc.get('format_version')!r}; this mi reads "
            f"{FORMAT_VERSION}. Refit the model or use the mi version in its card."
        )
    return folder, doc


def load_model(path: str | Path) -> Any:
    """Load a model saved by :func:`save_model` (no pickle; only allow-listed classes).

    Parameters
    ----------
    path : str or Path
        Folder written by :func:`save_model`.

    Returns
    -------
    estimator
        The fitted model (xgboost threads re-sized for this machine).
    """
    folder, doc = _read_doc(path)
    try:
        return _load(doc["model"], _Reader(folder))
    except ModelLoadError as exc:
        raise ModelLoadError(f"{folder}: {exc} The model was not loaded.") from None
    except ModelError:
        raise
    except xgb.core.XGBoostError as exc:  # a ValueError: handled before the others
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise ModelLoadError(f"{folder}: xgboost cannot read a booster ({first}).") from None
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
        RuntimeError,  # incl. NotImplementedError: an unknown zip compression in arrays.npz
        ArithmeticError,
        zlib.error,
    ) as exc:
        raise ModelLoadError(
            f"{folder / 'model.json'} is damaged or incomplete: {type(exc).__name__}: {exc}."
        ) from None


def load_card(path: str | Path) -> ModelCard:
    """Read only the model card of a saved model."""
    _, doc = _read_doc(path)
    return ModelCard.from_dict(doc["card"])

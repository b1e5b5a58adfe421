"""Pickle-free save/load of every mi.models estimator, with model cards."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mi.exceptions import ModelError
from mi.models import (
    CalibratedRegressor,
    GPRegressor,
    ModelCard,
    RandomForestUncertaintyRegressor,
    TwoStageRegressor,
    XGBClassifierModel,
    XGBEnsembleRegressor,
    load_card,
    load_model,
    make_card,
    save_model,
)

SMALL = {"n_estimators": 15, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["MagpieData mean Number", "b", "c"])
    y = np.where(X["b"] > 0, 5 + X["MagpieData mean Number"], 0.0)
    return X, y


REGRESSORS = {
    "xgb": lambda: XGBEnsembleRegressor(n_members=3, **SMALL),
    "rf_trees": lambda: RandomForestUncertaintyRegressor(n_estimators=8, random_state=0, n_jobs=1),
    "rf_jackknife": lambda: RandomForestUncertaintyRegressor(
        n_estimators=8, uncertainty="jackknife", random_state=0, n_jobs=1
    ),
    "extra_trees": lambda: RandomForestUncertaintyRegressor(
        n_estimators=8, splitter="random", bootstrap=False, random_state=0, n_jobs=1
    ),
    "gp": lambda: GPRegressor(n_restarts_optimizer=0, random_state=0),
    "two_stage": lambda: TwoStageRegressor(
        XGBClassifierModel(**SMALL), XGBEnsembleRegressor(n_members=2, **SMALL)
    ),
    "calibrated": lambda: CalibratedRegressor(
        XGBEnsembleRegressor(n_members=2, **SMALL), method="isotonic", cv=3
    ),
}


@pytest.mark.parametrize("name", sorted(REGRESSORS))
def test_regressor_round_trip(name, data, tmp_path):
    X, y = data
    model = REGRESSORS[name]().fit(X, y)
    folder = save_model(model, tmp_path / "m")
    loaded = load_model(folder)
    assert type(loaded) is type(model)
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    m1, s1 = model.predict(X, return_std=True)
    m2, s2 = loaded.predict(X, return_std=True)
    np.testing.assert_allclose(m2, m1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s2, s1, rtol=1e-6, atol=1e-6)
    assert list(loaded.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X.rename(columns={"b": "B"}))
    assert not any(p.suffix in {".pkl", ".pickle", ".joblib"} for p in folder.iterdir())


def test_classifier_round_trip_keeps_labels(data, tmp_path):
    X, y = data
    labels = np.where(y > 0, "superconductor", "none")
    clf = XGBClassifierModel(**SMALL).fit(X, labels)
    loaded = load_model(save_model(clf, tmp_path / "clf"))
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert list(loaded.predict(X[:5])) == list(clf.predict(X[:5]))


def test_card_saved_and_read(data, tmp_path):
    X, y = data
    model = XGBEnsembleRegressor(n_members=2, **SMALL).fit(X, y)
    card = make_card(
        model,
        dataset={"name": "supercon", "sha256": {"Supercon_data.csv": "b34a"}, "n_rows": 120},
        preset="magpie",
        target="Tc (K)",
        task="regression",
        metrics={"rmse": {"mean": 7.0, "std": 0.2}},
        calibration={"coverage_95": 0.95},
    )
    folder = save_model(model, tmp_path / "m", card=card)
    back = load_card(folder)
    assert back.dataset["sha256"] == {"Supercon_data.csv": "b34a"}
    assert back.preset == "magpie" and back.feature_names == list(X.columns)
    assert back.params["n_members"] == 2
    assert {"python", "numpy", "scikit-learn", "xgboost", "mi"} <= set(back.versions)
    assert "supercon" in (folder / "card.md").read_text()
    assert ModelCard.from_dict(back.to_dict()) == back


def test_dict_card_keeps_unknown_keys(data, tmp_path):
    X, y = data
    model = XGBEnsembleRegressor(n_members=1, **SMALL).fit(X, y)
    card = {"dataset": "supercon", "dataset_sha256": {"f.csv": "ab"}, "units": "K", "preset": "m"}
    back = load_card(save_model(model, tmp_path / "m", card=card))
    assert back.dataset == {"name": "supercon"}
    assert back.extra == {"dataset_sha256": {"f.csv": "ab"}, "units": "K"}
    assert back.preset == "m" and back.params["n_members"] == 1
    assert back.feature_names == list(X.columns)


def test_refuses_unknown_class_and_bad_paths(data, tmp_path):
    X, y = data
    model = XGBEnsembleRegressor(n_members=1, **SMALL).fit(X, y)
    folder = save_model(model, tmp_path / "m")
    with pytest.raises(ModelError, match="not an empty folder"):
        save_model(model, folder)
    doc = json.loads((folder / "model.json").read_text())
    doc["model"]["class"] = "os.system"
    (folder / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="not a loadable mi.models estimator"):
        load_model(folder)
    doc["model"]["class"] = "XGBEnsembleRegressor"
    doc["model"]["fitted"]["members"] = ["../../etc/passwd"]
    (folder / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="outside its folder"):
        load_model(folder)
    with pytest.raises(ModelError, match="no model.json"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="needs a fitted model"):
        save_model(XGBEnsembleRegressor(), tmp_path / "unfitted")
    with pytest.raises(ModelError, match="random_state"):
        save_model(
            XGBEnsembleRegressor(
                n_members=1, n_estimators=2, random_state=np.random.RandomState(0)
            ).fit(X, y),
            tmp_path / "rs",
        )

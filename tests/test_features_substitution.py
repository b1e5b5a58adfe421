"""Co counted as Fe (SubstitutedPreset), the split Co share, and the monotone Co-for-Fe trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from mi.features import featurize, get_preset
from mi.features.substitution import (
    CO_FOR_FE_INCREMENT,
    CO_FOR_FE_SLOPE_K,
    CO_SHARE_CO_RICH,
    CO_SHARE_FE_RICH,
    CoShareSplit,
    SubstitutedPreset,
)
from mi.models import XGBEnsembleRegressor

FORMULAS = [
    "Fe",
    "Co",
    "NaCl",
    "Nd2Fe14B",
    "Nd2(Fe0.95Co0.05)14B",
    "Nd2Co14B",
    "(Nd0.8Dy0.2)2(Fe0.9Co0.1)14B",
    "SmCo5",
    "YCo2",
    "FeCoNi",
    "Sm2Fe17N3",
    "CoO",
]


def test_fast_equals_matminer():
    fast = featurize(FORMULAS, preset="curie_co_as_fe")
    slow = featurize(FORMULAS, preset="curie_co_as_fe", backend="matminer")
    assert list(fast.columns) == list(slow.columns)
    assert fast.shape == (len(FORMULAS), get_preset("curie_co_as_fe").n_features)
    np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-9, atol=1e-12)


def test_co_for_fe_moves_only_the_co_share():
    X = featurize(["Nd2Fe14B", "Nd2(Fe0.95Co0.05)14B", "Nd2(Fe0.7Co0.3)14B"], "curie_co_as_fe")
    moved = X.columns[(X.diff().iloc[1:].abs() > 1e-12).any(axis=0)]
    assert list(moved) == [CO_SHARE_FE_RICH, CO_FOR_FE_INCREMENT]
    np.testing.assert_allclose(X[CO_SHARE_FE_RICH], [0.0, 0.05, 0.3])
    np.testing.assert_allclose(X[CO_FOR_FE_INCREMENT], CO_FOR_FE_SLOPE_K * X[CO_SHARE_FE_RICH])
    np.testing.assert_allclose(X[CO_SHARE_CO_RICH], 0.0)


def test_substituted_features_equal_the_inner_preset_on_the_substituted_composition():
    f = SubstitutedPreset("curie_rare_earth", {"Co": "Fe"})
    got = featurize(["SmCo5", "FeCoNi"], "curie_co_as_fe")
    want = featurize(["SmFe5", "Fe2Ni"], "curie_rare_earth")
    tagged = [f"{c} [Co as Fe]" for c in want.columns]
    assert tagged == f.feature_labels()
    np.testing.assert_allclose(got[tagged].to_numpy(), want.to_numpy(), rtol=1e-12)


def test_co_share_split_at_co_equals_fe():
    f = CoShareSplit()
    assert f.featurize(Composition("Nd2Fe14B")) == [0.0, 0.0, 0.0]
    assert f.featurize(Composition("FeCo")) == [0.5, 0.0, 0.0]  # no rare earth: no increment
    assert f.featurize(Composition("SmCo5")) == [0.5, 0.5, 0.0]  # 1:5, Co-rich
    assert f.featurize(Composition("Fe1Co3")) == pytest.approx([0.5, 0.25, 0.0])
    assert f.featurize(Composition("NaCl")) == [0.0, 0.0, 0.0]
    # Fe-rich R-TM magnets get the increment; RFe2 / RFe3 (Co for Fe lowers Tc) do not
    assert f.featurize(Composition("Sm2Fe15Co2N3"))[2] == pytest.approx(CO_FOR_FE_SLOPE_K * 2 / 17)
    assert f.featurize(Composition("YFe1.8Co0.2"))[2] == 0.0
    assert f.featurize(Composition("YFe2.7Co0.3"))[2] == 0.0


@pytest.mark.parametrize("preset", ["curie_co_in_magnets", "curie_co_in_magnets_elements"])
def test_scoped_fast_equals_matminer(preset):
    fast = featurize(FORMULAS, preset=preset)
    slow = featurize(FORMULAS, preset=preset, backend="matminer")
    assert list(fast.columns) == list(slow.columns)
    np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-9, atol=1e-12)
    # in Fe-rich R-TM magnets Co for Fe moves only the Co share, as with Co as Fe everywhere
    X = featurize(["Nd2Fe14B", "Nd2(Fe0.95Co0.05)14B", "Nd2(Fe0.7Co0.3)14B"], preset)
    moved = X.columns[(X.diff().iloc[1:].abs() > 1e-12).any(axis=0)]
    assert list(moved) == [CO_SHARE_FE_RICH, CO_FOR_FE_INCREMENT]


def test_element_fractions_follow_a_doped_series_outside_the_magnets():
    X = featurize(["La0.7Sr0.3MnO3", "La0.6Sr0.4MnO3", "CoFe2O4"], "curie_co_in_magnets_elements")
    tag = "[Co as Fe in R-TM magnets]"
    np.testing.assert_allclose(X[f"Sr fraction {tag}"], [0.06, 0.08, 0.0])
    np.testing.assert_allclose(X[f"Mn fraction {tag}"], [0.2, 0.2, 0.0])
    np.testing.assert_allclose(X[f"Co fraction {tag}"], [0.0, 0.0, 1 / 7])  # no R: Co stays Co
    assert not any(c.startswith(("Nd fraction", "Dy fraction")) for c in X.columns)


def test_scoped_substitution_counts_co_as_fe_only_in_rtm_magnets():
    tagged = SubstitutedPreset("curie_rare_earth", {"Co": "Fe"}, scope="rtm_magnets")
    formulas = ["Sm2Co17", "SmCo5", "CoFe2O4", "Co", "YCo2"]
    plain = featurize(formulas, "curie_rare_earth")
    got = featurize(formulas, "curie_co_in_magnets")
    cols = tagged.feature_labels()
    assert cols[0].endswith("[Co as Fe in R-TM magnets]")
    # outside Fe-rich R-TM magnets (SmCo5: Co 5/6 < 85 % of R + Co; no R; RCo2): Co stays Co
    np.testing.assert_allclose(got[cols].to_numpy()[1:], plain.to_numpy()[1:], rtol=1e-12)
    # Sm2Co17 is one (Co 17/19 of R + Co): seen as Sm2Fe17
    want = featurize(["Sm2Fe17"], "curie_rare_earth").to_numpy()[0]
    np.testing.assert_allclose(got[cols].to_numpy()[0], want, rtol=1e-12)
    # Co metal and Fe metal differ outside the magnets (they were equal with Co as Fe everywhere)
    metals = featurize(["Co", "Fe"], "curie_co_in_magnets")[cols]
    assert (metals.iloc[0] != metals.iloc[1]).sum() > 10


def test_unknown_scope_is_refused():
    with pytest.raises(ValueError, match="scope"):
        SubstitutedPreset("curie_rare_earth", {"Co": "Fe"}, scope="magnets")


@pytest.mark.parametrize(
    "replace, match",
    [({"Co": "Xx"}, "not an element"), ({"Co": "Co"}, "by itself"), ({}, "at least one"),
     ({"Co": "Fe", "Fe": "Ni"}, "chains")],
)  # fmt: skip
def test_bad_substitution_is_refused(replace, match):
    with pytest.raises(ValueError, match=match):
        SubstitutedPreset("curie_rare_earth", replace)


def _small(kind: str, **kw):
    from mi.models import RandomForestUncertaintyRegressor

    if kind == "forest":
        return RandomForestUncertaintyRegressor(
            n_estimators=20, point="median", n_jobs=1, random_state=0, **kw
        )
    return XGBEnsembleRegressor(n_members=3, n_estimators=40, n_jobs=1, random_state=0, **kw)


@pytest.mark.parametrize("kind", ["xgb", "forest"])
def test_monotone_constraint_keeps_co_for_fe_raising_the_prediction(kind):
    """A small model on data where Co *lowers* y still never lowers it along Fe -> Co."""
    rng = np.random.default_rng(0)
    z = rng.uniform(0.001, 0.5, 300)
    r = rng.choice(["Nd", "Pr", "Ce", "Y"], 300)
    formulas = [f"{e}2(Fe{1 - x:.3f}Co{x:.3f})14B" for e, x in zip(r, z, strict=True)]
    y = 600.0 - 200.0 * z + rng.normal(0, 20, 300)  # the opposite of the physics
    X = featurize(formulas, "curie_co_as_fe")
    series = featurize([f"Nd2(Fe{1 - x:.2f}Co{x:.2f})14B" for x in np.arange(0.05, 0.51, 0.05)],
                       "curie_co_as_fe")  # fmt: skip
    free = _small(kind)
    tied = _small(kind, monotone_increasing=f"{CO_SHARE_FE_RICH}; {CO_FOR_FE_INCREMENT}")
    assert np.diff(free.fit(X, y).predict(series)).min() < 0  # unconstrained: follows the data
    assert np.diff(tied.fit(X, y).predict(series)).min() >= 0
    if kind == "xgb":
        members = np.array([m.predict(series.to_numpy()) for m in tied.members_])
    else:
        members = np.array([t.predict(series.to_numpy(np.float32)) for t in tied.estimators_])
    assert np.diff(members, axis=1).min() >= -1e-9  # every member / tree keeps the trend


def test_monotone_constraint_needs_named_columns():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "ab": [1.0, 0.0, 1.0, 0.0]})
    model = XGBEnsembleRegressor(n_members=2, n_estimators=5, n_jobs=1, monotone_increasing="a")
    with pytest.raises(ValueError, match="exactly one"):
        model.fit(X, [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="column names"):
        model.set_params(monotone_increasing="ab").fit(X.to_numpy(), [0.0, 1.0, 2.0, 3.0])
    model.fit(X, [0.0, 1.0, 2.0, 3.0])
    assert model.predict(X).shape == (4,)


def test_monotone_model_saves_and_loads(tmp_path):
    from mi.models import load_model, save_model

    X = featurize([f"Nd2(Fe{1 - x:.2f}Co{x:.2f})14B" for x in (0.05, 0.1, 0.2, 0.3)] * 5,
                  "curie_co_as_fe")  # fmt: skip
    y = np.linspace(500.0, 700.0, len(X))
    model = XGBEnsembleRegressor(
        n_members=3, n_estimators=10, n_jobs=1, random_state=0,
        monotone_increasing=CO_SHARE_FE_RICH,
    ).fit(X, y)  # fmt: skip
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.get_params()["monotone_increasing"] == CO_SHARE_FE_RICH
    np.testing.assert_allclose(back.predict(X), model.predict(X))


def test_recalibrated_monotone_model_gets_named_columns():
    from mi.models import CalibratedRegressor

    X = featurize([f"Nd2(Fe{1 - x:.2f}Co{x:.2f})14B" for x in (0.05, 0.1, 0.2, 0.3)] * 5,
                  "curie_co_as_fe")  # fmt: skip
    y = np.linspace(500.0, 700.0, len(X))
    inner = XGBEnsembleRegressor(
        n_members=3, n_estimators=10, n_jobs=1, random_state=0,
        monotone_increasing=CO_SHARE_FE_RICH,
    )  # fmt: skip
    model = CalibratedRegressor(inner, cv=3, random_state=0).fit(X, y)
    mean, std = model.predict(X, return_std=True)
    assert np.diff(mean[:4]).min() >= 0 and np.all(std >= 0)


def test_forest_offset_adds_the_physics_term_and_survives_saving(tmp_path):
    from mi.models import RandomForestUncertaintyRegressor, load_model, save_model

    X = featurize(
        [f"Nd2(Fe{1 - x:.2f}Co{x:.2f})14B" for x in (0.2, 0.3, 0.4)] * 4, "curie_co_as_fe"
    )
    y = np.full(len(X), 600.0)
    model = RandomForestUncertaintyRegressor(
        n_estimators=10, point="median", n_jobs=1, random_state=0, offset=CO_FOR_FE_INCREMENT,
        monotone_increasing=f"{CO_SHARE_FE_RICH}; {CO_FOR_FE_INCREMENT}",
    ).fit(X, y)  # fmt: skip
    series = featurize(["Nd2Fe14B", "Nd2(Fe0.95Co0.05)14B", "Nd2(Fe0.9Co0.1)14B"], "curie_co_as_fe")
    pred = model.predict(series)
    # trees learn y - offset; the 5 % and 10 % steps rise by the increment (300 K x share)
    np.testing.assert_allclose(np.diff(pred), [15.0, 15.0], atol=1e-3)
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    np.testing.assert_allclose(back.predict(series), pred)
    with pytest.raises(ValueError, match="exactly one"):
        RandomForestUncertaintyRegressor(n_estimators=2, offset="Co share").fit(X, y)

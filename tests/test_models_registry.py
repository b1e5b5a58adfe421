"""One model registry: workflows and campaigns name, check and build surrogates the same way."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import ClassifierMixin, clone

import mi.models
from mi.active.spec import CampaignSpec, SurrogateSpec, load_spec
from mi.exceptions import ModelError, RegistryKeyError, SpecError
from mi.models.registry import MODELS, ModelSpec, get_model, get_model_spec, list_models
from mi.runner.spec import TargetSpec, parse_spec
from mi.runner.training import make_model


def test_list_models_lists_every_registered_surrogate_with_its_facts():
    table = list_models()
    assert list(table["name"]) == list(MODELS)
    assert {"xgb_ensemble", "random_forest", "gp", "xgb_classifier", "physics_residual"} <= set(
        table["name"]
    )
    for row in table.itertuples():
        spec = get_model_spec(row.name)
        assert getattr(mi.models, row._2) is spec.cls  # exported from mi.models
        assert row.kind == ("classifier" if issubclass(spec.cls, ClassifierMixin) else "regressor")
        assert row.members == hasattr(spec.cls, "predict_members")
        assert row.description and "\n" not in row.description
    assert get_model_spec("xgb_ensemble").members and not get_model_spec("gp").members
    assert get_model_spec("xgb_classifier").kind == "classifier"


def test_defaults_are_the_constructor_defaults():
    spec = get_model_spec("xgb_ensemble")
    assert spec.defaults == spec.cls().get_params(deep=False)
    assert spec.params == list(inspect.signature(spec.cls).parameters)


def test_unknown_name_gives_the_closest_match():
    with pytest.raises(RegistryKeyError) as err:
        get_model("xgb_ensamble")
    assert "Did you mean 'xgb_ensemble'?" in str(err.value)
    assert "random_forest" in str(err.value)  # the choices are listed


def test_unknown_parameter_gives_the_closest_match():
    with pytest.raises(ModelError, match=r"params.n_estimatorz .*Did you mean 'n_estimators'\?"):
        get_model("random_forest", n_estimatorz=10)
    with pytest.raises(SpecError) as err:
        get_model_spec("gp").validate_params({"nuu": 1.5}, key="targets[0].model_params")
    message = str(err.value)
    assert message.startswith("targets[0].model_params.nuu = 'nuu' is not a known parameter of gp")
    assert "Did you mean 'nu'?" in message and "\n" not in message


def test_bad_value_is_reported_with_the_class_own_message():
    with pytest.raises(SpecError, match=r"model\.params: The 'n_estimators' parameter of"):
        get_model_spec("xgb_ensemble").validate_params({"n_estimators": 0}, key="model.params")
    get_model_spec("xgb_ensemble").validate_params({"n_estimators": 5})  # a good value passes


def test_registering_a_surrogate_is_one_line():
    class TinyForest(mi.models.RandomForestUncertaintyRegressor):
        """A small forest (test surrogate)."""

    try:
        mi.models.registry.register_model(ModelSpec("tiny_forest", TinyForest))
        model = get_model("tiny_forest", n_estimators=7)
        assert isinstance(model, TinyForest) and model.n_estimators == 7
        assert "tiny_forest" in set(list_models()["name"])
        assert get_model_spec("tiny_forest").description == "A small forest (test surrogate)."
    finally:
        MODELS.pop("tiny_forest", None)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("xgb_ensemble", {"n_members": 3, "n_estimators": 30, "max_depth": 3}),
        ("random_forest", {"n_estimators": 50, "min_samples_leaf": 2}),
        ("gp", {"nu": 1.5}),
        ("two_stage_gap", {"combine": "hard"}),
    ],
)
def test_workflow_and_campaign_build_the_same_model(name, params):
    target = TargetSpec(
        name="y", dataset="supercon", model=name, model_params=params, cv={"enabled": False}
    )
    from_workflow = make_model(target, seed=7)
    surrogate = SurrogateSpec(name=name, params=params)
    from_campaign = surrogate.build(random_state=7, n_observations=0)
    assert type(from_workflow) is type(from_campaign) is get_model_spec(name).cls
    assert from_workflow.get_params(deep=False) == from_campaign.get_params(deep=False)
    assert clone(from_campaign).random_state == 7


def test_workflow_file_rejects_an_unknown_model_with_the_closest_name():
    data = {
        "version": 1,
        "name": "w",
        "targets": [{"name": "tc", "dataset": "supercon", "model": "random_forrest"}],
    }
    with pytest.raises(SpecError) as err:
        parse_spec(data, source="w.toml")
    message = str(err.value)
    assert "targets[0].model = 'random_forrest' is not one of:" in message
    assert "Did you mean 'random_forest'?" in message


def test_classifier_task_needs_a_classifier_from_the_registry():
    with pytest.raises(ValueError, match="needs a classifier model \\(xgb_classifier\\)"):
        TargetSpec(name="m", dataset="supercon", task="classification", model="gp")
    with pytest.raises(ValueError, match="'xgb_classifier' needs task = 'classification'"):
        TargetSpec(name="m", dataset="supercon", model="xgb_classifier")


def _campaign(model: dict) -> CampaignSpec:
    return load_spec(
        {"name": "c", "target": "y", "candidates": {"formulas": ["Fe2O3", "Fe3O4"]}, "model": model}
    )


def test_campaign_checks_its_surrogate_through_the_registry():
    _campaign({"name": "gp", "params": {"nu": 2.5}}).model.check()
    with pytest.raises(SpecError, match="model.name = 'xgb_ensembl' .*'xgb_ensemble'"):
        _campaign({"name": "xgb_ensembl"}).model.check()
    with pytest.raises(SpecError, match="is not a known regressor"):
        _campaign({"name": "xgb_classifier"}).model.check()
    with pytest.raises(SpecError, match=r"model\.params\.n_member = .*Did you mean 'n_members'"):
        _campaign({"name": "xgb_ensemble", "params": {"n_member": 2}}).model.check()


def test_quick_sizes_follow_each_model_signature():
    from mi.runner.quick import quick_spec

    spec = parse_spec(
        {
            "version": 1,
            "name": "w",
            "targets": [
                {"name": "a", "dataset": "supercon", "model_params": {"n_estimators": 500}},
                {"name": "b", "dataset": "supercon", "model": "gp", "model_params": {"nu": 1.5}},
                {"name": "c", "dataset": "supercon", "model": "random_forest"},
            ],
        }
    )
    quick = quick_spec(spec, n_estimators=40)
    assert quick.targets[0].model_params == {"n_estimators": 40, "n_members": 3}
    assert quick.targets[1].model_params == {"nu": 1.5}  # a GP has neither parameter
    assert quick.targets[2].model_params == {"n_estimators": 40}  # a forest has no members

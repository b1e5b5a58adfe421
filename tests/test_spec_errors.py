"""Every spec file and manifest reports problems in the same one-line shape."""

from __future__ import annotations

import pytest

from mi.active.spec import load_spec as load_campaign_spec
from mi.data.manifest import read_manifest
from mi.exceptions import SpecError


def _one_line(exc_info):
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_campaign_spec_names_the_key_the_allowed_keys_and_the_closest(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ntarget = "Ms"\n[candidates]\nformulas = ["Fe"]\n[model]\nnmae = "gp"\n'
    )
    with pytest.raises(SpecError) as info:
        load_campaign_spec(path)
    message = _one_line(info)
    assert message.startswith(f"Invalid campaign spec {path}: unknown key 'model.nmae'.")
    assert "Allowed keys here: calibration, calibration_folds, name, params." in message
    assert "Did you mean 'name'?" in message


def test_campaign_constraint_rules_share_the_workflow_messages():
    spec = {
        "name": "c",
        "target": "Ms",
        "candidates": {"formulas": ["Fe"]},
        "constraints": {"rules": [{"kind": "max_elemnts", "n": 3}]},
    }
    with pytest.raises(SpecError) as info:
        load_campaign_spec(spec)
    message = _one_line(info)
    assert "constraints.rules[0].kind = 'max_elemnts' is not one of:" in message
    assert "Did you mean 'max_elements'?" in message


def test_dataset_manifest_uses_the_same_shape(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('name = "m"\ntitle = "t"\nlicense = "MIT"\nsourc = "x"\n')
    with pytest.raises(SpecError) as info:
        read_manifest(path)
    message = _one_line(info)
    assert message.startswith(f"Invalid dataset manifest {path}: ")
    assert "unknown key 'sourc'" in message and "Allowed keys here:" in message

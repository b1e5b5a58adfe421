"""Definition files are data: they can only name allow-listed classes (issue 18, D2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mi.cli import main
from mi.config import get_settings
from mi.exceptions import SpecError
from mi.features.presets import FeaturizerSpec, check_class_name, get_preset

EVIL = """
name = "evil"
kind = "composition"

[[featurizer]]
class = "{cls}"
params = {{ command = "touch {marker}" }}
"""


def _user_presets(monkeypatch, tmp_path: Path, files: dict[str, str]) -> None:
    folder = tmp_path / "user"
    (folder / "featurizers").mkdir(parents=True)
    for name, text in files.items():
        (folder / "featurizers" / f"{name}.toml").write_text(text)
    monkeypatch.setenv("MI_SEARCH_PATH", json.dumps([str(folder)]))
    get_settings(refresh=True)


@pytest.mark.parametrize(
    "cls",
    [
        "os.system",
        "subprocess.getoutput",
        "builtins.eval",
        "matminer.featurizers.composition.os.system",  # a module imported by matminer
        "mi.features.presets.importlib.import_module",
        "os.system()",
    ],
)
def test_preset_naming_arbitrary_callable_runs_nothing(monkeypatch, tmp_path, capsys, cls):
    marker = tmp_path / "pwned"
    _user_presets(monkeypatch, tmp_path, {"evil": EVIL.format(cls=cls, marker=marker)})
    assert main(["features", "presets"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "evil.toml" in err and "not" in err
    assert not marker.exists()
    with pytest.raises(SpecError):
        FeaturizerSpec(cls, None, {"command": f"touch {marker}"}).build()
    assert not marker.exists()


def test_bare_names_must_be_featurizer_classes():
    # 'Composition' is importable from matminer.featurizers.composition, but is not a featurizer
    with pytest.raises(SpecError, match="not a featurizer class"):
        FeaturizerSpec("Composition").resolve_class()
    with pytest.raises(SpecError, match="not allowed"):
        check_class_name("pickle.loads")
    assert FeaturizerSpec("ElementProperty", "magpie").resolve_class().__name__ == "ElementProperty"
    dotted = FeaturizerSpec("matminer.featurizers.composition.Stoichiometry").resolve_class()
    assert dotted.__name__ == "Stoichiometry"
    assert get_preset("magpie").featurizers[0].cls == "ElementProperty"

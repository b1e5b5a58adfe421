"""Names never become paths outside ``--out`` (issue 18, D1).

A workflow's target, dataset and preset names are refused at spec validation unless they are
safe identifiers, and every path the runner writes or removes goes through
:func:`mi._paths.inside`, which refuses anything that resolves outside the output folder.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mi._paths import UnsafePathError, check_name, inside, is_safe_name
from mi.cli import main
from mi.exceptions import SpecError
from mi.runner.checkpoint import Checkpoint
from mi.runner.spec import parse_spec

HOSTILE = ["/abs", "../../victim", "a/b", "..", ".", "a\0b", "", "x" * 65, "-rf", "~"]

BASE = {
    "version": 1,
    "name": "t",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("field", ["name", "dataset", "preset"])
def test_hostile_target_names_refused_at_parse(name, field):
    data = copy.deepcopy(BASE)
    data["targets"][0][field] = name
    with pytest.raises(SpecError) as info:
        parse_spec(data, "wf.toml")
    message = str(info.value)
    assert f"targets[0].{field}" in message
    assert "not a safe" in message or "at least 1 character" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["/abs", "../../victim", "a/b", ".."])
def test_mi_run_with_hostile_name_touches_nothing_outside_out(tmp_path, capsys, name):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    before = _snapshot(tmp_path)
    wf = tmp_path / "wf.toml"
    escaped = name.replace("\\", "\\\\")
    wf.write_text(
        f'version = 1\nname = "t"\n[[targets]]\nname = "{escaped}"\ndataset = "curie_tc"\n'
        '[[candidates.templates]]\nformula = "Nd2Fe14B"\n'
    )
    before[wf.name] = wf.read_bytes()
    out = tmp_path / "sub" / "out"
    assert main(["run", str(wf), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a safe target name" in err
    assert not (tmp_path / "sub").exists()
    assert _snapshot(tmp_path) == before


def test_model_copy_bypass_is_caught_by_check_spec(tmp_path):
    from mi.runner import run_workflow

    spec = parse_spec(copy.deepcopy(BASE))
    bad = spec.targets[0].model_copy(update={"name": "../../victim"})
    spec = spec.model_copy(update={"targets": [bad]})  # model_copy skips the validators
    with pytest.raises(SpecError, match=r"targets\[0\]\.name = '../../victim': not a safe"):
        run_workflow(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_inside_refuses_escapes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert inside(out, "models", "Tc") == out / "models" / "Tc"
    for parts in [("..", "x"), ("/etc",), ("models", "../../x"), ("a\0b",), ("steps", "..")]:
        with pytest.raises(UnsafePathError):
            inside(out, *parts)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside the output folder"):
        inside(out, "link", "file.txt")


def test_checkpoint_never_removes_outside_out(tmp_path):
    out = tmp_path / "out"
    cp = Checkpoint(out, "h1", workflow="w")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("precious")
    (out / "chunks").symlink_to(elsewhere)  # a planted symlink in the output folder
    with pytest.raises(UnsafePathError):
        cp.use_chunk_key("another")
    with pytest.raises(UnsafePathError):
        cp.reset()
    with pytest.raises(UnsafePathError):
        cp.step_dir("../../elsewhere")
    assert (elsewhere / "keep.txt").read_text() == "precious"


def test_safe_names_accepted():
    for name in ["Tc", "log10_sigma", "expt-gap", "Hc.1", "k+"]:
        assert is_safe_name(name) and check_name(name, "name") == name
    for name in HOSTILE:
        assert not is_safe_name(name)


def test_manifest_folder_and_file_names_are_checked():
    from mi.data.manifest import FileSpec, Manifest

    with pytest.raises(ValueError, match="not a safe file name"):
        FileSpec(name="../../x.csv", sha256="0" * 64, url="https://example.org/x.csv")
    with pytest.raises(ValueError, match="not a safe folder name"):
        Manifest.model_validate(
            {
                "name": "x",
                "title": "x",
                "kind": "files",
                "folder": "../../etc",
                "licence": "x",
                "citation": "x",
                "files": [{"name": "x.csv", "sha256": "0" * 64, "url": "https://e.org/x"}],
                "table": {"composition_col": "formula"},
            }
        )

"""The dataset mirror default: ``../shared/datasets`` next to the checkout, so that commands
run outside ``make`` (and the README's examples) find the data without ``MI_DATA_DIR``."""

from pathlib import Path

from mi.config import REPO_ROOT, default_data_dir, get_settings


def test_default_mirror_is_shared_datasets_next_to_the_checkout(monkeypatch):
    monkeypatch.delenv("MI_DATA_DIR", raising=False)
    expected = REPO_ROOT.parent / "shared" / "datasets"
    found = get_settings(refresh=True).data_dir
    assert found == default_data_dir()
    assert found == (expected if expected.is_dir() else None)


def test_explicit_mirror_wins_and_empty_switches_it_off(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("MI_DATA_DIR", str(tmp_path))
    assert get_settings(refresh=True).data_dir == tmp_path
    monkeypatch.setenv("MI_DATA_DIR", "")
    assert get_settings(refresh=True).data_dir is None


def test_installed_copy_has_no_default_mirror(monkeypatch, tmp_path: Path):
    # a wheel install: no pyproject.toml beside the package, even with a shared/ folder near
    (tmp_path / "shared" / "datasets").mkdir(parents=True)
    monkeypatch.setattr("mi.config.REPO_ROOT", tmp_path / "site-packages")
    assert default_data_dir() is None
    (tmp_path / "site-packages").mkdir()
    (tmp_path / "site-packages" / "pyproject.toml").write_text("")
    assert default_data_dir() == tmp_path / "shared" / "datasets"

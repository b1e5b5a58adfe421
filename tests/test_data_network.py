"""Sources that need the internet; run with ``pytest -m network`` (off by default)."""

import os

import pytest

from mi.config import get_settings
from mi.data import load_dataset

pytestmark = pytest.mark.network


@pytest.fixture(autouse=True)
def _online(monkeypatch, tmp_path):
    monkeypatch.setenv("MI_OFFLINE", "false")
    monkeypatch.setenv("MI_DATA_DIR", str(tmp_path / "no-mirror"))
    get_settings(refresh=True)


def test_download_supercon_from_pinned_commit():
    ds = load_dataset("supercon")
    assert ds.report.n_input == 16414
    cached = get_settings().cache_dir / "datasets" / "supercon_stanev2018" / "Supercon_data.csv"
    assert cached.is_file()


def test_matbench_expt_gap_through_matminer():
    ds = load_dataset("matbench_expt_gap")
    assert ds.report.n_input == 4604
    assert ds.report.n_input == ds.report.n_accepted + ds.report.n_rejected
    assert ds.df["is_metal"].dtype == bool


def test_matbench_expt_is_metal_through_matminer():
    ds = load_dataset("matbench_expt_is_metal")
    assert ds.report.n_input == 4921
    assert ds.df["is_metal"].dtype == bool


def test_optimade_query():
    ds = load_dataset("optimade_mp", max_results=5)
    assert 1 <= len(ds.df) <= 5
    assert ds.report.n_input == ds.report.n_accepted + ds.report.n_rejected


@pytest.mark.skipif(not os.environ.get("MP_API_KEY"), reason="needs MP_API_KEY")
def test_materials_project_query():
    pytest.importorskip("mp_api")
    ds = load_dataset("mp_magnets", criteria={"formula": "Fe2O3", "is_magnetic": True})
    assert len(ds.df) >= 1 and (ds.df["Ms"] >= 0).all()

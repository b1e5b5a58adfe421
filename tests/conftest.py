"""Shared pytest fixtures.

Tests never reach the network. Real data comes from ``../shared/datasets`` (next to the
checkout), used through the project's own loader as a pre-filled, read-only cache; tests that
need it skip with a message saying so when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(
    os.environ.get("MI_TEST_SHARED_DATASETS", REPO_ROOT.parent / "shared" / "datasets")
)
SHARED_CRITICALITY = REPO_ROOT.parent / "shared" / "criticality"

# Tests use one thread everywhere (xgboost/OpenMP oversubscription is slow on small containers).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MI_N_JOBS", "1")


@pytest.fixture(autouse=True)
def _isolated_mi_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
):
    """Every test gets its own writable cache, offline mode, and the shared data as mirror."""
    from mi.config import get_settings

    cache = tmp_path_factory.mktemp("mi-cache")
    monkeypatch.setenv("MI_CACHE_DIR", str(cache))
    monkeypatch.setenv("MI_OFFLINE", "true")
    if SHARED_DATASETS.is_dir():
        monkeypatch.setenv("MI_DATA_DIR", str(SHARED_DATASETS))
    else:
        monkeypatch.delenv("MI_DATA_DIR", raising=False)
    get_settings(refresh=True)
    yield
    get_settings(refresh=True)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Path of ``../shared/datasets``; skips the test when it is not there."""
    if not (SHARED_DATASETS / "MANIFEST.md").is_file():
        pytest.skip(f"needs the shared real datasets at {SHARED_DATASETS} (not present)")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def slurm_cluster():
    """A real single-node SLURM cluster on 127.0.0.1 for the session (``SLURM_CONF`` exported).

    Skips the test with the install command when SLURM is not installed here. Every job is
    cancelled and every daemon stopped at the end of the session.
    """
    import shutil
    import tempfile

    from mi._testing.localslurm import LocalSlurm, LocalSlurmError, missing_binaries

    missing = missing_binaries()
    if missing:
        pytest.skip(
            f"needs SLURM and munge (missing {', '.join(missing)}): "
            "apt-get install slurmctld slurmd slurm-client munge"
        )
    root = Path(tempfile.mkdtemp(prefix="mi-slurm-"))  # short: the munge socket path is limited
    cluster = LocalSlurm(root)
    previous = os.environ.get("SLURM_CONF")
    try:
        cluster.start()
    except LocalSlurmError as exc:
        if os.geteuid() == 0:
            raise
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"SLURM is installed but its daemons do not start as a non-root user: {exc}")
    cluster.export()
    try:
        yield cluster
    finally:
        cluster.stop()
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
        shutil.rmtree(root, ignore_errors=True)

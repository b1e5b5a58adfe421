"""Execute every notebook in ``notebooks/`` top to bottom (marker ``notebooks``).

The kernel is this test process's own interpreter (the project's venv): a throw-away
kernelspec pointing at ``sys.executable`` is written to a temporary ``JUPYTER_PATH``, so a
stale user-level ``python3`` kernel (another Python without ``mi``) can never be picked up;
IPython's profile folder and Jupyter's runtime folder are temporary too.
The kernel inherits the test environment: offline, the shared datasets as ``MI_DATA_DIR``, a
private cache, one thread.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Per-cell guard against a hung kernel only; speed is measured by benchmarks/notebook_times.py.
CELL_TIMEOUT_S = 1800
#: Notebooks show how to use ``mi``: besides it only pandas/numpy for tables and, in the Dask
#: notebook, ``dask.distributed`` to start the local cluster the user would otherwise have.
_ALLOWED_IMPORTS = ("mi", "pandas", "numpy", "dask")

pytestmark = pytest.mark.notebooks


def install_kernel(root: Path) -> str:
    """Write a kernelspec for ``sys.executable`` under ``root/kernels``; return its name."""
    name = "mi-test-venv"
    spec_dir = root / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mi (test venv)",
        "language": "python",
        "env": {
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            # the venv's scripts (``mi``) first, as in a shell where the venv is active
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return name


def test_notebooks_are_stripped_and_import_only_mi():
    assert len(NOTEBOOKS) >= 1, f"no notebooks in {NOTEBOOK_DIR}"
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            assert cell.get("outputs", []) == [], f"{path.name}: outputs not stripped"
            assert cell.get("execution_count") is None, f"{path.name}: execution count kept"
            for line in "".join(cell["source"]).splitlines():
                words = line.split()
                if words[:1] in (["import"], ["from"]):
                    module = words[1].split(".")[0]
                    assert module in _ALLOWED_IMPORTS, f"{path.name}: imports {line!r}"


def _param(path: Path) -> object:
    marks = [pytest.mark.dask] if "dask" in path.stem else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("path", [_param(p) for p in NOTEBOOKS])
def test_notebook_executes(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_datasets: Path
):
    pytest.importorskip(
        "ipykernel", reason="ipykernel is needed to run notebooks (extra 'notebooks')"
    )
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # no user profile, startup scripts or runtime files from the home folder
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    kernel = install_kernel(tmp_path / "jupyter")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    # every figure cell produced an image
    images = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert images >= 1, f"{path.name} displayed no figure"
    # notebooks that run a workflow show its progress (tqdm.auto widget, or text without
    # ipywidgets)
    for cell in nb.cells:
        if cell.cell_type != "code" or "run_workflow(" not in cell.source:
            continue
        shown = [
            out
            for out in cell.outputs
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
            or "screen" in out.get("text", "")
        ]
        assert shown, f"{path.name}: no progress shown for {cell.source[:60]!r}"

"""The distribution name is ``mi-workbench`` (``mi`` on PyPI is an unrelated project) everywhere
an install is suggested; the import name and the command stay ``mi``."""

import re
import tomllib
from pathlib import Path

import mi

REPO = Path(__file__).resolve().parent.parent
#: ``pip install mi``, ``pip install 'mi[cluster]'``, ``pip install -U mi`` ... would fetch the
#: unrelated PyPI project.
_WRONG_HINT = re.compile(r"pip install\s+(?:-\S+\s+)*['\"]?mi(?:\[|['\"\s]|$)", re.MULTILINE)


def test_pyproject_name_is_the_free_distribution_name():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == mi.DISTRIBUTION == "mi-workbench"
    assert project["scripts"]["mi"] == "mi.cli:main"


def test_no_install_hint_names_the_other_project():
    files = [REPO / "README.md", REPO / "Makefile"]
    for folder in ("mi", "workflows", "datasets", "featurizers", "docs", "notebooks"):
        files += [
            p
            for p in (REPO / folder).rglob("*")
            if p.is_file() and p.suffix in {".py", ".md", ".toml", ".ipynb", ".txt"}
        ]
    wrong = [
        f"{p.relative_to(REPO)}: {m.group(0)!r}"
        for p in files
        for m in _WRONG_HINT.finditer(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert wrong == []
    assert "pip install 'mi-workbench[cluster]'" in (REPO / "workflows" / "README.md").read_text()

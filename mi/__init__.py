"""mi: a materials-informatics screening workbench.

Find magnet and conductor compositions that keep their performance while using fewer
supply-critical elements (Dy, Tb, Co, Ga, In, Pt-group ...).

The top-level namespace is kept light so that ``import mi`` and ``mi --help`` are fast;
import the submodules you need (``mi.data``, ``mi.features``, ``mi.models`` ...).
"""

from __future__ import annotations

__version__ = "0.1.0"
#: Name of the distribution on PyPI (``pip install mi-workbench``; ``mi`` there is another,
#: unrelated project). The import name and the command stay ``mi``.
DISTRIBUTION = "mi-workbench"

__all__ = ["__version__", "DISTRIBUTION", "show_versions"]


def show_versions() -> dict[str, str]:
    """Print and return the versions of ``mi`` and its main dependencies (for bug reports).

    Returns
    -------
    dict of str to str
        Package name to installed version (``"not installed"`` where missing).

    Examples
    --------
    >>> versions = show_versions()  # doctest: +SKIP
    """
    from importlib.metadata import PackageNotFoundError, version

    names = [
        "numpy",
        "scipy",
        "pandas",
        "pyarrow",
        "pymatgen",
        "matminer",
        "scikit-learn",
        "xgboost-cpu",
        "xgboost",
        "ase",
        "dask",
        "distributed",
        "pydantic",
        "typer",
    ]
    out: dict[str, str] = {"mi": __version__}  # the code imported, whatever is installed
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    import platform

    out["python"] = platform.python_version()
    for key, value in out.items():
        print(f"{key:>14}: {value}")
    return out

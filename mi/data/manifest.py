"""Dataset manifests: one ``datasets/<name>.toml`` per dataset, validated by pydantic.

A manifest says where the data comes from (files pinned to a commit with their sha256, or a
network source), how to read it (``[table]``, ``[[targets]]``, ``[[flags]]``), and how to cite
it. Example (abridged)::

    name = "supercon"
    kind = "files"
    folder = "supercon_stanev2018"
    licence = "..."
    citation = "..."

    [[files]]
    name = "Supercon_data.csv"
    repo = "vstanev1/Supercon"
    commit = "6e56e577b2239ebb6bebdcaeefc9ba470a3d5ce5"
    path = "Supercon_data.csv"
    sha256 = "b34a955c..."

    [table]
    composition_col = "name"

    [[targets]]
    name = "Tc"
    unit = "K"
    missing_value = 0.0
    reported_flag = "tc_reported"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from mi._paths import check_name
from mi._spec import StrictSpec, spec_error
from mi._toml import load_toml
from mi.data.spec import TableSpec
from mi.exceptions import SpecError

__all__ = [
    "Manifest",
    "FileSpec",
    "MatminerSource",
    "MaterialsProjectSource",
    "OptimadeSource",
    "read_manifest",
]


class _Strict(StrictSpec):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    """One data file: its name in the dataset folder, pinned source and checksum."""

    name: str = Field(description="File name inside the dataset folder.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file's bytes.")
    repo: str | None = Field(default=None, description="GitHub 'owner/repo' of the source.")
    commit: str | None = Field(default=None, description="Commit the file is pinned to.")
    path: str | None = Field(default=None, description="Path of the file in the repository.")
    url: str | None = Field(default=None, description="Download URL (default: from repo).")
    rows: int | None = Field(default=None, description="Data rows, for the listing.")
    split: str | None = Field(default=None, description="Value of the 'split' column.")
    format: str | None = Field(default=None, description="Table format; default from suffix.")
    read_options: dict[str, Any] = Field(default_factory=dict, description="pandas options.")

    @property
    def download_url(self) -> str:
        """Canonical URL: ``url``, else raw.githubusercontent.com/<repo>/<commit>/<path>."""
        if self.url:
            return self.url
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"

    @field_validator("name")
    @classmethod
    def _safe_file_name(cls, v: str) -> str:
        return check_name(v, "file name")  # a file name inside the dataset folder

    @model_validator(mode="after")
    def _has_source(self) -> FileSpec:
        if not self.url and not (self.repo and self.commit and self.path):
            raise ValueError(f"file {self.name!r}: give url, or repo + commit + path")
        return self


class MatminerSource(_Strict):
    """Delegate to ``matminer.datasets.load_dataset`` (matminer checks its own sha256)."""

    dataset: str
    version: str = Field(default="0.10.1", description="matminer version the entry was made for.")


class MaterialsProjectSource(_Strict):
    """A Materials Project query through ``mp-api`` (key from the environment)."""

    endpoint: Literal["summary"] = "summary"
    fields: tuple[str, ...]
    criteria: dict[str, Any] = Field(default_factory=dict)
    api_key_env: str = "MP_API_KEY"
    database_version: str | None = Field(default=None, description="MP release recorded in meta.")


class OptimadeSource(_Strict):
    """An OPTIMADE provider's ``/v1/structures`` endpoint queried with a filter."""

    base_url: str
    filter: str
    response_fields: tuple[str, ...] = ("chemical_formula_reduced", "nelements")
    page_limit: int = 100
    max_results: int = 500
    structures: bool = Field(default=False, description="Also build pymatgen Structures.")


class Manifest(_Strict):
    """A validated dataset manifest."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    description: str = ""
    kind: Literal["files", "matminer", "materials_project", "optimade"]
    folder: str | None = Field(default=None, description="Folder name in the data/cache dir.")
    homepage: str = ""
    licence: str
    citation: str
    notes: tuple[str, ...] = ()
    files: tuple[FileSpec, ...] = ()
    table: TableSpec
    matminer: MatminerSource | None = None
    materials_project: MaterialsProjectSource | None = None
    optimade: OptimadeSource | None = None
    path: str = Field(default="", description="Manifest file (filled in when read).")

    @field_validator("folder")
    @classmethod
    def _safe_folder(cls, v: str | None) -> str | None:
        return None if v is None else check_name(v, "folder name")  # a folder in the data/cache dir

    @model_validator(mode="after")
    def _kind_section(self) -> Manifest:
        if self.kind == "files":
            if not self.files or not self.folder:
                raise ValueError("kind 'files' needs folder and at least one [[files]] entry")
        elif getattr(self, self.kind) is None:
            raise ValueError(f"kind {self.kind!r} needs a [{self.kind}] section")
        return self

    @property
    def source(self) -> str:
        """One line naming the canonical source."""
        if self.kind == "files":
            return " ; ".join(f.download_url for f in self.files)
        if self.kind == "matminer" and self.matminer:
            return f"matminer {self.matminer.version} load_dataset({self.matminer.dataset!r})"
        if self.kind == "materials_project" and self.materials_project:
            return f"Materials Project API ({self.materials_project.endpoint}) via mp-api"
        if self.optimade:
            return f"OPTIMADE {self.optimade.base_url} filter={self.optimade.filter!r}"
        return ""  # pragma: no cover - the validator makes this unreachable


def read_manifest(path: str | Path) -> Manifest:
    """Read and validate one manifest file.

    Parameters
    ----------
    path : str or Path
        A ``*.toml`` manifest.

    Returns
    -------
    Manifest

    Raises
    ------
    SpecError
        Naming the file and the invalid field.
    """
    path = Path(path)
    try:
        raw = load_toml(path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read dataset manifest {path}: {exc}") from exc
    table = dict(raw.pop("table", {}))
    table["targets"] = raw.pop("targets", [])
    table["flags"] = raw.pop("flags", [])
    raw["table"] = table
    raw["path"] = str(path)
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise spec_error(exc, root=Manifest, what="dataset manifest", source=str(path)) from None

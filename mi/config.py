"""Settings of ``mi``: where data lives, how many cores to use, which Dask scheduler.

Settings come from environment variables with the prefix ``MI_`` (``MI_DATA_DIR``,
``MI_CACHE_DIR``, ``MI_N_JOBS``, ``MI_DASK_ADDRESS`` ...), then from an optional TOML file
named by ``MI_CONFIG`` (default ``<user config dir>/mi/config.toml``), then defaults.

The CPU budget is read from the container's cgroup quota (``cpu.max``), the CPU affinity
mask and ``os.cpu_count()``, whichever is smallest: oversubscribing a 2-core container made
xgboost six times slower in our measurements.
"""

from __future__ import annotations

import math
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mi._toml import load_toml
from mi.exceptions import ConfigError

__all__ = [
    "Settings",
    "get_settings",
    "cpu_quota",
    "resolve_n_jobs",
    "builtin_dir",
    "default_data_dir",
    "definition_dirs",
    "REPO_ROOT",
]

#: Root of the source checkout (``mi/`` sits directly below it).
REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path | None:
    """Default dataset mirror: ``../shared/datasets`` next to a source checkout, if present.

    A checkout is recognised by ``pyproject.toml`` beside the ``mi`` package; an installed
    wheel has no default mirror (datasets are then downloaded into ``cache_dir`` and read from
    there, or found in the folder named by ``MI_DATA_DIR``).

    Returns
    -------
    Path or None
        The folder, or None when there is none.
    """
    candidate = REPO_ROOT.parent / "shared" / "datasets"
    if (REPO_ROOT / "pyproject.toml").is_file() and candidate.is_dir():
        return candidate
    return None


def _config_file() -> Path:
    explicit = os.environ.get("MI_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir("mi")) / "config.toml"


class Settings(BaseSettings):
    """All user-facing settings; each field can be set as ``MI_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MI_", extra="forbid", validate_default=True)

    data_dir: Path | None = Field(
        default_factory=lambda: default_data_dir(),
        description=(
            "Folder holding dataset files laid out as <dataset folder>/<file>. Read first; "
            "downloads are written to cache_dir. A read-only mirror is fine. Default: "
            "../shared/datasets next to a source checkout when it exists; empty: none."
        ),
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("mi")),
        description="Writable folder for downloaded datasets and the feature cache.",
    )
    n_jobs: int | None = Field(
        default=None,
        description="Cores to use; default: the container's CPU quota. Negative counts back.",
    )
    dask_address: str | None = Field(
        default=None, description="Address of a running Dask scheduler, e.g. tcp://host:8786."
    )
    offline: bool = Field(default=False, description="Never touch the network when true.")
    search_path: list[Path] = Field(
        default_factory=list,
        description=(
            "Extra folders searched for datasets/, featurizers/ and workflows/ definitions "
            "before the built-in ones (a user's own manifests and presets)."
        ),
    )

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_means_none(cls, value: Any) -> Any:
        """``MI_DATA_DIR=""`` switches the mirror off (also the default one)."""
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order: explicit arguments, environment, config file, defaults."""
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``config.toml`` (keys as the field names)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file()
        if not path.is_file():
            return {}
        try:
            return load_toml(path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read config file {path}: {exc}. Fix or remove it.") from exc


@lru_cache(maxsize=1)
def _cached_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(f"Invalid mi setting: {exc.errors()[0]['loc']}: {exc}") from exc


def get_settings(refresh: bool = False) -> Settings:
    """Return the current settings (cached; ``refresh=True`` re-reads env and file).

    Parameters
    ----------
    refresh : bool, default False
        Re-read the environment and config file.

    Returns
    -------
    Settings
    """
    if refresh:
        _cached_settings.cache_clear()
    return _cached_settings()


def cpu_quota() -> int:
    """Return the number of CPUs this process may really use (cgroup quota, affinity, count).

    Returns
    -------
    int
        At least 1.
    """
    candidates = [os.cpu_count() or 1]
    try:
        candidates.append(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        pass
    for path in ("/sys/fs/cgroup/cpu.max",):
        try:
            quota, period = Path(path).read_text().split()[:2]
            if quota != "max":
                candidates.append(max(1, math.floor(int(quota) / int(period))))
        except (OSError, ValueError):
            pass
    try:  # cgroup v1
        q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        p = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if q > 0 and p > 0:
            candidates.append(max(1, math.floor(q / p)))
    except (OSError, ValueError):
        pass
    return max(1, min(candidates))


def resolve_n_jobs(n_jobs: int | None = None) -> int:
    """Turn an ``n_jobs`` argument into a positive core count within the CPU quota.

    Parameters
    ----------
    n_jobs : int or None
        ``None``: the ``MI_N_JOBS`` setting, else the CPU quota. Positive: that many, capped at
        the quota. Negative: counts back from the quota (-1 = all).

    Returns
    -------
    int
        A count between 1 and :func:`cpu_quota`.
    """
    quota = cpu_quota()
    if n_jobs is None:
        n_jobs = get_settings().n_jobs
    if n_jobs is None:
        return quota
    if n_jobs == 0:
        raise ConfigError("n_jobs=0 is not allowed. Use a positive count, or -1 for all cores.")
    if n_jobs < 0:
        return max(1, quota + 1 + n_jobs)
    return min(n_jobs, quota)


def builtin_dir(kind: str) -> Path:
    """Folder of the built-in declarative definitions of one kind.

    Parameters
    ----------
    kind : {"datasets", "featurizers", "workflows"}
        Which folder.

    Returns
    -------
    Path
        ``mi/_data/<kind>``: the top-level ``<kind>/`` folder of a checkout (linked), or the copy
        shipped inside the wheel.
    """
    if kind not in {"datasets", "featurizers", "workflows"}:
        raise ConfigError(
            f"Unknown definition folder {kind!r}; use datasets, featurizers or workflows."
        )
    # mi/_data/<kind> is a symlink to the top-level <kind>/ folder in a checkout, and a real
    # folder inside a built wheel (setuptools copies the linked files).
    return Path(__file__).resolve().parent / "_data" / kind


def definition_dirs(kind: str) -> list[Path]:
    """User folders (``search_path``) first, then the built-in folder, for one kind.

    Parameters
    ----------
    kind : {"datasets", "featurizers", "workflows"}
        Which definitions.

    Returns
    -------
    list of Path
        Existing folders in search order.
    """
    dirs = [Path(p) / kind for p in get_settings().search_path]
    dirs.append(builtin_dir(kind))
    return [d for d in dirs if d.is_dir()]

"""Featurizer presets: named lists of matminer featurizers read from ``featurizers/*.toml``.

A preset file looks like::

    name = "magnet"
    version = 1
    kind = "composition"            # or "structure"
    description = "..."
    include = ["magpie"]            # optional: featurizers of other presets first

    [[featurizer]]
    class = "ElementProperty"       # a matminer featurizer (or mi.features.extra) class name
    preset = "magpie"               # optional: build with Class.from_preset(preset, **params)
    params = { impute_nan = true }  # keyword arguments

User folders from the ``search_path`` setting are searched before the built-in folder, so a
user preset with a built-in name overrides it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mi._toml import load_toml
from mi.exceptions import RegistryKeyError, SpecError, did_you_mean

__all__ = [
    "FeaturizerSpec",
    "Preset",
    "get_preset",
    "list_presets",
    "built_featurizers",
    "FEATURIZER_MODULES",
    "ALLOWED_PACKAGES",
    "check_class_name",
]

#: Modules searched, in order, for a featurizer class named in a preset.
FEATURIZER_MODULES = (
    "matminer.featurizers.composition",
    "mi.features.extra",
    "matminer.featurizers.structure",  # last: importing it takes seconds
)

_KINDS = ("composition", "structure")

#: Packages a dotted featurizer class name may come from.
ALLOWED_PACKAGES = ("matminer.featurizers", "mi.features")

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def check_class_name(name: object) -> str:
    """Check the shape of a preset's ``class`` value against the allow-list (imports nothing).

    Parameters
    ----------
    name : object
        ``"ElementProperty"`` or ``"matminer.featurizers.composition.ElementProperty"``.

    Returns
    -------
    str

    Raises
    ------
    SpecError
        Not a class name, or a dotted path outside :data:`ALLOWED_PACKAGES`.

    Examples
    --------
    >>> check_class_name("ElementProperty")
    'ElementProperty'
    """
    if not isinstance(name, str) or _DOTTED.fullmatch(name) is None:
        raise SpecError(f"Featurizer class {name!r} is not a class name.")
    module, _, leaf = name.rpartition(".")
    if module and not any(module == p or module.startswith(p + ".") for p in ALLOWED_PACKAGES):
        raise SpecError(
            f"Featurizer class {name!r} is not allowed: a preset may only name featurizer "
            f"classes from {' or '.join(p + '.*' for p in ALLOWED_PACKAGES)}."
        )
    if not leaf[:1].isupper() or any(not part.islower() for part in module.split(".") if part):
        # featurizer classes are CapWords in lower-case modules: 'pkg.module.os.system' is not
        raise SpecError(
            f"Featurizer class {name!r} is not allowed: not a featurizer class name "
            "(a CapWords class in a matminer.featurizers or mi.features module)."
        )
    return name


@dataclass(frozen=True)
class FeaturizerSpec:
    """One featurizer of a preset: class name, optional matminer preset, keyword arguments.

    Attributes
    ----------
    cls : str
        Class name (``"ElementProperty"``) or dotted path (``"pkg.module.Class"``).
    preset : str or None
        When given, the featurizer is built with ``Class.from_preset(preset, **params)``.
    params : dict
        Keyword arguments (lists become tuples where matminer expects them).
    """

    cls: str
    preset: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def resolve_class(self) -> Any:
        """Return the featurizer class, from the allow-list only.

        A bare name is looked up in :data:`FEATURIZER_MODULES`; a dotted name must live in a
        ``matminer.featurizers.*`` or ``mi.features.*`` module. Either way the object must be
        a subclass of matminer's ``BaseFeaturizer``: a preset is data and can never name
        arbitrary code (``os.system`` is refused before anything is called).

        Raises
        ------
        SpecError
            The name is not an allowed featurizer class.
        """
        check_class_name(self.cls)
        modules: tuple[str, ...]
        if "." in self.cls:
            module_name, _, name = self.cls.rpartition(".")
            modules = (module_name,)
        else:
            name, modules = self.cls, FEATURIZER_MODULES
        from matminer.featurizers.base import BaseFeaturizer

        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            obj = getattr(module, name, None)
            if isinstance(obj, type) and issubclass(obj, BaseFeaturizer):
                return obj
        raise SpecError(
            f"Featurizer class {self.cls!r} is not a featurizer class in "
            f"{', '.join(modules)}. Use a class name from matminer.featurizers.composition / "
            ".structure or mi.features.extra."
        )

    def build(self) -> Any:
        """Instantiate the featurizer (single-process: ``set_n_jobs(1)``)."""
        klass = self.resolve_class()
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in self.params.items()}
        if params.get("features") is not None:
            params["features"] = list(params["features"])
        if params.get("stats") is not None:
            params["stats"] = list(params["stats"])
        try:
            if self.preset is not None:
                featurizer = klass.from_preset(self.preset, **params)
            else:
                featurizer = klass(**params)
        except (TypeError, ValueError) as exc:
            raise SpecError(
                f"Cannot build featurizer {self.cls}(preset={self.preset!r}, params="
                f"{self.params!r}): {exc}. Check the parameter names against the class."
            ) from exc
        if hasattr(featurizer, "set_n_jobs"):
            featurizer.set_n_jobs(1)  # matminer's pool is slower than one process here
        return featurizer

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form (for hashing and display)."""
        return {"class": self.cls, "preset": self.preset, "params": self.params}


@dataclass(frozen=True)
class Preset:
    """A named, versioned list of featurizers.

    Attributes
    ----------
    name, description, citation : str
    version : int
        Bump when the preset's featurizers change (part of the feature-cache key).
    kind : {"composition", "structure"}
        What the featurizers take as input.
    featurizers : tuple of FeaturizerSpec
        Included presets' featurizers first, then this file's own.
    source : Path or None
        The TOML file.
    """

    name: str
    version: int
    kind: str
    description: str
    featurizers: tuple[FeaturizerSpec, ...]
    citation: str = ""
    source: Path | None = None

    def build(self) -> list[Any]:
        """Instantiate every featurizer (imports matminer)."""
        built = []
        for i, spec in enumerate(self.featurizers):
            try:
                built.append(spec.build())
            except SpecError as exc:
                where = self.source or f"preset {self.name!r}"
                raise SpecError(f"{where}: featurizer #{i + 1}: {exc}") from None
        return built

    def feature_labels(self) -> list[str]:
        """Column names, exactly matminer's, in output order."""
        return _labels(self)

    @property
    def n_features(self) -> int:
        """Number of output columns."""
        return len(self.feature_labels())

    def fingerprint(self) -> str:
        """sha256 of the preset content and the mi / matminer versions (feature-cache key)."""
        import mi

        payload = {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "featurizers": [s.as_dict() for s in self.featurizers],
            "mi": mi.__version__,
            "matminer": _matminer_version(),
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _matminer_version() -> str:
    from importlib.metadata import version

    return version("matminer")


_BUILD_LOCK = threading.Lock()
_BUILT: dict[str, list[Any]] = {}


def built_featurizers(preset: Preset) -> list[Any]:
    """Return the preset's matminer featurizers, built once per process.

    Building is cached because ``MagpieData`` reads about 60 files each time.

    Parameters
    ----------
    preset : Preset

    Returns
    -------
    list
        Featurizer objects; treat them as read-only.
    """
    key = preset.fingerprint()
    with _BUILD_LOCK:
        if key not in _BUILT:
            _BUILT[key] = preset.build()
        return _BUILT[key]


def _labels(preset: Preset) -> list[str]:
    labels = [lab for f in built_featurizers(preset) for lab in f.feature_labels()]
    seen: set[str] = set()
    dupes = [lab for lab in labels if lab in seen or seen.add(lab)]  # type: ignore[func-returns-value]
    if dupes:
        raise SpecError(
            f"Preset {preset.name!r} ({preset.source}) produces duplicate columns {dupes[:5]}; "
            "remove the repeated featurizer or change its stats/features."
        )
    return labels


def _preset_files() -> dict[str, Path]:
    from mi.config import definition_dirs

    found: dict[str, Path] = {}
    for folder in definition_dirs("featurizers"):
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)  # earlier folders win
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        return load_toml(path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read preset file {path}: {exc}. Fix the TOML syntax.") from exc


def _load(name: str, files: dict[str, Path], stack: tuple[str, ...] = ()) -> Preset:
    if name in stack:
        raise SpecError(f"Preset include cycle: {' -> '.join((*stack, name))}.")
    if name not in files:
        raise RegistryKeyError("preset", name, files)
    path = files[name]
    raw = _read(path)
    allowed = {"name", "version", "kind", "description", "citation", "include", "featurizer"}
    unknown = set(raw) - allowed
    if unknown:
        hint = did_you_mean(sorted(unknown)[0], sorted(allowed))
        raise SpecError(
            f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}.{hint}"
        )
    if raw.get("name", path.stem) != path.stem:
        raise SpecError(f"{path}: name {raw['name']!r} must equal the file name {path.stem!r}.")
    kind = raw.get("kind", "composition")
    if kind not in _KINDS:
        raise SpecError(
            f"{path}: kind must be one of {_KINDS}, got {kind!r}.{did_you_mean(kind, _KINDS)}"
        )
    specs: list[FeaturizerSpec] = []
    for inc in raw.get("include", []):
        parent = _load(inc, files, (*stack, name))
        if parent.kind != kind:
            raise SpecError(f"{path}: cannot include {inc!r} of kind {parent.kind!r}.")
        specs.extend(parent.featurizers)
    for i, item in enumerate(raw.get("featurizer", [])):
        extra = set(item) - {"class", "preset", "params"}
        if "class" not in item or extra:
            raise SpecError(
                f"{path}: featurizer #{i + 1} needs 'class' and may have 'preset', 'params'; "
                f"got keys {sorted(item)}."
            )
        try:
            check_class_name(item["class"])
        except SpecError as exc:
            raise SpecError(f"{path}: featurizer #{i + 1}: {exc}") from None
        params = item.get("params", {})
        if not isinstance(params, dict):
            raise SpecError(f"{path}: featurizer #{i + 1}: params must be a table.")
        specs.append(FeaturizerSpec(item["class"], item.get("preset"), dict(params)))
    if not specs:
        raise SpecError(f"{path}: a preset needs at least one [[featurizer]].")
    version = raw.get("version", 1)
    if not isinstance(version, int):
        raise SpecError(f"{path}: version must be an integer, got {version!r}.")
    return Preset(
        name=path.stem,
        version=version,
        kind=kind,
        description=raw.get("description", ""),
        citation=raw.get("citation", ""),
        featurizers=tuple(specs),
        source=path,
    )


def get_preset(name: str | Preset) -> Preset:
    """Look up a preset by name.

    Parameters
    ----------
    name : str or Preset
        Preset name (file stem in a ``featurizers/`` folder); a Preset is returned as is.

    Returns
    -------
    Preset

    Raises
    ------
    RegistryKeyError
        Unknown name; the message lists the presets and the closest match.

    Examples
    --------
    >>> get_preset("magpie").featurizers[0].cls
    'ElementProperty'
    """
    if isinstance(name, Preset):
        return name
    return _load(name, _preset_files())


def list_presets() -> Any:
    """Table of the available presets.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, version, featurizers, description, source``.
    """
    import pandas as pd

    rows = []
    for name, path in _preset_files().items():
        preset = _load(name, _preset_files())
        rows.append(
            {
                "name": name,
                "kind": preset.kind,
                "version": preset.version,
                "featurizers": ", ".join(s.cls for s in preset.featurizers),
                "description": preset.description,
                "source": str(path),
            }
        )
    return pd.DataFrame(
        rows, columns=["name", "kind", "version", "featurizers", "description", "source"]
    )

"""One strict base model and one error formatter for every spec file and manifest.

Workflow files, campaign files and dataset manifests are validated by pydantic models deriving
from :class:`StrictSpec`; a validation failure becomes one :class:`~mi.exceptions.SpecError`
line per file that names the key (``targets[0].presett``), the allowed keys or choices, and the
closest match::

    Invalid workflow wf.toml: unknown key 'targets[0].presett'. Allowed keys here: column,
    dataset, ... Did you mean 'preset'?

Examples
--------
>>> from pydantic import ValidationError
>>> class Model(StrictSpec):
...     preset: str = "magpie"
>>> try:
...     Model.model_validate({"presett": "magpie"})
... except ValidationError as exc:
...     print(spec_error(exc, root=Model, what="preset file", source="p.toml"))
Invalid preset file p.toml: unknown key 'presett'. Allowed keys here: preset. Did you mean 'preset'?
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mi.exceptions import SpecError, did_you_mean

__all__ = ["StrictSpec", "spec_error", "choice_message"]


class StrictSpec(BaseModel):
    """Base of every spec model: unknown keys are errors, defaults are validated too."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def choice_message(key: str, value: Any, choices: Iterable[Any], what: str = "") -> str:
    """Return the one-line message for a value that is not one of the choices.

    Parameters
    ----------
    key : str
        Where the value was written (``"targets[0].preset"``).
    value : object
        The value given.
    choices : iterable
        The allowed values (listed in the given order).
    what : str, optional
        What the choices are (``"featurizer preset"``); changes the wording to
        ``... is not a known featurizer preset. Choices: ...``.

    Returns
    -------
    str

    Examples
    --------
    >>> choice_message("acquisition.name", "ie", ["ei", "ucb"])
    "acquisition.name = 'ie' is not one of: ei, ucb. Did you mean 'ei'?"
    >>> choice_message("targets[0].preset", "magpi", ["magpie"], "preset")
    "targets[0].preset = 'magpi' is not a known preset. Choices: magpie. Did you mean 'magpie'?"
    """
    names = [str(c) for c in choices]
    listed = ", ".join(names) or "(none)"
    head = f"is not a known {what}. Choices:" if what else "is not one of:"
    return f"{key} = {value!r} {head} {listed}.{did_you_mean(value, names)}"


def _tagged_members(annotation: Any) -> dict[str, type[BaseModel]]:
    """Tag -> model of the discriminated union(s) inside ``annotation`` (``kind`` literals)."""
    out: dict[str, type[BaseModel]] = {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get("kind")
        if field is not None:
            for tag in typing.get_args(field.annotation):
                out[str(tag)] = annotation
        return out
    for arg in typing.get_args(annotation):
        out.update(_tagged_members(arg))
    return out


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


class _Schema:
    """Walks a root model along an error location."""

    def __init__(self, root: type[BaseModel]) -> None:
        self.root = root

    def walk(self, loc: tuple[Any, ...]) -> tuple[str, Any, dict[str, type[BaseModel]]]:
        """Return the key text of ``loc``, the model it ends in, and the union tags there.

        pydantic puts the tag of a discriminated-union member into the location
        (``constraints.0.max_mass_fraction.limit``); the tag steps into that member and is left
        out of the key text.
        """
        text = ""
        model: Any = self.root
        tags: dict[str, type[BaseModel]] = {}
        for part in loc:
            if isinstance(part, int):
                text += f"[{part}]"
                continue
            if str(part) in tags:
                model, tags = tags[str(part)], {}
                continue
            text += f".{part}" if text else str(part)
            field = None
            if isinstance(model, type) and issubclass(model, BaseModel):
                field = model.model_fields.get(str(part))
            if field is None:
                model, tags = None, {}
                continue
            tags = _tagged_members(field.annotation)
            model = None if tags else _inner_model(field.annotation)
        return text, model, tags

    def owner(self, loc: tuple[Any, ...]) -> type[BaseModel] | None:
        """Return the model that owns the key ``loc[-1]``."""
        _, model, _ = self.walk(loc[:-1])
        return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _format(err: Mapping[str, Any], schema: _Schema) -> str:
    loc = tuple(err.get("loc", ()))
    key, _, tags = schema.walk(loc)
    key = key or "(top level)"
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "extra_forbidden":
        owner = schema.owner(loc)
        allowed = sorted(owner.model_fields) if owner else []
        hint = did_you_mean(str(loc[-1]), allowed)
        return f"unknown key {key!r}. Allowed keys here: {', '.join(allowed)}.{hint}"
    if kind == "missing":
        return f"missing required key {key!r}."
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'\"") for c in expected.replace(" or ", ",").split(",")]
        return choice_message(key, value, [c for c in choices if c])
    if kind == "union_tag_not_found":
        return f"{key} needs a 'kind' key; one of: {', '.join(tags)}."
    if kind == "union_tag_invalid":
        return choice_message(f"{key}.kind", err.get("ctx", {}).get("tag"), list(tags))
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        if not loc or isinstance(value, dict):
            return f"{key}: {msg}." if loc else f"{msg}."
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{key}: {msg} (got {shown})."


def spec_error(exc: ValidationError, *, root: type[BaseModel], what: str, source: str) -> SpecError:
    """Turn a pydantic validation error into one :class:`SpecError` line.

    Parameters
    ----------
    exc : pydantic.ValidationError
    root : type of BaseModel
        The model that was validated (its schema names the allowed keys).
    what : str
        What was read, e.g. ``"workflow"``, ``"campaign spec"``, ``"dataset manifest"``.
    source : str
        Where it came from (a path, or ``<dict>``).

    Returns
    -------
    SpecError
        ``Invalid <what> <source>: <first problem> (+N more: ...)``, on one line.
    """
    schema = _Schema(root)
    lines = [_format(e, schema) for e in exc.errors()]
    head = f"Invalid {what} {source}: {lines[0]}"
    if len(lines) > 1:
        head += f" (+{len(lines) - 1} more: " + " | ".join(lines[1:]) + ")"
    return SpecError(" ".join(head.split("\n")))

"""Reading user files: safe YAML/JSON loading and error messages that name file, field and value.

Library code raises :class:`InputError`; only the CLI turns it into a message and exit code 2.
YAML is read with a safe loader (no tags that construct Python objects) that also refuses
duplicate keys, which PyYAML would otherwise silently resolve to the last one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["InputError", "load_mapping", "validate_model"]

Model = TypeVar("Model", bound=BaseModel)


class InputError(ValueError):
    """Bad input: a user file that is unreadable or invalid, or a bad argument. ``str()`` is the
    complete message for the user.

    ``field`` names the argument the message is about, when it is one (``"out"``), so that a
    front end can name it its own way (the command line says ``--out``); ``detail`` is the message
    without it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reports impossible dates with their line."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({error})", node.start_mark
            ) from None


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Keys written twice in the same mapping are errors; keys brought in by a merge key (<<) may
    # be overridden by the mapping's own keys, as YAML intends.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return {
        loader.construct_object(key_node): loader.construct_object(value_node)
        for key_node, value_node in node.value
    }


_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
_StrictSafeLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _StrictSafeLoader.construct_yaml_timestamp
)


def _yaml_message(path: Path, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    if "could not determine a constructor for the tag" in problem:
        problem = (
            problem.replace("could not determine a constructor for the tag", "YAML tag")
            + " is not allowed (files are read with safe loading; tags are never executed)"
        )
    return f"{path}: {where}malformed YAML: {problem}"


def load_mapping(path: str | Path) -> tuple[dict[str, Any], bool]:
    """Read a YAML or JSON file whose top level is a mapping.

    Returns
    -------
    (data, is_json) : the mapping and whether it came from JSON (``.json`` suffix).

    Raises
    ------
    InputError
        Missing or unreadable file, malformed YAML/JSON, a YAML tag, a duplicate key, or a top level
        that is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read: {error}") from None
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else yaml.load(text, Loader=_StrictSafeLoader)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: line {error.lineno}, column {error.colno}: malformed JSON: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        raise InputError(_yaml_message(path, error)) from None
    if data is None:
        raise InputError(f"{path}: the file is empty; expected a mapping of keys to values")
    if not isinstance(data, Mapping):
        raise InputError(
            f"{path}: the file must hold a mapping of keys to values, found {type(data).__name__}"
        )
    return dict(data), is_json


# What to tell the user is allowed, by pydantic error type (the message already says the rest).
_ALLOWED_BY_ERROR = {
    "bool_type": "allowed: true or false",
    "int_type": "allowed: a whole number",
    "float_type": "allowed: a number",
    "string_type": "allowed: text",
    "list_type": "allowed: a list",
    "model_type": "allowed: a mapping of keys to values",
    "date_type": "allowed: a date such as 1995-08-01",
    "date_from_datetime_parsing": "allowed: a date such as 1995-08-01",
    "date_parsing": "allowed: a date such as 1995-08-01",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """Valid keys of the model at ``loc`` (the parent of an unknown key)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return ""
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            models = [
                c for c in (candidate, *inner) if isinstance(c, type) and issubclass(c, BaseModel)
            ]
            if models:
                current = models[0]
                break
        else:
            return ""
    return ", ".join(current.model_fields)


def validate_model(
    model: type[Model], data: Mapping[str, Any], path: str | Path, *, json_mode: bool = False
) -> Model:
    """Validate ``data`` against ``model``; on failure raise :class:`InputError` naming each field.

    Models are expected to be strict (``ConfigDict(strict=True)``): ``"3"`` is not a number.

    Each problem is one line: ``FILE: FIELD: VALUE: what is wrong / what is allowed``.
    """
    try:
        if json_mode:
            return model.model_validate_json(json.dumps(data))
        return model.model_validate(data)
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False):
            loc = tuple(problem["loc"])
            field = _field_path(loc)
            kind = problem["type"]
            if kind == "extra_forbidden":
                allowed = _allowed_keys(model, loc)
                lines.append(f"{path}: {field}: unknown key; allowed keys: {allowed}")
            elif kind == "missing":
                lines.append(f"{path}: {field}: required key is missing")
            else:
                message = problem["msg"].removeprefix("Value error, ")
                allowed = _ALLOWED_BY_ERROR.get(kind)
                message += f"; {allowed}" if allowed else ""
                lines.append(f"{path}: {field}: {problem['input']!r}: {message}")
        raise InputError("\n".join(lines)) from None

"""Reading user files: safe YAML/JSON loading and error messages that name file, field and value.

Library code raises :class:`InputError`; only the CLI turns it into a message and exit code 2.
A user file is read only when it is a regular file of at most :data:`MAX_FILE_BYTES` (never a
FIFO, a device or a folder). YAML is read with a safe loader (no tags that construct Python
objects) that also refuses duplicate keys (PyYAML would keep the last one), nesting deeper than
:data:`MAX_DEPTH`, aliases that would expand to more than :data:`MAX_NODES` values, and integers
longer than :data:`MAX_INTEGER_DIGITS` digits; JSON refuses the same.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INTEGER_DIGITS",
    "MAX_NODES",
    "Date",
    "InputError",
    "load_mapping",
    "problems_error",
    "read_user_file",
    "validate_model",
]

#: A scenario or case file is small; a larger one is refused unread.
MAX_FILE_BYTES = 1 << 20
#: Mappings and lists nested deeper than this are refused.
MAX_DEPTH = 50
#: Values a file may hold once every alias is expanded (an "alias bomb" holds billions).
MAX_NODES = 200_000
#: Digits an integer may be written with.
MAX_INTEGER_DIGITS = 30


def _date(value: object) -> object:
    """A date, or text written as one (JSON has no dates); never a number (``0`` is not
    1970-01-01) nor a date with a time."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise ValueError("allowed: a date such as 1995-08-01")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("allowed: a date such as 1995-08-01") from None
    return value


#: A calendar date in a user file.
Date = Annotated[dt.date, BeforeValidator(_date)]


def problems_error(
    title: str,
    problems: list[tuple[tuple[str | int, ...], Any, str]],
    errors: list[dict[str, Any]] | None = None,
) -> ValidationError:
    """One ValidationError holding pydantic's own ``errors`` and cross-field ``problems``
    (``(location, value, message)``), so that a file's problems are all reported at once, each
    at its field (:func:`validate_model` turns it into lines)."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError(e["type"], e["msg"].replace("{", "{{").replace("}", "}}")),
            loc=e["loc"],
            input=e.get("input"),
        )
        for e in errors or []
    ]
    details += [
        InitErrorDetails(
            type=PydanticCustomError("consistency", "{message}", {"message": message}),
            loc=loc,
            input=value,
        )
        for loc, value, message in problems
    ]
    return ValidationError.from_exception_data(title, details)


Model = TypeVar("Model", bound=BaseModel)


class InputError(ValueError):
    """Bad input: a user file that is unreadable or invalid, or a bad argument. ``str()`` is the
    complete message for the user.

    ``field`` names the argument the message is about, when it is one (``"out"``), so that a
    front end can name it its own way (the command line says ``--out``); ``detail`` is the message
    without it. An error about several arguments lists them in ``problems`` as
    ``(field, detail)`` pairs, one line each.
    """

    def __init__(
        self,
        message: str,
        field: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        if problems:
            message = "\n".join(f"{name}: {detail}" for name, detail in problems)
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message
        self.problems = problems or ([(field, message)] if field else [])


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, deep nesting, alias bombs and huge integers, and
    reports impossible dates with their line."""

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in node.value)
        if digits > MAX_INTEGER_DIGITS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"an integer of {digits} digits; allowed: at most {MAX_INTEGER_DIGITS}",
                node.start_mark,
            )
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({error})", node.start_mark
            ) from None


def _check_expansion(root: yaml.Node | None) -> None:
    """Refuse documents nested deeper than MAX_DEPTH or expanding to more than MAX_NODES values.

    Aliases share one composed node, so the expanded size is counted over the node graph with
    memoisation: an alias bomb is refused in time linear in its text.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", node.start_mark
            )
        known = sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item, depth + 1) for item in node.value)
        else:
            total = 1
        if total > MAX_NODES:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the document expands to more than {MAX_NODES:,} values (aliases included)",
                node.start_mark,
            )
        sizes[id(node)] = total
        return total

    if root is not None:
        size(root, 0)


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Keys written twice in the same mapping are errors; keys brought in by a merge key (<<) may
    # be overridden by the mapping's own keys, as YAML intends.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool | dt.date) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key that is a list or a mapping; allowed: text", key_node.start_mark
            )
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
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:int", _StrictSafeLoader.construct_yaml_int)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key written twice (json keeps the last one)."""
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ValueError(f"duplicate key {key!r}")
        mapping[key] = value
    return mapping


def _json_int(text: str) -> int:
    if sum(c.isdigit() for c in text) > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits; allowed: at most {MAX_INTEGER_DIGITS}")
    return int(text)


def _json_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        _json_depth(child, depth + 1)


def read_user_file(path: Path) -> str:
    """The text of a user file: a regular file (not a FIFO, device or folder, after following
    symbolic links) of at most MAX_FILE_BYTES bytes, in UTF-8.

    Raises
    ------
    InputError
        Naming the file and what is wrong.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:  # a loop of symbolic links, a permission problem
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file; allowed: a YAML or JSON file")
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(
            f"{path}: {info.st_size:,} bytes; allowed: at most {MAX_FILE_BYTES:,} (a scenario or "
            "case file)"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; allowed: at most that")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start}); allowed: UTF-8") from None


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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_document(data: bytes | str, where: str | Path, *, is_json: bool) -> Any:
    """Parse a YAML or JSON document strictly: UTF-8; safe YAML tags only; no duplicate keys, no
    key that is a list or mapping; at most :data:`MAX_DEPTH` levels, :data:`MAX_NODES` values
    with aliases expanded and :data:`MAX_INTEGER_DIGITS` digits; in JSON no NaN or Infinity.

    Parameters
    ----------
    data : bytes or str
        The document.
    where : str or pathlib.Path
        What messages name (a file).
    is_json : bool

    Raises
    ------
    InputError
        Naming ``where``, the line where known, and what is wrong.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"not UTF-8 text (byte {error.start}); allowed: UTF-8"
            raise InputError(f"{where}: {message}") from None
    try:
        if is_json:
            parsed = json.loads(
                data,
                object_pairs_hook=_json_object,
                parse_int=_json_int,
                parse_constant=_no_constant,
            )
            _json_depth(parsed)
            return parsed
        return yaml.load(data, Loader=_StrictSafeLoader)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{where}: line {error.lineno}, column {error.colno}: malformed JSON: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        raise InputError(_yaml_message(Path(where), error)) from None
    except RecursionError:  # the parsers recurse once per level: deeper than Python allows
        kind = "JSON" if is_json else "YAML"
        message = f"nested too deeply; allowed: at most {MAX_DEPTH} levels"
        raise InputError(f"{where}: malformed {kind}: {message}") from None
    except ValueError as error:  # JSON: a duplicate key, depth, digits, NaN
        raise InputError(f"{where}: malformed JSON: {printable(error)}") from None


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
    is_json = path.suffix.lower() == ".json"
    data = parse_document(read_user_file(path), path, is_json=is_json)
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


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds (directly, in a list, in a dict's values or in a union), and
    whether it is held in a dict (whose keys then appear in error locations)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = getattr(annotation, "__origin__", None)
    for argument in getattr(annotation, "__args__", ()):
        model, _ = _inner_model(argument)
        if model is not None:
            return model, origin is dict
    return None, False


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc``'s end (None when ``loc`` leaves the models)."""
    current: Any = model
    skip_key = False
    for part in (part for part in loc if not isinstance(part, int)):
        if skip_key:  # a dict's key (a district code, a profile name)
            skip_key = False
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        current, skip_key = _inner_model(field.annotation)
        if current is None:
            return None
    return current


#: Keys a message lists before it says how many more there are.
_LISTED = 8


def _listed(names: list[str], more: str = "") -> str:
    """``a, b, c`` or, past :data:`_LISTED` names, ``a, b, … and 67 more`` (+ ``more``)."""
    if len(names) <= _LISTED:
        return ", ".join(names)
    return f"{', '.join(names[:_LISTED])}, … and {len(names) - _LISTED} more{more}"


def _unknown_key(model: type[BaseModel], loc: tuple[int | str, ...], every_key: str) -> str:
    """What to say of an unknown key: the close matches first, then the allowed keys."""
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return "unknown key"
    allowed = list(parent.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=3, cutoff=0.7)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return f"unknown key; {hint}allowed keys: {_listed(allowed, every_key)}"


def _mapping_hint(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """``allowed: a mapping with keys value, unit, source, assumption`` for the model at ``loc``."""
    expected = _model_at(model, loc)
    if expected is None:
        return "allowed: a mapping of keys to values"
    return f"allowed: a mapping with keys {_listed(list(expected.model_fields))}"


#: Longest value a message repeats (a long value is cut, a mapping or list never echoed whole).
_SHOWN = 80


def _shown(value: Any) -> str | None:
    """The value as a message shows it: a scalar's repr, cut to 80 characters; None for a mapping
    or a list (the field names it; its content may be large or someone else's)."""
    if isinstance(value, Mapping | list | tuple | set):
        return None
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


#: C0 and C1 controls, DEL, and the invisible characters that reorder or split text (bidi
#: overrides, line and paragraph separators, zero-width characters).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: object, limit: int | None = 200) -> str:
    """``text`` safe to print on a terminal or in a report: every control character (ESC …) and
    invisible reordering character written as a ``\\x1b``-style escape; cut to ``limit``
    characters (None: never cut)."""
    shown = _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}",
        str(text),
    )
    return shown if limit is None or len(shown) <= limit else shown[: limit - 1] + "…"


def shown_path(path: str | Path) -> str:
    """A path as a message shows it: :func:`printable`, cut in the middle past 120 characters
    (both ends of a long path say where it is)."""
    text = printable(path, None)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-59:]}"


def _missing_line(
    path: str | Path, parent: tuple[int | str, ...], keys: list[str], every_key: str
) -> str:
    """One line for a block's missing keys (a block of 75 keys left out is one problem)."""
    if len(keys) == 1:
        return f"{path}: {_field_path((*parent, keys[0]))}: required key is missing"
    where = _field_path(parent) if parent else "(top level)"
    more = every_key if len(keys) > _LISTED else ""
    return f"{path}: {where}: {len(keys)} required keys are missing: {_listed(keys, more)}"


def validate_model(
    model: type[Model],
    data: Mapping[str, Any],
    path: str | Path,
    *,
    json_mode: bool = False,
    reference: str = "the documentation",
) -> Model:
    """Validate ``data`` against ``model``; on failure raise :class:`InputError` naming each field.

    Models are expected to be strict (``ConfigDict(strict=True)``): ``"3"`` is not a number.

    Each problem is one line: ``FILE: FIELD: VALUE: what is wrong / what is allowed``; a long
    list of keys is cut, and the line then points the reader to ``reference``, where every key is
    spelled out.
    """
    every_key = f" ({reference} spells out every key)"
    try:
        if json_mode:
            return model.model_validate_json(json.dumps(data))
        return model.model_validate(data)
    except ValidationError as error:
        # A block's missing keys are gathered into one line, written where the first one was met.
        lines: list[str | tuple[int | str, ...]] = []
        missing: dict[tuple[int | str, ...], list[str]] = {}
        for problem in error.errors(include_url=False):
            loc = tuple(problem["loc"])
            field = _field_path(loc)
            kind = problem["type"]
            if kind == "missing" and loc:
                if loc[:-1] not in missing:
                    lines.append(loc[:-1])
                missing.setdefault(loc[:-1], []).append(str(loc[-1]))
            elif kind == "extra_forbidden":
                lines.append(f"{path}: {field}: {_unknown_key(model, loc, every_key)}")
            else:
                message = problem["msg"].removeprefix("Value error, ")
                if kind == "model_type":
                    message = f"not a mapping; {_mapping_hint(model, loc)}"
                elif allowed := _ALLOWED_BY_ERROR.get(kind):
                    message += f"; {allowed}"
                value = _shown(problem.get("input"))
                shown = f"{value}: " if value is not None else ""
                lines.append(f"{path}: {field}: {shown}{message}")
        raise InputError(
            "\n".join(
                _missing_line(path, line, missing[line], every_key)
                if isinstance(line, tuple)
                else line
                for line in lines
            )
        ) from None

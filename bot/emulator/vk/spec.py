"""Validation of VK API calls against VK's own JSON schema in bot/emulator/specs/vk/.

A call is checked like VK checks it, and a little stricter: the method exists, every
required parameter is present, no unknown parameter is sent (VK ignores those; we
refuse them so a typo fails a test), every value has its declared type (integers,
numbers, booleans as 0/1, arrays as comma-separated lists, enums) and keeps the
minimum/maximum/maxLength/maxItems the schema states. Rules VK documents only in
prose (the keyboard JSON, payloads, event_data) are in keyboards.py.

The schema is the public VKCOM/vk-api-schema (MIT, see specs/vk/LICENSE); only the
sections the emulator uses are copied, in their original layout so $refs resolve.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).parent.parent / "specs" / "vk"
API_VERSION = "5.199"
ALWAYS_ALLOWED = frozenset({"access_token", "v"})

# parameters VK documents (dev.vk.com) and accepts that the schema of 5.199 lacks (or bounds in prose only)
EXTRA_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "messages.edit": {
        "conversation_message_id": {"type": "integer", "format": "int32", "minimum": 0},
    },
    "messages.pin": {
        "conversation_message_id": {"type": "integer", "format": "int32", "minimum": 0},
    },
    "messages.delete": {
        "conversation_message_ids": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "maxItems": 100,
        },
    },
    "wall.get": {
        # whose wall: a user's id, or minus a community's id (VK takes it before domain)
        "owner_id": {"type": "integer", "format": "int64"},
        # the schema states the maximum of 100 only in prose; VK answers at most 100 posts a call
        "count": {"type": "integer", "minimum": 0, "maximum": 100},
    },
}
# (method, parameter) whose schema maxLength a stricter domain rule with its own error replaces
LENGTH_BY_RULE = frozenset({("messages.send", "message"), ("messages.edit", "message")})

INT_RE = re.compile(r"[+-]?\d+")
NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

MESSAGE_MAX_LENGTH = 4096


class VkApiError(Exception):
    """An error answer of the VK API: {"error": {"error_code", "error_msg", ...}}.

    rejected=False marks answers about the platform's state (a user who forbade
    messages, flood control) rather than about a malformed call.
    """

    def __init__(self, error_code: int, error_msg: str, *, rejected: bool = True) -> None:
        super().__init__(error_msg)
        self.error_code = error_code
        self.error_msg = error_msg
        self.rejected = rejected

    def to_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        request_params += [
            {"key": key, "value": str(value)}
            for key, value in params.items()
            if key != "access_token"
        ]
        return {
            "error": {
                "error_code": self.error_code,
                "error_msg": self.error_msg,
                "request_params": request_params,
            }
        }


@functools.cache
def error_descriptions() -> dict[int, str]:
    """Error code -> VK's text for it, from errors.json."""
    errors = document("errors.json")["errors"]
    descriptions: dict[int, str] = {}
    for entry in errors.values():
        descriptions.setdefault(entry["code"], entry["description"])
    return descriptions


def api_error(code: int, detail: str | None = None, *, rejected: bool = True) -> VkApiError:
    """An error with VK's own text for the code, plus what exactly was wrong."""
    text = error_descriptions().get(code, "Unknown error occurred")
    return VkApiError(code, f"{text}: {detail}" if detail else text, rejected=rejected)


def param_error(detail: str) -> VkApiError:
    return api_error(100, detail)


# the schema files


@functools.cache
def document(relative: str) -> dict[str, Any]:
    return json.loads((SPEC_DIR / relative).read_text(encoding="utf-8"))


def resolve(ref: str, base: str) -> tuple[dict[str, Any], str] | None:
    """The schema a $ref points at and the file it lives in; None if that file is not copied."""
    target, _, pointer = ref.partition("#")
    path = (Path(base).parent / target).as_posix() if target else base
    path = _normalise(path)
    if not (SPEC_DIR / path).is_file():
        return None
    node: Any = document(path)
    for part in filter(None, pointer.split("/")):
        node = node[part]
    return node, path


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: dict[str, dict[str, Any]]
    required: frozenset[str]
    token_types: frozenset[str]
    file: str  # the methods.json it comes from, for $refs


class Index:
    def __init__(self) -> None:
        self.methods: dict[str, MethodSpec] = {}
        self.sections: set[str] = set()
        for path in sorted(SPEC_DIR.glob("*/methods.json")):
            relative = path.relative_to(SPEC_DIR).as_posix()
            self.sections.add(path.parent.name)
            for entry in document(relative)["methods"]:
                params = {p["name"]: p for p in entry.get("parameters", [])}
                params |= EXTRA_PARAMS.get(entry["name"], {})
                self.methods[entry["name"]] = MethodSpec(
                    name=entry["name"],
                    params=params,
                    required=frozenset(n for n, p in params.items() if p.get("required")),
                    token_types=frozenset(entry.get("access_token_type", [])),
                    file=relative,
                )

    def method(self, name: str) -> MethodSpec | None:
        return self.methods.get(name)


@functools.cache
def load_index() -> Index:
    """Every method of the copied sections, indexed once."""
    return Index()


# parameters


def validate_call(method: str, params: Mapping[str, str]) -> tuple[MethodSpec, dict[str, Any]]:
    """The method's spec and its coerced params, or raise VkApiError (3 or 100)."""
    spec = load_index().method(method)
    if spec is None:
        section = method.split(".", 1)[0]
        if "." in method and section not in load_index().sections:
            raise api_error(
                3,
                f"{method} (the emulator's copy of the schema has only the sections "
                f"{', '.join(sorted(load_index().sections))})",
            )
        raise api_error(3)
    unknown = sorted(params.keys() - spec.params.keys() - ALWAYS_ALLOWED)
    if unknown:
        raise param_error(f"unknown parameter {unknown[0]}")
    for name in sorted(spec.required):
        if name not in params:
            raise param_error(f"{name} is a required parameter")
    coerced: dict[str, Any] = {}
    for name, raw in params.items():
        if name in ALWAYS_ALLOWED:
            continue
        schema = spec.params[name]
        check_length = (method, name) not in LENGTH_BY_RULE
        coerced[name] = _param(name, schema, raw, spec.file, check_length)
    return spec, coerced


def _param(name: str, schema: dict[str, Any], raw: Any, base: str, check_length: bool) -> Any:
    types = schema.get("type")
    if types is None and "$ref" in schema:
        found = resolve(schema["$ref"], base)
        if found is None:
            return raw
        schema, base = found[0], found[1]
        types = schema.get("type")
    type_list = types if isinstance(types, list) else [types]
    if "array" in type_list:
        return _array(name, schema, raw, base)
    for type_name in type_list:
        try:
            value = _scalar(name, type_name, raw)
        except VkApiError:
            if type_name == type_list[-1]:
                raise
            continue
        _check_bounds(name, schema, value, check_length)
        if "$ref" in schema and type_name == "string":
            _check_ref(name, schema, value, base)
        return value
    return raw


def _scalar(name: str, type_name: str | None, raw: Any) -> Any:
    text = str(raw)
    match type_name:
        case "integer":
            if not INT_RE.fullmatch(text.strip()):
                raise param_error(f"{name} not integer")
            return int(text)
        case "number":
            if not NUMBER_RE.fullmatch(text.strip()):
                raise param_error(f"{name} not number")
            return float(text)
        case "boolean":
            if text not in ("0", "1"):
                raise param_error(f"{name} should be 0 or 1, got {text!r}")
            return text == "1"
        case _:
            return text


def _check_bounds(name: str, schema: dict[str, Any], value: Any, check_length: bool) -> None:
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(map(str, schema["enum"]))
        raise param_error(f"{name} should be one of {allowed}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = INT_RANGES.get(schema.get("format", ""), (None, None))
        low = schema.get("minimum", low)
        high = schema.get("maximum", high)
        if low is not None and value < low:
            raise param_error(f"{name} should be at least {low}, got {value}")
        if high is not None and value > high:
            raise param_error(f"{name} should be at most {high}, got {value}")
    if isinstance(value, str) and check_length:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise param_error(f"{name} is longer than {schema['maxLength']} characters")
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise param_error(f"{name} is shorter than {schema['minLength']} characters")


def _check_ref(name: str, schema: dict[str, Any], value: str, base: str) -> None:
    """A string parameter whose schema points at an enum (wall.get's filter): one of its values;
    at an object: a JSON text of that object."""
    found = resolve(schema["$ref"], base)
    if found is not None and found[0].get("type") == "string" and "enum" in found[0]:
        _check_bounds(name, {"enum": found[0]["enum"]}, value, check_length=False)
        return
    if found is None or found[0].get("type") != "object":
        return
    if schema["$ref"].endswith("/messages_keyboard"):
        return  # validate_keyboard checks it, with VK's own error 911
    try:
        decoded = json.loads(value)
    except ValueError:
        raise param_error(f"{name} is not a valid JSON") from None
    try:
        validate_object(schema["$ref"], decoded, base=base)
    except SchemaError as error:
        raise param_error(f"{name} is invalid: {error}") from None


def _array(name: str, schema: dict[str, Any], raw: Any, base: str) -> list[Any]:
    text = str(raw)
    parts = [part.strip() for part in text.split(",")] if text.strip() else []
    if "maxItems" in schema and len(parts) > schema["maxItems"]:
        raise param_error(
            f"{name} should have at most {schema['maxItems']} items, got {len(parts)}"
        )
    item_schema = schema.get("items", {"type": "string"})
    return [_param(name, item_schema, part, base, True) for part in parts]


# objects


class SchemaError(ValueError):
    """An object does not match its schema definition."""


def validate_object(ref: str, value: Any, *, base: str = "messages/objects.json") -> None:
    """Check a JSON value against a schema definition, e.g.
    validate_object("callback/objects.json#/definitions/callback_message_new", obj).

    Refs are resolved only where the value has data, so files not copied are only
    needed for what the emulator never produces. Extra properties are allowed, as in
    JSON Schema.
    """
    if not ref.startswith(("..", "#")):
        ref = "../" + ref
    _Checker().ref(ref, value, base, "")


class _Checker:
    def ref(self, ref: str, value: Any, base: str, path: str) -> None:
        found = resolve(ref, base)
        if found is None:
            return  # a section the emulator does not copy
        self.check(found[0], value, found[1], path)

    def check(self, schema: dict[str, Any], value: Any, base: str, path: str) -> None:
        if "$ref" in schema:
            self.ref(schema["$ref"], value, base, path)
        for part in schema.get("allOf", []):
            self.check(part, value, base, path)
        if "oneOf" in schema:
            self.one_of(schema, value, base, path)
        types = schema.get("type")
        if types is not None:
            self.type(types, value, path)
        if "enum" in schema and value not in schema["enum"]:
            raise SchemaError(f"{path or 'value'}: {value!r} is not one of {schema['enum']}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                raise SchemaError(f"{path}: {value} is below {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                raise SchemaError(f"{path}: {value} is above {schema['maximum']}")
        if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaError(f"{path}: longer than {schema['maxLength']} characters")
        if isinstance(value, dict):
            self.properties(schema, value, base, path)
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                self.check(schema["items"], item, base, f"{path}[{index}]")

    def properties(self, schema: dict[str, Any], value: dict, base: str, path: str) -> None:
        properties = schema.get("properties", {})
        required = schema.get("required")
        names = set(required) if isinstance(required, list) else set()
        names |= {name for name, prop in properties.items() if prop.get("required") is True}
        for name in sorted(names):
            if name not in value:
                raise SchemaError(f"{_join(path, name)} is required")
        for name, prop in properties.items():
            if name in value:
                self.check(prop, value[name], base, _join(path, name))

    def one_of(self, schema: dict[str, Any], value: Any, base: str, path: str) -> None:
        discriminator = schema.get("discriminator")
        if discriminator and isinstance(value, dict):
            key = value.get(discriminator["propertyName"])
            target = discriminator["mapping"].get(key)
            if target is None:
                raise SchemaError(f"{path}: unknown {discriminator['propertyName']} {key!r}")
            self.ref(target, value, base, path)
            return
        errors = []
        for option in schema["oneOf"]:
            try:
                self.check(option, value, base, path)
                return
            except SchemaError as error:
                errors.append(str(error))
        raise SchemaError(f"{path}: matches none of the options ({'; '.join(errors)})")

    @staticmethod
    def type(types: str | list[str], value: Any, path: str) -> None:
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
        }
        names = types if isinstance(types, list) else [types]
        if not any(checks.get(name, lambda v: True)(value) for name in names):
            raise SchemaError(f"{path or 'value'}: expected {'/'.join(names)}, got {value!r}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name

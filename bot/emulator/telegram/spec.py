"""Validation of Bot API calls against the public spec in bot/emulator/specs/telegram-bot-api.json.

A call is checked like Telegram checks it, and a little stricter: the method exists,
every required field is present, no unknown field is sent, every value coerces to one
of its types (objects recursively), and the length limits the spec states hold
("1-4096 characters after entities parsing", "1-64 bytes", ...). Formatted text
fields come back parsed: plain text plus entities, parse_mode removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulator.telegram.parse_mode import HtmlParseError, parse_html, utf16_len

SPEC_FILE = Path(__file__).parent.parent / "specs" / "telegram-bot-api.json"

ARRAY = "Array of "
SCALAR_TYPES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
LIMIT_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
CONSTANT_RE = re.compile(r"(?:must be|always) \"?([a-z_]+)")
DISCRIMINATORS = frozenset({"type", "source", "status"})
ONE_OF_RE = re.compile(
    r"(exactly|at most) one of the (?:fields other than ([\w, ]+?)|optional fields) (?:must|can)",
    re.IGNORECASE,
)
INTEGER_RE = re.compile(r"[+-]?\d+")


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes = dataclasses.field(repr=False)
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    limit: tuple[int, int, str] | None = None  # (low, high, "characters" | "bytes")
    formatted: bool = False  # the limit applies after entity parsing
    constant: str | None = None  # the value that identifies a subtype, e.g. "default"


@dataclass(frozen=True)
class Schema:
    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...] = ()
    one_of: tuple[str, frozenset[str]] | None = None  # ("exactly" | "at most", exempt fields)


class Spec:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw["version"]
        self.methods = {name.lower(): _schema(entry) for name, entry in raw["methods"].items()}
        self.types = {name: _schema(entry) for name, entry in raw["types"].items()}

    def method(self, name: str) -> Schema | None:
        """Method names are case-insensitive, as in Telegram."""
        return self.methods.get(name.lower())


@functools.cache
def load_spec() -> Spec:
    return Spec(json.loads(SPEC_FILE.read_text(encoding="utf-8")))


def validate_call(
    method: str, params: dict[str, Any], uploads: dict[str, Upload] | None = None
) -> tuple[str, dict[str, Any]]:
    """Return the method's canonical name and its coerced params, or raise ApiError."""
    schema = load_spec().method(method)
    if schema is None:
        raise ApiError(404, "Not Found")
    uploads = uploads or {}
    # a file part named like a field is that field's value (attach:// is the other way)
    direct_files = {name: upload for name, upload in uploads.items() if name in schema.fields}
    return schema.name, _Validator(uploads).fields(schema, direct_files | params, path="")


def validate_object(type_name: str, value: Any) -> Any:
    """Check an object (e.g. one the emulator produced) against the spec type."""
    return _Validator({}).union((type_name,), value, type_name)


class _Mismatch(Exception):
    """The value does not have the shape of this type; a union tries the next one."""


class _Validator:
    def __init__(self, uploads: dict[str, Upload]) -> None:
        self.spec = load_spec()
        self.uploads = uploads

    def fields(self, schema: Schema, raw: dict[str, Any], path: str) -> dict[str, Any]:
        unknown = sorted(raw.keys() - schema.fields.keys())
        if unknown:
            raise bad_request(f"unknown parameter {_join(path, unknown[0])}")
        for field in schema.fields.values():
            if field.required and field.name not in raw:
                raise bad_request(_missing(path, field.name))
        result = {
            name: self.value(schema.fields[name], value, _join(path, name))
            for name, value in raw.items()
        }
        _check_one_of(schema, result, path)
        for field in schema.fields.values():
            if field.formatted and field.name in result:
                _format(schema, field, result, _join(path, field.name))
        return result

    def value(self, field: FieldSpec, raw: Any, path: str) -> Any:
        value = self.union(field.types, raw, path)
        if field.constant is not None and value != field.constant:
            raise bad_request(f'parameter "{path}" must be "{field.constant}"')
        if field.limit and not field.formatted:
            _check_limit(field, len_in(field.limit[2], value), path)
        return value

    def union(self, types: tuple[str, ...], raw: Any, path: str) -> Any:
        raw = _decode_json(raw, types)
        if len(types) > 1:
            for type_name in types:
                with contextlib.suppress(_Mismatch):
                    return self.coerce(type_name, raw, path, probe=True)
            types = self._closest(types, raw, path)
        if len(types) == 1:
            with contextlib.suppress(_Mismatch):
                return self.coerce(types[0], raw, path, probe=False)
        raise bad_request(f'wrong type of parameter "{path}", expected {" or ".join(types)}')

    def coerce(self, type_name: str, raw: Any, path: str, probe: bool) -> Any:
        if type_name.startswith(ARRAY):
            if not isinstance(raw, list):
                raise _Mismatch
            item_types = tuple(type_name.removeprefix(ARRAY).split("|"))
            return [self.union(item_types, item, f"{path}[{i}]") for i, item in enumerate(raw)]
        if type_name == "InputFile":
            return self.file(raw, path)
        if type_name in SCALARS:
            return SCALARS[type_name](raw)
        return self.object(self.spec.types[type_name], raw, path, probe)

    def object(self, schema: Schema, raw: Any, path: str, probe: bool) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise _Mismatch
        if schema.subtypes:
            return self.union(schema.subtypes, raw, path)
        if probe and not _has_shape(schema, raw):
            raise _Mismatch
        return self.fields(schema, raw, path)

    def file(self, raw: Any, path: str) -> Upload:
        if isinstance(raw, Upload):
            return raw
        if isinstance(raw, str) and raw.startswith("attach://"):
            upload = self.uploads.get(raw.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f'file "{raw}" of parameter "{path}" is not attached')
            return upload
        raise _Mismatch

    def _closest(self, types: tuple[str, ...], raw: Any, path: str) -> tuple[str, ...]:
        """The object type raw was most likely meant to be, to report its precise error."""
        if not isinstance(raw, dict):
            return types
        schemas = [
            schema for name in types if (schema := self.spec.types.get(name)) and schema.fields
        ]
        tagged = {
            field.constant: (schema, field.name)
            for schema in schemas
            for field in schema.fields.values()
            if field.constant
        }
        if schemas and len(tagged) == len(schemas):
            discriminator = next(iter(tagged.values()))[1]
            value = raw.get(discriminator)
            if not isinstance(value, str) or value not in tagged:
                raise bad_request(
                    f'parameter "{_join(path, discriminator)}" must be one of: {", ".join(tagged)}'
                )
            return (tagged[value][0].name,)
        overlap, best = max(
            ((len(raw.keys() & schema.fields.keys()), schema.name) for schema in schemas),
            default=(0, ""),
        )
        return (best,) if overlap else types


def _integer(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and INTEGER_RE.fullmatch(raw.strip()):
        return int(raw)
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    raise _Mismatch


def _float(raw: Any) -> float:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            raise _Mismatch from None
    raise _Mismatch


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _Mismatch


def _string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return str(raw)
    raise _Mismatch


SCALARS = {"Integer": _integer, "Float": _float, "Boolean": _boolean, "String": _string}


def len_in(unit: str, text: str) -> int:
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def _decode_json(raw: Any, types: tuple[str, ...]) -> Any:
    """Form fields carry objects and arrays as JSON strings."""
    if not isinstance(raw, str) or any(name in SCALAR_TYPES for name in types):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _has_shape(schema: Schema, raw: dict[str, Any]) -> bool:
    return all(
        field.name in raw and (field.constant is None or raw[field.name] == field.constant)
        for field in schema.fields.values()
        if field.required
    )


def _check_one_of(schema: Schema, values: dict[str, Any], path: str) -> None:
    if schema.one_of is None:
        return
    mode, exempt = schema.one_of
    used = [name for name in values if name not in exempt]
    if len(used) > 1 or (mode == "exactly" and not used):
        where = path or schema.name
        raise bad_request(
            f"can't parse {schema.name} {where}: {mode} one of its optional fields "
            f"must be used, got {', '.join(used) or 'none'}"
        )


def _format(schema: Schema, field: FieldSpec, values: dict[str, Any], path: str) -> None:
    """Replace a formatted text by its plain text and entities, then check its length."""
    entities_field = _sibling(schema, field.name, "entities")
    mode_field = _sibling(schema, field.name, "parse_mode")
    mode = values.pop(mode_field, None) if mode_field else None
    if mode and entities_field not in values:
        text, entities = _parse(values[field.name], mode)
        values[field.name] = text
        if entities and entities_field:
            values[entities_field] = entities
    text = values[field.name]
    if field.limit:  # counted as Telegram counts: UTF-16 code units of the text after entity parsing
        _check_limit(field, utf16_len(text) if text.strip() else 0, path)


def _sibling(schema: Schema, name: str, suffix: str) -> str | None:
    """caption -> caption_entities, text -> entities, quote -> quote_parse_mode."""
    for candidate in (f"{name}_{suffix}", suffix):
        if candidate in schema.fields:
            return candidate
    return None


def _parse(text: str, mode: str) -> tuple[str, list[dict[str, Any]]]:
    if mode.lower() == "html":
        try:
            return parse_html(text)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    if mode.lower() in ("markdown", "markdownv2"):
        raise bad_request("emulator supports HTML parse_mode only")
    raise bad_request(f'unsupported parse_mode "{mode}"')


def _check_limit(field: FieldSpec, size: int, path: str) -> None:
    assert field.limit is not None
    low, high, unit = field.limit
    if low <= size <= high:
        return
    if field.name == "callback_data":
        raise bad_request("BUTTON_DATA_INVALID")
    if field.formatted and field.name in ("text", "message_text"):
        raise bad_request("message text is empty" if size < low else "message is too long")
    if field.formatted and field.name == "caption":
        raise bad_request("message caption is too long")
    raise bad_request(f'parameter "{path}" must be {low}-{high} {unit} long, got {size}')


def _missing(path: str, name: str) -> str:
    if path:
        return f'parameter "{_join(path, name)}" is required'
    return "message text is empty" if name == "text" else f"{name} is empty"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _schema(entry: dict[str, Any]) -> Schema:
    is_subtype = bool(entry.get("subtype_of"))
    fields = {raw["name"]: _field(raw, is_subtype) for raw in entry.get("fields", ())}
    return Schema(
        name=entry["name"],
        fields=fields,
        subtypes=tuple(entry.get("subtypes", ())),
        one_of=_one_of_rule(" ".join(entry.get("description", ())), fields),
    )


# The spec says both "after entities parsing" and "after entity parsing".
FORMATTED_RE = re.compile(r"after entit(?:y|ies) parsing")


def _field(raw: dict[str, Any], is_subtype: bool) -> FieldSpec:
    description = raw["description"]
    types = tuple(raw["types"])
    if len(types) > 1 and all(name.startswith(ARRAY) for name in types):
        # "Array of InputMediaAudio" | "Array of InputMediaPhoto": one array, mixed items
        types = (ARRAY + "|".join(name.removeprefix(ARRAY) for name in types),)
    limit = LIMIT_RE.search(description) if types == ("String",) else None
    constant = None
    if is_subtype and raw["name"] in DISCRIMINATORS:
        match = CONSTANT_RE.search(description)
        constant = match.group(1) if match else None
    return FieldSpec(
        name=raw["name"],
        types=types,
        required=raw["required"],
        limit=(int(limit.group(1)), int(limit.group(2)), limit.group(3)) if limit else None,
        formatted=FORMATTED_RE.search(description) is not None,
        constant=constant,
    )


def _one_of_rule(description: str, fields: dict[str, FieldSpec]) -> tuple[str, frozenset] | None:
    """Read rules like "Exactly one of the fields other than text, ... must be used"."""
    match = ONE_OF_RE.search(description)
    if match is None:
        return None
    if match.group(2):
        exempt = frozenset(re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(2)))
    else:
        exempt = frozenset(name for name, field in fields.items() if field.required)
    return match.group(1).lower(), exempt

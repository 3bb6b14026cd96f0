"""Telegram's HTML parse_mode: markup in, plain text and MessageEntity dicts out.

Strict like Telegram: an unknown tag, an unclosed or mismatched tag, a bare ``<``
or an ``&`` that does not start an entity is an error. Offsets and lengths are in
UTF-16 code units, as in the Bot API. Also the entities Telegram finds in text users
write (a leading /command, http(s) links): `detected_entities`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[^\s=/>]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*/?>"
)
ATTR_RE = re.compile(r"([^\s=/>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]+)|#[xX]([0-9a-fA-F]+));")
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
PLAIN_RUN_RE = re.compile(r"[^<&]+")
URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
URL_TRAILING = ".,;:!?'\""

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


class HtmlParseError(ValueError):
    """The markup cannot be parsed; the message is Telegram's wording."""


@dataclass
class _OpenTag:
    name: str
    entity: dict[str, Any] | None  # None: the tag makes no entity of its own
    depth: int


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def detected_entities(text: str, given: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The entities of a user's text: a leading /command (bot_command), http(s) links (url)
    that no entity the app made (`given`, e.g. a text_link or code) covers, and `given`."""
    found = []
    if text.startswith("/"):
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
    given = list(given or [])
    for match in URL_RE.finditer(text):
        url = match.group().rstrip(URL_TRAILING)
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1].rstrip(URL_TRAILING)
        if url.endswith("//"):
            continue
        offset, length = utf16_len(text[: match.start()]), utf16_len(url)
        covered = any(
            entity["offset"] < offset + length and offset < entity["offset"] + entity["length"]
            for entity in given
        )
        if not covered:
            found.append({"type": "url", "offset": offset, "length": length})
    return sorted(found + given, key=lambda entity: entity["offset"])


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and its entities, or raise HtmlParseError."""
    return _Parser(markup).run()


class _Parser:
    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.pieces: list[str] = []
        self.position = 0  # in UTF-16 units of the output
        self.stack: list[_OpenTag] = []
        self.entities: list[tuple[int, dict[str, Any]]] = []

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        index = 0
        while index < len(self.markup):
            char = self.markup[index]
            if char == "<":
                index = self._tag(index)
            elif char == "&":
                index = self._entity(index)
            else:
                run = PLAIN_RUN_RE.match(self.markup, index)
                assert run is not None
                self._emit(run.group())
                index = run.end()
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        ordered = sorted(self.entities, key=lambda e: (e[1]["offset"], -e[1]["length"], e[0]))
        return "".join(self.pieces), [entity for _, entity in ordered]

    def _byte_offset(self, index: int) -> int:
        return len(self.markup[:index].encode("utf-8"))

    def _emit(self, text: str) -> None:
        self.pieces.append(text)
        self.position += utf16_len(text)

    def _entity(self, index: int) -> int:
        match = ENTITY_RE.match(self.markup, index)
        if match is None:
            raise HtmlParseError(
                f"Character entity expected at byte offset {self._byte_offset(index)}"
            )
        named, decimal, hexadecimal = match.groups()
        if named:
            self._emit(NAMED_ENTITIES[named])
        else:
            code = int(decimal) if decimal else int(hexadecimal, 16)
            if not 0 < code <= 0x10FFFF:
                raise HtmlParseError(
                    f"Invalid character entity at byte offset {self._byte_offset(index)}"
                )
            self._emit(chr(code))
        return match.end()

    def _tag(self, index: int) -> int:
        match = TAG_RE.match(self.markup, index)
        if match is None:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(index)}")
        closing, name, raw_attributes = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            self._close(name, index)
        else:
            self._open(name, _attributes(raw_attributes), index)
        return match.end()

    def _open(self, name: str, attributes: dict[str, str], index: int) -> None:
        entity = self._entity_for(name, attributes, index)
        self.stack.append(_OpenTag(name, entity, depth=len(self.stack)))

    def _entity_for(self, name: str, attributes: dict[str, str], index: int) -> dict | None:
        start = {"offset": self.position}
        if name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language
            language = attributes.get("class", "")
            pre = self.stack[-1].entity
            if pre is not None and language.startswith("language-"):
                pre["language"] = language.removeprefix("language-")
            return None
        if name in SIMPLE_TAGS:
            return {"type": SIMPLE_TAGS[name], **start}
        if name == "span" and attributes.get("class") == "tg-spoiler":
            return {"type": "spoiler", **start}
        if name == "a":
            if "href" not in attributes:
                return None
            return {"type": "text_link", **start, "url": attributes["href"]}
        if name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            return {"type": kind, **start}
        if name == "tg-emoji" and attributes.get("emoji-id"):
            return {"type": "custom_emoji", **start, "custom_emoji_id": attributes["emoji-id"]}
        raise HtmlParseError(
            f'Unsupported start tag "{name}" at byte offset {self._byte_offset(index)}'
        )

    def _close(self, name: str, index: int) -> None:
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._byte_offset(index)}")
        top = self.stack.pop()
        if top.name != name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(index)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        if top.entity is not None:
            top.entity["length"] = self.position - top.entity["offset"]
            if top.entity["length"] > 0:
                self.entities.append((top.depth, _ordered(top.entity)))


def _attributes(raw: str) -> dict[str, str]:
    attributes = {}
    for name, quoted in ATTR_RE.findall(raw):
        value = quoted[1:-1] if quoted[:1] in ("'", '"') else quoted
        attributes[name.lower()] = html.unescape(value)
    return attributes


def _ordered(entity: dict[str, Any]) -> dict[str, Any]:
    """type, offset, length first, as Telegram prints them."""
    head = {key: entity[key] for key in ("type", "offset", "length")}
    return head | {key: value for key, value in entity.items() if key not in head}

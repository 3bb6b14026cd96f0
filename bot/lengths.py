"""Text lengths as each messenger counts them, and splitting a long text into parts that fit.

Telegram counts UTF-16 code units of the text after entity parsing (what the reader sees, tags
gone, `&amp;` one character); VK counts the characters of the plain text the bridge makes from the
HTML. A text over the limit is split at paragraph breaks, then line breaks, then spaces, and only
as a last resort inside a word; a tag open across a split is closed at the end of one part and
opened again at the start of the next, so every part is valid HTML and nothing is lost.

No aiogram here: services measure drafts with it too.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

SEPARATORS = ("\n\n", "\n", " ")
BUTTON_LABEL_LIMIT = 40  # VK's limit on a button's label (Telegram's is wider): one label fits both


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shortened(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` characters when longer, the cut shown by "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Limits:
    """One messenger's limits on a message's text and a media caption, in its own measure."""

    message: int
    caption: int
    measure: Callable[[str], int]

    def fits(self, visible: str, caption: bool = False) -> bool:
        return self.measure(visible) <= (self.caption if caption else self.message)


TELEGRAM_LIMITS = Limits(message=4096, caption=1024, measure=utf16_len)
VK_LIMITS = Limits(message=4096, caption=4096, measure=len)  # VK has one limit, with or without an attachment


@dataclass(frozen=True)
class _Tag:
    name: str
    source: str  # the start tag as written, attributes and all


class _Tokens(HTMLParser):
    """HTML as a list of visible text runs (decoded) and start/end tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[str | _Tag | tuple[str]] = []  # text, a start tag, or (name,) for an end tag

    def handle_data(self, data: str) -> None:
        self.tokens.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tokens.append(_Tag(tag, self.get_starttag_text() or f"<{tag}>"))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append((tag,))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)


def _tokens(markup: str) -> list[str | _Tag | tuple[str]]:
    parser = _Tokens()
    parser.feed(markup)
    parser.close()
    return parser.tokens


def visible_text(markup: str, is_html: bool = True) -> str:
    """What the reader sees: the tags dropped, character references decoded."""
    if not is_html:
        return markup
    return "".join(token for token in _tokens(markup) if isinstance(token, str))


def cut_points(text: str, limit: int, measure: Callable[[str], int]) -> list[tuple[int, int]]:
    """The (start, end) of each part of `text`; the separator between two parts belongs to neither."""
    parts, start = [], 0
    while measure(text[start:]) > limit:
        end = _longest_fit(text, start, limit, measure)
        for separator in SEPARATORS:
            found = text.rfind(separator, start, end + len(separator))
            if found > start:
                parts.append((start, found))
                start = found + len(separator)
                break
        else:
            parts.append((start, end))
            start = end
    parts.append((start, len(text)))
    return [(begin, end) for begin, end in parts if text[begin:end].strip()]


def _longest_fit(text: str, start: int, limit: int, measure: Callable[[str], int]) -> int:
    """The largest end such that text[start:end] fits (at least one character, so splitting ends)."""
    used, end = 0, start
    while end < len(text):
        size = measure(text[end])
        if used + size > limit:
            break
        used, end = used + size, end + 1
    return max(end, start + 1)


def split(text: str, limit: int, measure: Callable[[str], int] = len, is_html: bool = True) -> list[str]:
    """`text` as parts whose visible text each fits `limit`; a text that fits comes back whole."""
    if measure(text) <= limit or measure(visible_text(text, is_html)) <= limit:  # markup never shows longer than it is
        return [text]
    if not is_html:
        return [text[begin:end] for begin, end in cut_points(text, limit, measure)]
    tokens = _tokens(text)
    visible = "".join(token for token in tokens if isinstance(token, str))
    return [_slice(tokens, begin, end) for begin, end in cut_points(visible, limit, measure)]


def _slice(tokens: list[str | _Tag | tuple[str]], begin: int, end: int) -> str:
    """The HTML of visible characters [begin, end): tags open at `begin` are opened again, and
    every tag opened in the part is closed in it."""
    out: list[str] = []
    stack: list[list] = []  # [tag, written in this part]
    position, started = 0, False
    for token in tokens:
        if isinstance(token, str):
            piece = token[max(begin - position, 0) : max(end - position, 0)]
            if piece:
                if not started:
                    out.extend(tag.source for tag, _ in stack)
                    stack = [[tag, True] for tag, _ in stack]
                    started = True
                out.append(html.escape(piece, quote=False))
            position += len(token)
        elif isinstance(token, _Tag):
            written = started and position < end
            if written:
                out.append(token.source)
            stack.append([token, written])
        else:
            names = [tag.name for tag, _ in stack]
            if token[0] in names:
                while stack:
                    tag, written = stack.pop()
                    if written:
                        out.append(f"</{tag.name}>")
                    if tag.name == token[0]:
                        break
    out.extend(f"</{tag.name}>" for tag, written in reversed(stack) if written)
    return "".join(out)

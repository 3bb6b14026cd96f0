"""Every text a bot sends fits its messenger: a request middleware on the bot session splits a
long sendMessage into several, turns a media message with a long caption into the media and then
the text, and edits a message to a long text by editing in the first part and sending the rest.

It sits on the session, not in the handlers, so screens, notices and deliveries all pass through it;
the VK bridge runs session middlewares too (BaseSession.__call__), measured by VK's rule.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.enums import ParseMode
from aiogram.methods import EditMessageText, Response, SendAnimation, SendAudio, SendDocument, SendMessage, SendPhoto, SendVideo, SendVoice, TelegramMethod
from aiogram.types import Message, MessageEntity
from aiogram.utils.text_decorations import HtmlDecoration

from bot.lengths import Limits, split, visible_text
from bot.platforms import resolved

CAPTIONED = (SendPhoto, SendVideo, SendDocument, SendVoice, SendAudio, SendAnimation)
Captioned = SendPhoto | SendVideo | SendDocument | SendVoice | SendAudio | SendAnimation


class EscapingHtmlDecoration(HtmlDecoration):
    """aiogram's HTML decoration writes attribute values unescaped (a quote in a link's URL ends the
    attribute and breaks the markup) and a code block's language as `language=`, which Telegram
    ignores; this one escapes them and writes `class="language-..."` as Telegram documents."""

    def _tag(self, tag: str, content: str, *, attrs: dict[str, str] | None = None, flags: list[str] | None = None) -> str:
        escaped = {name: html.escape(value, quote=True) for name, value in (attrs or {}).items()}
        return super()._tag(tag, content, attrs=escaped, flags=flags)

    def pre_language(self, value: str, language: str) -> str:
        return self._tag(self.PRE_TAG, self._tag(self.CODE_TAG, value, attrs={"class": f"language-{language}"}))


HTML = EscapingHtmlDecoration()


def html_of(message: Message) -> str:
    """The message's text or caption with its formatting, as HTML safe to send again."""
    return HTML.unparse(message.text or message.caption or "", message.entities or message.caption_entities)


def as_html(text: str | None, entities: list[MessageEntity] | None, parse_mode: str | None) -> tuple[str, bool]:
    """(text, is_html): entities become HTML, so one splitter serves every way of formatting."""
    text = text or ""
    if entities:
        return HTML.unparse(text, entities), True
    return text, (parse_mode or "").upper() == ParseMode.HTML


class SplitLongTexts(BaseRequestMiddleware):
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
        if isinstance(method, SendMessage):
            return await self.send_message(make_request, bot, method)
        if isinstance(method, EditMessageText):
            return await self.edit_message_text(make_request, bot, method)
        if isinstance(method, CAPTIONED) and method.caption:
            return await self.send_captioned(make_request, bot, method)
        return await make_request(bot, method)

    def parts(self, bot: Bot, text: str | None, entities: list[MessageEntity] | None, parse_mode: Any, limit: int) -> tuple[list[str], bool]:
        text, is_html = as_html(text, entities, resolved(bot, parse_mode))
        return split(text, limit, self.limits.measure, is_html), is_html

    async def send_message(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: SendMessage) -> Response[Any]:
        parts, is_html = self.parts(bot, method.text, method.entities, method.parse_mode, self.limits.message)
        if len(parts) == 1:
            return await make_request(bot, method)
        return await send_parts(make_request, bot, method, parts, is_html)

    async def edit_message_text(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: EditMessageText) -> Response[Any]:
        """The message shows the first part; the rest follow as new messages, the buttons on the last."""
        parts, is_html = self.parts(bot, method.text, method.entities, method.parse_mode, self.limits.message)
        if len(parts) == 1 or method.chat_id is None:
            return await make_request(bot, method)
        edited = await make_request(bot, method.model_copy(update={"text": parts[0], "entities": None, "parse_mode": mode_of(is_html), "reply_markup": None}))
        rest = SendMessage(chat_id=method.chat_id, text="", reply_markup=method.reply_markup, link_preview_options=method.link_preview_options)
        await send_parts(make_request, bot, rest, parts[1:], is_html)
        return edited

    async def send_captioned(self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: Captioned) -> Response[Any]:
        """A caption too long for the media goes under it as a message of its own, with the buttons."""
        caption, is_html = as_html(method.caption, method.caption_entities, resolved(bot, method.parse_mode))
        if self.limits.fits(visible_text(caption, is_html), caption=True):
            return await make_request(bot, method)
        media = await make_request(bot, method.model_copy(update={"caption": None, "caption_entities": None, "reply_markup": None}))
        text = SendMessage(chat_id=method.chat_id, text=caption, parse_mode=mode_of(is_html), reply_markup=method.reply_markup)
        await self.send_message(make_request, bot, text)
        return media  # the media message: senders learn the file id from it


async def send_parts(make_request: NextRequestMiddlewareType[Any], bot: Bot, method: SendMessage, parts: list[str], is_html: bool) -> Response[Any]:
    """Each part as a message of its own: a reply only the first, the buttons only under the last."""
    message: Response[Any] | None = None
    for number, part in enumerate(parts):
        last, first = number == len(parts) - 1, number == 0
        piece = method.model_copy(update={
            "text": part, "entities": None, "parse_mode": mode_of(is_html),
            "reply_markup": method.reply_markup if last else None,
            "reply_parameters": method.reply_parameters if first else None,
            "reply_to_message_id": method.reply_to_message_id if first else None,
        })
        message = await make_request(bot, piece)
    assert message is not None  # split() gives at least one part
    return message  # the last part: the one with the buttons


def mode_of(is_html: bool) -> str | None:
    return ParseMode.HTML if is_html else None


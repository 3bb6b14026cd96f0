"""Bot API shapes to VK shapes: HTML text to plain text, inline keyboards to VK keyboards."""

from __future__ import annotations

import json

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.lengths import BUTTON_LABEL_LIMIT, shortened, visible_text

INLINE_BUTTON_LIMIT = 10
INLINE_ROW_LIMIT = 6
ROW_BUTTON_LIMIT = 5


def plain_text(text: str | None, parse_mode: str | None) -> str:
    """VK shows no formatting: drop the HTML tags and keep the words."""
    return visible_text(text or "", (parse_mode or "").upper() == "HTML")


def label(text: str) -> str:
    return shortened(text, BUTTON_LABEL_LIMIT)


def callback_payload(data: str) -> str:
    return json.dumps({"cb": data}, ensure_ascii=False, separators=(",", ":"))


def callback_data_of(payload: object) -> str | None:
    """The callback data of a button's payload; a payload not made by callback_payload (a button of
    another app, or a forged press) carries none, and the press is answered as an outdated button."""
    data = payload.get("cb") if isinstance(payload, dict) else None
    return data if isinstance(data, str) else None


def vk_keyboard(markup: object) -> str | None:
    if markup is None:
        return None
    if isinstance(markup, InlineKeyboardMarkup):
        return _inline_keyboard(markup)
    if isinstance(markup, ReplyKeyboardMarkup):
        rows = [[{"action": {"type": "text", "label": label(button.text)}} for button in row] for row in markup.keyboard]
        return json.dumps({"one_time": bool(markup.one_time_keyboard), "buttons": rows}, ensure_ascii=False)
    if isinstance(markup, ReplyKeyboardRemove):
        return json.dumps({"one_time": True, "buttons": []})
    raise ValueError(f"the VK bridge cannot show a {type(markup).__name__}")


def _inline_keyboard(markup: InlineKeyboardMarkup) -> str | None:
    rows = [[_inline_button(button) for button in row] for row in markup.inline_keyboard if row]
    if not rows:
        return json.dumps({"inline": True, "buttons": []})
    count = sum(len(row) for row in rows)
    if count > INLINE_BUTTON_LIMIT or len(rows) > INLINE_ROW_LIMIT or max(map(len, rows)) > ROW_BUTTON_LIMIT:
        raise ValueError(
            f"VK inline keyboards hold at most {INLINE_BUTTON_LIMIT} buttons in {INLINE_ROW_LIMIT} rows of {ROW_BUTTON_LIMIT}; got {count} in {len(rows)} rows"
        )
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def _inline_button(button) -> dict:
    if button.callback_data is not None:
        return {"action": {"type": "callback", "label": label(button.text), "payload": callback_payload(button.callback_data)}}
    if button.url is not None:
        return {"action": {"type": "open_link", "label": label(button.text), "link": button.url}}
    raise ValueError(f"the VK bridge cannot show the inline button {button.text!r}: only callback and url buttons map to VK")

"""The bot's messages: send (text, media, chat actions), edit, copy and forward them,
and answer callback queries (deleting them is moderation.py's, as rights decide it).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.emulator.telegram.acting import TelegramActing, quoted
from bot.emulator.telegram.files import media_content
from bot.emulator.telegram.server import Call, endpoint
from bot.emulator.telegram.spec import bad_request
from bot.emulator.telegram.users import CONTENT_KEYS, ChatMessage, EmulatedChat

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


class TelegramMessages(TelegramActing):
    """The message methods of the Bot API."""

    def _bot_message(self, chat: EmulatedChat, call: Call, content: dict[str, Any]) -> ChatMessage:
        """Add a message the bot sent, with its reply target and keyboard."""
        content = dict(content)
        reply = call.params.get("reply_parameters")
        if reply:
            target = self._chat(reply.get("chat_id", chat.id)).message(reply["message_id"])
            if target is not None and not target.deleted:
                content["reply_to_message"] = quoted(target.raw)
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        markup = call.params.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            content["reply_markup"] = markup
        message = chat._add(call.bot, content, from_bot=True)
        if "keyboard" in markup:
            message.reply_keyboard = [[_button_text(b) for b in row] for row in markup["keyboard"]]
            chat.keyboard = message.reply_keyboard
        elif markup.get("remove_keyboard"):
            chat.keyboard = None
        return message

    def _editable(self, params: dict[str, Any]) -> ChatMessage:
        if "inline_message_id" in params:
            raise bad_request("the emulator does not support inline messages")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        message = self._writable_chat(params["chat_id"]).message(params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _edit(self, message: ChatMessage, content: dict[str, Any], markup: dict | None) -> dict:
        """Apply an edit. Without reply_markup the inline keyboard goes, as in Telegram."""
        markup = markup if markup and markup.get("inline_keyboard") else None
        unchanged = all(message.raw.get(key) == value for key, value in content.items())
        if unchanged and message.raw.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in {**content, "reply_markup": markup}.items():
            if value is None:
                message.raw.pop(key, None)
            else:
                message.raw[key] = value
        message.raw["edit_date"] = int(time.time())
        message.edited = True
        return message.raw

    # endpoints

    @endpoint("sendMessage")
    async def _send_message(self, call: Call) -> dict[str, Any]:
        chat = self._writable_chat(call.params["chat_id"])
        content = _pick(call.params, "text", "entities")
        return self._bot_message(chat, call, content).raw

    @endpoint(
        "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio",
        "sendAnimation", "sendSticker",
    )  # fmt: skip
    async def _send_media(self, call: Call) -> dict[str, Any]:
        chat = self._writable_chat(call.params["chat_id"])
        kind = call.method.removeprefix("send").lower()
        stored = self._input_file(kind, call.params)
        content = media_content(kind, stored)
        content |= _pick(call.params, "caption", "caption_entities")
        return self._bot_message(chat, call, content).raw

    @endpoint("sendChatAction")
    async def _send_chat_action(self, call: Call) -> bool:
        chat = self._writable_chat(call.params["chat_id"])
        if call.params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(call.params["action"])
        return True

    @endpoint("editMessageText")
    async def _edit_message_text(self, call: Call) -> dict[str, Any]:
        message = self._editable(call.params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        content = {"text": call.params["text"], "entities": call.params.get("entities")}
        return self._edit(message, content, call.params.get("reply_markup"))

    @endpoint("editMessageCaption")
    async def _edit_message_caption(self, call: Call) -> dict[str, Any]:
        message = self._editable(call.params)
        if message.kind in ("text", "service", "sticker"):
            raise bad_request("there is no caption in the message to edit")
        content = {
            "caption": call.params.get("caption"),
            "caption_entities": call.params.get("caption_entities"),
        }
        return self._edit(message, content, call.params.get("reply_markup"))

    @endpoint("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, call: Call) -> dict[str, Any]:
        message = self._editable(call.params)
        return self._edit(message, {}, call.params.get("reply_markup"))

    @endpoint("copyMessage")
    async def _copy_message(self, call: Call) -> dict[str, int]:
        source = self._source_message(call.params, "message to copy not found")
        content = _pick(source.raw, *CONTENT_KEYS)
        if "caption" in call.params:
            content.pop("caption_entities", None)
            content |= _pick(call.params, "caption", "caption_entities")
        target = self._writable_chat(call.params["chat_id"])
        return {"message_id": self._bot_message(target, call, content).message_id}

    @endpoint("forwardMessage")
    async def _forward_message(self, call: Call) -> dict[str, Any]:
        source = self._source_message(call.params, "message to forward not found")
        origin = {"type": "user", "date": source.raw["date"], "sender_user": source.raw["from"]}
        content = _pick(source.raw, *CONTENT_KEYS) | {"forward_origin": origin}
        target = self._writable_chat(call.params["chat_id"])
        return self._bot_message(target, call, content).raw

    def _source_message(self, params: dict[str, Any], not_found: str) -> ChatMessage:
        message = self._chat(params["from_chat_id"]).message(params["message_id"])
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    @endpoint("answerCallbackQuery")
    async def _answer_callback_query(self, call: Call) -> bool:
        answer = self._queries.get(call.params["callback_query_id"])
        if answer is None or answer.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        answer.answered = True
        answer.text = call.params.get("text")
        answer.show_alert = call.params.get("show_alert", False)
        answer.url = call.params.get("url")
        return True


def _pick(source: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: copy.deepcopy(source[key]) for key in keys if key in source}


def _button_text(button: dict[str, Any] | str) -> str:
    return button if isinstance(button, str) else button["text"]

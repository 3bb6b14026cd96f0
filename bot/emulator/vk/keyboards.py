"""Rules VK states in prose, not in its schema: the keyboard JSON of messages.send and
messages.edit, a message's payload, and the event_data of messages.sendMessageEventAnswer.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from bot.emulator.vk.spec import VkApiError, api_error, document, param_error, resolve

LABEL_MAX_LENGTH = 40
PAYLOAD_MAX_LENGTH = 255
SNACKBAR_MAX_LENGTH = 90
KEYBOARD_LIMITS = {  # rows, buttons per row, buttons in all
    False: (10, 5, 40),
    True: (6, 5, 10),
}
COLORED_ACTIONS = frozenset({"text", "callback"})
# actions whose button fills a row of its own (VK docs, "Keyboards for bots")
WIDE_ACTIONS = frozenset({"location", "vkpay", "open_app"})


def keyboard_error(detail: str) -> VkApiError:
    return api_error(911, detail)


@functools.cache
def _button_actions() -> dict[str, dict[str, Any]]:
    """Action type -> its schema, from the discriminator of the keyboard button action."""
    base = "messages/objects.json"
    action = document(base)["definitions"]["messages_keyboard_button_property_action"]
    actions = {}
    for kind, ref in action["discriminator"]["mapping"].items():
        found = resolve(ref, base)
        assert found is not None
        actions[kind] = found[0]
    return actions


@functools.cache
def _button_colors() -> tuple[str, ...]:
    button = document("messages/objects.json")["definitions"]["messages_keyboard_button"]
    return tuple(button["properties"]["color"]["enum"])


def validate_keyboard(text: str) -> dict[str, Any]:
    """The parsed keyboard, or VkApiError 911 saying what is wrong with it."""
    try:
        keyboard = json.loads(text)
    except ValueError:
        raise keyboard_error("keyboard is not a valid JSON") from None
    if not isinstance(keyboard, dict):
        raise keyboard_error("keyboard should be a JSON object")
    unknown = sorted(keyboard.keys() - {"one_time", "inline", "buttons"})
    if unknown:
        raise keyboard_error(f"unknown field {unknown[0]}")
    for flag in ("one_time", "inline"):
        if flag in keyboard and not isinstance(keyboard[flag], bool):
            raise keyboard_error(f"{flag} should be a boolean")
    inline = keyboard.get("inline", False)
    if inline and keyboard.get("one_time"):
        raise keyboard_error("one_time is not supported by inline keyboards")
    rows = keyboard.get("buttons")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise keyboard_error("buttons should be an array of arrays of buttons")
    max_rows, max_per_row, max_total = KEYBOARD_LIMITS[inline]
    kind = "inline keyboard" if inline else "keyboard"
    if len(rows) > max_rows:
        raise keyboard_error(f"a {kind} may have at most {max_rows} rows, got {len(rows)}")
    total = sum(len(row) for row in rows)
    if total > max_total:
        raise keyboard_error(f"a {kind} may have at most {max_total} buttons, got {total}")
    for r, row in enumerate(rows):
        if not row:
            raise keyboard_error(f"buttons[{r}] is an empty row")
        if len(row) > max_per_row:
            raise keyboard_error(
                f"buttons[{r}] has {len(row)} buttons, at most {max_per_row} fit in a row"
            )
        for c, button in enumerate(row):
            action = _check_button(button, f"buttons[{r}][{c}]")
            if action in WIDE_ACTIONS and len(row) > 1:
                raise keyboard_error(f"buttons[{r}][{c}]: a {action} button takes a whole row")
    return keyboard


def _check_button(button: Any, path: str) -> str:
    if not isinstance(button, dict):
        raise keyboard_error(f"{path} should be an object")
    unknown = sorted(button.keys() - {"action", "color"})
    if unknown:
        raise keyboard_error(f"{path}: unknown field {unknown[0]}")
    action = button.get("action")
    if not isinstance(action, dict):
        raise keyboard_error(f"{path}.action is required")
    kind = action.get("type")
    actions = _button_actions()
    if kind not in actions:
        raise keyboard_error(f"{path}.action.type should be one of {', '.join(actions)}")
    properties = actions[kind]["properties"]
    for name in sorted(properties):
        if properties[name].get("required") and name not in action:
            raise keyboard_error(f"{path}.action.{name} is required for {kind} buttons")
    for name, value in action.items():
        if name not in properties:
            raise keyboard_error(f"{path}.action: unknown field {name} for {kind} buttons")
        expected = properties[name].get("type", "string")
        valid = isinstance(value, int) if expected == "integer" else isinstance(value, str)
        if not valid or isinstance(value, bool):
            raise keyboard_error(f"{path}.action.{name} should be a {expected}")
    if "label" in action:
        if not action["label"].strip():
            raise keyboard_error(f"{path}.action.label is empty")
        if len(action["label"]) > LABEL_MAX_LENGTH:
            raise keyboard_error(
                f"{path}.action.label is longer than {LABEL_MAX_LENGTH} characters"
            )
    if "payload" in action:
        _check_payload(action["payload"], f"{path}.action.payload")
    if kind == "open_link" and not action["link"].startswith(("http://", "https://")):
        raise keyboard_error(f"{path}.action.link should be an http(s) URL")
    if "color" in button:
        if kind not in COLORED_ACTIONS:
            raise keyboard_error(f"{path}: only text and callback buttons have a color")
        if button["color"] not in _button_colors():
            raise keyboard_error(f"{path}.color should be one of {', '.join(_button_colors())}")
    return kind


def _check_payload(payload: str, path: str) -> None:
    if len(payload) > PAYLOAD_MAX_LENGTH:
        raise keyboard_error(f"{path} is longer than {PAYLOAD_MAX_LENGTH} characters")
    try:
        json.loads(payload)
    except ValueError:
        raise keyboard_error(f"{path} is not a valid JSON") from None


def validate_message_payload(text: str) -> None:
    """The payload parameter of messages.send: a JSON text."""
    try:
        json.loads(text)
    except ValueError:
        raise param_error("payload is not a valid JSON") from None


def validate_event_data(text: str) -> dict[str, Any]:
    """event_data of messages.sendMessageEventAnswer: show_snackbar, open_link or open_app."""
    try:
        data = json.loads(text)
    except ValueError:
        raise param_error("event_data is not a valid JSON") from None
    if not isinstance(data, dict):
        raise param_error("event_data should be a JSON object")
    kind = data.get("type")
    fields: dict[str, tuple[type, bool]]
    match kind:
        case "show_snackbar":
            fields = {"text": (str, True)}
        case "open_link":
            fields = {"link": (str, True)}
        case "open_app":
            fields = {"app_id": (int, True), "owner_id": (int, False), "hash": (str, False)}
        case _:
            raise param_error(
                "event_data.type should be show_snackbar, open_link or open_app, "
                f"got {kind!r}"
            )
    unknown = sorted(data.keys() - fields.keys() - {"type"})
    if unknown:
        raise param_error(f"event_data: unknown field {unknown[0]} for {kind}")
    for name, (expected, required) in fields.items():
        if name not in data:
            if required:
                raise param_error(f"event_data.{name} is required for {kind}")
            continue
        if not isinstance(data[name], expected) or isinstance(data[name], bool):
            raise param_error(f"event_data.{name} should be a {expected.__name__}")
    if kind == "show_snackbar":
        if not data["text"]:
            raise param_error("event_data.text is empty")
        if len(data["text"]) > SNACKBAR_MAX_LENGTH:
            raise param_error(f"event_data.text is longer than {SNACKBAR_MAX_LENGTH} characters")
    if kind == "open_link" and not data["link"].startswith(("http://", "https://")):
        raise param_error("event_data.link should be an http(s) URL")
    return data

"""The bot's own profile and settings: getMe, logOut/close, its commands and its menu
button.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.emulator.telegram.acting import TelegramActing
from bot.emulator.telegram.server import Call, endpoint
from bot.emulator.telegram.spec import bad_request

COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
NO_RIGHTS = (  # ChatAdministratorRights' required fields
    "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members", "can_promote_members",
    "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
)


class TelegramProfile(TelegramActing):
    """What the bot says about itself."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope json, language)
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.default_admin_rights: dict[bool, dict[str, Any]] = {}  # for channels? -> the rights suggested

    @endpoint("getMe")
    async def _get_me(self, call: Call) -> dict[str, Any]:
        return call.bot | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @endpoint("logOut", "close")
    async def _accept(self, call: Call) -> bool:
        return True

    @endpoint("setMyCommands")
    async def _set_my_commands(self, call: Call) -> bool:
        commands = call.params["commands"]
        if any(not COMMAND_RE.fullmatch(command["command"]) for command in commands):
            raise bad_request("BOT_COMMAND_INVALID")
        self.commands[_commands_key(call.params)] = commands
        return True

    @endpoint("getMyCommands")
    async def _get_my_commands(self, call: Call) -> list[dict[str, str]]:
        return self.commands.get(_commands_key(call.params), [])

    @endpoint("deleteMyCommands")
    async def _delete_my_commands(self, call: Call) -> bool:
        self.commands.pop(_commands_key(call.params), None)
        return True

    @endpoint("setMyDefaultAdministratorRights")
    async def _set_my_default_administrator_rights(self, call: Call) -> bool:
        for_channels = bool(call.params.get("for_channels", False))
        if "rights" in call.params:
            self.default_admin_rights[for_channels] = call.params["rights"]
        else:
            self.default_admin_rights.pop(for_channels, None)
        return True

    @endpoint("getMyDefaultAdministratorRights")
    async def _get_my_default_administrator_rights(self, call: Call) -> dict[str, Any]:
        none = {field: False for field in NO_RIGHTS}
        return self.default_admin_rights.get(bool(call.params.get("for_channels", False)), none)

    @endpoint("setChatMenuButton")
    async def _set_chat_menu_button(self, call: Call) -> bool:
        chat_id = call.params.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id)
        self.menu_buttons[chat_id] = call.params.get("menu_button", {"type": "default"})
        return True

    @endpoint("getChatMenuButton")
    async def _get_chat_menu_button(self, call: Call) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")

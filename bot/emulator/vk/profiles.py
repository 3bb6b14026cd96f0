"""Who is who: groups.getById (the community itself) and users.get."""

from __future__ import annotations

from typing import Any

from bot.emulator.vk.acting import VkActing
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import api_error, param_error
from bot.emulator.vk.users import VkUser


class VkProfiles(VkActing):
    """The community's and the users' profiles."""

    @endpoint("groups.getById")
    async def _groups_get_by_id(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(params.get("group_ids", []))
        if "group_id" in params:
            wanted.append(params["group_id"])
        for value in wanted:
            if str(value) not in (str(self.group_id), self.screen_name, f"club{self.group_id}"):
                raise param_error(f"group_ids: group {value} not found")
        return {"groups": [self._group_object()], "profiles": []}

    def _group_object(self) -> dict[str, Any]:
        photo = "https://vk.ru/images/community_100.png"
        return {
            "id": self.group_id,
            "name": self.name,
            "screen_name": self.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_50": photo,
            "photo_100": photo,
            "photo_200": photo,
        }

    @endpoint("users.get")
    async def _users_get(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        fields = set(params.get("fields", []))
        result = []
        for value in params.get("user_ids", []):
            text = str(value)
            user = None
            if text.isdigit():
                user = self._users.get(int(text))
                if user is None:
                    deleted = {"id": int(text), "first_name": "DELETED", "last_name": ""}
                    result.append(deleted | {"deactivated": "deleted"})
                    continue
            else:
                user = next(
                    (u for u in self._users.values() if u.raw["screen_name"] == text), None
                )
                if user is None:
                    raise api_error(113, f"{text} is not a user")
            result.append(self._user_object(user, fields))
        return result

    def _user_object(self, user: VkUser, fields: set[str]) -> dict[str, Any]:
        raw = user.raw
        keys = ["id", "first_name", "last_name", "can_access_closed", "is_closed"]
        obj = {key: raw[key] for key in keys}
        if "screen_name" in fields:
            obj["screen_name"] = raw["screen_name"]
        if "domain" in fields:
            obj["domain"] = raw["screen_name"]
        if "sex" in fields:
            obj["sex"] = raw["sex"]
        for size in ("photo_50", "photo_100", "photo_200"):
            if size in fields:
                obj[size] = "https://vk.ru/images/camera_100.png"
        if "can_write_private_message" in fields:
            obj["can_write_private_message"] = int(user.allowed and not user.blocked)
        return obj

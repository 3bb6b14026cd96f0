"""The VK emulator's community wall: wall.get, read by the real vk_api client with the app's
service key, answers in the schema's shape, in VK's order, and refuses what VK refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import vk_api
from vk_api.exceptions import ApiError

from bot.emulator.vk import VkEmulator
from bot.emulator.vk.spec import validate_object
from bot.platforms.vk import build_api

TOKEN = "vk1.a.test-token"
SERVICE = "f00dfeed0123456789abcdef0123456789abcdef0123456789abcdef01234567"
GROUP = 218000000
OLGA = 5001
MARCH = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
async def emu() -> AsyncIterator[VkEmulator]:
    emulator = VkEmulator(group_id=GROUP, screen_name="vmeste_test", token=TOKEN, service_token=SERVICE)
    await emulator.start()
    yield emulator
    await emulator.stop()


def api(emu: VkEmulator, token: str = SERVICE) -> vk_api.VkApiGroup:
    built = build_api(token, emu.base_url)
    built.RPS_DELAY = 0  # the emulator sets no rate here
    return built


async def wall_get(emu: VkEmulator, token: str = SERVICE, **values: Any) -> dict[str, Any]:
    answer = await asyncio.to_thread(api(emu, token).method, "wall.get", values)
    validate_object("wall/responses.json#/definitions/wall_get_response", {"response": answer})
    return answer


async def test_wall_get_answers_in_the_schemas_shape_pinned_first_then_newest(emu):
    old = emu.wall_post(MARCH - timedelta(days=300), "Rules of the community", likes=50, views=9000, pinned=True)
    first = emu.wall_post(MARCH, "Open day", likes=3, comments=1, reposts=2, views=120)
    second = emu.wall_post(MARCH + timedelta(days=1), "Speech therapy", likes=7, views=80)
    emu.wall_post(MARCH + timedelta(hours=5), "A question", from_id=OLGA)

    answer = await wall_get(emu, owner_id=-GROUP)
    assert answer["count"] == 4
    assert [item["text"] for item in answer["items"]] == ["Rules of the community", "Speech therapy", "A question", "Open day"]
    pinned, newest = answer["items"][0], answer["items"][1]
    assert pinned["is_pinned"] == 1 and "is_pinned" not in newest  # VK marks the pinned post only
    assert newest.items() >= {"id": second.id, "owner_id": -GROUP, "from_id": -GROUP, "date": int(second.date)}.items()
    oldest = answer["items"][-1]
    assert (oldest["likes"]["count"], oldest["comments"]["count"], oldest["reposts"]["count"], oldest["views"]["count"]) == (3, 1, 2, 120)
    assert oldest["id"] == first.id and pinned["id"] == old.id

    first.likes += 1  # counters move as people act
    answer = await wall_get(emu, domain="vmeste_test", filter="owner", offset=2, count=1)
    assert answer["count"] == 3 and [item["id"] for item in answer["items"]] == [first.id]
    assert answer["items"][0]["likes"]["count"] == 4
    assert (await wall_get(emu, owner_id=-GROUP, filter="others"))["items"][0]["from_id"] == OLGA
    assert await wall_get(emu, domain=f"club{GROUP}", filter="postponed") == {"count": 0, "items": []}
    assert emu.rejected == []


async def test_pinning_another_post_unpins_the_first(emu):
    first = emu.wall_post(MARCH, "one", pinned=True)
    second = emu.wall_post(MARCH - timedelta(days=1), "two", pinned=True)
    assert (first.is_pinned, second.is_pinned) == (False, True)
    assert [item["id"] for item in (await wall_get(emu, owner_id=-GROUP))["items"]] == [second.id, first.id]


async def test_extended_wall_get_validates_too(emu):
    emu.user(OLGA, first_name="Olga")
    emu.wall_post(MARCH, "A question", from_id=OLGA)
    answer = await asyncio.to_thread(api(emu).method, "wall.get", {"owner_id": -GROUP, "extended": 1, "fields": "screen_name"})
    validate_object("wall/responses.json#/definitions/wall_get_extended_response", {"response": answer})
    assert [profile["id"] for profile in answer["profiles"]] == [OLGA]
    assert answer["groups"][0]["id"] == GROUP


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"owner_id": -GROUP, "count": 101}, "count should be at most 100"),
        ({"owner_id": GROUP}, f"owner_id {GROUP} is a user's wall: a community's wall is minus its id, -{GROUP}"),
        ({"owner_id": -1}, "owner_id -1: the emulator holds only the community's wall"),
        ({"domain": "somebody_else"}, "domain 'somebody_else'"),
        ({}, "owner_id or domain is required"),
        ({"owner_id": -GROUP, "filter": "newest"}, "filter should be one of"),
    ],
)
async def test_malformed_wall_get_is_refused(emu, values, error):
    with pytest.raises(ApiError) as raised:
        await wall_get(emu, **values)
    assert raised.value.code == 100
    assert error in raised.value.error["error_msg"]
    assert len(emu.rejected) == 1


async def test_tokens_read_only_what_vk_lets_them(emu):
    emu.wall_post(MARCH, "Open day")
    with pytest.raises(ApiError) as raised:
        await wall_get(emu, TOKEN, owner_id=-GROUP)  # the community's token cannot read a wall
    assert (raised.value.code, raised.value.error["error_msg"]) == (27, "Group authorization failed: method is unavailable with group auth.")
    with pytest.raises(ApiError) as raised:  # nor the service key send messages
        await asyncio.to_thread(api(emu).method, "messages.send", {"peer_id": OLGA, "random_id": 1, "message": "x"})
    assert (raised.value.code, raised.value.error["error_msg"]) == (28, "Application authorization failed: method is unavailable with service token.")
    group = await asyncio.to_thread(api(emu).method, "groups.getById", {"group_id": GROUP})  # public data: both may
    assert group["groups"][0]["id"] == GROUP
    with pytest.raises(ApiError) as raised:
        await wall_get(emu, "not-a-key", owner_id=-GROUP)
    assert raised.value.code == 5
    with pytest.raises(ApiError) as raised:
        await asyncio.to_thread(api(emu).method, "wall.getComments", {"owner_id": -GROUP, "post_id": 1})
    assert raised.value.code == 3 and "wall.getComments is known to VK but not emulated" in raised.value.error["error_msg"]

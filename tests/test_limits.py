"""Per-chat limits (bot.delivery.limits.ChatPacer): each kind of chat keeps its own, and a kind
without a limit never waits."""

from __future__ import annotations

import pytest

from bot.delivery.limits import ChatPacer

GROUP = -100


def is_group(chat_id: int) -> bool:
    return chat_id < 0


async def test_a_chat_waits_its_interval_and_another_does_not():
    pacer = ChatPacer(private_rate=1, group_per_minute=20, is_group=is_group)
    assert pacer.reserve(1) == 0.0
    assert 0.9 < pacer.reserve(1) <= 1.0  # the second message to the same person within a second
    assert pacer.reserve(2) == 0.0
    assert pacer.reserve(GROUP) == 0.0
    assert 2.9 < pacer.reserve(GROUP) <= 3.0  # 20 a minute


@pytest.mark.parametrize(("private_rate", "group_per_minute", "free"), [(0, 20, 1), (1, 0, GROUP), (0, 0, 1)])
async def test_a_kind_of_chat_without_a_limit_never_waits(private_rate, group_per_minute, free):
    pacer = ChatPacer(private_rate, group_per_minute, is_group)
    assert [pacer.reserve(free) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert free not in pacer.next_slot

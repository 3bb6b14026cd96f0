"""The centre's VK posts in a report's period: wall_figures reads the community's wall from the VK
emulator over HTTP with the app's service key, pages through it, and sums VK's counters."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, load_settings
from bot.emulator.vk import VkEmulator, WallPost
from bot.services import wall_posts
from bot.services.wall_posts import WallFigures, WallUnavailable, wall_figures

TOKEN = "vk1.a.community-token"
SERVICE = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
GROUP = 218000000
OLGA = 5001
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture
async def vk() -> AsyncIterator[VkEmulator]:
    emulator = VkEmulator(group_id=GROUP, token=TOKEN, service_token=SERVICE)
    await emulator.start()
    yield emulator
    assert emulator.rejected == [], "wall_figures made calls VK would refuse"
    await emulator.stop()


async def figures(vk: VkEmulator, token: str = SERVICE, **options) -> WallFigures:
    return await wall_figures(token, GROUP, SINCE, UNTIL, api_url=vk.base_url, **options)


def summed(posts: list[WallPost]) -> WallFigures:
    return WallFigures(
        posts=len(posts),
        likes=sum(post.likes for post in posts),
        comments=sum(post.comments for post in posts),
        reposts=sum(post.reposts for post in posts),
        views=sum(post.views for post in posts),
    )


def post(vk: VkEmulator, at: datetime, number: int, **options) -> WallPost:
    return vk.wall_post(at, f"post {number}", likes=number % 7, comments=number % 3, reposts=number % 2, views=100 + number, **options)


def offsets(vk: VkEmulator) -> list[int]:
    return [params["offset"] for method, params in vk.calls if method == "wall.get"]


async def test_a_month_of_posts_is_summed_page_by_page_and_reading_stops_past_the_period(vk):
    before = [post(vk, SINCE - timedelta(hours=3 * n), n) for n in range(1, 151)]  # older: 150
    inside = [post(vk, SINCE + timedelta(hours=2 * n), n) for n in range(250)]  # 250 in March, every two hours
    after = [post(vk, UNTIL + timedelta(hours=n), n) for n in range(30)]  # newer: 30

    assert await figures(vk) == summed(inside)
    # 30 newer + 250 inside = 280 posts come first: the third page reaches March's start, and there it stops
    assert offsets(vk) == [0, 100, 200]
    assert [params["count"] for method, params in vk.calls] == [100, 100, 100]
    assert {params["owner_id"] for _, params in vk.calls} == {-GROUP}
    assert len(before) + len(after) == 180  # never counted


async def test_the_period_includes_its_start_and_excludes_its_end(vk):
    first = vk.wall_post(SINCE, "at the start", likes=1, views=10)
    vk.wall_post(SINCE - timedelta(seconds=1), "a second before", likes=100, views=1000)
    last = vk.wall_post(UNTIL - timedelta(seconds=1), "the last second", comments=2, reposts=3)
    vk.wall_post(UNTIL, "at the end", likes=100, views=1000)
    assert await figures(vk) == summed([first, last]) == WallFigures(posts=2, likes=1, comments=2, reposts=3, views=10)


async def test_a_pinned_old_post_neither_stops_the_reading_nor_counts(vk):
    vk.wall_post(SINCE - timedelta(days=400), "Rules of the community", likes=500, comments=40, reposts=90, views=20000, pinned=True)
    inside = [post(vk, SINCE + timedelta(hours=5 * n), n) for n in range(120)]  # more than a page behind it
    assert await figures(vk) == summed(inside)
    assert offsets(vk) == [0, 100]


async def test_a_pinned_post_in_the_period_counts_once(vk):
    inside = [post(vk, SINCE + timedelta(days=n), n) for n in range(10)]
    vk.pin_post(inside[3])
    post(vk, SINCE - timedelta(days=1), 99)
    assert await figures(vk) == summed(inside)


async def test_only_the_communitys_own_posts_count(vk):
    own = vk.wall_post(SINCE + timedelta(days=2), "Open day", likes=4, comments=1, views=50)
    vk.wall_post(SINCE + timedelta(days=3), "a parent's post on the wall", likes=9, views=70, from_id=OLGA)
    assert await figures(vk) == summed([own])


async def test_an_empty_wall_and_an_empty_period(vk):
    assert await figures(vk) == WallFigures()
    vk.wall_post(SINCE - timedelta(days=1), "February")
    vk.wall_post(UNTIL + timedelta(days=1), "April")
    assert await figures(vk) == WallFigures(posts=0, likes=0, comments=0, reposts=0, views=0)


async def test_naive_datetimes_are_utc(vk):
    inside = vk.wall_post(SINCE, "at the start", likes=1)
    naive = await wall_figures(SERVICE, GROUP, SINCE.replace(tzinfo=None), UNTIL.replace(tzinfo=None), api_url=vk.base_url)
    assert naive == summed([inside])


async def test_a_wrong_key_is_one_clear_line_without_the_key(vk):
    with pytest.raises(WallUnavailable) as raised:
        await figures(vk, "not-the-key")
    message = str(raised.value)
    assert message.startswith("VK did not accept VK_SERVICE_TOKEN (error 5)")
    assert "\n" not in message and "not-the-key" not in message
    vk.rejected.clear()  # VK's answer to the wrong key was the point

    with pytest.raises(WallUnavailable) as raised:  # the community's token, where the service key belongs
        await figures(vk, TOKEN)
    assert "VK_SERVICE_TOKEN is a community token (error 27)" in str(raised.value)
    assert TOKEN not in str(raised.value)
    vk.rejected.clear()


async def test_server_errors_and_an_unreachable_vk_are_one_clear_line(vk):
    vk.fail_next("wall.get", http_status=502)
    with pytest.raises(WallUnavailable, match=r"^VK answered wall.get with HTTP 502$"):
        await figures(vk)
    vk.fail_next("wall.get", error_code=10)
    with pytest.raises(WallUnavailable, match=r"^VK refused wall.get \(error 10\)$"):
        await figures(vk)

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(WallUnavailable, match=r"^VK is unreachable \(ConnectionError\)$"):
        await wall_figures(SERVICE, GROUP, SINCE, UNTIL, api_url=f"http://127.0.0.1:{port}")


async def test_a_call_refused_as_too_frequent_is_tried_again(vk, monkeypatch):
    monkeypatch.setattr(wall_posts, "RATE_RETRY_SECONDS", 0)
    inside = vk.wall_post(SINCE, "Open day", likes=2)
    vk.fail_next("wall.get", error_code=6)
    assert await figures(vk) == summed([inside])
    vk.fail_next("wall.get", error_code=6, times=wall_posts.RATE_ATTEMPTS)
    with pytest.raises(WallUnavailable, match=r"too frequent \(error 6\)"):
        await figures(vk)


def test_the_service_key_is_a_secret_setting_beside_the_communitys_id():
    settings = load_settings(env_file=None, VK_SERVICE_TOKEN=SERVICE, VK_GROUP_ID=str(GROUP))
    assert settings.vk_service_token is not None and settings.vk_service_token.get_secret_value() == SERVICE
    assert SERVICE in settings.secrets() and SERVICE not in repr(settings)  # the log hides it
    with pytest.raises(ConfigError, match="VK_GROUP_ID: required with VK_SERVICE_TOKEN"):
        load_settings(env_file=None, VK_SERVICE_TOKEN=SERVICE)

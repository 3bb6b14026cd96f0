"""The centre's posts on its VK community wall in a period, and what people did with them: VK's own
counters of likes, comments, reposts and views, read with wall.get, so nobody counts them by hand.

    if settings.vk_service_token and settings.vk_group_id:
        try:
            wall = await wall_figures(
                settings.vk_service_token.get_secret_value(), settings.vk_group_id, since, until, api_url=settings.vk_api_url
            )
        except WallUnavailable as error:
            note = str(error)  # one line, for the report

wall.get reads a wall with a user token or the VK app's service key (VK_SERVICE_TOKEN): the
community's token (VK_TOKEN) gets error 27 there. The posts counted are the community's own
(filter=owner: what the centre published, not what visitors wrote on its wall) dated
since <= date < until. VK lists the pinned post first, then the rest newest first, so the pages
(100 posts each) are read until one reaches a post older than `since`: a pinned old post at the
top does not stop the reading early. The counters are VK's totals at the time of reading, not what
happened within the period.

vk_api is synchronous: each call runs in a thread. Its own spacing of a key's calls (3 a second,
VkApi.RPS_DELAY) stays on: a service key shares its app's limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import vk_api
from vk_api.exceptions import TOO_MANY_RPS_CODE, ApiError, ApiHttpError, VkApiError

from bot.platforms.vk import VK_API_HOSTS, RedirectAdapter
from bot.platforms.vk_session import VK_API_VERSION

PAGE = 100  # posts per wall.get call: VK's maximum
WALL_FILTER = "owner"  # the community's own posts
RATE_ERRORS = frozenset({6, 9, 29})
RATE_ATTEMPTS = 3  # a call refused as too frequent is made this many times in all,
RATE_RETRY_SECONDS = 1.0  # each again this long after the refusal
UNEXPECTED = "VK answered wall.get in an unexpected form"
# what the one line says for the VK errors an operator can fix
ERROR_NOTES = {
    5: "VK did not accept VK_SERVICE_TOKEN (error 5): copy the service key from the VK app's settings again",
    27: "VK_SERVICE_TOKEN is a community token (error 27): a wall is read with the VK app's service key",
    28: "VK refused the service key for wall.get (error 28)",
    15: "the community's wall is closed to the service key (error 15): open the wall, or check VK_GROUP_ID",
    18: "the community of VK_GROUP_ID is deleted or banned (error 18)",
    30: "the community of VK_GROUP_ID is private (error 30): its wall cannot be read with a service key",
    100: "VK refused the call (error 100): check VK_GROUP_ID",
}


class WallUnavailable(Exception):
    """The wall could not be read. str() is one line for the report: what failed and, where the
    operator can do something, what to do; never the key, never a post's text or an author."""


@dataclass(frozen=True)
class WallFigures:
    """The community's posts in a period and VK's counters under them, summed."""

    posts: int = 0
    likes: int = 0
    comments: int = 0
    reposts: int = 0
    views: int = 0

    def plus(self, post: dict[str, Any]) -> WallFigures:
        return WallFigures(
            posts=self.posts + 1,
            likes=self.likes + _count(post, "likes"),
            comments=self.comments + _count(post, "comments"),
            reposts=self.reposts + _count(post, "reposts"),
            views=self.views + _count(post, "views"),
        )


async def wall_figures(
    token: str,
    community_id: int,
    since: datetime,
    until: datetime,
    *,
    api_url: str | None = None,
    call_timeout: float = 20,
) -> WallFigures:
    """The posts the community (its positive id, VK_GROUP_ID) published on its wall with
    since <= date < until, and the sums of their likes, comments, reposts and views.

    token is the VK app's service key; api_url sends the calls elsewhere than https://api.vk.ru
    (VK_API_URL: a proxy, the local emulator); call_timeout is per call, in seconds (the bot uses
    DELIVERY_TIMEOUT_SECONDS). Naive datetimes are taken as UTC.

    Raises WallUnavailable, whose text is one line for the report, when VK cannot be read."""
    if community_id <= 0:
        raise ValueError("community_id is the community's positive id (VK_GROUP_ID)")
    start, end = _unixtime(since), _unixtime(until)
    api = _build_api(token, api_url, call_timeout)
    try:
        figures = WallFigures()
        counted: set[int] = set()  # a post published while paging moves the rest down: one seen twice counts once
        offset = 0
        while True:
            total, items = _contents(await _wall_page(api, community_id, offset))
            for post in _posts_in(items, start, end):
                if post["id"] not in counted:
                    counted.add(post["id"])
                    figures = figures.plus(post)
            offset += len(items)
            if not items or offset >= total or _reached(items, start):
                return figures
    finally:
        api.http.close()


def _build_api(token: str, api_url: str | None, timeout: float) -> vk_api.VkApi:
    """vk_api as the bot builds it (bot.platforms.vk.build_api: a time-out, VK_API_URL), with a
    service key instead of the community's token."""
    http = requests.Session()
    adapter = RedirectAdapter(api_url, timeout)
    for host in VK_API_HOSTS:
        http.mount(host, adapter)
    api = vk_api.VkApi(token=token, session=http, api_version=VK_API_VERSION)
    api.error_handlers.pop(TOO_MANY_RPS_CODE, None)  # vk_api would retry forever; we retry a few times
    return api


async def _wall_page(api: vk_api.VkApi, community_id: int, offset: int) -> dict[str, Any]:
    values = {"owner_id": -community_id, "offset": offset, "count": PAGE, "filter": WALL_FILTER}
    attempt = 1
    while True:
        try:
            page = await asyncio.to_thread(api.method, "wall.get", values)
        except ApiError as error:
            if error.code in RATE_ERRORS and attempt < RATE_ATTEMPTS:
                attempt += 1
                await asyncio.sleep(RATE_RETRY_SECONDS)
                continue
            raise WallUnavailable(_note(error)) from None
        except ApiHttpError as error:
            raise WallUnavailable(f"VK answered wall.get with HTTP {error.response.status_code}") from None
        except requests.Timeout:
            raise WallUnavailable("VK did not answer wall.get in time") from None
        except requests.JSONDecodeError:
            raise WallUnavailable(UNEXPECTED) from None
        except requests.RequestException as error:  # its text may be long and name hosts: its kind is enough
            raise WallUnavailable(f"VK is unreachable ({type(error).__name__})") from None
        except VkApiError as error:  # a captcha and the like: not for a service key, but say so if it comes
            raise WallUnavailable(f"VK refused wall.get ({type(error).__name__})") from None
        if not isinstance(page, dict):
            raise WallUnavailable(UNEXPECTED)
        return page


def _note(error: ApiError) -> str:
    if error.code in ERROR_NOTES:
        return ERROR_NOTES[error.code]
    if error.code in RATE_ERRORS:
        return f"VK kept refusing wall.get as too frequent (error {error.code}): try again later"
    return f"VK refused wall.get (error {error.code})"


def _contents(page: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The wall's post count and this page's posts."""
    total, items = page.get("count"), page.get("items")
    if not isinstance(total, int) or not isinstance(items, list):
        raise WallUnavailable(UNEXPECTED)
    if not all(isinstance(item, dict) and _is_int(item.get("id")) and _is_int(item.get("date")) for item in items):
        raise WallUnavailable(UNEXPECTED)
    return total, items


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _posts_in(items: Iterable[dict[str, Any]], start: float, end: float) -> Iterable[dict[str, Any]]:
    return (item for item in items if start <= item["date"] < end)


def _reached(items: Iterable[dict[str, Any]], start: float) -> bool:
    """Whether the page got to posts older than the period: after them, only older ones come (the
    pinned post excepted, which VK lists first whatever its date)."""
    return any(item["date"] < start and not item.get("is_pinned") for item in items)


def _count(post: dict[str, Any], counter: str) -> int:
    """A counter under a post; VK leaves out views on old posts and reposts, so absent is 0."""
    value = post.get(counter)
    count = value.get("count") if isinstance(value, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _unixtime(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()

"""Tracked lesson links: a lesson's video link goes out as PUBLIC_URL/w/<row>-<signature>, one per
family (the outbox row the lesson was sent with), so opening it tells the bot whose view it is.
The signature is keyed by LINK_SECRET (or, unset, the bot's token): a guessed row number opens
nothing. Set LINK_SECRET to keep old lessons' links working across a change of token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content
from bot.services.courses import opened_through_link

log = logging.getLogger(__name__)
ROUTE = "/w/{token}"
_TOKEN = re.compile(r"(\d{1,10})-([A-Za-z0-9_-]{16})")


class Links:
    def __init__(self, base_url: str, secret: bytes) -> None:
        self.base_url, self.secret = base_url.rstrip("/"), secret

    @classmethod
    def of(cls, settings: Settings) -> Links | None:
        """None unless PUBLIC_URL is set: the watch button then asks the bot instead."""
        if not settings.public_url:
            return None
        key = settings.link_secret or settings.bot_token or settings.vk_token
        assert key is not None, "settings without a messenger token are refused when loaded"
        return cls(settings.public_url, hashlib.sha256(b"vmeste-links\n" + key.get_secret_value().encode()).digest())

    def signature(self, row_id: int) -> str:
        digest = hmac.new(self.secret, str(row_id).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode()

    def watch(self, row_id: int) -> str:
        return f"{self.base_url}/w/{row_id}-{self.signature(row_id)}"

    def row_of(self, token: str) -> int | None:
        match = _TOKEN.fullmatch(token)
        if match is None or not hmac.compare_digest(match.group(2), self.signature(int(match.group(1)))):
            return None
        return int(match.group(1))


def add_watch_route(
    web_app: web.Application, links: Links, sessionmaker: async_sessionmaker[AsyncSession], content: Content, clock: Clock, language: str
) -> None:
    """GET PUBLIC_URL/w/<token>: count the family's view, then send them on to the video."""
    courses = {course.id: course for course in content.courses}

    async def watch(request: web.Request) -> web.StreamResponse:
        row_id = links.row_of(request.match_info["token"])
        if row_id is None:
            return web.Response(status=404, text=content.texts[language]("lesson.link_unknown"))
        async with sessionmaker() as session:
            found = await opened_through_link(session, row_id, now=clock.now())
            await session.commit()
        course = courses.get(found[0]) if found else None
        if found is None or course is None:
            return web.Response(status=404, text=content.texts[language]("lesson.link_unknown"))
        _course, number, person = found
        lessons = course.lessons.get(person.language) or next(iter(course.lessons.values()))
        video = lessons[number - 1].video if number <= len(lessons) else None
        if not video or not video.startswith(("http://", "https://")):
            return web.Response(status=404, text=content.texts[person.language]("lesson.link_unknown"))
        raise web.HTTPFound(video)

    web_app.router.add_get(ROUTE, watch, allow_head=False)  # a link preview's HEAD is not a view

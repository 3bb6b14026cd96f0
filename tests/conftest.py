"""Fixtures: each scenario runs on Telegram and on VK — the project's own emulator of the platform,
a database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) and the real bot, built by bot.app
and fed over HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, create_app, serve
from bot.clock import ShiftedClock
from bot.config import Settings, load_settings
from tests.helpers import throwaway_postgres
from tests.messengers import Messenger, TelegramMessenger, VkMessenger

ADMIN_ID = 9000


@pytest.fixture(params=["telegram", "vk"])
async def emulator(request) -> AsyncIterator[Messenger]:
    messenger = TelegramMessenger() if request.param == "telegram" else VkMessenger()
    await messenger.start()
    yield messenger
    await messenger.stop()
    invalid = [call for call in messenger.rejected if "message is not modified" not in str(call[-1])]  # a double tap; handled
    assert invalid == [], f"the bot made calls the {messenger.platform} API would reject: {invalid}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}"
        return
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    async with throwaway_postgres(server) as url:
        yield url


def make_settings(emulator: Messenger, database_url: str, **overrides: object) -> Settings:
    # no flood limit unless a test asks for one: scenarios click faster than people (tests/test_flood.py sets it)
    values = emulator.bot_settings() | dict(DATABASE_URL=database_url, ADMINS=f"{ADMIN_ID}, vk:{ADMIN_ID}", FLOOD_MESSAGES="0")
    return load_settings(env_file=None, **(values | overrides))


class RunningBot:
    """The production wiring (create_app + serve) in this event loop, on a clock the test can move
    forward (`running.clock.advance(...)`)."""

    def __init__(self, settings: Settings, clock: ShiftedClock | None = None) -> None:
        self.settings = settings
        self.clock = clock or ShiftedClock()
        self.app: App | None = None

    async def __aenter__(self) -> RunningBot:
        self.app = await create_app(self.settings, clock=self.clock)
        self.bots = self.app.bots
        self.bot = self.bots.all()[0]
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(serve(self.app, self.bots, self.stop))
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=10)
        await self.app.close()

    def session(self) -> AsyncSession:
        return self.app.sessionmaker()

    @property
    def sessionmaker(self):
        return self.app.sessionmaker


@pytest.fixture
async def running_bot(emulator, database_url) -> AsyncIterator[RunningBot]:
    async with RunningBot(make_settings(emulator, database_url)) as running:
        yield running

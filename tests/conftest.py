"""Fixtures: each scenario runs on Telegram and on VK — the project's own emulator of the platform,
a database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) and the real bot, built by bot.app
and fed over HTTP."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.cli import uncollected_imports

with uncollected_imports():  # as the bot's process does: a second less per xdist worker, and cheaper collections after
    from aiogram.client.session.aiohttp import AiohttpSession
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App, Bots, create_app, serve
    from bot.clock import ShiftedClock
    from bot.config import PROJECT_ROOT, Settings, load_settings
    from bot.content import Content, load_content
    from tests.helpers import MigratedTemplates, throwaway_postgres
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


BOTH_DATABASES = "both_databases"
FRESH_DATABASE = "fresh_database"
STARTS_PROCESSES = "starts_processes"
PROCESS_GROUPS = 1  # more would start processes side by side, racing for the cores with the time limits they assert
UNPACED_VK = "unpaced_vk"
UNPACED_VK_SETTINGS = {"DELIVERY_VK_RATE": "0"}  # 0: no pacing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{BOTH_DATABASES}: database_url is SQLite and, when TEST_DATABASE_URL is set, PostgreSQL too "
        "(storage-facing tests: SQL a dialect may treat differently, locks, concurrent claims); unmarked tests run on SQLite only",
    )
    config.addinivalue_line("markers", f"{FRESH_DATABASE}: database_url is an empty database, not migrated (tests of the migrations)")
    config.addinivalue_line(
        "markers",
        f"{STARTS_PROCESSES}: starts Python processes (the bot, the demo, a wheel's install): these run first, at most "
        f"{PROCESS_GROUPS} at a time (xdist groups), so they do not starve each other of the cores or miss their time limits",
    )
    config.addinivalue_line(
        "markers",
        f"{UNPACED_VK}: running_bot's VK bot does not pace its calls at VK's 20 a second (DELIVERY_VK_RATE=0; the emulator "
        "enforces no rate unless the test sets one): for tests of many presses that assert what they leave, not their pace",
    )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """-n auto: a worker more than the cores. Much of a test's time is waiting, not computing (sends
    paced at a platform's rate, retries falling due, a broadcast's control tick): with one worker a
    core, the cores idle for half the run."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that start processes go first, dealt into PROCESS_GROUPS groups that each run one
    test at a time on one xdist worker: at most that many processes start at once, and the long
    ones do not end up last."""
    starting = [item for item in items if item.get_closest_marker(STARTS_PROCESSES)]
    for number, item in enumerate(starting):
        item.add_marker(pytest.mark.xdist_group(f"processes-{number % PROCESS_GROUPS}"))
    items[:] = starting + [item for item in items if not item.get_closest_marker(STARTS_PROCESSES)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        kinds = ["sqlite", "postgresql"] if metafunc.definition.get_closest_marker(BOTH_DATABASES) else ["sqlite"]
        metafunc.parametrize("database_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    in_own_loop(templates.drop())


def in_own_loop(coroutine) -> None:
    """Run a coroutine to its end outside pytest-asyncio's loops (a session fixture's teardown)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, coroutine).result()


@pytest.fixture
async def database_url(request, tmp_path, migrated_templates) -> AsyncIterator[str]:
    """A database for the test alone, migrated to head and empty (tests.helpers.MigratedTemplates),
    or not migrated at all when the test is marked fresh_database."""
    fresh = request.node.get_closest_marker(FRESH_DATABASE) is not None
    if request.param == "sqlite":
        path = tmp_path / "vmeste.db"
        if not fresh:
            await migrated_templates.sqlite_copy(path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    if not fresh:
        yield await migrated_templates.postgres_emptied(server)
        return
    async with throwaway_postgres(server) as url:
        yield url


def make_settings(emulator: Messenger, database_url: str, **overrides: object) -> Settings:
    # no flood limit unless a test asks for one: scenarios click faster than people (tests/test_flood.py sets it)
    values = emulator.bot_settings() | dict(DATABASE_URL=database_url, ADMINS=f"{ADMIN_ID}, vk:{ADMIN_ID}", FLOOD_MESSAGES="0")
    return load_settings(env_file=None, **(values | overrides))


async def close_quickly(bots: Bots) -> None:
    """Bots.close without aiogram's 250 ms wait for TLS connections to close: the emulators speak plain HTTP."""
    for bot in bots.all():
        http = getattr(bot.session, "_session", None) if isinstance(bot.session, AiohttpSession) else None
        if http is not None:
            await http.close()
        else:
            await bot.session.close()


class RunningBot:
    """The production wiring (create_app + serve) in this event loop, on a clock the test can move
    forward (`running.clock.advance(...)`)."""

    def __init__(self, settings: Settings, clock: ShiftedClock | None = None, vk_api_spacing: bool = False) -> None:
        self.settings = settings
        self.clock = clock or ShiftedClock()
        self.vk_api_spacing = vk_api_spacing  # True for the tests of pacing: see unspace_vk_api
        self.app: App | None = None

    async def __aenter__(self) -> RunningBot:
        self.app = await create_app(self.settings, content=shared_content(self.settings), clock=self.clock)
        self.bots = self.app.bots
        if not self.vk_api_spacing:
            unspace_vk_api(self.bots)
        self.bot = self.bots.all()[0]
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(serve(self.app, self.bots, self.stop))
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=10)
        await close_quickly(self.bots)
        await self.app.close()

    def session(self) -> AsyncSession:
        return self.app.sessionmaker()

    @property
    def sessionmaker(self):
        return self.app.sessionmaker


def shared_content(settings: Settings) -> Content | None:
    """The project's own content, loaded once per worker rather than by every bot a test starts
    (30 ms of parsing and checking each time); a test's own CONTENT_DIR is left to create_app."""
    if Path(settings.content_dir).resolve() != (PROJECT_ROOT / "content").resolve():
        return None
    return _content(settings.default_timezone)


@functools.cache
def _content(timezone: str) -> Content:
    return load_content(PROJECT_ROOT / "content", timezone)


@pytest.fixture
async def running_bot(request, emulator, database_url) -> AsyncIterator[RunningBot]:
    unpaced = request.node.get_closest_marker(UNPACED_VK) is not None
    async with RunningBot(make_settings(emulator, database_url, **(UNPACED_VK_SETTINGS if unpaced else {}))) as running:
        yield running


def unspace_vk_api(bots: Bots) -> None:
    """vk_api sleeps to keep 50 ms between two calls of a token (VkApiGroup.RPS_DELAY), besides the
    bot's own pacer (DELIVERY_VK_RATE, which allows VK's 20 calls in any second without spacing
    them): a dialogue would wait 50 ms per call for nothing, the emulator enforcing no rate unless
    the test sets one. The tests of pacing (RunningBot(vk_api_spacing=True) in tests/test_delivery.py
    and tests/test_flood.py) and the bot processes keep it."""
    if bots.vk is not None:
        bots.vk.session.vk.RPS_DELAY = 0


@pytest.fixture
async def both(database_url) -> AsyncIterator[tuple[TelegramMessenger, VkMessenger, RunningBot]]:
    """One bot serving Telegram and VK at once (the cross-platform, linking and clock tests)."""
    telegram, vk = TelegramMessenger(), VkMessenger()
    await telegram.start()
    await vk.start()
    settings = make_settings(telegram, database_url, **vk.bot_settings())
    async with RunningBot(settings) as running:
        yield telegram, vk, running
    await telegram.stop()
    await vk.stop()
    assert telegram.rejected == [] and vk.rejected == []

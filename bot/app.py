"""The composition root: `python -m bot` and the tests build the bot here and nowhere else."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import LANGUAGES, ConfigError, Settings
from bot.content import Content, load_content
from bot.db.engine import create_sessionmaker, open_database
from bot.db.loop_reads import LoopReads
from bot.db.loop_writes import LoopWrites
from bot.delivery.engine import DeliveryEngine
from bot.fsm import build_middleware, build_storage, check_reachable
from bot.links import Links, add_watch_route
from bot.logs import install_privacy_filter
from bot.middlewares import DatabaseSessionMiddleware, IdentityMiddleware, OrmIdentity
from bot.platforms import telegram, vk
from bot.services import chats
from bot.services.chat_activity import ActivityCounter
from bot.services.staff import apply_admins
from bot.throttling import FloodGate, FloodNotice, MemoryFloodLimiter
from handlers import build_routers
from handlers.courses.common import LessonFiles
from scheduler import build_scheduler

log = logging.getLogger(__name__)
# each command of the menu and the text key of its description
COMMANDS = {
    "start": "commands.start",
    "menu": "commands.menu",
    "courses": "commands.courses",
    "chats": "commands.chats",
    "ask": "commands.ask",
    "myquestions": "commands.myquestions",
    "language": "commands.language",
    "link": "commands.link",
    "mydata": "commands.mydata",
    "help": "commands.help",
}


@dataclass
class App:
    settings: Settings
    content: Content
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    bots: Bots
    delivery: DeliveryEngine
    clock: Clock
    reads: LoopReads | None = None
    writes: LoopWrites | None = None

    async def close(self) -> None:
        await self.bots.close()
        await self.dispatcher.storage.close()
        if self.reads is not None:
            self.reads.close()
        if self.writes is not None:
            self.writes.close()
        await self.engine.dispose()


async def create_app(settings: Settings, content: Content | None = None, engine: AsyncEngine | None = None, clock: Clock | None = None) -> App:
    """Wire the bots, the delivery engine and the dispatcher over the content and the migrated
    database (loaded and opened here unless the caller did it already); no messenger calls yet.
    `clock` is the one source of "now"."""
    install_privacy_filter(settings.secrets())
    clock = clock or SystemClock()
    content = content or load_content(settings.content_dir, settings.default_timezone)
    engine = engine or await open_database(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    await apply_admins_setting(sessionmaker, settings, clock)
    bots = Bots.from_settings(settings)
    delivery = DeliveryEngine(sessionmaker, bots.by_platform(), settings, clock=clock)
    activity = ActivityCounter(ZoneInfo(settings.default_timezone))
    scheduler = build_scheduler(sessionmaker, clock, bots.by_platform(), content, settings, wake=delivery.wake, activity=activity)
    reads, writes = LoopReads.of(engine), LoopWrites.of(engine)
    dispatcher = build_dispatcher(
        settings, content, sessionmaker, scheduler, clock, reads, delivery=delivery, bots=bots.by_platform(), chat_activity=activity, writes=writes
    )
    app = App(settings, content, engine, sessionmaker, dispatcher, scheduler, bots, delivery, clock, reads, writes)
    try:
        await check_reachable(dispatcher.storage)
    except ConfigError:
        await app.close()
        raise
    return app


async def apply_admins_setting(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
    """ADMINS decides who is admin at every start, both ways."""
    async with sessionmaker() as session:
        granted, revoked = await apply_admins(session, settings.admin_accounts, now=clock.now())
        await session.commit()
    log.info("ADMINS: admin granted to %d people, revoked from %d", granted, revoked)


def build_dispatcher(
    settings: Settings,
    content: Content,
    sessionmaker: async_sessionmaker[AsyncSession],
    scheduler: AsyncIOScheduler | None = None,
    clock: Clock | None = None,
    reads: LoopReads | None = None,
    **workflow_data: Any,
) -> Dispatcher:
    """`clock` and `workflow_data` reach every handler and startup hook (delivery, bots). `reads`:
    the identity read (and a few other indexed reads) on the loop's thread, for a SQLite file
    (bot.db.loop_reads)."""
    clock = clock or SystemClock()
    storage = build_storage(settings.redis_url, sessionmaker)
    # aiogram's own FSM middleware would run first, before the update's session exists: ours
    # runs after it (bot.fsm), so the state is read and written in the update's transaction.
    workflow_data.setdefault("chat_activity", ActivityCounter(ZoneInfo(settings.default_timezone)))  # a dispatcher without the app's scheduler counts alone
    dispatcher = Dispatcher(
        storage=storage, disable_fsm=True, settings=settings, content=content, clock=clock, reads=reads, lesson_files=LessonFiles(), **workflow_data
    )
    flood_notice = FloodNotice()
    if settings.flood_messages:  # before the database session: a dropped update costs no database work
        dispatcher.update.outer_middleware(FloodGate(MemoryFloodLimiter(settings.flood_messages, settings.flood_seconds)))
    dispatcher.update.outer_middleware(DatabaseSessionMiddleware(sessionmaker, clock))
    dispatcher.update.outer_middleware(IdentityMiddleware(content, settings, storage, reads))  # reads the FSM state too when it can
    dispatcher.update.outer_middleware(build_middleware(storage))
    dispatcher.update.outer_middleware(flood_notice)  # after the identity: the notice speaks the person's language
    dispatcher.shutdown.register(flood_notice.close)
    for name, observer in dispatcher.observers.items():  # inner: round every handler of every router
        if name not in ("update", "error"):  # errors are handled after the update's session is closed
            observer.middleware(OrmIdentity())
    dispatcher.include_routers(*build_routers())
    if scheduler is not None:
        attach_scheduler(dispatcher, scheduler)
    return dispatcher


def attach_scheduler(dispatcher: Dispatcher, scheduler: AsyncIOScheduler) -> None:
    """The scheduler lives exactly as long as the dispatcher runs (async hooks: aiogram runs sync ones in a thread)."""

    async def start() -> None:
        scheduler.start()

    async def stop() -> None:
        scheduler.shutdown(wait=False)

    dispatcher.startup.register(start)
    dispatcher.shutdown.register(stop)


async def set_commands(bot: Bot, content: Content, settings: Settings) -> None:
    """The command list in each user's language, and the default language for everyone else."""
    for language in (*LANGUAGES, None):
        texts = content.texts[language or settings.default_language]
        commands = [BotCommand(command=name, description=texts(key)) for name, key in COMMANDS.items()]
        await bot.set_my_commands(commands, language_code=language)


async def ask_for_rights(bot: Bot) -> None:
    """What Telegram suggests to whoever makes the bot a group's administrator: the parent chats' needs."""
    try:
        await bot.set_my_default_administrator_rights(rights=chats.rights_to_ask())
    except TelegramAPIError as error:  # a courtesy: the coordinators still hear what a chat lacks
        log.warning("the bot's default administrator rights were not set (%s)", type(error).__name__)


@dataclass
class Bots:
    telegram: Bot | None = None
    vk: Bot | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Bots:
        return cls(
            telegram=telegram.build_bot(settings) if settings.bot_token else None,
            vk=vk.build_bot(settings) if settings.vk_token else None,
        )

    def all(self) -> list[Bot]:
        return [bot for bot in (self.telegram, self.vk) if bot is not None]

    def by_platform(self) -> dict[str, Bot]:
        return {platform: bot for platform, bot in (("telegram", self.telegram), ("vk", self.vk)) if bot is not None}

    async def close(self) -> None:
        for bot in self.all():
            await bot.session.close()


async def check_bot(bot: Bot, token: str, url_variable: str, url: str | None, default_url: str, attempts: int = 3) -> None:
    """Fail fast, in one line naming the variables and the server tried, on a rejected token or an
    unreachable API server."""
    for attempt in range(attempts):
        try:
            me = await bot.me()
            log.info("running as @%s", me.username)
            return
        except TelegramUnauthorizedError:
            raise ConfigError(f"config error: {token}: the API server rejected the token — issue a new one and set {token}") from None
        except TelegramNetworkError as error:
            if attempt + 1 == attempts:
                raise ConfigError(unreachable(url_variable, url, default_url, error)) from None
            await asyncio.sleep(1 + attempt)


def unreachable(url_variable: str, url: str | None, default_url: str, error: Exception) -> str:
    if url:
        return f"config error: {url_variable}: cannot reach the API server at {url} ({error}) — check {url_variable} and the network"
    return (
        f"config error: {url_variable} (not set, so {default_url} was tried): cannot reach the API server ({error}) "
        f"— check this machine's network, or set {url_variable} to an API server it can reach"
    )


async def serve(app: App, bots: Bots, stop: asyncio.Event) -> None:
    """Feed the one dispatcher from every configured platform until `stop` is set."""
    settings, dispatcher = app.settings, app.dispatcher
    web_app = web.Application()
    loops = []
    if bots.telegram:
        await set_commands(bots.telegram, app.content, settings)
        await ask_for_rights(bots.telegram)
        if settings.webhook_url:
            telegram.add_webhook(web_app, bots.telegram, dispatcher, settings)
        else:
            loops.append(telegram.poll(bots.telegram, dispatcher, stop))
    if bots.vk:
        if settings.vk_confirmation_code:
            vk.add_callback(web_app, bots.vk, dispatcher, settings)
        else:
            loops.append(vk.poll(bots.vk, dispatcher, app.sessionmaker, stop))
    links = Links.of(settings)
    if links is not None:  # lesson videos open through the bot's own address, which counts each family's view
        add_watch_route(web_app, links, app.sessionmaker, app.content, app.clock, settings.default_language)
    loops.append(app.delivery.run(stop))
    hooks = {"dispatcher": dispatcher, "bots": bots.all(), **dispatcher.workflow_data}
    await dispatcher.emit_startup(**hooks)
    runner = await start_web(web_app, settings) if web_app.router.routes() else None
    try:
        if bots.telegram and settings.webhook_url:
            await telegram.start_webhook(bots.telegram, dispatcher, settings)
        await asyncio.gather(stop.wait(), *loops)
    finally:
        if runner is not None:
            await runner.cleanup()
        await dispatcher.emit_shutdown(**hooks)


async def start_web(web_app: web.Application, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    log.info("listening on %s:%s", settings.webhook_host, settings.webhook_port)
    return runner


# An update allocates a few thousand objects that die with it: at the default of 700 the collector
# ran several young collections per update, about a tenth of the CPU of a /menu (bench/updates.py).
# In a burst, the updates in flight keep tens of thousands alive at once: at 10,000 each young
# collection walked them and moved them on to the next generation's, a tenth of a question's CPU;
# at 50,000 a burst of 2,000 questions is collected about once (a few megabytes waiting at most).
YOUNG_COLLECTION_OBJECTS = 50_000


def freeze_startup_heap() -> None:
    """What start-up built (content, mappers, compiled statements) lives as long as the process:
    the garbage collector's full collections need not walk it again each time (a fifth of an
    update's CPU under load, measured by bench/updates.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_OBJECTS, *gc.get_threshold()[1:])


async def run(settings: Settings, content: Content | None = None, engine: AsyncEngine | None = None) -> None:
    settings.require_platform()
    app = await create_app(settings, content, engine)
    freeze_startup_heap()
    bots = app.bots
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        if bots.telegram:
            await check_bot(bots.telegram, "BOT_TOKEN", "TELEGRAM_API_URL", settings.telegram_api_url, telegram.DEFAULT_API_URL)
        if bots.vk:
            await check_bot(bots.vk, "VK_TOKEN", "VK_API_URL", settings.vk_api_url, vk.DEFAULT_API_URL)
        await serve(app, bots, stop)
    finally:
        await app.close()
    log.info("stopped cleanly")

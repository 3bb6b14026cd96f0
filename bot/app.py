"""The composition root: `python -m bot` and the tests build the bot here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, ConfigError, Settings
from bot.content import Content, load_content
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade
from bot.middlewares import DatabaseSessionMiddleware, IdentityMiddleware
from bot.platforms import telegram
from handlers import build_routers
from scheduler import build_scheduler

log = logging.getLogger(__name__)
COMMANDS = ("start", "menu", "language", "mydata", "help")


@dataclass
class App:
    settings: Settings
    content: Content
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler

    async def close(self) -> None:
        await self.engine.dispose()


async def create_app(settings: Settings) -> App:
    """Load content, migrate the database and wire the dispatcher; no network yet."""
    content = load_content(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    except OSError as error:
        raise ConfigError(f"config error: DATABASE_URL: cannot open the database ({error}) — check the host, port and credentials") from None
    sessionmaker = create_sessionmaker(engine)
    scheduler = build_scheduler(sessionmaker)
    return App(settings, content, engine, sessionmaker, build_dispatcher(settings, content, sessionmaker, scheduler), scheduler)


def build_dispatcher(settings: Settings, content: Content, sessionmaker: async_sessionmaker[AsyncSession], scheduler: AsyncIOScheduler | None = None) -> Dispatcher:
    dispatcher = Dispatcher(settings=settings, content=content)
    dispatcher.update.outer_middleware(DatabaseSessionMiddleware(sessionmaker))
    dispatcher.update.outer_middleware(IdentityMiddleware(content, settings))
    dispatcher.include_routers(*build_routers())
    if scheduler is not None:
        attach_scheduler(dispatcher, scheduler)
    dispatcher.startup.register(set_commands)
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
        commands = [BotCommand(command=name, description=texts(f"commands.{name}")) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=language)


async def check_bot(bot: Bot, settings: Settings, attempts: int = 3) -> None:
    """Fail fast, in one line, on a rejected token or an unreachable API server."""
    for attempt in range(attempts):
        try:
            me = await bot.get_me()
            log.info("running as @%s", me.username)
            return
        except TelegramUnauthorizedError:
            raise ConfigError("config error: BOT_TOKEN: the Bot API server rejected the token — copy it again from @BotFather") from None
        except TelegramNetworkError as error:
            if attempt + 1 == attempts:
                where = f"TELEGRAM_API_URL: cannot reach {settings.telegram_api_url}" if settings.telegram_api_url else "cannot reach api.telegram.org"
                raise ConfigError(f"config error: {where} ({error}) — check the URL and the network") from None
            await asyncio.sleep(1 + attempt)


async def run(settings: Settings) -> None:
    settings.require_platform()
    app = await create_app(settings)
    bot = telegram.build_bot(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await check_bot(bot, settings)
        if settings.webhook_url:
            await telegram.run_webhook(bot, app.dispatcher, settings, stop)
        else:
            await telegram.run_polling(bot, app.dispatcher, stop)
    finally:
        await bot.session.close()
        await app.close()
    log.info("stopped cleanly")

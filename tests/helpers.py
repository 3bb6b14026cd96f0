"""Steps a scenario test takes as a user would, and reads of what the database holds."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import PROJECT_ROOT, async_database_url
from bot.content import load_content
from bot.db.engine import create_engine
from bot.db.migrate import upgrade

CONTENT = load_content(PROJECT_ROOT / "content")
TEXTS = CONTENT.texts
LANGUAGE_NAMES = {"ru": "Русский", "ro": "Română", "en": "English"}


def button_texts(message) -> list[str]:
    return [text for row in message.buttons for text, _ in row]


async def step(emulator, action):
    """Do a user action and wait until the bot has handled it."""
    result = action()
    await emulator.settle()
    return result


async def register(emulator, user, language: str = "en", district: str | None = "cherepovets-district", age: str | None = "4-7"):
    """A parent goes through /start, language, consent and the two questions; someone in ADMINS is
    not asked them (staff are not parents unless they say so) and stops at the menu."""
    texts = TEXTS[language]
    await step(emulator, lambda: user.send("/start"))
    await step(emulator, lambda: user.click(LANGUAGE_NAMES[language]))
    await step(emulator, lambda: user.click(texts("consent.accept")))
    if user.last.text != texts("profile.district_prompt"):
        return
    district_label = CONTENT.find(CONTENT.districts, district).label(language) if district else texts("profile.skip")
    await step(emulator, lambda: user.click(district_label))
    age_label = CONTENT.find(CONTENT.age_groups, age).label(language) if age else texts("profile.skip")
    await step(emulator, lambda: user.click(age_label))


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


class throwaway_postgres:
    """A new, empty database on a PostgreSQL server (any URL to it), dropped afterwards."""

    def __init__(self, server_url: str, prefix: str = "vmeste_test") -> None:
        self.server = make_url(async_database_url(server_url))
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def _admin(self, statement: str) -> None:
        engine = create_async_engine(self.server, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    @property
    def url(self) -> str:
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    async def __aenter__(self) -> str:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *exc) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class MigratedTemplates:
    """The schema at head, migrated once per test process (each xdist worker has its own): a SQLite
    file copied for every test, and a PostgreSQL database emptied for every test (creating and
    dropping a database costs about 0.9 s; emptying its tables about 30 ms)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: throwaway_postgres | None = None

    async def sqlite_copy(self, path: Path) -> None:
        if self._sqlite is None:
            template = self.folder / "template.db"
            await migrate(f"sqlite+aiosqlite:///{template}")
            self._sqlite = template
        shutil.copyfile(self._sqlite, path)

    async def postgres_emptied(self, server_url: str) -> str:
        """This process's PostgreSQL database at head, every table empty and every id sequence
        back at 1, as a freshly migrated one."""
        if self._postgres is None:
            database = throwaway_postgres(server_url)
            await database.__aenter__()
            await migrate(database.url)
            self._postgres = database
        else:
            await empty_tables(self._postgres.url)
        return self._postgres.url

    async def drop(self) -> None:
        if self._postgres is not None:
            await self._postgres.__aexit__(None, None, None)


async def empty_tables(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL lock_timeout = '10s'"))  # a test's connection left open fails loudly, not forever
        found = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))
        tables = ", ".join(f'"{table}"' for table in found.scalars())
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    await engine.dispose()  # SQLite: folds the WAL into the file, so a copy of the file is whole

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


async def register(emulator, user, language: str = "en", district: str | None = "north", age: str | None = "4-7"):
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
    """A new database on a PostgreSQL server (any URL to it), dropped afterwards: empty, or a copy
    of `template` (a database nobody is connected to)."""

    def __init__(self, server_url: str, template: str | None = None, prefix: str = "vmeste_test") -> None:
        self.server = make_url(async_database_url(server_url))
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.template = template

    async def _admin(self, statement: str) -> None:
        engine = create_async_engine(self.server, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    @property
    def url(self) -> str:
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    async def __aenter__(self) -> str:
        copy = f' TEMPLATE "{self.template}"' if self.template else ""
        await self._admin(f'CREATE DATABASE "{self.name}"{copy}')
        return self.url

    async def __aexit__(self, *exc) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class MigratedTemplates:
    """The schema at head, migrated once per test process (each xdist worker has its own) and
    copied for every test: a SQLite file, and a PostgreSQL template database when asked for."""

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

    async def postgres_template(self, server_url: str) -> str:
        if self._postgres is None:
            template = throwaway_postgres(server_url, prefix="vmeste_template")
            await template.__aenter__()
            await migrate(template.url)
            self._postgres = template
        return self._postgres.name

    async def drop(self) -> None:
        if self._postgres is not None:
            await self._postgres.__aexit__(None, None, None)


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    await engine.dispose()  # SQLite: folds the WAL into the file; PostgreSQL: a template must have no connections

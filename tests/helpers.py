"""Steps a scenario test takes as a user would, and reads of what the database holds."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import PROJECT_ROOT, async_database_url
from bot.content import load_content

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
    """A new database on a PostgreSQL server (any URL to it), dropped afterwards."""

    def __init__(self, server_url: str) -> None:
        self.server = make_url(async_database_url(server_url))
        self.name = f"vmeste_test_{uuid.uuid4().hex[:12]}"

    async def _admin(self, statement: str) -> None:
        engine = create_async_engine(self.server, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    async def __aenter__(self) -> str:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    async def __aexit__(self, *exc) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

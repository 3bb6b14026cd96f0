"""Steps a scenario test takes as a user would, and reads of what the database holds."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.config import PROJECT_ROOT
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
    """A parent goes through /start, language, consent and the two questions."""
    texts = TEXTS[language]
    await step(emulator, lambda: user.send("/start"))
    await step(emulator, lambda: user.click(LANGUAGE_NAMES[language]))
    await step(emulator, lambda: user.click(texts("consent.accept")))
    district_label = CONTENT.find(CONTENT.districts, district).label(language) if district else texts("profile.skip")
    await step(emulator, lambda: user.click(district_label))
    age_label = CONTENT.find(CONTENT.age_groups, age).label(language) if age else texts("profile.skip")
    await step(emulator, lambda: user.click(age_label))


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))

"""Conversation state (bot.fsm): kept in the database or in Redis, one per platform and user, and
shared by every multi-step question: the broadcast composer's and any other feature's."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa
from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import Message
from sqlalchemy import select

import bot.app
import bot.fsm
from bot.config import ConfigError, load_settings
from bot.db.engine import create_engine, create_sessionmaker, open_database
from bot.db.migrate import upgrade
from bot.db.models import Campaign, ConversationState, utcnow
from bot.fsm import DatabaseStorage, build_storage, conversation, forget_conversations
from handlers.broadcasts import Composing
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import TEXTS, count, register, step, throwaway_postgres
from tests.messengers import TELEGRAM_TOKEN

T = TEXTS["en"]
BOT_ID = 42


@pytest.fixture
def redis_url(monkeypatch) -> str:
    """TEST_REDIS_URL, with keys of this test's own (the server is shared with other runs)."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    monkeypatch.setattr(bot.fsm, "KEY_PREFIX", f"fsm-test-{uuid.uuid4().hex[:12]}")
    return url


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
async def new_storage(request, tmp_path) -> AsyncIterator[Callable[[], BaseStorage]]:
    """Builds a storage over the same place each time, as a restarted bot would."""
    async with AsyncExitStack() as stack:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}"
        if request.param == "postgresql":
            server = os.environ.get("TEST_DATABASE_URL") or pytest.skip("TEST_DATABASE_URL is not set")
            database_url = await stack.enter_async_context(throwaway_postgres(server))
        engine = await open_database(database_url)
        stack.push_async_callback(engine.dispose)
        url = request.getfixturevalue("redis_url") if request.param == "redis" else None
        built: list[BaseStorage] = []

        def make() -> BaseStorage:
            built.append(build_storage(url, create_sessionmaker(engine)))
            return built[-1]

        yield make
        if url:
            redis = built[0].redis
            keys = [key async for key in redis.scan_iter(match=f"{bot.fsm.KEY_PREFIX}:*")]
            if keys:
                await redis.delete(*keys)
        for storage in built:
            await storage.close()


async def test_a_telegram_user_and_a_vk_user_with_the_same_id_are_two_people(new_storage):
    storage = new_storage()
    on_telegram = conversation(storage, "telegram", BOT_ID, chat_id=123, user_id=123)
    on_vk = conversation(storage, "vk", BOT_ID, chat_id=123, user_id=123)

    await on_telegram.set_state("Composing:text")
    await on_telegram.set_data({"draft_id": 7})
    assert await on_vk.get_state() is None and await on_vk.get_data() == {}

    await on_vk.set_state("Asking:question")
    assert await on_telegram.get_state() == "Composing:text"
    await on_telegram.clear()
    assert await on_telegram.get_state() is None and await on_telegram.get_data() == {}
    assert await on_vk.get_state() == "Asking:question"


async def test_deleting_a_persons_data_deletes_their_redis_keys_and_nobody_elses(redis_url, tmp_path):
    """people.forget deletes the database's rows; on Redis "delete my data" finds the keys by user."""
    engine = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}")
    storage = build_storage(redis_url, create_sessionmaker(engine))
    try:
        leaving = [conversation(storage, "telegram", BOT_ID, chat_id=77, user_id=77), conversation(storage, "vk", BOT_ID, chat_id=78, user_id=78)]
        staying = conversation(storage, "vk", BOT_ID, chat_id=77, user_id=77)  # another person: the same id on VK
        for state in (*leaving, staying):
            await state.set_state("Composing:text")
            await state.update_data(draft_id=1)
        await forget_conversations(storage, [("telegram", 77), ("vk", 78)])
        assert [await state.get_state() for state in leaving] == [None, None]
        assert [await state.get_data() for state in leaving] == [{}, {}]
        assert await staying.get_state() == "Composing:text"
        await staying.clear()
    finally:
        await storage.close()
        await engine.dispose()


async def test_the_state_outlives_the_storage(new_storage):
    first = new_storage()
    await conversation(first, "vk", BOT_ID, chat_id=55, user_id=55).set_state("Composing:button")
    await conversation(first, "vk", BOT_ID, chat_id=55, user_id=55).update_data(draft_id=3)
    again = conversation(new_storage(), "vk", BOT_ID, chat_id=55, user_id=55)
    assert await again.get_state() == "Composing:button" and await again.get_data() == {"draft_id": 3}


async def test_a_key_without_the_platform_is_refused(new_storage):
    with pytest.raises(TypeError, match="platform"):
        await new_storage().get_state(StorageKey(bot_id=BOT_ID, chat_id=123, user_id=123))


async def test_a_cleared_state_leaves_no_row(tmp_path):
    engine = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}")
    sessionmaker = create_sessionmaker(engine)
    state = conversation(DatabaseStorage(sessionmaker), "telegram", BOT_ID, chat_id=9, user_id=9)
    await state.set_state("Composing:text")
    await state.set_data({"draft_id": 1})
    async with sessionmaker() as session:
        assert await count(session, ConversationState) == 1
    await state.clear()
    async with sessionmaker() as session:
        assert await count(session, ConversationState) == 0
    await engine.dispose()


# a second feature with a free-text question of its own

class Asking(StatesGroup):
    question = State()


def questions_router() -> Router:
    """A parent's question in two steps: /ask, then any text is the question."""
    router = Router(name="questions")

    @router.message(Command("ask"))
    async def ask(message: Message, state: FSMContext) -> None:
        await state.set_state(Asking.question)
        await message.answer("What is your question?")

    @router.message(StateFilter(Asking.question))
    async def take_question(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(f"Noted: {message.text}")

    return router


async def test_a_second_free_text_catcher_coexists_with_the_composers(emulator, database_url, monkeypatch):
    """The other catcher goes first and catches any text, yet only in its own state; the composer
    answers only in its: each takes its own answers and no one else's."""
    production_routers = bot.app.build_routers
    monkeypatch.setattr(bot.app, "build_routers", lambda: [questions_router(), *production_routers()])
    async with RunningBot(make_settings(emulator, database_url)) as running:
        admin = emulator.user(ADMIN_ID, language_code="en")
        await register(emulator, admin)
        await step(emulator, lambda: admin.send("/broadcasts"))
        await step(emulator, lambda: admin.click(T("broadcast.new")))
        await step(emulator, lambda: admin.send("Open day on Saturday"))
        assert "Broadcast draft" in admin.last.text  # the composer's, not "Noted"

        await step(emulator, lambda: admin.send("/ask"))
        await step(emulator, lambda: admin.send("Is there parking?"))
        assert admin.last.text == "Noted: Is there parking?"
        async with running.session() as session:
            draft = await session.scalar(select(Campaign).where(Campaign.status == "draft"))
            assert draft.text == "Open day on Saturday"  # the question did not reach the draft

        await step(emulator, lambda: admin.send("Just chatting"))
        assert admin.last.text == T("fallback.text")  # nobody's question is open: the fallback answers


def test_a_redis_url_mistake_is_one_line():
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=None, BOT_TOKEN=TELEGRAM_TOKEN, REDIS_URL="127.0.0.1:6379")
    assert str(error.value).startswith("config error: REDIS_URL: is not a Redis URL") and "\n" not in str(error.value)


async def test_a_redis_that_does_not_answer_is_a_config_error_at_start(tmp_path):
    settings = load_settings(env_file=None, BOT_TOKEN=TELEGRAM_TOKEN, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'vmeste.db'}", REDIS_URL="redis://127.0.0.1:1/0")
    with pytest.raises(ConfigError, match=r"^config error: REDIS_URL: cannot reach Redis"):
        await bot.app.create_app(settings)


@pytest.mark.fresh_database
async def test_migration_0008_carries_a_waiting_question_over(database_url):
    """A 0007 draft waiting for its link button keeps waiting: its step becomes its author's state."""
    engine = create_engine(database_url)
    await upgrade(engine, "0007")
    campaigns = sa.table(
        "campaigns",
        sa.column("id"),
        sa.column("kind"),
        sa.column("status"),
        sa.column("step"),
        sa.column("text"),
        sa.column("media_ids", sa.JSON()),
        sa.column("buttons", sa.JSON()),
        sa.column("audience", sa.JSON()),
        sa.column("origin_platform"),
        sa.column("origin_chat_id"),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    common = dict(kind="broadcast", text="Hello", media_ids={}, buttons=[], audience={}, created_at=utcnow())
    async with engine.begin() as connection:
        await connection.execute(
            campaigns.insert(),
            [
                dict(id=1, status="draft", step="button", origin_platform="vk", origin_chat_id=123, **common),
                dict(id=2, status="draft", step=None, origin_platform="telegram", origin_chat_id=456, **common),  # on its card: no question
                dict(id=3, status="scheduled", step=None, origin_platform="telegram", origin_chat_id=123, **common),
            ],
        )
    await upgrade(engine)
    state = conversation(DatabaseStorage(create_sessionmaker(engine)), "vk", BOT_ID, chat_id=123, user_id=123)
    assert await state.get_state() == Composing.button.state and await state.get_data() == {"draft_id": 1}
    async with create_sessionmaker(engine)() as session:
        assert await count(session, ConversationState) == 1
    await engine.dispose()

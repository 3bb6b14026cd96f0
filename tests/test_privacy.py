"""Privacy: personal screens stay in the private chat, deletion leaves nothing that points back to
the person, and the log holds no personal data or secret."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiogram.types import Update
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.cli import configure_logging
from bot.config import ConfigError, load_settings
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Account, Base, Campaign, ConsentRecord, ConversationState, Event, InviteCode, LinkCode, OutboxMessage, Person, Role, as_utc
from bot.services.people import role_names
from handlers.broadcasts import Broadcast
from handlers.invites import InviteFor
from handlers.menu import AgeChoice, DistrictChoice
from handlers.ui import LanguageChoice, MenuAction
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, count, register, step
from tests.messengers import TELEGRAM_TOKEN, VK_TOKEN, TelegramMessenger, VkMessenger
from tests.test_delivery import add_parents, broadcast, finished

EN = TEXTS["en"]
PRIVATE_SCREENS = [
    MenuAction(action=action).pack()
    for action in ("home", "settings", "my_data", "link", "language", "district", "age", "delete", "delete_yes", "broadcasts", "invite")
] + [
    DistrictChoice(district="vologda").pack(),
    AgeChoice(age="0-3").pack(),
    InviteFor(role="coordinator").pack(),
    Broadcast(action="new").pack(),
    LanguageChoice(language="ru").pack(),
]


async def test_personal_screens_open_only_in_the_private_chat(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, first_name="Ana", language_code="en")
    await register(emulator, admin)  # an admin is asked no parent questions: give them a profile to leak
    async with running_bot.session() as session:
        await session.execute(update(Person).values(district="cherepovets-district", child_age_group="4-7"))
        await session.commit()
    group = emulator.group("Parents of the Northern district")
    group.send(admin, emulator.group_command("start"))
    await emulator.settle()
    in_group = list(group.bot_messages)
    assert in_group, "the bot answered /start in the group"
    answers_before = len(admin.callback_answers)

    for data in PRIVATE_SCREENS:
        emulator.press_in_group(group, admin, data)
    await emulator.settle()

    assert [answer.text for answer in admin.callback_answers[answers_before:]] == [EN("privacy.private_only")] * len(PRIVATE_SCREENS)
    district = CONTENT.find(CONTENT.districts, "cherepovets-district").label("en")
    assert [message.text for message in group.bot_messages] == [message.text for message in in_group]  # nothing edited, nothing new
    assert not any(district in (message.text or "") or str(ADMIN_ID) in (message.text or "") for message in group.bot_messages)
    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.district, person.child_age_group, person.language) == ("cherepovets-district", "4-7", "en")  # not deleted, not changed
        assert await count(session, InviteCode) == 0

    await step(emulator, lambda: emulator.press(admin, MenuAction(action="my_data").pack()))  # the same press in private works
    assert district in admin.last.text


def old_table(name: str, *columns: sa.Column) -> sa.TableClause:
    return sa.table(name, *columns)


@pytest.mark.both_databases
@pytest.mark.fresh_database
async def test_migration_0006_moves_events_to_pseudonyms_and_keeps_every_row(database_url):
    """A 0005 database: person 1 holds an id SQLite gave again (an earlier holder's event comes
    before they registered), person 3 was deleted before; a detached consent has exact times."""
    t0 = datetime(2026, 11, 1, 9, 30, 15, 123456, tzinfo=UTC)
    at = sa.DateTime(timezone=True)
    people = old_table("people", sa.column("id"), sa.column("language"), sa.column("created_at", at))
    accounts = old_table("accounts", sa.column("id"), sa.column("person_id"), sa.column("platform"), sa.column("external_id"), sa.column("created_at", at))
    roles = old_table("roles", sa.column("person_id"), sa.column("role"), sa.column("specialty"), sa.column("granted_at", at))
    events = old_table("events", sa.column("person_id"), sa.column("kind"), sa.column("at", at))
    consents = old_table(
        "consent_records", sa.column("person_id"), sa.column("platform"), sa.column("text_version"), sa.column("text_language"),
        sa.column("text_sha256"), sa.column("decision"), sa.column("decided_at", at), sa.column("withdrawn_at", at),
    )
    campaigns = old_table(
        "campaigns", sa.column("created_by"), sa.column("kind"), sa.column("status"), sa.column("text"), sa.column("media_ids", sa.JSON()),
        sa.column("buttons", sa.JSON()), sa.column("audience", sa.JSON()), sa.column("origin_platform"), sa.column("origin_chat_id"),
        sa.column("status_message_id"), sa.column("created_at", at),
    )
    engine = create_engine(database_url)
    await upgrade(engine, "0005")
    async with engine.begin() as connection:
        await connection.execute(people.insert(), [dict(id=1, language="en", created_at=t0), dict(id=2, language="ru", created_at=t0)])
        await connection.execute(
            accounts.insert(),
            [
                dict(id=1, person_id=1, platform="telegram", external_id=501, created_at=t0),
                dict(id=2, person_id=2, platform="vk", external_id=502, created_at=t0),
            ],
        )
        await connection.execute(
            roles.insert(), [dict(person_id=1, role="parent", specialty="", granted_at=t0), dict(person_id=2, role="admin", specialty="", granted_at=t0)]
        )
        await connection.execute(
            events.insert(),
            [
                dict(person_id=1, kind="registered", at=t0 - timedelta(days=3)),  # the earlier holder of id 1
                dict(person_id=1, kind="registered", at=t0 + timedelta(milliseconds=1)),
                dict(person_id=2, kind="registered", at=t0 + timedelta(milliseconds=2)),
                dict(person_id=3, kind="registered", at=t0 - timedelta(days=5)),
                dict(person_id=3, kind="account_linked", at=t0 - timedelta(days=4)),
            ],
        )
        consent = dict(platform="vk", text_version="v1", text_language="en", text_sha256="0" * 64, decision="accepted")
        await connection.execute(
            consents.insert(),
            [
                dict(consent, person_id=None, decided_at=t0 - timedelta(days=5), withdrawn_at=t0 - timedelta(days=4)),
                dict(consent, person_id=1, decided_at=t0, withdrawn_at=None),
            ],
        )
        await connection.execute(
            campaigns.insert(),
            [
                dict(
                    created_by=None,
                    kind="broadcast",
                    status="scheduled",
                    text="hi",
                    media_ids={},
                    buttons=[],
                    audience={},
                    origin_platform="telegram",
                    origin_chat_id=503,
                    status_message_id=7,
                    created_at=t0,
                )
            ],
        )
        if connection.dialect.name == "postgresql":  # the ids above were given by hand
            await connection.execute(sa.text("SELECT setval('people_id_seq', 2), setval('accounts_id_seq', 2)"))
    await upgrade(engine)

    async with create_sessionmaker(engine)() as session:
        pseudonyms = dict((await session.execute(select(Person.id, Person.pseudonym))).all())
        assert len(set(pseudonyms.values())) == 2 and all(len(value) == 32 for value in pseudonyms.values())
        assert await count(session, Account) == 2 and await count(session, Role) == 2  # the rebuild cascaded into nothing
        owners = [(event.kind, event.pseudonym) for event in await session.scalars(select(Event).order_by(Event.at))]
        assert owners[3:] == [("registered", pseudonyms[1]), ("registered", pseudonyms[2])]
        (_, deleted_registered), (_, deleted_linked), (_, earlier_holder) = owners[:3]
        assert deleted_registered == deleted_linked  # one deleted person stays one in the counts
        assert len({deleted_registered, earlier_holder, *pseudonyms.values()}) == 4
        detached = await session.scalar(select(ConsentRecord).where(ConsentRecord.person_id.is_(None)))
        assert (as_utc(detached.decided_at), as_utc(detached.withdrawn_at)) == (datetime(2026, 10, 27, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC))
        campaign = await session.scalar(select(Campaign))
        assert (campaign.origin_platform, campaign.origin_chat_id, campaign.status_message_id) == (None, None, None)
        await session.delete(await session.get(Person, 2))
        await session.commit()
        newcomer = Person(language="en")
        session.add(newcomer)
        await session.commit()
        assert newcomer.id == 3  # not 2 again
    await downgrade(engine, "0005")
    async with engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT count(*) FROM events WHERE person_id = 1"))).scalar() == 1
    await engine.dispose()


COORDINATOR_TG, COORDINATOR_VK, NEWCOMER_TG = 7300411529, 730411533, 7300411547
AFTER_THE_BROADCAST = datetime(2100, 1, 1, tzinfo=UTC)  # the waiting message's time, after the broadcast scheduled for 2099


@pytest.fixture
async def both(database_url) -> AsyncIterator[tuple[TelegramMessenger, VkMessenger, RunningBot]]:
    """One bot on both messengers; the coordinator to be deleted is an admin too (ADMINS)."""
    telegram, vk = TelegramMessenger(), VkMessenger()
    await telegram.start()
    await vk.start()
    settings = make_settings(telegram, database_url, **vk.bot_settings(), ADMINS=f"{ADMIN_ID}, {COORDINATOR_TG}")
    async with RunningBot(settings) as running:
        yield telegram, vk, running
    await telegram.stop()
    await vk.stop()
    assert telegram.rejected == [] and vk.rejected == []


async def coordinator_with_a_trail(telegram, vk, running):
    """Invited by the admin, linked to VK, an admin themselves who invites someone, with a scheduled
    broadcast from Telegram, a draft on VK, a live link code and a message waiting in the outbox."""
    admin = telegram.user(ADMIN_ID, first_name="Ana", language_code="en")
    await register(telegram, admin)
    await register(telegram, telegram.user(7300400001, first_name="Olga", language_code="en"))  # a parent the broadcast is for
    await step(telegram, lambda: admin.send("/invite coordinator"))
    code = telegram.invite_code_in(admin.last.text)
    on_telegram = telegram.user(COORDINATOR_TG, first_name="Corina", language_code="en")
    await step(telegram, lambda: telegram.open_start_link(on_telegram, code))
    await step(telegram, lambda: on_telegram.click("English"))
    await step(telegram, lambda: on_telegram.click(EN("consent.accept")))
    await step(telegram, lambda: on_telegram.send("/link"))
    link_code = re.search(r"/link ([A-Z0-9]{8})", on_telegram.last.text).group(1)
    on_vk = vk.user(COORDINATOR_VK, first_name="Corina")
    await step(vk, lambda: on_vk.send(f"/link {link_code}"))
    assert on_vk.last.text.startswith(EN("link.linked"))
    await step(telegram, lambda: on_telegram.send("/link"))  # a second, live code
    await step(telegram, lambda: on_telegram.send("/invite specialist psychologist"))
    assert telegram.invite_code_in(on_telegram.last.text)

    await step(telegram, lambda: on_telegram.send("/broadcasts"))
    await step(telegram, lambda: on_telegram.click(EN("broadcast.new")))
    await step(telegram, lambda: on_telegram.send("Open day next year"))
    await step(telegram, lambda: on_telegram.click(EN("broadcast.do_send")))
    await step(telegram, lambda: on_telegram.click(EN("broadcast.do_schedule")))
    await step(telegram, lambda: on_telegram.send("2099-01-01 10:00"))
    await step(telegram, lambda: on_telegram.click(EN("broadcast.do_confirm")))
    await step(vk, lambda: on_vk.send("/broadcasts"))
    await step(vk, lambda: on_vk.click(EN("broadcast.new")))

    async with running.session() as session:
        person = await session.scalar(select(Person).join(Account).where(Account.external_id == COORDINATOR_TG))
        accounts = (await session.scalars(select(Account).where(Account.person_id == person.id))).all()
        assert {(account.platform, account.external_id) for account in accounts} == {("telegram", COORDINATOR_TG), ("vk", COORDINATOR_VK)}
        assert set(role_names(person)) == {"coordinator", "admin"}
        waiting = Campaign(text="Later", status="scheduled", send_at=AFTER_THE_BROADCAST, media_ids={}, buttons=[], audience={})
        session.add(waiting)
        await session.flush()
        telegram_account = next(account for account in accounts if account.platform == "telegram")
        session.add(
            OutboxMessage(
                campaign_id=waiting.id,
                person_id=person.id,
                account_id=telegram_account.id,
                platform="telegram",
                chat_id=COORDINATOR_TG,
                next_attempt_at=AFTER_THE_BROADCAST,
            )
        )
        await session.commit()
        for table in (Account, Role, Campaign, InviteCode, LinkCode, OutboxMessage, ConsentRecord, ConversationState):  # the scan sees them
            assert rows_naming(await all_rows(session, table), person.id, {a.id for a in accounts}, {COORDINATOR_TG, COORDINATOR_VK}), table
        return on_telegram, on_vk, person, {account.id for account in accounts}


async def all_rows(session, table) -> list[tuple[sa.Column, object]]:
    table = getattr(table, "__table__", table)
    return [(column, value) for row in (await session.execute(sa.select(table))).all() for column, value in zip(table.columns, row, strict=True)]


def rows_naming(cells, person_id: int, account_ids: set[int], messenger_ids: set[int]) -> list[str]:
    """Every cell that names the person: their id in a column that refers to people, an account id
    in one that refers to accounts, a messenger id in any number or text."""
    found = []
    patterns = [re.compile(rf"(?<!\d){value}(?!\d)") for value in messenger_ids]
    for column, value in cells:
        if value is None:
            continue
        targets = {key.column.table.name for key in column.foreign_keys}
        names_person = "people" in targets or column.name in ("person_id", "created_by", "used_by")
        if (names_person and value == person_id) or ("accounts" in targets and value in account_ids):
            found.append(f"{column.table.name}.{column.name}")
        elif isinstance(value, int) and value in messenger_ids:
            found.append(f"{column.table.name}.{column.name}")
        elif isinstance(value, (str, dict, list)) and any(pattern.search(json.dumps(value) if not isinstance(value, str) else value) for pattern in patterns):
            found.append(f"{column.table.name}.{column.name}")
    return found


def to_the_millisecond(moment: datetime) -> datetime:
    return as_utc(moment).replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.mark.both_databases
async def test_deletion_leaves_nothing_that_points_back_and_a_newcomer_inherits_nothing(both):
    telegram, vk, running = both
    on_telegram, on_vk, person, account_ids = await coordinator_with_a_trail(telegram, vk, running)
    async with running.session() as session:
        kinds_before = Counter((await session.scalars(select(Event.kind))).all())
        own_events = await count(session, Event, Event.pseudonym == person.pseudonym)

    await step(vk, lambda: on_vk.send("/mydata"))
    await step(vk, lambda: on_vk.click(EN("my_data.delete")))
    await step(vk, lambda: on_vk.click(EN("my_data.delete_yes")))
    assert on_vk.last.text == EN("my_data.deleted")

    newcomer = telegram.user(NEWCOMER_TG, first_name="Nadia", language_code="en")
    await register(telegram, newcomer)
    await step(telegram, lambda: newcomer.send("/mydata"))
    assert f"telegram {NEWCOMER_TG}" in newcomer.last.text and "vk" not in newcomer.last.text
    seen_by_coordinator = [(message.text, message.edited) for message in on_telegram.bot_messages]

    async with running.session() as session:  # the scheduled broadcast goes out, with nobody to report to
        scheduled = await session.scalar(select(Campaign).where(Campaign.text == "Open day next year"))
    running.clock.advance(as_utc(scheduled.send_at) - running.clock.now() + timedelta(seconds=1))
    running.app.dispatcher["delivery"].wake()
    await finished(running, scheduled.id)
    await telegram.settle()
    assert newcomer.last.text == "Open day next year"
    assert [(message.text, message.edited) for message in on_telegram.bot_messages] == seen_by_coordinator

    async with running.session() as session:
        new_person = await session.scalar(select(Person).join(Account).where(Account.external_id == NEWCOMER_TG))
        assert new_person.id > person.id  # never an id given before
        assert [event.kind for event in await session.scalars(select(Event).where(Event.pseudonym == new_person.pseudonym))] == ["registered"]
        assert await count(session, Person, Person.pseudonym == person.pseudonym) == 0
        assert await count(session, Event, Event.pseudonym == person.pseudonym) == own_events  # the counts stay
        kinds_after = Counter((await session.scalars(select(Event.kind))).all())
        assert kinds_after - kinds_before == Counter({"consent_withdrawn": 1, "registered": 1})
        detached = (await session.scalars(select(ConsentRecord).where(ConsentRecord.person_id.is_(None)))).all()
        assert len(detached) == 1
        event_times = {to_the_millisecond(moment) for moment in await session.scalars(select(Event.at))}
        assert {to_the_millisecond(detached[0].decided_at), to_the_millisecond(detached[0].withdrawn_at)}.isdisjoint(event_times)
        for table in Base.metadata.sorted_tables:
            assert rows_naming(await all_rows(session, table), person.id, account_ids, {COORDINATOR_TG, COORDINATOR_VK}) == [], table.name


PARENT_ID, OTHER_PARENT_ID = 1630517241, 1630517293
NAMES = ("Zinovia", "Parascheva")
DATABASE_PASSWORD = "pg-Secret-4711"
CHATTY_LOGGERS = (
    "aiogram",
    "aiogram.event",
    "aiogram.dispatcher",
    "sqlalchemy",
    "sqlalchemy.engine",
    "vk_api",
    "aiohttp",
    "urllib3",
    "asyncio",
    "alembic",
    "apscheduler",
    "bot",
    "handlers",
)


def with_password(database_url: str) -> str:
    """PostgreSQL here trusts local connections, so a password in the URL is accepted and ignored."""
    url = make_url(database_url)
    return url.set(password=DATABASE_PASSWORD).render_as_string(hide_password=False) if url.get_backend_name() == "postgresql" else database_url


@pytest.mark.both_databases
@pytest.mark.fresh_database
async def test_the_log_holds_no_personal_data_or_secret_at_any_level(emulator, database_url, caplog):
    configure_logging("DEBUG")  # what `python -m bot run` does, at its most talkative
    for name in (None, *CHATTY_LOGGERS):
        caplog.set_level(logging.DEBUG, logger=name)
    async with RunningBot(make_settings(emulator, with_password(database_url))) as running:
        parent = emulator.user(PARENT_ID, first_name=NAMES[0], language_code="en")
        await register(emulator, parent)  # a registration, with button presses
        await step(emulator, lambda: parent.click(EN("menu.my_data")))
        emulator.fail_sends("server")
        await step(emulator, lambda: parent.send("/menu"))  # an error in a handler: the platform refused
        async with running.session() as session:  # a failed SQL statement: the accounts lookup fails
            await session.execute(sa.text("ALTER TABLE accounts RENAME TO accounts_away"))
            await session.commit()
        await step(emulator, lambda: parent.send("/menu"))
        async with running.session() as session:
            await session.execute(sa.text("ALTER TABLE accounts_away RENAME TO accounts"))
            await session.commit()
        other = (await add_parents(running, emulator, [OTHER_PARENT_ID]))[0]
        other.raw["first_name"] = NAMES[1]
        await finished(running, await broadcast(running, "Meeting on Friday"))  # a broadcast
        await emulator.settle()
        assert other.last.text == "Meeting on Friday"

    log = caplog.text
    assert "update" in log and "Traceback" in log  # the capture saw the failures
    for secret in (*map(str, (PARENT_ID, OTHER_PARENT_ID)), *NAMES, TELEGRAM_TOKEN, VK_TOKEN, DATABASE_PASSWORD):
        assert secret not in log, f"{secret!r} is in the log:\n" + "\n".join(line for line in log.splitlines() if secret in line)[:3000]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://vmeste:{DATABASE_PASSWORD}@db.example:notaport/vmeste",
        f"mysql://vmeste:{DATABASE_PASSWORD}@db.example/vmeste",
        f"vmeste:{DATABASE_PASSWORD}@db.example/vmeste",
        f"postgresql://vmeste:{DATABASE_PASSWORD}@127.0.0.1:1/vmeste",  # well formed, nobody listening
    ],
)
async def test_a_database_url_mistake_never_shows_the_password(url, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as raised:
        settings = load_settings(env_file=None, DATABASE_URL=url, BOT_TOKEN=TELEGRAM_TOKEN)
        app = await create_app(settings)
        await app.close()
    message = str(raised.value)
    assert message.startswith("config error: DATABASE_URL:") and "\n" not in message
    assert DATABASE_PASSWORD not in message and DATABASE_PASSWORD not in caplog.text


def test_the_privacy_filter_hides_secrets_that_look_like_themselves(caplog):
    configure_logging("INFO")
    caplog.set_level(logging.INFO)
    logging.getLogger("aiohttp.client").warning(
        "cannot reach %s",
        f"https://lp.vk.example/wh123?act=a_check&key=f00dbabe42&ts=7 nor http://x/bot{TELEGRAM_TOKEN}/getMe nor postgresql://u:{DATABASE_PASSWORD}@db/v",
    )
    assert (
        caplog.records[-1].getMessage()
        == "cannot reach https://lp.vk.example/wh123?act=a_check&key=***&ts=7 nor http://x/bot***/getMe nor postgresql://u:***@db/v"
    )
    try:
        Update.model_validate(
            {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": PARENT_ID, "type": "private"}, "from": {"id": "x", "first_name": NAMES[0]}}}
        )
    except ValidationError:
        logging.getLogger("bot.platforms").exception("update failed")
    assert "Traceback" in caplog.text and str(PARENT_ID) not in caplog.text and NAMES[0] not in caplog.text

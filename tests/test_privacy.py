"""Privacy: personal screens stay in the private chat, deletion leaves nothing that points back to
the person, and the log holds no personal data or secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Account, Campaign, ConsentRecord, Event, InviteCode, Person, Role, as_utc
from handlers.broadcasts import Broadcast
from handlers.invites import InviteFor
from handlers.menu import AgeChoice, DistrictChoice
from handlers.ui import LanguageChoice, MenuAction
from tests.conftest import ADMIN_ID
from tests.helpers import CONTENT, TEXTS, count, register, step

EN = TEXTS["en"]
PRIVATE_SCREENS = [
    MenuAction(action=action).pack()
    for action in ("home", "settings", "my_data", "link", "language", "district", "age", "delete", "delete_yes", "broadcasts", "invite")
] + [
    DistrictChoice(district="south").pack(),
    AgeChoice(age="0-3").pack(),
    InviteFor(role="coordinator").pack(),
    Broadcast(action="new").pack(),
    LanguageChoice(language="ru").pack(),
]


async def test_personal_screens_open_only_in_the_private_chat(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, first_name="Ana", language_code="en")
    await register(emulator, admin, district="north", age="4-7")
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
    district = CONTENT.find(CONTENT.districts, "north").label("en")
    assert [message.text for message in group.bot_messages] == [message.text for message in in_group]  # nothing edited, nothing new
    assert not any(district in (message.text or "") or str(ADMIN_ID) in (message.text or "") for message in group.bot_messages)
    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.district, person.child_age_group, person.language) == ("north", "4-7", "en")  # not deleted, not changed
        assert await count(session, InviteCode) == 0

    await step(emulator, lambda: emulator.press(admin, MenuAction(action="my_data").pack()))  # the same press in private works
    assert district in admin.last.text


def old_table(name: str, *columns: sa.Column) -> sa.TableClause:
    return sa.table(name, *columns)


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
        await connection.execute(accounts.insert(), [dict(id=1, person_id=1, platform="telegram", external_id=501, created_at=t0), dict(id=2, person_id=2, platform="vk", external_id=502, created_at=t0)])
        await connection.execute(roles.insert(), [dict(person_id=1, role="parent", specialty="", granted_at=t0), dict(person_id=2, role="admin", specialty="", granted_at=t0)])
        await connection.execute(events.insert(), [
            dict(person_id=1, kind="registered", at=t0 - timedelta(days=3)),  # the earlier holder of id 1
            dict(person_id=1, kind="registered", at=t0 + timedelta(milliseconds=1)),
            dict(person_id=2, kind="registered", at=t0 + timedelta(milliseconds=2)),
            dict(person_id=3, kind="registered", at=t0 - timedelta(days=5)),
            dict(person_id=3, kind="account_linked", at=t0 - timedelta(days=4)),
        ])
        consent = dict(platform="vk", text_version="v1", text_language="en", text_sha256="0" * 64, decision="accepted")
        await connection.execute(consents.insert(), [
            dict(consent, person_id=None, decided_at=t0 - timedelta(days=5), withdrawn_at=t0 - timedelta(days=4)),
            dict(consent, person_id=1, decided_at=t0, withdrawn_at=None),
        ])
        await connection.execute(campaigns.insert(), [dict(
            created_by=None, kind="broadcast", status="scheduled", text="hi", media_ids={}, buttons=[], audience={},
            origin_platform="telegram", origin_chat_id=503, status_message_id=7, created_at=t0,
        )])
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

"""Time moves in the tests, rows stay as the bot wrote them: the one clock (bot.clock) decides when an
invite or a link code runs out, when a scheduled broadcast is due and when old update ids go."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, Campaign, ProcessedUpdate, Role, as_utc
from bot.services.audiences import ALL_PARENTS
from bot.services.linking import LINK_CODE_TTL
from scheduler import PROCESSED_UPDATES_KEPT, prune_processed_updates
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import TEXTS, count, register, step
from tests.test_delivery import add_parents, finished, received
from tests.test_invites import admin_creates_invite
from tests.test_linking import make_code, messengers

EN = TEXTS["en"]
MINUTE = timedelta(minutes=1)


async def test_an_invite_works_until_the_clock_passes_its_expiry(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, language_code="en")
    await register(emulator, admin)
    code = await admin_creates_invite(emulator, admin, EN("roles.head"))
    ttl = timedelta(hours=running_bot.settings.invite_ttl_hours)

    running_bot.clock.advance(ttl - MINUTE)  # a minute before it runs out: the link works
    invitee = emulator.user(2301, language_code="en")
    await step(emulator, lambda: emulator.open_start_link(invitee, code))
    assert [message.text for message in invitee.bot_messages] == [EN("language.prompt")]
    await step(emulator, lambda: invitee.click("English"))

    running_bot.clock.advance(2 * MINUTE)  # they read the consent text past its time
    await step(emulator, lambda: invitee.click(EN("consent.accept")))
    assert EN("invite.expired") in [message.text for message in invitee.bot_messages]
    latecomer = emulator.user(2302, language_code="en")
    await step(emulator, lambda: emulator.open_start_link(latecomer, code))
    assert [message.text for message in latecomer.bot_messages] == [EN("invite.expired"), EN("language.prompt")]
    async with running_bot.session() as session:
        assert await count(session, Role, Role.role == "head") == 0


@pytest.mark.parametrize("origin", ["telegram", "vk"])
async def test_a_link_code_works_until_the_clock_passes_its_expiry(both, origin):
    first, second, running = messengers(both, origin)
    early, late = first.user(6601, language_code="en"), first.user(6602, language_code="en")
    await register(first, early)
    await register(first, late)
    early_code, late_code = await make_code(first, early), await make_code(first, late)

    running.clock.advance(LINK_CODE_TTL - MINUTE)
    on_time = second.user(7601)
    await step(second, lambda: on_time.send(f"/link {early_code}"))
    assert on_time.last.text.startswith(EN("link.linked"))

    running.clock.advance(2 * MINUTE)
    too_late = second.user(7602)
    await step(second, lambda: too_late.send(f"/link {late_code}"))
    assert too_late.last.text == EN("linking.refused")
    async with running.session() as session:
        assert await count(session, Account, Account.external_id == on_time.id) == 1
        assert await count(session, Account, Account.external_id == too_late.id) == 0

    await step(first, lambda: late.send("/link"))  # a new code, good for LINK_CODE_TTL from the clock's now
    await step(second, lambda: too_late.send(f"/link {re.search(r'/link ([A-Z0-9]{8})', late.last.text).group(1)}"))
    assert too_late.last.text.startswith(EN("link.linked"))


async def test_a_scheduled_broadcast_goes_out_when_the_clock_passes_its_send_time(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url)) as running:
        parents = await add_parents(running, emulator, range(5701, 5706))
        send_at = running.clock.now() + timedelta(days=1)
        async with running.session() as session:
            campaign = Campaign(text="The spring fair is open", audience=dict(ALL_PARENTS), status="scheduled", send_at=send_at, media_ids={}, buttons=[])
            session.add(campaign)
            await session.commit()
        campaign_id, delivery = campaign.id, running.app.dispatcher["delivery"]

        await delivery.start_due()  # the engine's own look at what is due, a day early
        async with running.session() as session:
            assert (await session.get(Campaign, campaign_id)).status == "scheduled"
        assert sum(received(parent, "The spring fair is open") for parent in parents) == 0

        running.clock.advance(timedelta(days=1, seconds=1))
        delivery.wake()
        campaign = await finished(running, campaign_id)
        await emulator.settle()
        assert campaign.status == "done"
        assert as_utc(campaign.started_at) >= send_at  # stamped by the clock, not the wall
        assert [received(parent, "The spring fair is open") for parent in parents] == [1] * len(parents)


async def test_old_update_ids_are_pruned_when_the_clock_passes_their_keep(emulator, running_bot):
    await step(emulator, lambda: emulator.user(2401, language_code="en").send("/start"))
    async with running_bot.session() as session:
        kept = await count(session, ProcessedUpdate)
    assert kept >= 1
    assert await prune_processed_updates(running_bot.sessionmaker, running_bot.clock) == 0

    running_bot.clock.advance(PROCESSED_UPDATES_KEPT + MINUTE)
    assert await prune_processed_updates(running_bot.sessionmaker, running_bot.clock) == kept
    async with running_bot.session() as session:
        assert (await session.scalars(select(ProcessedUpdate))).all() == []

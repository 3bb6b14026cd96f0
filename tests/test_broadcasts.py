"""A coordinator composes, previews, sends, schedules and cancels broadcasts, on Telegram and on VK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, Campaign, OutboxMessage, Person, Role, utcnow
from bot.platforms.vk_format import plain_text
from bot.services.audiences import ALL_PARENTS
from handlers.broadcasts import Broadcast
from tests.conftest import ADMIN_ID, RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, register, step
from tests.test_delivery import add_parents, finished, statuses
from tests.test_fsm import redis_url  # noqa: F401 (a fixture)
from tests.test_run import wait_for

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
DISTRICT = CONTENT.find(CONTENT.districts, "cherepovets-district").label("en")


def shown(key: str, **values) -> str:
    """A text as the user sees it: without the HTML tags."""
    return plain_text(T(key, **values), "HTML")


async def open_new_draft(emulator, admin) -> None:
    await register(emulator, admin)
    await step(emulator, lambda: admin.send("/broadcasts"))
    assert admin.last.text == shown("broadcast.list_title") + "\n\n" + T("broadcast.list_empty")
    await step(emulator, lambda: admin.click(T("broadcast.new")))
    assert admin.last.text == T("broadcast.ask_text")


async def last_campaign(running) -> Campaign:
    async with running.session() as session:
        return await session.scalar(select(Campaign).order_by(Campaign.id.desc()).limit(1))


async def test_compose_choose_district_preview_and_send(emulator, running_bot):
    in_district = await add_parents(running_bot, emulator, [8001, 8002, 8004], district="cherepovets-district")
    elsewhere = await add_parents(running_bot, emulator, [8003], district="cherepovets")
    admin = emulator.user(ADMIN_ID, language_code="en")
    await open_new_draft(emulator, admin)

    await step(emulator, lambda: admin.send("Webinar on Friday at 18:00 & a Q&A"))
    assert "Broadcast draft" in admin.last.text and "4 people" in admin.last.text  # four parents; the admin is not one

    await step(emulator, lambda: admin.click(T("broadcast.do_button")))
    await step(emulator, lambda: admin.send("no link here"))
    assert admin.last.text == T("broadcast.button_invalid")
    await step(emulator, lambda: admin.send("Sign up - https://example.org/signup"))
    assert "Sign up" in admin.last.text

    await step(emulator, lambda: admin.click(T("broadcast.do_audience")))
    await step(emulator, lambda: admin.click(T("broadcast.by_district")))
    await step(emulator, lambda: admin.click(DISTRICT))
    assert f"✓ {DISTRICT}" in button_texts(admin.last)
    await step(emulator, lambda: admin.click(T("menu.back")))
    await step(emulator, lambda: admin.click(T("broadcast.audience_done")))
    assert "3 people" in admin.last.text

    await step(emulator, lambda: admin.click(T("broadcast.do_preview")))
    preview = admin.bot_messages[-2]
    assert preview.text == "Webinar on Friday at 18:00 & a Q&A"
    assert preview.buttons == [[("Sign up", "https://example.org/signup")]]

    await step(emulator, lambda: admin.click(T("broadcast.do_send")))
    await step(emulator, lambda: admin.click(T("broadcast.do_now")))
    assert admin.last.text.startswith(shown("broadcast.confirm", count=3, audience=f"{T('roles.parent')} · {DISTRICT}", when=T("broadcast.now")))
    status = admin.last  # the confirmation becomes the status message
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    campaign = await finished(running_bot, (await last_campaign(running_bot)).id)
    await wait_for(lambda: "done" in status.text and admin.last is not status, timeout=5)  # the summary and the notice follow the commit
    await emulator.settle()

    for parent in in_district:
        assert parent.last.text == "Webinar on Friday at 18:00 & a Q&A"
        assert parent.last.buttons == [[("Sign up", "https://example.org/signup")]]
    assert elsewhere[0].bot_messages == []
    assert campaign.status == "done"
    final = status.text  # edited in place
    assert "done" in final and "sent 3" in final
    assert admin.last.text == final  # and a new message, so the coordinator is notified

    before = len(emulator.sends())
    again = Broadcast(action="confirm", id=campaign.id).pack()
    await step(emulator, lambda: emulator.press(admin, again))  # a double tap, or the old button pressed a week later
    assert admin.callback_answers[-1].text == T("fallback.button_outdated")
    assert len(emulator.sends()) == before

    await step(emulator, lambda: admin.send("/broadcasts"))
    assert f"#{campaign.id}" in admin.last.text and "✅ 3" in admin.last.text


async def test_schedule_then_cancel(emulator, running_bot):
    parents = await add_parents(running_bot, emulator, [8101, 8102])
    admin = emulator.user(ADMIN_ID, language_code="en")
    await open_new_draft(emulator, admin)
    await step(emulator, lambda: admin.send("Meeting next year"))
    await step(emulator, lambda: admin.click(T("broadcast.do_send")))
    await step(emulator, lambda: admin.click(T("broadcast.do_schedule")))
    await step(emulator, lambda: admin.send("yesterday"))
    assert admin.last.text == T("broadcast.time_invalid")
    await step(emulator, lambda: admin.send("2099-01-01 10:00"))
    when = T.date_time(datetime(2099, 1, 1, 10, 0, tzinfo=UTC))  # in the centre's zone (UTC here) and the reader's language
    assert when in admin.last.text
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    assert admin.last.text == T("broadcast.status_scheduled", id=(await last_campaign(running_bot)).id, when=when)

    await step(emulator, lambda: admin.click(T("broadcast.do_cancel")))
    assert admin.callback_answers[-1].text == T("broadcast.cancelled")
    campaign = await last_campaign(running_bot)
    assert campaign.status == "cancelled" and campaign.finished_at is not None
    assert all(parent.bot_messages == [] for parent in parents)
    await step(emulator, lambda: emulator.press(admin, Broadcast(action="cancel", id=campaign.id).pack()))  # a double tap
    assert admin.callback_answers[-1].text == T("fallback.button_outdated")


async def test_photo_broadcast_and_too_long_caption(emulator, running_bot):
    parents = await add_parents(running_bot, emulator, [8201])
    admin = emulator.user(ADMIN_ID, language_code="en")
    await open_new_draft(emulator, admin)
    await step(emulator, lambda: admin.send_photo(caption="x" * 1100))
    assert admin.last.text == T("broadcast.text_too_long", limit=1024)
    await step(emulator, lambda: admin.send_photo(caption="Our new hall"))
    assert T("broadcast.media_photo") in admin.last.text
    await step(emulator, lambda: admin.click(T("broadcast.do_send")))
    await step(emulator, lambda: admin.click(T("broadcast.do_now")))
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    await finished(running_bot, (await last_campaign(running_bot)).id)
    await emulator.settle()
    received = parents[0].last
    assert received.caption == "Our new hall" if emulator.platform == "telegram" else received.text == "Our new hall"
    assert emulator.platform != "telegram" or received.raw.get("photo")


@pytest.mark.parametrize("storage", ["database", "redis"])
async def test_a_half_written_broadcast_survives_a_restart(emulator, database_url, storage, request):
    """Stopped while the composer waits for a link button; the next bot, on the same database (and
    Redis), takes the next message as that button."""
    overrides = {"REDIS_URL": request.getfixturevalue("redis_url")} if storage == "redis" else {}
    settings = make_settings(emulator, database_url, **overrides)
    admin = emulator.user(ADMIN_ID, language_code="en")
    async with RunningBot(settings):
        await open_new_draft(emulator, admin)
        await step(emulator, lambda: admin.send("Registration is open"))
        await step(emulator, lambda: admin.click(T("broadcast.do_button")))
        assert admin.last.text == T("broadcast.ask_button")

    async with RunningBot(settings) as running:
        await step(emulator, lambda: admin.send("Sign up - https://example.org/signup"))
        assert "Broadcast draft" in admin.last.text and "Sign up" in admin.last.text
        draft = await last_campaign(running)
        assert draft.status == "draft" and draft.text == "Registration is open"
        assert draft.buttons == [["Sign up", "https://example.org/signup"]]


async def add_staff(running, emulator, user_id: int, role: str) -> tuple:
    async with running.sessionmaker() as session:
        person = Person(language="en", roles=[Role(role=role)], accounts=[Account(platform=emulator.platform, external_id=user_id)])
        session.add(person)
        await session.commit()
    return emulator.user(user_id, language_code="en"), person


async def test_a_head_cancels_a_coordinators_running_broadcast_another_coordinator_may_not(emulator, running_bot):
    running = running_bot
    parents = await add_parents(running, emulator, [7501, 7502])
    author, coordinator = await add_staff(running, emulator, 7401, "coordinator")
    other, _ = await add_staff(running, emulator, 7402, "coordinator")
    head, _ = await add_staff(running, emulator, 7403, "head")
    campaign_id = await running_broadcast(running, emulator.platform, coordinator, author, parents)
    cancel = Broadcast(action="cancel", id=campaign_id).pack()
    for staff in (other, head):
        await step(emulator, lambda staff=staff: staff.send("/broadcasts"))  # a screen of the bot's to press on

    await step(emulator, lambda: emulator.press(other, cancel))
    assert other.callback_answers[-1].text == T("fallback.button_outdated")
    assert (await last_campaign(running)).status == "sending"

    await step(emulator, lambda: emulator.press(head, cancel))
    assert head.callback_answers[-1].text == T("broadcast.cancelled")
    campaign = await finished(running, campaign_id)
    assert campaign.status == "cancelled" and await statuses(running, campaign_id) == {"cancelled": 2}
    await wait_for(lambda: author.bot_messages and f"#{campaign_id} was cancelled" in author.last.text, timeout=5)  # its author is told
    assert all(parent.bot_messages == [] for parent in parents)


async def running_broadcast(running, platform: str, author_person, author, parents) -> int:
    """A broadcast the engine has started, its messages waiting for a retry an hour away."""
    async with running.sessionmaker() as session:
        campaign = Campaign(
            text="A long one", audience=dict(ALL_PARENTS), status="sending", started_at=utcnow(), send_at=utcnow(), media_ids={}, buttons=[],
            created_by=author_person.id, origin_platform=platform, origin_chat_id=author.id,
        )
        session.add(campaign)
        await session.flush()
        accounts = await session.scalars(select(Account).where(Account.external_id.in_([parent.id for parent in parents])))
        for account in accounts:
            session.add(OutboxMessage(
                campaign_id=campaign.id, person_id=account.person_id, account_id=account.id, platform=account.platform,
                chat_id=account.external_id, next_attempt_at=utcnow() + timedelta(hours=1),
            ))
        await session.commit()
    return campaign.id

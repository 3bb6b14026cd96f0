"""A coordinator composes, previews, sends, schedules and cancels broadcasts, on Telegram and on VK."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Campaign
from bot.platforms.vk_format import plain_text
from handlers.broadcasts import Broadcast
from tests.conftest import ADMIN_ID
from tests.helpers import CONTENT, TEXTS, button_texts, register, step
from tests.test_delivery import add_parents, finished
from tests.test_run import wait_for

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
NORTH = CONTENT.find(CONTENT.districts, "north").label("en")


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
    north = await add_parents(running_bot, emulator, [8001, 8002, 8004], district="north")
    south = await add_parents(running_bot, emulator, [8003], district="south")
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
    await step(emulator, lambda: admin.click(NORTH))
    assert f"✓ {NORTH}" in button_texts(admin.last)
    await step(emulator, lambda: admin.click(T("menu.back")))
    await step(emulator, lambda: admin.click(T("broadcast.audience_done")))
    assert "3 people" in admin.last.text

    await step(emulator, lambda: admin.click(T("broadcast.do_preview")))
    preview = admin.bot_messages[-2]
    assert preview.text == "Webinar on Friday at 18:00 & a Q&A"
    assert preview.buttons == [[("Sign up", "https://example.org/signup")]]

    await step(emulator, lambda: admin.click(T("broadcast.do_send")))
    await step(emulator, lambda: admin.click(T("broadcast.do_now")))
    assert admin.last.text.startswith(shown("broadcast.confirm", count=3, audience=f"{T('roles.parent')} · {NORTH}", when=T("broadcast.now")))
    status = admin.last  # the confirmation becomes the status message
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    campaign = await finished(running_bot, (await last_campaign(running_bot)).id)
    await wait_for(lambda: "done" in status.text and admin.last is not status, timeout=5)  # the summary and the notice follow the commit
    await emulator.settle()

    for parent in north:
        assert parent.last.text == "Webinar on Friday at 18:00 & a Q&A"
        assert parent.last.buttons == [[("Sign up", "https://example.org/signup")]]
    assert south[0].bot_messages == []
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
    assert "2099-01-01 10:00" in admin.last.text
    await step(emulator, lambda: admin.click(T("broadcast.do_confirm")))
    assert admin.last.text == T("broadcast.status_scheduled", id=(await last_campaign(running_bot)).id, when="2099-01-01 10:00")

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

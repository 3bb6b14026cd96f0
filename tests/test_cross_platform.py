"""One bot process serving Telegram and VK at once: a person links both accounts, and media moves
between the two as voice, photo and document."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.db.models import Account, Person
from bot.platforms.media import relay
from tests.helpers import TEXTS, button_texts, count, register, step
from tests.messengers import TelegramMessenger, VkMessenger
from tests.test_delivery import add_parents, finished

pytestmark = pytest.mark.both_databases

EN = TEXTS["en"]


async def test_a_parent_links_vk_to_their_telegram_profile(both):
    telegram, vk, running = both
    on_telegram = telegram.user(6001, language_code="ro")
    await register(telegram, on_telegram, "ro")
    await step(telegram, lambda: on_telegram.click(TEXTS["ro"]("menu.link")))
    code = re.search(r"/link ([A-Z0-9]{8})", on_telegram.last.text).group(1)

    await step(telegram, lambda: on_telegram.send(f"/link {code}"))
    assert on_telegram.last.text == TEXTS["ro"]("linking.refused")

    on_vk = vk.user(7001)
    await step(vk, lambda: on_vk.send(f"/link {code.lower()}"))
    assert on_vk.last.text.startswith(TEXTS["ro"]("link.linked"))  # the profile's language, not the default
    assert TEXTS["ro"]("menu.settings") in button_texts(on_vk.last)

    stranger = vk.user(7002)
    await step(vk, lambda: stranger.send(f"/link {code}"))
    assert stranger.last.text == EN("linking.refused")

    async with running.session() as session:
        person = await session.scalar(select(Person))
        accounts = {(a.platform, a.external_id) for a in await session.scalars(select(Account).where(Account.person_id == person.id))}
        assert accounts == {("telegram", 6001), ("vk", 7001)}
        assert await count(session, Person) == 1

    await step(vk, lambda: on_vk.send("/mydata"))
    assert "telegram 6001" in on_vk.last.text and "vk 7001" in on_vk.last.text


async def test_a_registered_account_is_not_linked_over(both):
    telegram, vk, running = both
    on_telegram, on_vk = telegram.user(6002, language_code="en"), vk.user(7003)
    await register(telegram, on_telegram)
    await register(vk, on_vk)
    await step(telegram, lambda: on_telegram.send("/link"))
    code = re.search(r"/link ([A-Z0-9]{8})", on_telegram.last.text).group(1)
    await step(vk, lambda: on_vk.send(f"/link {code}"))
    assert on_vk.last.text == EN("linking.refused")
    await step(vk, lambda: on_vk.send("/link NOTACODE"))
    assert on_vk.last.text == EN("linking.refused")
    async with running.session() as session:
        assert await count(session, Person) == 2


async def test_voice_photo_and_document_cross_between_vk_and_telegram(both):
    telegram, vk, running = both
    on_telegram, on_vk = telegram.user(6003, language_code="en"), vk.user(7004)
    voice_bytes, photo_bytes, pdf_bytes = b"OggS fake voice", b"\xff\xd8 fake photo", b"%PDF-1.4 fake"

    on_vk.send_voice(duration=4, data=voice_bytes)
    on_vk.send_document(file_name="report.pdf", data=pdf_bytes)
    on_telegram.send_photo(data=photo_bytes)
    await telegram.settle()
    await vk.settle()
    vk_voice, vk_document = (vk.as_update(event, running.bots.vk).message for event in vk.updates[-2:])
    telegram_photo = telegram.as_update(telegram.updates[-1], running.bots.telegram).message

    sent = await relay(running.bots.vk, vk_voice, running.bots.telegram, on_telegram.id, caption="From a parent on VK")
    assert on_telegram.last.kind == "voice" and on_telegram.last.caption == "From a parent on VK"
    assert (await running.bots.telegram.download(sent.voice.file_id)).read() == voice_bytes

    sent = await relay(running.bots.vk, vk_document, running.bots.telegram, on_telegram.id)
    assert on_telegram.last.kind == "document"
    assert (await running.bots.telegram.download(sent.document.file_id)).read() == pdf_bytes

    sent = await relay(running.bots.telegram, telegram_photo, running.bots.vk, on_vk.id, caption="Answer")
    assert on_vk.last.kind == "photo" and on_vk.last.text == "Answer"
    assert (await running.bots.vk.download(sent.photo[-1].file_id)).read() == photo_bytes

    sent = await relay(running.bots.telegram, telegram_photo, running.bots.telegram, on_telegram.id)  # same messenger: by file id
    assert sent.photo[-1].file_id == telegram_photo.photo[-1].file_id


@pytest.mark.starts_processes
async def test_run_serves_both_platforms_at_once(tmp_path):
    from tests.test_run import start_bot_process, stop, wait_for

    telegram, vk = TelegramMessenger(), VkMessenger()
    await telegram.start()
    await vk.start()
    process = await start_bot_process(telegram, tmp_path, **vk.bot_settings())
    await wait_for(lambda: telegram.listens() > 0 and vk.listens() > 0)
    on_telegram, on_vk = telegram.user(6101, language_code="ro"), vk.user(7101)
    on_telegram.send("/start")
    on_vk.send("/start")
    await wait_for(lambda: on_telegram.bot_messages and on_vk.bot_messages, timeout=10)
    assert on_telegram.last.text == TEXTS["ro"]("language.prompt")
    assert on_vk.last.text == EN("language.prompt")
    assert "Traceback" not in await stop(process)
    await telegram.stop()
    await vk.stop()
    assert telegram.rejected == [] and vk.rejected == []


async def test_a_photo_broadcast_composed_on_telegram_reaches_vk_parents(both):
    telegram, vk, running = both
    admin = telegram.user(9000, language_code="en")
    await register(telegram, admin)
    telegram_parent, = await add_parents(running, telegram, [7100])
    vk_parents = await add_parents(running, vk, [7101, 7102, 7103])
    await step(telegram, lambda: admin.send("/broadcasts"))
    await step(telegram, lambda: admin.click(EN("broadcast.new")))
    await step(telegram, lambda: admin.send_photo(caption="Open day on Saturday", data=b"a photo of the hall"))
    await step(telegram, lambda: admin.click(EN("broadcast.do_send")))
    await step(telegram, lambda: admin.click(EN("broadcast.do_now")))
    assert "4 " in admin.last.text  # a Telegram parent and three VK parents (the admin is staff, not a parent)
    await step(telegram, lambda: admin.click(EN("broadcast.do_confirm")))
    campaign = await finished(running, 1)
    await vk.settle()

    assert any(message.caption == "Open day on Saturday" for message in telegram_parent.bot_messages)
    for parent in vk_parents:
        assert parent.last.text == "Open day on Saturday" and parent.last.attachments[0]["type"] == "photo"
    assert [send["peer_ids"] for send in vk.sends()] == [[7101], [7102, 7103]]  # the first send uploads; the rest share one call
    assert list(campaign.media_ids) == ["vk"]  # uploaded to VK once, then reused
    uploads = [method for method, _ in vk.calls if method == "photos.getMessagesUploadServer"]
    assert len(uploads) == 1

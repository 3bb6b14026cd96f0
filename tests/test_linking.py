"""Linking a second messenger: the owner is told and can unlink it, guesses are few and all get one
answer; pressing an old button again and again changes nothing; forged ids are just outdated buttons."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, Base, Campaign, ConsentRecord, Event, LinkAttempt, LinkCode, Person
from bot.services.linking import LINK_CODE_TTL, WRONG_CODES_ALLOWED, WRONG_CODES_WINDOW, attempt_key
from handlers.onboarding import ConsentAnswer
from tests.helpers import CONTENT, TEXTS, button_texts, count, register, step
from tests.test_privacy import all_rows, rows_naming

EN = TEXTS["en"]
OTHER = {"telegram": "vk", "vk": "telegram"}


def messengers(both, origin: str):
    """(messenger where the profile was made, the other one, the running bot)"""
    telegram, vk, running = both
    return (telegram, vk, running) if origin == "telegram" else (vk, telegram, running)


def raw_data(messenger, payload: str) -> str:
    """A button's callback data as the bot packed it (VK wraps it in a JSON payload)."""
    return json.loads(payload)["cb"] if messenger.platform == "vk" else payload


def button_data(messenger, message, text: str) -> str:
    return raw_data(messenger, dict(pair for row in message.buttons for pair in row)[text])


async def make_code(messenger, user) -> str:
    await step(messenger, lambda: user.click(EN("menu.link")))
    return re.search(r"/link ([A-Z0-9]{8})", user.last.text).group(1)


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def account_label(platform: str, user) -> str:
    return EN("linking.account", messenger=EN(f"linking.messenger_{platform}"), id=user.id)


async def open_accounts(messenger, user) -> None:
    await step(messenger, lambda: user.send("/mydata"))
    await step(messenger, lambda: user.click(EN("linking.accounts_button")))


@pytest.mark.parametrize("origin", ["telegram", "vk"])
async def test_the_owner_is_told_of_a_new_account_and_can_unlink_it(both, origin):
    first, second, running = messengers(both, origin)
    owner, newcomer, outsider = first.user(6201, language_code="en"), second.user(7201), first.user(6202, language_code="en")
    await register(first, owner)
    await register(first, outsider)
    code = await make_code(first, owner)

    await step(second, lambda: newcomer.send(f"/link {code}"))
    await first.settle()
    assert newcomer.last.text.startswith(EN("link.linked"))
    notice = EN("linking.added", messenger=EN(f"linking.messenger_{second.platform}"), my_data=EN("menu.my_data"), accounts=EN("linking.accounts_button"))
    assert owner.last.text == notice

    await open_accounts(first, owner)
    new_label = account_label(second.platform, newcomer)
    assert new_label in owner.last.text and account_label(first.platform, owner) in owner.last.text
    unlink_new = button_data(first, owner.last, EN("linking.unlink", account=new_label))
    async with running.session() as session:
        theirs = await session.scalar(select(Account.id).where(Account.external_id == outsider.id))
    await step(first, lambda: first.press(owner, f"acct:confirm:{theirs}"))  # another person's account
    assert owner.callback_answers[-1].text == EN("fallback.button_outdated")

    async with running.session() as session:  # a broadcast composed in the chat about to be unlinked
        person_id = await session.scalar(select(Account.person_id).where(Account.external_id == owner.id))
        session.add(Campaign(status="scheduled", created_by=person_id, origin_platform=second.platform, origin_chat_id=newcomer.id, status_message_id=5,
                             text="Later", media_ids={}, buttons=[], audience={}))
        await session.commit()
    await step(first, lambda: owner.click(EN("linking.unlink", account=new_label)))
    assert owner.last.text == EN("linking.unlink_confirm", account=new_label)
    await step(first, lambda: owner.click(EN("linking.unlink_yes")))
    await second.settle()
    assert owner.callback_answers[-1].text == EN("linking.removed", account=new_label)
    assert owner.last.text == plain(EN("linking.only_account", accounts=f"• {account_label(first.platform, owner)}"))
    assert not any(text.startswith("✖️") for text in button_texts(owner.last))  # never the last account
    assert newcomer.last.text == EN("linking.removed", account=new_label)
    await step(second, lambda: newcomer.send("hello"))
    assert newcomer.last.text == EN("fallback.not_registered")  # a stranger again

    async with running.session() as session:
        own_id = await session.scalar(select(Account.id).where(Account.external_id == owner.id))
    await step(first, lambda: first.press(owner, f"acct:confirm:{own_id}"))  # their own, now last, account
    await step(first, lambda: first.press(owner, unlink_new))  # the old confirmation, pressed again
    async with running.session() as session:
        assert await count(session, Account, Account.external_id == owner.id) == 1
        assert await count(session, Account, Account.external_id == newcomer.id) == 0
        assert await count(session, Event, Event.kind == "account_unlinked") == 1
        for table in Base.metadata.sorted_tables:  # nothing names the unlinked account any more
            assert rows_naming(await all_rows(session, table), -1, set(), {newcomer.id}) == [], table.name

    code = await make_code(first, owner)  # linked again, the new account unlinks itself
    await step(second, lambda: newcomer.send(f"/link {code}"))
    await open_accounts(second, newcomer)
    await step(second, lambda: newcomer.click(EN("linking.unlink", account=new_label)))
    await step(second, lambda: newcomer.click(EN("linking.unlink_yes")))
    await first.settle()
    assert newcomer.last.text == EN("linking.removed", account=new_label)
    assert owner.last.text == EN("linking.removed", account=new_label)
    async with running.session() as session:
        assert await count(session, Account, Account.external_id == newcomer.id) == 0
        assert await count(session, Person) == 2


@pytest.mark.parametrize("origin", ["telegram", "vk"])
async def test_wrong_codes_get_one_answer_and_the_sixth_in_an_hour_is_refused(both, origin):
    first, second, running = messengers(both, origin)
    owner, registered, guesser = first.user(6301, language_code="en"), second.user(7301), second.user(7302)
    await register(first, owner)
    await register(second, registered)
    code = await make_code(first, owner)

    answers = set()
    for attempt in (code, "NOTACODE"):  # a registered account cannot tell a real code from a fake
        await step(second, lambda attempt=attempt: registered.send(f"/link {attempt}"))
        answers.add(registered.last.text)
    await step(first, lambda: owner.send(f"/link {code}"))  # the code's own messenger
    answers.add(owner.last.text)
    assert answers == {EN("linking.refused")}

    for guess in range(WRONG_CODES_ALLOWED):
        await step(second, lambda guess=guess: guesser.send(f"/link WRONG{guess:03d}"))
        assert guesser.last.text == EN("linking.refused")
    await step(second, lambda: guesser.send(f"/link {code}"))  # right, but too late
    assert guesser.last.text == EN("linking.too_many")
    async with running.session() as session:
        assert await count(session, Account, Account.external_id == guesser.id) == 0
        keys = set(await session.scalars(select(LinkAttempt.account_key)))
        now = running.clock.now()
        hashed = {
            await attempt_key(session, messenger.platform, user.id, now=now) for messenger, user in ((first, owner), (second, registered), (second, guesser))
        }
        assert keys == hashed and all(re.fullmatch("[0-9a-f]{64}", key) for key in keys)  # keyed hashes, no ids

    running.clock.advance(WRONG_CODES_WINDOW + timedelta(minutes=1))  # an hour passes
    await step(first, lambda: owner.send("/link"))  # the old code expired meanwhile
    code = re.search(r"/link ([A-Z0-9]{8})", owner.last.text).group(1)
    await step(second, lambda: guesser.send(f"/link {code}"))
    assert guesser.last.text.startswith(EN("link.linked"))
    async with running.session() as session:
        assert await count(session, LinkAttempt) == 0  # older than an hour: purged
        assert await count(session, Account, Account.external_id == guesser.id) == 1


@pytest.mark.both_databases
@pytest.mark.unpaced_vk
async def test_a_hundred_link_presses_leave_one_live_code_and_expired_codes_go(emulator, running_bot):
    parent, other = emulator.user(6401, language_code="en"), emulator.user(6402, language_code="en")
    await register(emulator, parent)
    await register(emulator, other)
    await make_code(emulator, other)
    for _ in range(100):
        emulator.press(parent, "menu:link")
    await emulator.settle(timeout=60)
    async with running_bot.session() as session:
        codes = list(await session.scalars(select(LinkCode).where(LinkCode.person_id != None)))  # noqa: E711
        assert sorted(code.person_id for code in codes) == [1, 2]
        assert re.search(r"/link ([A-Z0-9]{8})", parent.last.text).group(1) == next(code.code for code in codes if code.person_id == 1)
    running_bot.clock.advance(LINK_CODE_TTL + timedelta(minutes=1))

    await step(emulator, lambda: emulator.press(parent, "menu:link"))  # the other person's expired code goes too
    async with running_bot.session() as session:
        assert [code.person_id for code in await session.scalars(select(LinkCode))] == [1]


@pytest.mark.both_databases
@pytest.mark.unpaced_vk
async def test_an_old_decline_button_pressed_200_times_records_one_decline(emulator, running_bot):
    parent = emulator.user(6501, language_code="en")
    await step(emulator, lambda: parent.send("/start"))
    await step(emulator, lambda: parent.click("English"))
    decline = button_data(emulator, parent.last, EN("consent.decline"))
    for _ in range(200):
        emulator.press(parent, decline)
    await emulator.settle(timeout=60)
    assert parent.last.text == EN("consent.declined")
    async with running_bot.session() as session:
        assert await count(session, ConsentRecord) == 1
        assert await count(session, Event, Event.kind == "consent_declined") == 1

    await step(emulator, lambda: emulator.press(parent, f"consent:0:en:{CONTENT.consent_version}:"))  # a screen from before nonces
    assert parent.last.text == CONTENT.consent_text("en").text  # shown afresh, nothing recorded
    await step(emulator, lambda: parent.send("/start"))  # a new consent screen is a new decision
    await step(emulator, lambda: parent.click("English"))
    await step(emulator, lambda: parent.click(EN("consent.decline")))
    async with running_bot.session() as session:
        assert await count(session, ConsentRecord, ConsentRecord.person_id == None) == 2  # noqa: E711
    longest = ConsentAnswer(accept=False, language="en", version="v999", invite=secrets.token_urlsafe(9), nonce=secrets.token_urlsafe(12))
    assert len(longest.pack().encode()) <= 64  # Telegram's limit, with an invite code in it


async def test_out_of_range_ids_in_buttons_are_just_outdated(emulator, running_bot, caplog):
    admin = emulator.user(9000, language_code="en")  # in ADMINS: may press broadcast buttons
    await register(emulator, admin)
    forged = [
        template.format(number)
        for number in (2**64, -1, 10**30, 2**63, 2**40, 2**31)  # the last two fit 64 bits but not the id columns (int4 on PostgreSQL)
        for template in (
            "bc:card:{}",
            "bca:{}:district::0",
            "bca:1:district::{}",
            "acct:confirm:{}",
            "district::0:{}",
            "invite:specialist::{}",
            "staff:person:{}:0:0",
            "staff:confirm:1:{}:0",
        )
    ]
    with caplog.at_level(logging.WARNING):
        for data in forged:
            emulator.press(admin, data)
        await emulator.settle(timeout=30)
    answers = [answer.text for answer in admin.callback_answers[-len(forged) :]]
    assert answers == [EN("fallback.button_outdated")] * len(forged)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []

"""Linking a second messenger: the owner is told and can unlink it, guesses are few and all get one
answer; pressing an old button again and again changes nothing; forged ids are just outdated buttons."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db.models import Account, ConsentRecord, Event, LinkAttempt, LinkCode, Person, utcnow
from bot.services.linking import WRONG_CODES_ALLOWED
from handlers.onboarding import ConsentAnswer
from tests.helpers import TEXTS, button_texts, count, register, step
from tests.test_cross_platform import both  # noqa: F401 (a fixture)

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

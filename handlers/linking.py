"""One person, two messengers: a code made in one is sent to the bot in the other. The person is told
in their other messengers when an account joins, and can part any account but the last from the menu."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content, Texts
from bot.db.models import Account, Person
from bot.filters import Allowed
from bot.permissions import Action, Actor, may
from bot.services.linking import LINK_CODE_TTL, LinkRefusal, create_link_code, link_account, own_account, unlink_account
from bot.services.people import accounts_of
from handlers.chats.group import let_in_after_registering
from handlers.menu import menu_screen
from handlers.ui import Buttons, CallbackInt, MenuAction, Screen, keyboard, show, tell_person

LINK_REFUSALS = {LinkRefusal.refused: "linking.refused", LinkRefusal.too_many: "linking.too_many"}
MESSENGER_NAMES = {"telegram": "linking.messenger_telegram", "vk": "linking.messenger_vk"}


class AccountStep(StrEnum):
    ask = "ask"
    confirm = "confirm"


class LinkedAccount(CallbackData, prefix="acct"):
    step: AccountStep
    id: CallbackInt


def build_router() -> Router:
    router = Router(name="linking")
    router.message.register(link_with_code, Command("link", magic=F.args))  # anyone: a newcomer's account joins with it
    router.message.register(show_code, Command("link"), Allowed(Action.link_accounts))
    router.callback_query.filter(Allowed(Action.link_accounts))
    router.callback_query.register(show_code, MenuAction.filter(F.action == Screen.link))
    router.callback_query.register(list_accounts, MenuAction.filter(F.action == Screen.accounts))
    router.callback_query.register(ask_unlink, LinkedAccount.filter(F.step == AccountStep.ask))
    router.callback_query.register(unlink, LinkedAccount.filter(F.step == AccountStep.confirm))
    return router


async def show_code(event: Message | CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, platform: str, clock: Clock) -> None:
    link = await create_link_code(session, person, platform, now=clock.now())
    builder = Buttons()
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    await show(event, l10n("link.code", code=link.code, minutes=minutes), builder.as_markup())


async def link_with_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    person: Person | None,
    content: Content,
    l10n: Texts,
    platform: str,
    bots: Mapping[str, Bot],
    clock: Clock,
    event_from_user: User,  # always there in the private tier: the chat is the user's own
) -> None:
    code = command.args or ""  # never empty: the router's magic=F.args lets only a code in
    linked = await link_account(session, code, platform, event_from_user.id, registered=person is not None, now=clock.now())
    if isinstance(linked, LinkRefusal):
        await message.answer(l10n(LINK_REFUSALS[linked]))
        return
    l10n = content.texts[linked.language]
    earlier = [account for account in await accounts_of(session, linked) if account.platform != platform or account.external_id != event_from_user.id]
    await tell_person(bots, earlier, linked, content, lambda texts: added_notice(texts, platform))
    await show(message, *menu_screen(Actor.of(linked), l10n, note=l10n("link.linked")))
    if let_in := await let_in_after_registering(session, bots[platform], content, linked, platform, event_from_user, l10n):
        await message.answer(let_in)  # this account asked to join a parent chat before it was linked


def added_notice(l10n: Texts, platform: str) -> str:
    return l10n("linking.added", messenger=messenger(l10n, platform), my_data=l10n("menu.my_data"), accounts=l10n("linking.accounts_button"))


def messenger(l10n: Texts, platform: str) -> str:
    return l10n(MESSENGER_NAMES[platform])


def account_label(l10n: Texts, account: Account) -> str:
    return l10n("linking.account", messenger=messenger(l10n, account.platform), id=account.external_id)


async def list_accounts(callback: CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, notice: str | None = None) -> None:
    accounts = await accounts_of(session, person)
    lines = "\n".join(f"• {account_label(l10n, account)}" for account in accounts)
    builder = Buttons()
    if len(accounts) > 1:
        for account in accounts:
            builder.button(text=l10n("linking.unlink", account=account_label(l10n, account)), callback_data=LinkedAccount(step=AccountStep.ask, id=account.id))
    builder.button(text=l10n("menu.link"), callback_data=MenuAction(action=Screen.link))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.my_data))
    key = "linking.accounts" if len(accounts) > 1 else "linking.only_account"
    await show(callback, l10n(key, accounts=lines), keyboard(builder, 1), notice=notice)


async def ask_unlink(callback: CallbackQuery, callback_data: LinkedAccount, session: AsyncSession, person: Person, actor: Actor, l10n: Texts) -> None:
    account = await own_account(session, person, callback_data.id)
    if account is None or not may(actor, Action.unlink_account, account):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    builder = Buttons()
    builder.button(text=l10n("linking.unlink_yes"), callback_data=LinkedAccount(step=AccountStep.confirm, id=account.id))
    builder.button(text=l10n("linking.unlink_no"), callback_data=MenuAction(action=Screen.accounts))
    await show(callback, l10n("linking.unlink_confirm", account=account_label(l10n, account)), keyboard(builder, 2))


async def unlink(
    callback: CallbackQuery,
    callback_data: LinkedAccount,
    session: AsyncSession,
    person: Person,
    actor: Actor,
    account: Account,
    l10n: Texts,
    content: Content,
    bots: Mapping[str, Bot],
    clock: Clock,
) -> None:
    presser = account
    target = await session.get(Account, callback_data.id)
    if target is None or not may(actor, Action.unlink_account, target):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    parted = await unlink_account(session, person, target.id, now=clock.now())  # under the person's lock: never their last account
    if parted is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    others = [other for other in [*await accounts_of(session, person), parted] if other.id != presser.id]
    await tell_person(bots, others, person, content, lambda texts: texts("linking.removed", account=account_label(texts, parted)))
    if parted.id == presser.id:
        await show(callback, l10n("linking.removed", account=account_label(l10n, parted)))
        return
    await list_accounts(callback, session, person, l10n, notice=l10n("linking.removed", account=account_label(l10n, parted)))

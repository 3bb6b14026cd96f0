"""What one side of a question is told when the other acts, and what the watch tells the staff:
each in the reader's own language, in the chat the question lives in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import BindParameter, ColumnElement, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Texts
from bot.db.loop_reads import LoopReads, read_rows
from bot.db.models import Account, Person, Role, Ticket, TicketStatus
from bot.fsm import conversation
from bot.services.consultations import Piece
from bot.services.people import RoleName
from handlers.consultations.common import TICKET, TicketAction, TicketStep, Working, account_of, send_piece, specialty_label
from handlers.ui import Buttons, keyboard, reachable_accounts, tell_accounts, tell_roles

log = logging.getLogger(__name__)


def family_label(l10n: Texts, ticket: Ticket) -> str:
    """How the specialist's screens name the family: an anonymous one by its alias alone."""
    if ticket.anonymous:
        return l10n("ticket.anonymous_family", alias=ticket.alias)
    return ticket.parent_name or l10n("ticket.family")


def specialist_header(l10n: Texts, content: Content, ticket: Ticket, specialist: Person | None) -> str:
    """Whose answer it is, as the family reads it: the specialist's name for families and title."""
    title = specialty_label(content, ticket.specialty, l10n.language)
    name = specialist.display_name if specialist is not None else None
    if name:
        return l10n("ticket.from_specialist", name=name, title=title, id=ticket.id)
    return l10n("ticket.from_specialty", title=title, id=ticket.id)


def work_buttons(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    builder = Buttons()
    builder.button(text=l10n("work.reply"), callback_data=TicketAction(step=TicketStep.reply, id=ticket_id))
    builder.button(text=l10n("work.open"), callback_data=TicketAction(step=TicketStep.card, id=ticket_id))
    return keyboard(builder, 2)


def rating_buttons(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    builder = Buttons()
    for rating in range(1, 6):
        builder.button(text=l10n("ticket.stars", count=rating), callback_data=TicketAction(step=TicketStep.rate, id=ticket_id, value=rating))
    return keyboard(builder, 5)


async def reader(session: AsyncSession, content: Content, account_id: int | None) -> tuple[Account, Texts] | None:
    account = await account_of(session, account_id)
    if account is None:
        return None
    person = await session.get(Person, account.person_id)
    return (account, content.texts[person.language]) if person is not None else None


async def tell_assignee(
    session: AsyncSession,
    bots: Mapping[str, Bot],
    content: Content,
    ticket: Ticket,
    pieces: Sequence[Piece],
    key: str = "work.family_writes",
    storage: BaseStorage | None = None,
) -> None:
    """The specialist working on the question hears what the family did: their new messages as
    they are, or `key` (closed, reopened). A specialist in the middle of replying to another
    question stops replying there: their next words must not go to the wrong family."""
    if ticket.assignee_account_id is None:
        return
    found = await reader(session, content, ticket.assignee_account_id)
    if found is None:
        return
    account, l10n = found
    header = l10n(key, id=ticket.id, family=family_label(l10n, ticket))
    if storage is not None and pieces and account.platform in bots:
        other = await stop_replying_elsewhere(storage, bots[account.platform], account, ticket.id)
        if other is not None:
            header = l10n("work.reply_paused", other=other) + "\n\n" + header
    markup = work_buttons(l10n, ticket.id) if ticket.status == TicketStatus.claimed else None
    if not pieces:
        await send_notice(bots, account, header, markup)
        return
    for number, piece in enumerate(pieces):
        await send_piece(bots, piece, account, header if number == 0 else "", markup if number == len(pieces) - 1 else None)


async def stop_replying_elsewhere(storage: BaseStorage, bot: Bot, account: Account, ticket_id: int) -> int | None:
    """The question the specialist was replying to, if another than `ticket_id`; their replying stops."""
    context = conversation(storage, account.platform, bot.id, account.external_id, account.external_id)
    if await context.get_state() != Working.replying.state:
        return None
    other = (await context.get_data()).get(TICKET)
    if other == ticket_id:
        return None
    await context.clear()
    return other


async def tell_parent(session: AsyncSession, bots: Mapping[str, Bot], content: Content, ticket: Ticket, key: str, markup_of: Any = None, **values: Any) -> None:
    """A change of the question's stage, in the chat the family asked from; `markup_of(l10n)` its buttons."""
    found = await reader(session, content, ticket.parent_account_id)
    if found is None:
        return
    account, l10n = found
    title = specialty_label(content, ticket.specialty, l10n.language)
    await send_notice(bots, account, l10n(key, id=ticket.id, specialty=title, **values), markup_of(l10n) if markup_of else None)


async def send_notice(bots: Mapping[str, Bot], account: Account, text: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """A notice is a courtesy, not the transaction: one that cannot be delivered is logged and skipped."""
    bot = bots.get(account.platform)
    if bot is None:
        return False
    try:
        await bot.send_message(account.external_id, text, reply_markup=markup)
        return True
    except TelegramAPIError as error:
        log.warning("a consultation notice to a %s account was not delivered (%s)", account.platform, type(error).__name__)
        return False


def staff_to_alert(ticket: Ticket) -> ColumnElement[bool]:
    """The heads, and who may take the question: its specialty's specialists, or the colleague it was passed to."""
    takers = Role.person_id == ticket.transferred_to if ticket.transferred_to else specialists_of(ticket.specialty)
    return (Role.role == RoleName.head) | takers


def specialists_of(specialty: str | BindParameter[str]) -> ColumnElement[bool]:
    return (Role.role == RoleName.specialist) & (Role.specialty == specialty)


# Built once, with named parameters: a question sent looks up its specialty's specialists, on the
# loop's thread when it can (bot.db.loop_reads; roles are indexed by role and specialty)
_SPECIALISTS = reachable_accounts(specialists_of(bindparam("specialty")))


async def tell_specialists(
    session: AsyncSession, reads: LoopReads | None, bots: Mapping[str, Bot], content: Content, specialty: str, key: str, **values: Any
) -> int:
    """`tell_staff` for the specialists of one specialty."""
    rows, _through_session = await read_rows(reads, session, _SPECIALISTS, {"specialty": specialty})
    return await tell_accounts(bots, content, rows, notice_text(content, key, {"specialty": specialty, **values}))


async def tell_staff(session: AsyncSession, bots: Mapping[str, Bot], content: Content, roles: ColumnElement[bool], key: str, **values: Any) -> int:
    """Tell everyone with one of `roles` (a condition on Role) the text `key`, in their language."""
    return await tell_roles(session, bots, content, roles, notice_text(content, key, values))


def notice_text(content: Content, key: str, values: dict[str, Any]) -> Callable[[Texts], str]:
    """The text `key` with `values`, in whichever reader's language it is asked in."""
    return lambda l10n: l10n(key, **values_in(l10n, content, values))


def values_in(l10n: Texts, content: Content, values: dict[str, Any]) -> dict[str, Any]:
    """A specialty id among the values becomes its name in the reader's language."""
    return {name: specialty_label(content, value, l10n.language) if name == "specialty" else value for name, value in values.items()}

"""The family's questions after asking: the list with their stages, one question's exchange,
writing more (also by a plain message to their one open question), closing, reopening, rating."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content, Texts
from bot.db.models import PieceAuthor, Ticket, TicketStatus
from bot.filters import Allowed, NotACommand
from bot.lengths import BUTTON_LABEL_LIMIT, shortened
from bot.permissions import Action, Actor, may
from bot.services import consultations
from bot.services.consultations import Piece, timing_of
from handlers.consultations.common import (
    Asking,
    TicketAction,
    TicketStep,
    await_about,
    piece_line,
    pieces_of,
    prompted_ticket,
    specialty_label,
    stage_label,
)
from handlers.consultations.notices import tell_assignee
from handlers.ui import Buttons, MenuAction, Screen, keyboard, menu_button, one_button, show

RATINGS = range(1, 6)
QUESTIONS_SHOWN = 4


def build_router() -> Router:
    router = Router(name="consultations.questions")
    router.message.register(my_questions, Command("myquestions"))
    router.callback_query.register(my_questions, TicketAction.filter(F.step == TicketStep.mine))
    router.callback_query.register(show_question, TicketAction.filter(F.step == TicketStep.show))
    router.callback_query.register(start_adding, TicketAction.filter(F.step == TicketStep.add))
    router.message.register(take_addition, StateFilter(Asking.adding), NotACommand())
    router.callback_query.register(close_question, TicketAction.filter(F.step == TicketStep.close))
    router.callback_query.register(reopen_question, TicketAction.filter(F.step == TicketStep.reopen))
    router.callback_query.register(rate_answer, TicketAction.filter(F.step == TicketStep.rate))
    router.callback_query.register(start_comment, TicketAction.filter(F.step == TicketStep.comment))
    router.message.register(take_comment, StateFilter(Asking.commenting), NotACommand())
    return router


def build_catch_all_router() -> Router:
    router = Router(name="consultations.open_question")
    router.message.filter(StateFilter(None), NotACommand(), Allowed(Action.ask_question))
    router.message.register(to_open_question)
    return router


async def my_questions(event: Message | CallbackQuery, l10n: Texts, content: Content, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    """The family's questions, open ones first: the latest listed, the first few a button each
    (with "ask" and "back", a screen fits VK's six rows)."""
    await state.clear()
    assert actor.person_id is not None
    tickets = await consultations.tickets_of_parent(session, actor.person_id)
    lines = [l10n("ticket.mine_title") if tickets else l10n("ticket.mine_empty")]
    builder = Buttons()
    for number, ticket in enumerate(tickets):
        label = f"#{ticket.id} · {stage_label(l10n, ticket)} · {specialty_label(content, ticket.specialty, l10n.language)}"
        lines.append(html.escape(label, quote=False))
        if number < QUESTIONS_SHOWN:
            builder.button(text=shortened(label, BUTTON_LABEL_LIMIT), callback_data=TicketAction(step=TicketStep.show, id=ticket.id))
    builder.button(text=l10n("ask.new"), callback_data=MenuAction(action=Screen.ask))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    await show(event, "\n".join(lines), keyboard(builder, 1))


async def own_ticket(session: AsyncSession, actor: Actor, ticket_id: int) -> Ticket | None:
    ticket = await session.get(Ticket, ticket_id)
    return ticket if ticket is not None and may(actor, Action.own_question, ticket) else None


async def show_question(callback: CallbackQuery, callback_data: TicketAction, **data) -> None:
    l10n: Texts = data["l10n"]
    ticket = await own_ticket(data["session"], data["actor"], callback_data.id)
    if ticket is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await data["state"].clear()
    await show(callback, *await parent_card(data["session"], ticket, l10n, data["content"], data["clock"]))


async def parent_card(session: AsyncSession, ticket: Ticket, l10n: Texts, content: Content, clock: Clock, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """The question as its family sees it: where it stands, the exchange (no private notes), what they can do."""
    lines = [note] if note else []
    lines.append(
        l10n("ticket.parent_title", id=ticket.id, specialty=specialty_label(content, ticket.specialty, l10n.language), stage=stage_label(l10n, ticket))
    )
    lines.append(l10n("ticket.asked_at", when=l10n.date_time(ticket.created_at)))
    for row in await consultations.pieces_of(session, ticket):
        if row.author == PieceAuthor.note:
            continue
        who = l10n("ticket.you") if row.author == PieceAuthor.parent else l10n("ticket.specialist")
        lines.append(f"— {who}: {piece_line(l10n, Piece.of_row(row))}")
    builder = Buttons()
    sizes = []
    if ticket.status != TicketStatus.closed:
        builder.button(text=l10n("ticket.add"), callback_data=TicketAction(step=TicketStep.add, id=ticket.id))
        builder.button(text=l10n("ticket.close"), callback_data=TicketAction(step=TicketStep.close, id=ticket.id))
        sizes += [1, 1]
    elif ticket.rating is None:
        for rating in RATINGS:
            builder.button(text=l10n("ticket.stars", count=rating), callback_data=TicketAction(step=TicketStep.rate, id=ticket.id, value=rating))
        sizes.append(len(RATINGS))
    if consultations.may_reopen(ticket, clock.now()):
        builder.button(text=l10n("ticket.reopen"), callback_data=TicketAction(step=TicketStep.reopen, id=ticket.id))
        sizes.append(1)
    builder.button(text=l10n("menu.back"), callback_data=TicketAction(step=TicketStep.mine))
    return "\n".join(lines), keyboard(builder, *sizes, 1)


async def start_adding(callback: CallbackQuery, callback_data: TicketAction, l10n: Texts, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    ticket = await own_ticket(session, actor, callback_data.id)
    if ticket is None or ticket.status == TicketStatus.closed:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await await_about(state, Asking.adding, ticket.id)
    await show(callback, l10n("ticket.add_prompt", id=ticket.id), done_adding(l10n, ticket.id))


def done_adding(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    return one_button(l10n("ticket.add_done"), TicketAction(step=TicketStep.show, id=ticket_id))


async def take_addition(message: Message, state: FSMContext, **data) -> None:
    ticket = await own_ticket(data["session"], data["actor"], await prompted_ticket(state))
    if ticket is None or ticket.status == TicketStatus.closed:
        await state.clear()
        await message.answer(data["l10n"]("ticket.no_longer_open"), reply_markup=menu_button(data["l10n"]))
        return
    await add_to(message, ticket, **data)


async def to_open_question(message: Message, actor: Actor, **data) -> None:
    """A message outside any question: the family's one open question takes it (a reply to the
    specialist's answer, most often); with none, or several, the fallback answers."""
    assert actor.person_id is not None
    open_ones = [ticket for ticket in await consultations.tickets_of_parent(data["session"], actor.person_id) if ticket.status != TicketStatus.closed]
    if len(open_ones) != 1:
        raise SkipHandler
    await add_to(message, open_ones[0], actor=actor, **data)


async def add_to(message: Message, ticket: Ticket, **data) -> None:
    l10n: Texts = data["l10n"]
    pieces = pieces_of(message, data["platform"])
    if not pieces:
        await message.answer(l10n("ask.unsupported"))
        return
    specialty = timing_of({}, ticket.specialty) if (found := data["content"].specialty(ticket.specialty)) is None else found
    await consultations.add_from_parent(data["session"], ticket, pieces, specialty, data["clock"].now())
    await tell_assignee(data["session"], data["bots"], data["content"], ticket, pieces, storage=data["fsm_storage"])
    await message.answer(l10n("ticket.added", id=ticket.id), reply_markup=done_adding(l10n, ticket.id))


async def close_question(callback: CallbackQuery, callback_data: TicketAction, **data) -> None:
    l10n: Texts = data["l10n"]
    session, clock = data["session"], data["clock"]
    ticket = await own_ticket(session, data["actor"], callback_data.id)
    if ticket is None or not await consultations.close_by_parent(session, ticket, clock.now()):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await tell_assignee(data["session"], data["bots"], data["content"], ticket, [], key="work.closed_by_family")
    await show(callback, *await parent_card(session, ticket, l10n, data["content"], clock, note=l10n("ticket.closed_rate")))


async def reopen_question(callback: CallbackQuery, callback_data: TicketAction, **data) -> None:
    l10n: Texts = data["l10n"]
    session, clock, content = data["session"], data["clock"], data["content"]
    ticket = await own_ticket(session, data["actor"], callback_data.id)
    specialty = content.specialty(ticket.specialty) if ticket else None
    if ticket is None or specialty is None or not await consultations.reopen(session, ticket, specialty, clock.now()):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await tell_assignee(session, data["bots"], content, ticket, [], key="work.reopened")
    await show(callback, *await parent_card(session, ticket, l10n, content, clock, note=l10n("ticket.reopened")))


async def rate_answer(callback: CallbackQuery, callback_data: TicketAction, l10n: Texts, session: AsyncSession, actor: Actor, clock: Clock) -> None:
    ticket = await own_ticket(session, actor, callback_data.id)
    if ticket is None or not await consultations.rate(session, ticket, callback_data.value, clock.now()):
        await callback.answer(l10n("fallback.button_outdated"))  # rated already: a second press counts nothing
        return
    builder = Buttons()
    builder.button(text=l10n("ticket.comment"), callback_data=TicketAction(step=TicketStep.comment, id=ticket.id))
    builder.button(text=l10n("menu.open"), callback_data=MenuAction(action=Screen.home))
    await show(callback, l10n("ticket.rated", count=callback_data.value), keyboard(builder, 1))


async def start_comment(callback: CallbackQuery, callback_data: TicketAction, l10n: Texts, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    ticket = await own_ticket(session, actor, callback_data.id)
    if ticket is None or ticket.rating is None or ticket.rating_comment is not None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await await_about(state, Asking.commenting, ticket.id)
    await show(callback, l10n("ticket.comment_prompt"), menu_button(l10n))  # the menu drops the comment


async def take_comment(message: Message, l10n: Texts, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    ticket = await own_ticket(session, actor, await prompted_ticket(state))
    await state.clear()
    if ticket is None or not (message.text or "").strip():
        await message.answer(l10n("ticket.comment_skipped"), reply_markup=menu_button(l10n))
        return
    ticket.rating_comment = message.text.strip()[:2000] if message.text else None
    await message.answer(l10n("ticket.comment_saved"), reply_markup=menu_button(l10n))

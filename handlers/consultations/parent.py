"""The family's side: ask a specialist (specialty, the FAQ's answers, the question in any media,
anonymously if they like), follow their questions, write more, close, reopen, rate."""

from __future__ import annotations

import html
from collections.abc import Mapping

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content, Texts
from bot.db.models import Account, Person, PieceAuthor, Ticket, TicketStatus
from bot.filters import Allowed, NotACommand
from bot.lengths import BUTTON_LABEL_LIMIT, shortened
from bot.permissions import Action, Actor, may
from bot.platforms import Channel
from bot.services import consultations
from bot.services.consultations import MAX_DRAFT_PIECES, Piece, timing_of
from bot.services.events import EventKind, record_event
from handlers.consultations.common import (
    Ask,
    Asking,
    AskStep,
    TicketAction,
    TicketStep,
    piece_line,
    pieces_of,
    specialty_label,
    stage_label,
)
from handlers.consultations.notices import specialists_of, tell_assignee, tell_staff
from handlers.ui import MenuAction, Screen, answer_below, choices_keyboard, keyboard, menu_button, show

RATINGS = range(1, 6)
QUESTIONS_SHOWN = 4
NAME_KEPT = 64  # Ticket.parent_name's length; Telegram's first and last names can be longer together


def build_router() -> Router:
    router = Router(name="consultations.parent")
    router.message.register(choose_specialty, Command("ask"))
    router.callback_query.register(choose_specialty, MenuAction.filter(F.action == Screen.ask))
    router.callback_query.register(describe, Ask.filter(F.step == AskStep.specialty))
    router.callback_query.register(read_faq, Ask.filter(F.step == AskStep.faq))
    router.callback_query.register(faq_helped, Ask.filter(F.step == AskStep.helped))
    router.callback_query.register(draft_screen, Ask.filter(F.step == AskStep.still))
    router.callback_query.register(toggle_anonymous, Ask.filter(F.step == AskStep.anonymous))
    router.callback_query.register(send_question, Ask.filter(F.step == AskStep.send))
    router.callback_query.register(cancel_question, Ask.filter(F.step == AskStep.cancel))
    router.message.register(take_description, StateFilter(Asking.describing), NotACommand())
    router.message.register(take_more, StateFilter(Asking.collecting), NotACommand())
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


# Asking


async def choose_specialty(event: Message | CallbackQuery, l10n: Texts, content: Content, state: FSMContext) -> None:
    await state.clear()
    await show(event, l10n("ask.choose"), specialties_keyboard(l10n, content))


def specialties_keyboard(l10n: Texts, content: Content, page: int = 0) -> InlineKeyboardMarkup:
    """The specialties a page at a time (a centre may list a dozen; VK shows ten buttons)."""
    extra = [(l10n("ticket.mine_button"), TicketAction(step=TicketStep.mine)), (l10n("menu.back"), MenuAction(action=Screen.home))]
    return choices_keyboard(
        content.specialties,
        l10n.language,
        lambda specialty: Ask(step=AskStep.specialty, specialty=specialty),
        extra,
        page=page,
        make_page=lambda number: Ask(step=AskStep.specialty, page=number),
    )


async def describe(callback: CallbackQuery, callback_data: Ask, l10n: Texts, content: Content, state: FSMContext, channel: Channel) -> None:
    if not callback_data.specialty:  # another page of the specialties
        await show(callback, l10n("ask.choose"), specialties_keyboard(l10n, content, callback_data.page))
        return
    specialty = content.specialty(callback_data.specialty)
    if specialty is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await state.set_state(Asking.describing)
    await state.set_data({"specialty": specialty.id, "pieces": [], "anonymous": False, "named": channel.tells_names})
    await show(callback, l10n("ask.describe", specialty=specialty.label(l10n.language)), cancel_keyboard(l10n))


def cancel_keyboard(l10n: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=l10n("ask.cancel"), callback_data=Ask(step=AskStep.cancel).pack())]])


async def take_description(message: Message, l10n: Texts, content: Content, state: FSMContext, platform: str) -> None:
    """The first message: with words in it, the FAQ is asked first (parents often find the answer there)."""
    pieces = pieces_of(message, platform)
    if not pieces:
        await message.answer(l10n("ask.unsupported"), reply_markup=cancel_keyboard(l10n))
        return
    data = await state.get_data()
    data["pieces"] = [piece.as_data() for piece in pieces]
    await state.set_state(Asking.collecting)
    await state.set_data(data)
    words = message.text or message.caption or ""
    found = content.faq.match(words, data["specialty"], l10n.language) if words else []
    if not found:
        text, markup = draft(l10n, content, data)
        await message.answer(text, reply_markup=markup)
        return
    lines = [l10n("ask.faq_found")] + [f"{number}. {html.escape(entry.question, quote=False)}" for number, entry in enumerate(found, 1)]
    builder = InlineKeyboardBuilder()
    for number, entry in enumerate(found, 1):
        builder.button(text=l10n("ask.faq_read", number=number), callback_data=Ask(step=AskStep.faq, entry=entry.id))
    builder.button(text=l10n("ask.still"), callback_data=Ask(step=AskStep.still))
    builder.button(text=l10n("ask.helped"), callback_data=Ask(step=AskStep.helped))
    await message.answer("\n".join(lines), reply_markup=keyboard(builder, len(found), 1, 1))


async def read_faq(callback: CallbackQuery, callback_data: Ask, l10n: Texts, content: Content) -> None:
    entry = content.faq.entry(l10n.language, callback_data.entry)
    if entry is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await callback.answer()
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("ask.still"), callback_data=Ask(step=AskStep.still))
    builder.button(text=l10n("ask.helped"), callback_data=Ask(step=AskStep.helped))
    await answer_below(callback, l10n("ask.faq_entry", question=entry.question, answer=entry.answer), keyboard(builder, 1))


async def faq_helped(callback: CallbackQuery, l10n: Texts, state: FSMContext, session: AsyncSession, clock: Clock, person: Person) -> None:
    if await state.get_state() != Asking.collecting.state:
        await callback.answer(l10n("fallback.button_outdated"))  # a double tap, or an old answer's button
        return
    data = await state.get_data()
    await state.clear()
    record_event(session, EventKind.faq_helped, at=clock.now(), person=person, object_type="specialty", object_id=data.get("specialty"))
    await show(callback, l10n("ask.glad"), menu_button(l10n))


async def take_more(message: Message, l10n: Texts, content: Content, state: FSMContext, platform: str) -> None:
    pieces = pieces_of(message, platform)
    data = await state.get_data()
    if not pieces:
        await message.answer(l10n("ask.unsupported"))
        return
    if len(data.get("pieces", [])) + len(pieces) > MAX_DRAFT_PIECES:
        await message.answer(l10n("ask.too_many", count=MAX_DRAFT_PIECES), reply_markup=draft(l10n, content, data)[1])
        return
    data["pieces"] = [*data.get("pieces", []), *(piece.as_data() for piece in pieces)]
    await state.set_data(data)
    text, markup = draft(l10n, content, data)
    await message.answer(text, reply_markup=markup)


def draft(l10n: Texts, content: Content, data: dict) -> tuple[str, InlineKeyboardMarkup]:
    """The question so far: how many messages, anonymous or not, and the buttons to finish it."""
    anonymous = bool(data.get("anonymous"))
    text = l10n(
        "ask.draft",
        specialty=specialty_label(content, data.get("specialty", ""), l10n.language),
        count=len(data.get("pieces", [])),
        anonymity=l10n("ask.anonymous_on" if anonymous else "ask.anonymous_off" if data.get("named", True) else "ask.anonymous_off_no_name"),
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("ask.send"), callback_data=Ask(step=AskStep.send))
    builder.button(text=l10n("ask.toggle_named" if anonymous else "ask.toggle_anonymous"), callback_data=Ask(step=AskStep.anonymous))
    builder.button(text=l10n("ask.cancel"), callback_data=Ask(step=AskStep.cancel))
    return text, keyboard(builder, 1)


async def draft_screen(callback: CallbackQuery, l10n: Texts, content: Content, state: FSMContext) -> None:
    if await state.get_state() != Asking.collecting.state:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await show(callback, *draft(l10n, content, await state.get_data()))


async def toggle_anonymous(callback: CallbackQuery, l10n: Texts, content: Content, state: FSMContext) -> None:
    if await state.get_state() != Asking.collecting.state:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    data = await state.get_data()
    data["anonymous"] = not data.get("anonymous")
    await state.set_data(data)
    await show(callback, *draft(l10n, content, data))


async def send_question(
    callback: CallbackQuery,
    l10n: Texts,
    content: Content,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    account: Account,
    channel: Channel,
    bots: Mapping[str, Bot],
) -> None:
    data = await state.get_data()
    specialty = content.specialty(data.get("specialty", ""))
    if await state.get_state() != Asking.collecting.state or specialty is None or not data.get("pieces"):
        await callback.answer(l10n("fallback.button_outdated"))  # a double tap: the question is sent already
        return
    await state.clear()
    now = clock.now()
    pieces = [Piece.of_data(piece) for piece in data["pieces"]]
    name = callback.from_user.full_name[:NAME_KEPT] if channel.tells_names and not data.get("anonymous") else None
    ticket = await consultations.open_ticket(
        session, account.person, account, specialty, pieces, anonymous=bool(data.get("anonymous")), parent_name=name, now=now
    )
    position = await consultations.queue_position(session, ticket)
    label = specialty.label(l10n.language)
    opening = specialty.hours.next_opening(now)
    if opening is not None and opening > now:
        when = l10n("ask.sent_closed", specialty=label, when=l10n.date_time(opening))
    else:
        when = l10n("ask.sent_open", when=l10n.date_time(ticket.due_at or now))
    text = l10n("ask.sent", id=ticket.id, specialty=label, position=position) + "\n" + when
    await show(callback, text, question_list_button(l10n))
    if opening == now:  # at work: the specialty's specialists hear of it now, not from the watch later
        specialists = await specialists_of(session, specialty.id)
        await tell_staff(session, bots, content, specialists, "queue.new_question", id=ticket.id, specialty=specialty.id, count=position)


def question_list_button(l10n: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("ticket.mine_button"), callback_data=TicketAction(step=TicketStep.mine))
    builder.button(text=l10n("menu.open"), callback_data=MenuAction(action=Screen.home))
    return keyboard(builder, 1)


async def cancel_question(callback: CallbackQuery, actor: Actor, l10n: Texts, state: FSMContext) -> None:
    from handlers.menu import menu_screen  # the menu imports this feature's screens

    await state.clear()
    await show(callback, *menu_screen(actor, l10n, note=l10n("ask.cancelled")))


# The family's questions


async def my_questions(event: Message | CallbackQuery, l10n: Texts, content: Content, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    """The family's questions, open ones first: the latest listed, the first few a button each
    (with "ask" and "back", a screen fits VK's six rows)."""
    await state.clear()
    assert actor.person_id is not None
    tickets = await consultations.tickets_of_parent(session, actor.person_id)
    lines = [l10n("ticket.mine_title") if tickets else l10n("ticket.mine_empty")]
    builder = InlineKeyboardBuilder()
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
    builder = InlineKeyboardBuilder()
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
    await state.set_state(Asking.adding)
    await state.set_data({"ticket": ticket.id})
    await show(callback, l10n("ticket.add_prompt", id=ticket.id), done_adding(l10n, ticket.id))


def done_adding(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    done = TicketAction(step=TicketStep.show, id=ticket_id).pack()
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=l10n("ticket.add_done"), callback_data=done)]])


async def take_addition(message: Message, state: FSMContext, **data) -> None:
    ticket = await own_ticket(data["session"], data["actor"], (await state.get_data()).get("ticket", 0))
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
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("ticket.comment"), callback_data=TicketAction(step=TicketStep.comment, id=ticket.id))
    builder.button(text=l10n("menu.open"), callback_data=MenuAction(action=Screen.home))
    await show(callback, l10n("ticket.rated", count=callback_data.value), keyboard(builder, 1))


async def start_comment(callback: CallbackQuery, callback_data: TicketAction, l10n: Texts, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    ticket = await own_ticket(session, actor, callback_data.id)
    if ticket is None or ticket.rating is None or ticket.rating_comment is not None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await state.set_state(Asking.commenting)
    await state.set_data({"ticket": ticket.id})
    await show(callback, l10n("ticket.comment_prompt"), menu_button(l10n))  # the menu drops the comment


async def take_comment(message: Message, l10n: Texts, session: AsyncSession, actor: Actor, state: FSMContext) -> None:
    ticket = await own_ticket(session, actor, (await state.get_data()).get("ticket", 0))
    await state.clear()
    if ticket is None or not (message.text or "").strip():
        await message.answer(l10n("ticket.comment_skipped"), reply_markup=menu_button(l10n))
        return
    ticket.rating_comment = message.text.strip()[:2000] if message.text else None
    await message.answer(l10n("ticket.comment_saved"), reply_markup=menu_button(l10n))

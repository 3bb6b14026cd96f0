"""The specialist's side: the queue of their specialties, "take next", their open questions a page
at a time, the question's card with the whole exchange, replies in any media, ready answers,
private notes, closing it (passing it on is handlers/consultations/transfer.py)."""

from __future__ import annotations

import html
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content, Texts
from bot.db.models import Account, Person, PieceAuthor, PieceKind, Ticket, TicketStatus
from bot.filters import Allowed, NotACommand
from bot.lengths import BUTTON_LABEL_LIMIT, shortened
from bot.permissions import Action, Actor, may
from bot.services import consultations
from bot.services.consultations import Piece
from handlers.consultations.common import (
    TicketAction,
    TicketStep,
    Working,
    account_of,
    await_about,
    piece_line,
    pieces_of,
    prompted_ticket,
    send_piece,
    specialty_label,
    waited,
)
from handlers.consultations.notices import family_label, rating_buttons, specialist_header, tell_parent
from handlers.ui import Buttons, MenuAction, Screen, keyboard, one_button, show

PER_PAGE = 6  # open questions on a page: two rows of three buttons, with the arrows and the way back, fit VK's keyboard
CARD_PIECES = 20  # the latest messages a card lists (the files button sends them all again)
CARD_PIECE_LIMIT = 600  # characters of one message on the card
NAME_LIMIT = 64
CANNED_SHOWN = 8  # two to a row, with "back": VK's keyboard


def build_router() -> Router:
    router = Router(name="consultations.specialist")
    router.message.filter(Allowed(Action.work_questions))
    router.callback_query.filter(Allowed(Action.work_questions))
    router.message.register(queue_screen, Command("queue"))
    router.callback_query.register(queue_screen, MenuAction.filter(F.action == Screen.queue))
    router.callback_query.register(queue_screen, TicketAction.filter(F.step == TicketStep.queue))
    router.callback_query.register(take_next, TicketAction.filter(F.step == TicketStep.take))
    router.callback_query.register(open_list, TicketAction.filter(F.step == TicketStep.open_list))
    router.callback_query.register(card, TicketAction.filter(F.step == TicketStep.card))
    router.callback_query.register(start_reply, TicketAction.filter(F.step == TicketStep.reply))
    router.message.register(take_reply, StateFilter(Working.replying), NotACommand())
    router.callback_query.register(stop_replying, TicketAction.filter(F.step == TicketStep.done))
    router.callback_query.register(canned, TicketAction.filter(F.step == TicketStep.canned))
    router.callback_query.register(resend_files, TicketAction.filter(F.step == TicketStep.files))
    router.callback_query.register(start_note, TicketAction.filter(F.step == TicketStep.note))
    router.message.register(take_note, StateFilter(Working.noting), NotACommand())
    router.callback_query.register(finish, TicketAction.filter(F.step == TicketStep.finish))
    router.callback_query.register(start_rename, TicketAction.filter(F.step == TicketStep.rename))
    router.message.register(take_name, StateFilter(Working.naming), NotACommand())
    return router


def my_specialties(actor: Actor, content: Content) -> list[str]:
    """The actor's specialties in the content's order (a button names one by its place)."""
    return [specialty.id for specialty in content.specialties if actor.specialist_in(specialty.id)]


# The queue


async def queue_screen(
    event: Message | CallbackQuery, actor: Actor, l10n: Texts, content: Content, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    await state.clear()
    await show(event, *await queue_view(session, actor, l10n, content, clock.now()))


async def queue_view(session: AsyncSession, actor: Actor, l10n: Texts, content: Content, now: datetime, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    assert actor.person_id is not None
    specialties = my_specialties(actor, content)
    lines = [note] if note else []
    lines.append(l10n("queue.title"))
    builder = Buttons()
    _, open_count = await consultations.open_tickets_of(session, actor.person_id, 0, 0)
    takes = 0
    for line in await consultations.queue_lines(session, specialties, actor.person_id):
        label = specialty_label(content, line.specialty, l10n.language) if line.specialty else l10n("queue.named")
        if not line.specialty and not line.waiting:
            continue
        if line.waiting:
            lines.append(l10n("queue.line", specialty=label, count=line.waiting, oldest=waited(l10n, line.oldest, now)))
            place = specialties.index(line.specialty) + 1 if line.specialty else 0
            takes += 1
            builder.button(
                text=shortened(l10n("queue.take", specialty=label), BUTTON_LABEL_LIMIT),
                callback_data=TicketAction(step=TicketStep.take, id=open_count, value=place),  # id: see take_next
            )
        else:
            lines.append(l10n("queue.line_empty", specialty=label))
    builder.button(text=l10n("queue.open", count=open_count), callback_data=TicketAction(step=TicketStep.open_list))
    builder.button(text=l10n("queue.rename"), callback_data=TicketAction(step=TicketStep.rename))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    take_rows = [1] * takes if takes <= 3 else [2] * -(-takes // 2)  # VK: at most six rows
    return "\n".join(lines), keyboard(builder, *take_rows, 1, 1, 1)


async def take_next(callback: CallbackQuery, callback_data: TicketAction, **data) -> None:
    """Claim the oldest question. The button carries how many questions the specialist had open
    when the queue was drawn: a double tap (or an old queue screen) finds that changed and shows the
    queue again instead of taking a second question."""
    actor: Actor = data["actor"]
    l10n: Texts = data["l10n"]
    content: Content = data["content"]
    session: AsyncSession = data["session"]
    now = data["clock"].now()
    specialties = my_specialties(actor, content)
    if callback_data.value > len(specialties):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    only = specialties[callback_data.value - 1] if callback_data.value else ""
    account: Account = data["account"]
    specialty_of = {specialty.id: specialty for specialty in content.specialties}
    assert actor.person_id is not None
    _, open_count = await consultations.open_tickets_of(session, actor.person_id, 0, 0)
    if open_count != callback_data.id:
        await show(callback, *await queue_view(session, actor, l10n, content, now))
        return
    ticket = await consultations.claim_next(session, actor.person_id, account.id, specialties, only, specialty_of, now)
    if ticket is None:
        await show(callback, *await queue_view(session, actor, l10n, content, now, note=l10n("queue.nothing")))
        return
    await callback.answer()
    await send_card(callback, ticket, data, with_files=True)
    await tell_parent(session, data["bots"], content, ticket, "ticket.taken_notice")


# One question


async def workable(session: AsyncSession, actor: Actor, ticket_id: int, action: Action = Action.answer_question) -> Ticket | None:
    """The question, if the actor may still do `action` to it (re-asked at every press)."""
    ticket = await session.get(Ticket, ticket_id)
    return ticket if ticket is not None and may(actor, action, ticket) else None


async def card(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    ticket = await workable(data["session"], data["actor"], callback_data.id, Action.see_question)
    if ticket is None:
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return
    await state.clear()
    await show(callback, *await card_view(ticket, data))


async def send_card(callback: CallbackQuery, ticket: Ticket, data: dict, with_files: bool = False) -> None:
    """The card as a new message, after the question's files when the specialist first sees it."""
    if with_files:
        await send_files(callback, ticket, data)
    text, markup = await card_view(ticket, data)
    assert callback.message is not None
    await callback.message.answer(text, reply_markup=markup)


async def card_view(ticket: Ticket, data: dict) -> tuple[str, InlineKeyboardMarkup]:
    l10n: Texts = data["l10n"]
    content: Content = data["content"]
    session: AsyncSession = data["session"]
    actor: Actor = data["actor"]
    now = data["clock"].now()
    specialty = specialty_label(content, ticket.specialty, l10n.language)
    lines = [l10n("work.card_title", id=ticket.id, specialty=specialty, family=family_label(l10n, ticket))]
    lines.append(l10n("work.card_asked", when=l10n.date_time(ticket.created_at), waited=waited(l10n, ticket.created_at, now)))
    rows = await consultations.pieces_of(session, ticket)
    if len(rows) > CARD_PIECES:
        lines.append(l10n("work.card_earlier", count=len(rows) - CARD_PIECES))
    for row in rows[-CARD_PIECES:]:
        who = {PieceAuthor.parent: l10n("work.family"), PieceAuthor.specialist: l10n("work.specialist"), PieceAuthor.note: l10n("work.note_mark")}[
            PieceAuthor(row.author)
        ]
        lines.append(f"— {who}: {piece_line(l10n, Piece.of_row(row), CARD_PIECE_LIMIT)}")
    earlier = await consultations.earlier_tickets(session, ticket)
    if earlier:
        listed = ", ".join(f"#{other.id} ({specialty_label(content, other.specialty, l10n.language)}, {l10n.date(other.created_at)})" for other in earlier)
        lines.append(l10n("work.card_history", tickets=listed))
    files = sum(1 for row in rows if row.file_id)
    mine = ticket.status == TicketStatus.claimed and actor.is_person(ticket.assignee_id)
    return "\n".join(lines), card_buttons(l10n, ticket, mine, files)


def card_buttons(l10n: Texts, ticket: Ticket, mine: bool, files: int) -> InlineKeyboardMarkup:
    builder = Buttons()
    sizes = []
    if mine:
        for step, key in (
            (TicketStep.reply, "work.reply"),
            (TicketStep.canned, "work.canned"),
            (TicketStep.note, "work.note"),
            (TicketStep.transfer, "work.transfer"),
        ):
            builder.button(text=l10n(key), callback_data=TicketAction(step=step, id=ticket.id))
        builder.button(text=l10n("work.finish"), callback_data=TicketAction(step=TicketStep.finish, id=ticket.id))
        sizes += [2, 2, 1]
    if files:
        builder.button(text=l10n("work.files", count=files), callback_data=TicketAction(step=TicketStep.files, id=ticket.id))
        sizes.append(1)
    builder.button(text=l10n("work.to_queue"), callback_data=TicketAction(step=TicketStep.queue))
    return keyboard(builder, *sizes, 1)


async def send_files(callback: CallbackQuery, ticket: Ticket, data: dict) -> None:
    """The question's files as they came (a voice as a voice), each under its place in the exchange."""
    l10n: Texts = data["l10n"]
    rows = [row for row in await consultations.pieces_of(data["session"], ticket) if row.file_id]
    account: Account = data["account"]
    for number, row in enumerate(rows, 1):
        await send_piece(data["bots"], Piece.of_row(row), account, l10n("work.file_header", id=ticket.id, number=number, count=len(rows)))


async def resend_files(callback: CallbackQuery, callback_data: TicketAction, **data) -> None:
    ticket = await workable(data["session"], data["actor"], callback_data.id, Action.see_question)
    if ticket is None:
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return
    await callback.answer()
    await send_card(callback, ticket, data, with_files=True)


async def open_list(callback: CallbackQuery, callback_data: TicketAction, actor: Actor, l10n: Texts, content: Content, session: AsyncSession) -> None:
    """A specialist with 40 open questions: those waiting for their reply first, longest first, a
    page at a time; the page lists them, a button per question opens it (a page fits VK's keyboard)."""
    assert actor.person_id is not None
    pages = max(1, -(-(await consultations.open_tickets_of(session, actor.person_id, 0, 0))[1] // PER_PAGE))
    page = min(callback_data.value, pages - 1)
    tickets, total = await consultations.open_tickets_of(session, actor.person_id, page, PER_PAGE)
    lines = [l10n("work.open_title", count=total, page=page + 1, pages=pages) if total else l10n("work.open_empty")]
    builder = Buttons()
    for ticket in tickets:
        mark = "⏳" if ticket.reply_due_at is not None else "✓"
        line = f"{mark} #{ticket.id} · {family_label(l10n, ticket)} · {specialty_label(content, ticket.specialty, l10n.language)}"
        lines.append(html.escape(line, quote=False))
        builder.button(text=f"{mark} #{ticket.id}", callback_data=TicketAction(step=TicketStep.card, id=ticket.id))
    builder.adjust(3)
    arrows = [(text, target) for text, target in (("◀", page - 1), ("▶", page + 1)) if 0 <= target < pages]
    if arrows:
        builder.row(*(InlineKeyboardButton(text=text, callback_data=TicketAction(step=TicketStep.open_list, value=target).pack()) for text, target in arrows))
    builder.row(InlineKeyboardButton(text=l10n("work.to_queue"), callback_data=TicketAction(step=TicketStep.queue).pack()))
    await show(callback, "\n".join(lines), builder.as_markup())


# Answering


async def start_reply(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    l10n: Texts = data["l10n"]
    ticket = await workable(data["session"], data["actor"], callback_data.id)
    if ticket is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await await_about(state, Working.replying, ticket.id)
    await callback.answer()
    assert callback.message is not None
    await callback.message.answer(l10n("work.reply_prompt", id=ticket.id, family=family_label(l10n, ticket)), reply_markup=replying_buttons(l10n, ticket.id))


def replying_buttons(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    builder = Buttons()
    builder.button(text=l10n("work.done"), callback_data=TicketAction(step=TicketStep.done, id=ticket_id))
    builder.button(text=l10n("work.finish"), callback_data=TicketAction(step=TicketStep.finish, id=ticket_id))
    return keyboard(builder, 2)


async def take_reply(message: Message, state: FSMContext, **data) -> None:
    l10n: Texts = data["l10n"]
    ticket = await workable(data["session"], data["actor"], await prompted_ticket(state))
    if ticket is None:
        await state.clear()
        await message.answer(l10n("work.not_yours"))
        return
    pieces = pieces_of(message, data["platform"])
    if not pieces:
        await message.answer(l10n("ask.unsupported"))
        return
    delivered = await relay_answer(ticket, pieces, data)
    await message.answer(l10n("work.sent" if delivered else "work.not_delivered", id=ticket.id), reply_markup=replying_buttons(l10n, ticket.id))


async def relay_answer(ticket: Ticket, pieces: list[Piece], data: dict) -> bool:
    """Keep the specialist's answer and send it to the family under the specialist's name and
    title, through the bot, in the chat they asked from."""
    session: AsyncSession = data["session"]
    person: Person = data["account"].person
    await consultations.answer(session, ticket, person.id, pieces, data["clock"].now())
    parent_account = await account_of(session, ticket.parent_account_id)
    if parent_account is None:
        return False
    parent = await session.get(Person, parent_account.person_id)
    assert parent is not None
    reader = data["content"].texts[parent.language]
    header = specialist_header(reader, data["content"], ticket, person)
    delivered = True
    for number, piece in enumerate(pieces):
        delivered &= await send_piece(data["bots"], piece, parent_account, header if number == 0 else "")
    return delivered


async def stop_replying(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    await state.clear()
    await card(callback, callback_data, state, **data)


async def canned(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    """The ready answers of the question's specialty (titles in the specialist's language); a press
    sends one, in the family's language, as the specialist's reply. The buttons carry how many
    messages the exchange had when they were drawn: a double tap finds one more and sends nothing."""
    l10n: Texts = data["l10n"]
    session: AsyncSession = data["session"]
    content: Content = data["content"]
    ticket = await workable(session, data["actor"], callback_data.id)
    if ticket is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    answers = content.canned_for(ticket.specialty, l10n.language)[:CANNED_SHOWN]
    exchanged = len(await consultations.pieces_of(session, ticket))
    if callback_data.value == 0 or callback_data.value > len(answers):
        builder = Buttons()
        for number, ready in enumerate(answers, 1):
            pressed = TicketAction(step=TicketStep.canned, id=ticket.id, value=number, seen=exchanged)
            builder.button(text=shortened(ready.title, BUTTON_LABEL_LIMIT), callback_data=pressed)
        builder.button(text=l10n("menu.back"), callback_data=TicketAction(step=TicketStep.card, id=ticket.id))
        await show(callback, l10n("work.canned_title", id=ticket.id), keyboard(builder, 2))
        return
    if callback_data.seen != exchanged:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    parent = await session.get(Person, ticket.person_id)
    ready = answers[callback_data.value - 1]
    in_their_language = {answer.id: answer for answer in content.canned_for(ticket.specialty, parent.language)} if parent else {}
    text = in_their_language.get(ready.id, ready).text
    delivered = await relay_answer(ticket, [Piece(PieceKind.text, data["platform"], text=text)], data)
    await show(callback, *await card_view(ticket, data), notice=l10n("work.sent" if delivered else "work.not_delivered", id=ticket.id))


async def start_note(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    l10n: Texts = data["l10n"]
    ticket = await workable(data["session"], data["actor"], callback_data.id)
    if ticket is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await await_about(state, Working.noting, ticket.id)
    await show(callback, l10n("work.note_prompt", id=ticket.id), back_to_card(l10n, ticket.id))


def back_to_card(l10n: Texts, ticket_id: int) -> InlineKeyboardMarkup:
    return one_button(l10n("menu.back"), TicketAction(step=TicketStep.done, id=ticket_id))


async def take_note(message: Message, state: FSMContext, **data) -> None:
    ticket = await workable(data["session"], data["actor"], await prompted_ticket(state), Action.see_question)
    await state.clear()
    if ticket is None or not message.text:
        await message.answer(data["l10n"]("work.note_text_only" if ticket else "work.not_yours"))
        return
    await consultations.add_note(data["session"], ticket, data["account"].person.id, message.text, data["clock"].now())
    text, markup = await card_view(ticket, data)
    await message.answer(text, reply_markup=markup)


async def finish(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    l10n: Texts = data["l10n"]
    session: AsyncSession = data["session"]
    ticket = await workable(session, data["actor"], callback_data.id)
    if ticket is None or not await consultations.close_by_specialist(session, ticket, data["clock"].now()):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await state.clear()
    await tell_parent(session, data["bots"], data["content"], ticket, "ticket.closed_notice", markup_of=lambda reader: rating_buttons(reader, ticket.id))
    await show(callback, *await queue_view(session, data["actor"], l10n, data["content"], data["clock"].now(), note=l10n("work.closed", id=ticket.id)))


# The name families see


async def start_rename(callback: CallbackQuery, l10n: Texts, state: FSMContext, account: Account) -> None:
    await state.set_state(Working.naming)
    current = account.person.display_name or "—"
    await show(callback, l10n("work.name_prompt", current=current), one_button(l10n("menu.back"), TicketAction(step=TicketStep.queue)))


async def take_name(message: Message, state: FSMContext, **data) -> None:
    l10n: Texts = data["l10n"]
    name = " ".join((message.text or "").split())
    if not name or len(name) > NAME_LIMIT:
        await message.answer(l10n("work.name_invalid", limit=NAME_LIMIT))
        return
    await state.clear()
    data["account"].person.display_name = name
    text, markup = await queue_view(data["session"], data["actor"], l10n, data["content"], data["clock"].now(), note=l10n("work.name_saved", name=name))
    await message.answer(text, reply_markup=markup)

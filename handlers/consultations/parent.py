"""The family asks a specialist: the specialty, the FAQ's answers, the question in any media,
anonymously if they like, and sending it (following it is handlers/consultations/questions.py)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import lru_cache, partial

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content, Texts
from bot.db.loop_reads import LoopReads
from bot.db.loop_writes import LoopWrites
from bot.db.models import Person
from bot.filters import NotACommand
from bot.permissions import Actor
from bot.platforms import Channel
from bot.services import consultations
from bot.services.consultations import MAX_DRAFT_PIECES, Piece
from bot.services.events import EventKind, record_event
from bot.services.people import Identity
from handlers.consultations.common import (
    Ask,
    Asking,
    AskStep,
    TicketAction,
    TicketStep,
    pieces_of,
    specialty_label,
)
from handlers.consultations.notices import tell_specialists
from handlers.ui import Buttons, MenuAction, Screen, answer_below, choices_keyboard, keyboard, menu_button, one_button, show

NAME_KEPT = 64  # Ticket.parent_name's length; Telegram's first and last names can be longer together


def build_router() -> Router:
    router = Router(name="consultations.asking")
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


@lru_cache(maxsize=64)
def cancel_keyboard(l10n: Texts) -> InlineKeyboardMarkup:
    return one_button(l10n("ask.cancel"), Ask(step=AskStep.cancel))


async def take_description(message: Message, l10n: Texts, content: Content, state: FSMContext, platform: str) -> None:
    """The first message: with words in it, the FAQ is asked first (parents often find the answer there)."""
    pieces = pieces_of(message, platform)
    if not pieces:
        await message.answer(l10n("ask.unsupported"), reply_markup=cancel_keyboard(l10n))
        return
    data = await state.get_data()
    data["pieces"] = [*data.get("pieces", []), *(piece.as_data() for piece in pieces)]  # after a lesson's, when asked about one
    await state.set_state(Asking.collecting)
    await state.set_data(data)
    words = message.text or message.caption or ""
    found = content.faq.match(words, data["specialty"], l10n.language) if words else []
    if not found:
        text, markup = draft(l10n, content, data)
        await message.answer(text, reply_markup=markup)
        return
    lines = [l10n("ask.faq_found")] + [f"{number}. {html.escape(entry.question, quote=False)}" for number, entry in enumerate(found, 1)]
    await message.answer("\n".join(lines), reply_markup=faq_keyboard(l10n, tuple(entry.id for entry in found)))


# The question's keyboards are built once per language (and entries, or anonymity): aiogram's
# buttons are pydantic models, validated as they are made, a tenth of a step's cost in a burst of
# questions (bench/updates.py). Nothing changes a markup once it is made, so one can be shared.


@lru_cache(maxsize=256)
def faq_keyboard(l10n: Texts, entries: tuple[str, ...]) -> InlineKeyboardMarkup:
    """A button to read each entry the FAQ found, then "still ask" and "this helped"."""
    builder = Buttons()
    for number, entry in enumerate(entries, 1):
        builder.button(text=l10n("ask.faq_read", number=number), callback_data=Ask(step=AskStep.faq, entry=entry))
    builder.button(text=l10n("ask.still"), callback_data=Ask(step=AskStep.still))
    builder.button(text=l10n("ask.helped"), callback_data=Ask(step=AskStep.helped))
    return keyboard(builder, len(entries), 1, 1)


async def read_faq(callback: CallbackQuery, callback_data: Ask, l10n: Texts, content: Content) -> None:
    entry = content.faq.entry(l10n.language, callback_data.entry)
    if entry is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await callback.answer()
    builder = Buttons()
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
    return text, draft_keyboard(l10n, anonymous)


@lru_cache(maxsize=64)
def draft_keyboard(l10n: Texts, anonymous: bool) -> InlineKeyboardMarkup:
    builder = Buttons()
    builder.button(text=l10n("ask.send"), callback_data=Ask(step=AskStep.send))
    builder.button(text=l10n("ask.toggle_named" if anonymous else "ask.toggle_anonymous"), callback_data=Ask(step=AskStep.anonymous))
    builder.button(text=l10n("ask.cancel"), callback_data=Ask(step=AskStep.cancel))
    return keyboard(builder, 1)


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
    writes: LoopWrites,
    reads: LoopReads | None,
    clock: Clock,
    identity: Identity,
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
    anonymous = bool(data.get("anonymous"))
    name = callback.from_user.full_name[:NAME_KEPT] if channel.tells_names and not anonymous else None
    asked = partial(
        consultations.open_ticket, asker=identity, specialty=specialty, pieces=pieces, anonymous=anonymous, parent_name=name, now=now
    )
    ticket = await writes.run(session, asked)
    label = specialty.label(l10n.language)
    opening = specialty.hours.next_opening(now)
    if opening is not None and opening > now:
        when = l10n("ask.sent_closed", specialty=label, when=l10n.date_time(opening))
    else:
        when = l10n("ask.sent_open", when=l10n.date_time(ticket.due_at or now))
    text = l10n("ask.sent", id=ticket.id, specialty=label, position=ticket.place) + "\n" + when
    await show(callback, text, question_list_button(l10n))
    if opening == now:  # at work: the specialty's specialists hear of it now, not from the watch later
        await tell_specialists(session, reads, bots, content, specialty.id, "queue.new_question", id=ticket.id, count=ticket.place)


@lru_cache(maxsize=64)
def question_list_button(l10n: Texts) -> InlineKeyboardMarkup:
    builder = Buttons()
    builder.button(text=l10n("ticket.mine_button"), callback_data=TicketAction(step=TicketStep.mine))
    builder.button(text=l10n("menu.open"), callback_data=MenuAction(action=Screen.home))
    return keyboard(builder, 1)


async def cancel_question(callback: CallbackQuery, actor: Actor, l10n: Texts, state: FSMContext) -> None:
    from handlers.menu import menu_screen  # the menu imports this feature's screens

    await state.clear()
    await show(callback, *menu_screen(actor, l10n, note=l10n("ask.cancelled")))

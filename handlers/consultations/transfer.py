"""Passing a question on: to another specialty's queue, or to a colleague by name, with a note
for them or none. The family is told where it went; a colleague named is told it is theirs."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Texts
from bot.db.models import Role, Ticket
from bot.filters import Allowed, NotACommand
from bot.lengths import BUTTON_LABEL_LIMIT, shortened
from bot.permissions import Action
from bot.services import consultations
from handlers.consultations.common import TICKET, TicketAction, TicketStep, Working, await_about
from handlers.consultations.notices import tell_parent, tell_staff
from handlers.consultations.specialist import queue_view, workable
from handlers.ui import Buttons, keyboard, show

COLLEAGUES_SHOWN = 8  # with "anyone" and "back", VK's 10 buttons


def build_router() -> Router:
    router = Router(name="consultations.transfer")
    router.message.filter(Allowed(Action.work_questions))
    router.callback_query.filter(Allowed(Action.work_questions))
    router.callback_query.register(choose_transfer, TicketAction.filter(F.step == TicketStep.transfer))
    router.callback_query.register(choose_colleague, TicketAction.filter(F.step == TicketStep.colleague))
    router.callback_query.register(transfer_without_note, TicketAction.filter(F.step == TicketStep.transfer_go))
    router.message.register(take_transfer_note, StateFilter(Working.transferring), NotACommand())
    return router


async def choose_transfer(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    """First the specialty (value: its place + 1), then anyone in its queue or a colleague by name."""
    l10n: Texts = data["l10n"]
    content: Content = data["content"]
    ticket = await workable(data["session"], data["actor"], callback_data.id)
    if ticket is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    if not 0 < callback_data.value <= len(content.specialties):
        builder = Buttons()
        for number, specialty in enumerate(content.specialties, 1):
            builder.button(text=specialty.label(l10n.language), callback_data=TicketAction(step=TicketStep.transfer, id=ticket.id, value=number))
        builder.button(text=l10n("menu.back"), callback_data=TicketAction(step=TicketStep.card, id=ticket.id))
        await show(callback, l10n("work.transfer_specialty", id=ticket.id), keyboard(builder, 2))
        return
    specialty = content.specialties[callback_data.value - 1]
    await await_about(state, Working.transferring, ticket.id, specialty=specialty.id, colleague=None)
    builder = Buttons()
    builder.button(
        text=l10n("work.transfer_queue", specialty=specialty.label(l10n.language)), callback_data=TicketAction(step=TicketStep.colleague, id=ticket.id)
    )
    for colleague in (await consultations.colleagues(data["session"], specialty.id, data["account"].person.id))[:COLLEAGUES_SHOWN]:
        name = colleague.display_name or l10n("work.colleague_unnamed", id=colleague.id)
        builder.button(text=shortened(name, BUTTON_LABEL_LIMIT), callback_data=TicketAction(step=TicketStep.colleague, id=ticket.id, value=colleague.id))
    builder.button(text=l10n("menu.back"), callback_data=TicketAction(step=TicketStep.transfer, id=ticket.id))
    await show(callback, l10n("work.transfer_whom", specialty=specialty.label(l10n.language)), keyboard(builder, 1, 2))


async def choose_colleague(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    """Anyone in the specialty's queue (value 0) or a colleague by name; then a note for them, or none."""
    l10n: Texts = data["l10n"]
    chosen = await state.get_data()
    ticket = await workable(data["session"], data["actor"], callback_data.id)
    if ticket is None or chosen.get(TICKET) != ticket.id:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    if callback_data.value:
        named = {person.id for person in await consultations.colleagues(data["session"], chosen["specialty"], data["account"].person.id)}
        if callback_data.value not in named:
            await callback.answer(l10n("fallback.button_outdated"))
            return
    await state.update_data(colleague=callback_data.value or None, prompted=True)
    without = TicketAction(step=TicketStep.transfer_go, id=ticket.id).pack()
    back = TicketAction(step=TicketStep.done, id=ticket.id).pack()  # back to the card, nothing passed on
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=l10n("work.transfer_no_note"), callback_data=without)],
            [InlineKeyboardButton(text=l10n("menu.back"), callback_data=back)],
        ]
    )
    await show(callback, l10n("work.transfer_note_prompt", id=ticket.id), markup)


async def transfer_without_note(callback: CallbackQuery, callback_data: TicketAction, state: FSMContext, **data) -> None:
    chosen = await state.get_data()
    ticket = await workable(data["session"], data["actor"], callback_data.id)
    if ticket is None or chosen.get(TICKET) != ticket.id or not chosen.get("prompted"):
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return
    await transfer(callback, ticket, None, state, data)


async def take_transfer_note(message: Message, state: FSMContext, **data) -> None:
    chosen = await state.get_data()
    ticket = await workable(data["session"], data["actor"], chosen.get(TICKET, 0))
    if ticket is None or not chosen.get("prompted"):
        await state.clear()
        await message.answer(data["l10n"]("work.not_yours"))
        return
    await transfer(message, ticket, message.text, state, data)


async def transfer(event: Message | CallbackQuery, ticket: Ticket, note: str | None, state: FSMContext, data: dict) -> None:
    chosen = await state.get_data()
    await state.clear()
    content: Content = data["content"]
    l10n: Texts = data["l10n"]
    session: AsyncSession = data["session"]
    specialty = content.specialty(chosen["specialty"])
    assert specialty is not None
    await consultations.transfer(session, ticket, data["account"].person.id, specialty, chosen.get("colleague"), note, data["clock"].now())
    await tell_parent(session, data["bots"], content, ticket, "ticket.transferred_notice")
    if chosen.get("colleague"):
        await tell_staff(session, data["bots"], content, Role.person_id == chosen["colleague"], "work.passed_to_you", id=ticket.id, specialty=specialty.id)
    note_text = l10n("work.transferred", id=ticket.id, specialty=specialty.label(l10n.language))
    await show(event, *await queue_view(session, data["actor"], l10n, content, data["clock"].now(), note=note_text))

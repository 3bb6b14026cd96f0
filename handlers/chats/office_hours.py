"""Coordinators schedule specialists' office hours in the parent chats (/officehours): the chat,
the specialty, perhaps the specialist by name, then the time; and see or cancel the coming ones.
What has been chosen so far lives in the conversation state, so a restart midway loses nothing;
the final press checks every choice again, since the content or the roles may have changed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import OfficeHour, Person, Role, as_utc
from bot.delivery.engine import DeliveryEngine
from bot.filters import Allowed, NotACommand
from bot.permissions import Action
from bot.services import chats, office_hours
from bot.services.broadcasts import parse_time
from bot.services.consultations import colleagues
from bot.services.office_hours import Hosting, Notice
from bot.services.people import RoleName
from handlers.ui import CallbackInt, MenuAction, Screen, one_button, paged_keyboard, show, tell_roles

PER_PAGE = 3  # with "schedule", the arrows and "back": within VK's six rows
NOBODY = "-"  # the host step's value when no specialist is named


class OfficeStep(StrEnum):
    list = "list"
    new = "new"  # page through the chats
    chat = "chat"  # value: the chat chosen; then page through the specialties
    specialty = "specialty"  # value: the specialty; then page through its specialists
    host = "host"  # value: the specialist's id, or NOBODY; then the time is asked
    once = "once"
    weekly = "weekly"
    cancel = "cancel"  # id: the office hour
    cancel_yes = "cancel_yes"


class Office(CallbackData, prefix="oh"):
    step: OfficeStep
    value: str = ""
    id: CallbackInt = 0
    page: CallbackInt = 0


class Scheduling(StatesGroup):
    when = State()  # the data holds the chat, specialty and host chosen


def build_router() -> Router:
    router = Router(name="office_hours")
    router.message.filter(Allowed(Action.schedule_office_hours))
    router.callback_query.filter(Allowed(Action.schedule_office_hours))
    router.message.register(office_list, Command("officehours"))
    router.callback_query.register(office_list, MenuAction.filter(F.action == Screen.office_hours))
    router.callback_query.register(office_list, Office.filter(F.step == OfficeStep.list))
    router.callback_query.register(choose_chat, Office.filter(F.step == OfficeStep.new))
    router.callback_query.register(choose_specialty, Office.filter(F.step == OfficeStep.chat))
    router.callback_query.register(choose_host, Office.filter(F.step == OfficeStep.specialty))
    router.callback_query.register(ask_time, Office.filter(F.step == OfficeStep.host))
    router.message.register(take_time, StateFilter(Scheduling.when), NotACommand())
    router.callback_query.register(confirm, Office.filter(F.step.in_({OfficeStep.once, OfficeStep.weekly})))
    router.callback_query.register(ask_cancel, Office.filter(F.step == OfficeStep.cancel))
    router.callback_query.register(cancel, Office.filter(F.step == OfficeStep.cancel_yes))
    return router


def back_to_list(l10n: Texts) -> tuple[str, Office]:
    return l10n("menu.back"), Office(step=OfficeStep.list)


async def office_list(event: Message | CallbackQuery, session: AsyncSession, l10n: Texts, content: Content, clock: Clock, **data) -> None:
    pressed = data.get("callback_data")
    page = pressed.page if isinstance(pressed, Office) else 0
    coming = await office_hours.upcoming(session, clock.now())
    lines = [await describe(session, hour, content, l10n) for hour in coming]
    text = l10n("office.title") + "\n\n" + ("\n".join(f"• {line}" for line in lines) if lines else l10n("office.none"))
    items = [(l10n("office.cancel_button", when=l10n.date_time(hour.starts_at)), Office(step=OfficeStep.cancel, id=hour.id)) for hour in coming]
    home = (l10n("menu.back"), MenuAction(action=Screen.broadcasts))  # where its button is
    markup = paged_keyboard(items, page, PER_PAGE, lambda target: Office(step=OfficeStep.list, page=target), home)
    markup.inline_keyboard.insert(0, [InlineKeyboardButton(text=l10n("office.new"), callback_data=Office(step=OfficeStep.new).pack())])
    await show(event, text, markup)


async def describe(session: AsyncSession, hour: OfficeHour, content: Content, l10n: Texts) -> str:
    hosting = await office_hours.hosting_of(session, hour, content)
    chat = Content.find(content.chats, hour.chat)
    who = hosting.who(l10n.language) if hosting else hour.specialty
    title = chat.title(l10n.language) if chat else hour.chat
    line = l10n("office.line", when=l10n.date_time(hour.starts_at), who=who, chat=title)
    return line + (" " + l10n("office.weekly_mark") if hour.weekly else "")


async def choose_chat(callback: CallbackQuery, callback_data: Office, l10n: Texts, content: Content, bots: Mapping[str, Bot], state: FSMContext) -> None:
    await state.set_state(None)  # a time asked earlier is no longer awaited
    shown = chats.catalog(content.chats, bots, None)
    if not shown:
        await show(callback, l10n("office.no_chats"), one_button(*back_to_list(l10n)))
        return
    items = [(chat.title(l10n.language), Office(step=OfficeStep.chat, value=chat.id)) for chat in shown]
    markup = paged_keyboard(items, callback_data.page, PER_PAGE + 1, lambda target: Office(step=OfficeStep.new, page=target), back_to_list(l10n))
    await show(callback, l10n("office.pick_chat"), markup)


async def choose_specialty(callback: CallbackQuery, callback_data: Office, l10n: Texts, content: Content, state: FSMContext) -> None:
    await state.update_data(chat=callback_data.value)
    items = [(specialty.label(l10n.language), Office(step=OfficeStep.specialty, value=specialty.id)) for specialty in content.specialties]
    markup = paged_keyboard(
        items, callback_data.page, PER_PAGE + 1, lambda target: Office(step=OfficeStep.chat, value=callback_data.value, page=target),
        (l10n("menu.back"), Office(step=OfficeStep.new)),
    )
    await show(callback, l10n("office.pick_specialty"), markup)


async def choose_host(callback: CallbackQuery, callback_data: Office, session: AsyncSession, l10n: Texts, state: FSMContext, **data) -> None:
    await state.update_data(specialty=callback_data.value)
    specialists = await colleagues(session, callback_data.value, except_id=0)
    if not specialists:
        await ask_time(callback, Office(step=OfficeStep.host, value=NOBODY), l10n, state, data["settings"])
        return
    items = [(l10n("office.nobody_named"), Office(step=OfficeStep.host, value=NOBODY))]
    for specialist in specialists:
        name = specialist.display_name or l10n("work.colleague_unnamed", id=specialist.id)
        items.append((name, Office(step=OfficeStep.host, value=str(specialist.id))))
    chosen = await state.get_data()
    markup = paged_keyboard(
        items, callback_data.page, PER_PAGE + 1, lambda target: Office(step=OfficeStep.specialty, value=callback_data.value, page=target),
        (l10n("menu.back"), Office(step=OfficeStep.chat, value=chosen.get("chat", ""))),
    )
    await show(callback, l10n("office.pick_host"), markup)


async def ask_time(callback: CallbackQuery, callback_data: Office, l10n: Texts, state: FSMContext, settings: Settings) -> None:
    await state.update_data(host=callback_data.value)
    await state.set_state(Scheduling.when)
    await show(callback, l10n("office.ask_time", timezone=settings.default_timezone), one_button(*back_to_list(l10n)))


async def take_time(
    message: Message, session: AsyncSession, l10n: Texts, content: Content, settings: Settings, clock: Clock, state: FSMContext
) -> None:
    starts_at = parse_time(message.text or "", settings.default_timezone, clock.now())
    if starts_at is None:
        await message.answer(l10n("office.time_invalid"), reply_markup=one_button(*back_to_list(l10n)))
        return
    hosting = await chosen_hosting(session, content, state)
    if hosting is None:
        await state.clear()
        await message.answer(l10n("office.choice_gone"), reply_markup=one_button(*back_to_list(l10n)))
        return
    await state.update_data(starts_at=starts_at.isoformat())
    notices = content.texts[settings.default_language]
    preview = hosting.notice(Notice.announcement, starts_at, notices)
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=l10n("office.once"), callback_data=Office(step=OfficeStep.once).pack())],
        [InlineKeyboardButton(text=l10n("office.weekly"), callback_data=Office(step=OfficeStep.weekly).pack())],
        [InlineKeyboardButton(text=l10n("menu.back"), callback_data=Office(step=OfficeStep.list).pack())],
    ])
    await message.answer(l10n("office.confirm", chat=hosting.chat.title(l10n.language)) + "\n\n" + preview, reply_markup=markup)


async def chosen_hosting(session: AsyncSession, content: Content, state: FSMContext) -> Hosting | None:
    """The chat, specialty and specialist chosen so far, as they are now; None if one is gone."""
    chosen = await state.get_data()
    chat, specialty = Content.find(content.chats, chosen.get("chat")), content.specialty(chosen.get("specialty"))
    if chat is None or not chat.connected or specialty is None:
        return None
    host = None
    if chosen.get("host", NOBODY) != NOBODY:
        host = await session.get(Person, int(chosen["host"]))
        if host is None or not any(role.role == RoleName.specialist and role.specialty == specialty.id for role in host.roles):
            return None
    return Hosting(chat, specialty, host)


async def confirm(
    callback: CallbackQuery, callback_data: Office, session: AsyncSession, person: Person, l10n: Texts, content: Content, settings: Settings,
    clock: Clock, state: FSMContext, delivery: DeliveryEngine, bots: Mapping[str, Bot], after_commit: list,
) -> None:
    chosen = await state.get_data()
    hosting = await chosen_hosting(session, content, state)
    if hosting is None or "starts_at" not in chosen or await state.get_state() != Scheduling.when.state:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    starts_at, now = datetime.fromisoformat(chosen["starts_at"]), clock.now()
    if starts_at <= now:
        await show(callback, l10n("office.time_invalid"), one_button(*back_to_list(l10n)))
        return
    notices = content.texts[settings.default_language]
    hour = await office_hours.schedule(session, hosting, starts_at, callback_data.step == OfficeStep.weekly, person, notices, now)
    await state.clear()
    after_commit.append(delivery.wake)
    await show(callback, l10n("office.scheduled", when=l10n.date_time(starts_at), chat=hosting.chat.title(l10n.language)), one_button(*back_to_list(l10n)))
    if hosting.host is not None:
        await tell_host(session, bots, content, hour, hosting, Notice.announcement)


async def ask_cancel(callback: CallbackQuery, callback_data: Office, session: AsyncSession, l10n: Texts, content: Content, clock: Clock) -> None:
    hour = await session.get(OfficeHour, callback_data.id)
    if hour is None or hour.cancelled_at is not None or as_utc(hour.starts_at) <= clock.now():
        await callback.answer(l10n("fallback.button_outdated"))
        return
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=l10n("office.cancel_yes"), callback_data=Office(step=OfficeStep.cancel_yes, id=hour.id).pack())],
        [InlineKeyboardButton(text=l10n("menu.back"), callback_data=Office(step=OfficeStep.list).pack())],
    ])
    await show(callback, l10n("office.cancel_ask", line=await describe(session, hour, content, l10n)), markup)


async def cancel(
    callback: CallbackQuery, callback_data: Office, session: AsyncSession, person: Person, l10n: Texts, content: Content, settings: Settings,
    clock: Clock, delivery: DeliveryEngine, bots: Mapping[str, Bot], after_commit: list,
) -> None:
    hour = await session.get(OfficeHour, callback_data.id)
    if hour is None or hour.cancelled_at is not None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    hosting = await office_hours.hosting_of(session, hour, content)
    told = await office_hours.cancel(session, hour, hosting, person, content.texts[settings.default_language], clock.now())
    after_commit.append(delivery.wake)
    await show(callback, l10n("office.cancelled_told" if told else "office.cancelled"), one_button(*back_to_list(l10n)))
    if hosting is not None and hosting.host is not None:
        await tell_host(session, bots, content, hour, hosting, Notice.cancelled)


async def tell_host(session: AsyncSession, bots: Mapping[str, Bot], content: Content, hour: OfficeHour, hosting: Hosting, notice: Notice) -> None:
    """The named specialist hears of their office hour, and of its cancellation, in their own language."""
    assert hosting.host is not None
    key = "office.host_scheduled" if notice == Notice.announcement else "office.host_cancelled"

    def text(l10n: Texts) -> str:
        return l10n(key, when=l10n.date_time(hour.starts_at), chat=hosting.chat.title(l10n.language))

    await tell_roles(session, bots, content, Role.person_id == hosting.host.id, text)

"""/report for heads and coordinators: choose the period (this month, last month, another month,
this year, last year) and the workbook and the charts come into the chat as files, then a short
summary. Every press is authorised again (the router's filter reads the person's roles per update),
and a period in callback data is parsed again, so a forged one is refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.filters import Allowed
from bot.permissions import Action
from bot.services.reports.build import ReportFile, WallAccess, make_report, report_files
from bot.services.reports.period import BadPeriod, Period
from bot.services.reports.text import period_name, summary
from handlers.ui import CallbackInt, MenuAction, Screen, paged_keyboard, show

log = logging.getLogger(__name__)

MONTHS_BACK = 24  # how far back "another month" offers
MONTHS_PER_PAGE = 6  # three rows of two, the arrows and "back": within VK's six rows


class ReportStep(StrEnum):
    menu = "menu"
    months = "months"  # page through the months
    make = "make"  # period: "2026-10" or "2026"


class ReportPick(CallbackData, prefix="rep"):
    step: ReportStep
    period: str = ""
    page: CallbackInt = 0


def build_router() -> Router:
    router = Router(name="reports")
    router.message.filter(Allowed(Action.read_reports))
    router.callback_query.filter(Allowed(Action.read_reports))
    router.message.register(choose_period, Command("report"))
    router.callback_query.register(choose_period, MenuAction.filter(F.action == Screen.reports))
    router.callback_query.register(choose_period, ReportPick.filter(F.step == ReportStep.menu))
    router.callback_query.register(choose_month, ReportPick.filter(F.step == ReportStep.months))
    router.callback_query.register(make, ReportPick.filter(F.step == ReportStep.make))
    return router


async def choose_period(event: Message | CallbackQuery, l10n: Texts, settings: Settings, clock: Clock) -> None:
    now, zone = clock.now(), settings.default_timezone

    def button(key: str, period: Period) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=l10n(key), callback_data=ReportPick(step=ReportStep.make, period=period.key).pack())]

    rows = [
        button("report.this_month", Period.month_of(now, zone)),
        button("report.last_month", Period.month_of(now, zone, back=1)),
        [InlineKeyboardButton(text=l10n("report.other_month"), callback_data=ReportPick(step=ReportStep.months).pack())],
        button("report.this_year", Period.year_of(now, zone)),
        button("report.last_year", Period.year_of(now, zone, back=1)),
        [InlineKeyboardButton(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home).pack())],
    ]
    await show(event, l10n("report.choose"), InlineKeyboardMarkup(inline_keyboard=rows))


async def choose_month(callback: CallbackQuery, callback_data: ReportPick, l10n: Texts, settings: Settings, clock: Clock) -> None:
    months = [Period.month_of(clock.now(), settings.default_timezone, back=back) for back in range(MONTHS_BACK)]
    items = [(period_name(month, l10n.language), ReportPick(step=ReportStep.make, period=month.key)) for month in months]
    markup = paged_keyboard(
        items, callback_data.page, MONTHS_PER_PAGE, lambda page: ReportPick(step=ReportStep.months, page=page),
        (l10n("menu.back"), ReportPick(step=ReportStep.menu)), per_row=2,
    )
    await show(callback, l10n("report.pick_month"), markup)


async def make(
    callback: CallbackQuery, callback_data: ReportPick, bot: Bot, session: AsyncSession, l10n: Texts, content: Content, settings: Settings
) -> None:
    try:
        period = Period.parse(callback_data.period, settings.default_timezone)
    except BadPeriod:
        await callback.answer(l10n("fallback.button_outdated"), show_alert=True)
        return
    await callback.answer()
    chat_id = callback.message.chat.id if callback.message is not None else callback.from_user.id
    await bot.send_message(chat_id, l10n("report.preparing", period=period_name(period, l10n.language)))
    try:
        report = await make_report(session, content, period, WallAccess.of(settings))
        files = await asyncio.to_thread(report_files, report, l10n)
    except Exception:
        log.exception("the report for %s could not be made", period.key)
        await bot.send_message(chat_id, l10n("report.failed"))
        return
    await send_files(bot, chat_id, files, summary(report, l10n))


async def send_files(bot: Bot, chat_id: int, files: Sequence[ReportFile], text: str, caption: str | None = None) -> None:
    """The workbook, the charts (as files: a slide wants the PNG itself, not a compressed photo),
    then the summary. A refused send stops the rest (the person blocked the bot, say)."""
    for index, file in enumerate(files):
        await bot.send_document(chat_id, BufferedInputFile(file.data, filename=file.name), caption=caption if index == 0 else None)
    await bot.send_message(chat_id, text)


async def send_quietly(bot: Bot, chat_id: int, files: Sequence[ReportFile], text: str, caption: str) -> bool:
    """False when a send failed: logged, and the other heads still get theirs."""
    try:
        await send_files(bot, chat_id, files, text, caption)
    except TelegramAPIError as error:
        log.warning("a report was not delivered (%s)", type(error).__name__)
        return False
    except Exception:  # the VK bridge's unmapped method, say: one head's failure must not stop the loop over them
        log.exception("a report was not delivered")
        return False
    return True

"""A broadcast on its way: the status message that counts it out, cancelling it, and the
reporter the delivery engine calls to keep that message up to date."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Campaign, CampaignKind, CampaignStatus, Person, as_utc
from bot.delivery.engine import DeliveryEngine, Reporter
from bot.delivery.outbox import Progress
from bot.permissions import Action, may
from bot.services import broadcasts
from handlers.broadcasts.common import Broadcast, BroadcastAction, context, pressed
from handlers.ui import Buttons, show

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="broadcasts.status")
    router.callback_query.register(cancel_campaign, pressed(BroadcastAction.cancel))
    router.startup.register(register_reporter)
    return router


async def register_reporter(delivery: DeliveryEngine, bots: dict[str, Bot], content: Content, settings: Settings, clock: Clock) -> None:
    delivery.register_reporter(CampaignKind.broadcast, broadcast_reporter(bots, content, delivery.sessionmaker, settings, clock))


async def cancel_campaign(callback: CallbackQuery, callback_data: Broadcast, **data) -> None:
    """Its author, a head or an admin may stop it (bot.permissions decides); anyone else's press,
    like a press after it ended, is told the button is no longer active."""
    ctx = context(data)
    campaign = await ctx.session.get(Campaign, callback_data.id)
    now = ctx.clock.now()
    if (
        campaign is None
        or campaign.kind != CampaignKind.broadcast
        or not may(ctx.actor, Action.cancel_broadcast, campaign)
        or not broadcasts.cancel(campaign, now)
    ):
        await callback.answer(ctx.l10n("fallback.button_outdated"))
        return
    figures = await broadcasts.figures(ctx.session, campaign.id)
    text, markup = status_screen(campaign, figures, ctx.l10n, ctx.settings, now, finished=campaign.finished_at is not None)
    await show(callback, text, markup, notice=ctx.l10n("broadcast.cancelled"))
    ctx.after_commit.append(ctx.delivery.wake)


def status_screen(
    campaign: Campaign, figures: Progress, l10n: Texts, settings: Settings, now: datetime, finished: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    values = dict(id=campaign.id, sent=figures.sent, unreachable=figures.unreachable, failed=figures.failed, left=figures.left, total=figures.total)
    if finished:
        over = dict(cancelled=figures.cancelled, duration=duration(campaign, l10n, now), **values)
        return (l10n("broadcast.status_cancelled", **over) if campaign.status == CampaignStatus.cancelled else l10n("broadcast.status_done", **over)), None
    if campaign.status == CampaignStatus.cancelled:
        return l10n("broadcast.status_cancelling", **values), None
    builder = Buttons()
    builder.button(text=l10n("broadcast.do_cancel"), callback_data=Broadcast(action=BroadcastAction.cancel, id=campaign.id))
    if campaign.started_at is None and campaign.send_at and as_utc(campaign.send_at) > now:
        return l10n("broadcast.status_scheduled", id=campaign.id, when=l10n.date_time(campaign.send_at)), builder.as_markup()
    return l10n("broadcast.status_sending", remaining=remaining(campaign, figures, l10n, now), **values), builder.as_markup()


def remaining(campaign: Campaign, figures: Progress, l10n: Texts, now: datetime) -> str:
    elapsed = (now - as_utc(campaign.started_at)).total_seconds() if campaign.started_at else 0
    if figures.done == 0 or elapsed <= 0:
        return l10n("broadcast.remaining_unknown")
    minutes = figures.left / (figures.done / elapsed) / 60
    return l10n("broadcast.remaining_minutes", minutes=round(minutes)) if minutes >= 1 else l10n("broadcast.remaining_soon")


def duration(campaign: Campaign, l10n: Texts, now: datetime) -> str:
    if campaign.started_at is None:
        return "0"
    seconds = ((as_utc(campaign.finished_at) if campaign.finished_at else now) - as_utc(campaign.started_at)).total_seconds()
    return l10n("broadcast.duration", minutes=int(seconds // 60), seconds=int(seconds % 60))


def broadcast_reporter(bots: dict[str, Bot], content: Content, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> Reporter:
    """Keeps the coordinator's status message up to date and tells them when it is over."""

    async def report(campaign: Campaign, figures: Progress, finished: bool) -> None:
        bot = bots.get(campaign.origin_platform or "")
        if bot is None or campaign.origin_chat_id is None or campaign.created_by is None:
            return
        async with sessionmaker() as session:
            author = await session.get(Person, campaign.created_by)
        if author is None:
            return  # deleted their data since: nobody to report to
        l10n = content.texts[author.language]
        text, markup = status_screen(campaign, figures, l10n, settings, clock.now(), finished)
        if campaign.status_message_id:
            try:
                await bot.edit_message_text(text, chat_id=campaign.origin_chat_id, message_id=campaign.status_message_id, reply_markup=markup)
            except TelegramBadRequest as error:
                if "message is not modified" not in error.message:
                    log.warning("cannot update the status of broadcast %s: %s", campaign.id, error.message)
        if finished:
            await bot.send_message(campaign.origin_chat_id, text)

    return report

"""/broadcasts: the recent broadcasts and how far each got, and the way to a new one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.content import Content, Texts
from bot.db.models import Campaign, CampaignStatus
from bot.delivery.outbox import Progress
from bot.permissions import NOBODY, Action, Actor, may
from bot.services import broadcasts
from handlers.broadcasts.audience import describe
from handlers.broadcasts.common import Broadcast, BroadcastAction
from handlers.ui import Buttons, MenuAction, Screen, keyboard, show

STATE_KEYS = {
    CampaignStatus.scheduled: "broadcast.state_scheduled",
    CampaignStatus.sending: "broadcast.state_sending",
    CampaignStatus.done: "broadcast.state_done",
    CampaignStatus.cancelled: "broadcast.state_cancelled",
}


def build_router() -> Router:
    router = Router(name="broadcasts.listing")
    router.message.register(list_broadcasts, Command("broadcasts"))
    router.callback_query.register(list_broadcasts, MenuAction.filter(F.action == Screen.broadcasts))
    return router


async def list_broadcasts(
    event: Message | CallbackQuery, session: AsyncSession, l10n: Texts, content: Content, settings: Settings, actor: Actor = NOBODY
) -> None:
    lines = [summary_line(campaign, figures, l10n, content, settings) for campaign, figures in await broadcasts.recent(session)]
    text = l10n("broadcast.list_title") + "\n\n" + ("\n".join(lines) if lines else l10n("broadcast.list_empty"))
    builder = Buttons()
    builder.button(text=l10n("broadcast.new"), callback_data=Broadcast(action=BroadcastAction.new))
    builder.button(text=l10n("menu.office_hours"), callback_data=MenuAction(action=Screen.office_hours))  # VK's menu has no room for an 11th button
    if may(actor, Action.read_reports):  # likewise
        builder.button(text=l10n("report.menu"), callback_data=MenuAction(action=Screen.reports))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action=Screen.home))
    await show(event, text, keyboard(builder, 1))


def summary_line(campaign: Campaign, figures: Progress, l10n: Texts, content: Content, settings: Settings) -> str:
    when = l10n.date_time(campaign.started_at or campaign.send_at or campaign.created_at)
    return l10n(
        "broadcast.list_line", id=campaign.id, when=when, audience=describe(campaign.audience, l10n, content),
        sent=figures.sent, unreachable=figures.unreachable, failed=figures.failed, state=l10n(STATE_KEYS[CampaignStatus(campaign.status)]),
    )

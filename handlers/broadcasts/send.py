"""Sending a draft: a preview exactly as recipients get it, now or at a time, then the confirmation."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.db.models import Campaign
from bot.delivery.outbox import Progress
from bot.delivery.senders import Payload
from bot.filters import NotACommand
from bot.services import broadcasts
from handlers.broadcasts.audience import audience_size, describe
from handlers.broadcasts.common import Broadcast, BroadcastAction, Composing, Context, on_draft, pressed
from handlers.broadcasts.compose import answering, ask, card_screen
from handlers.broadcasts.status import status_screen
from handlers.ui import Buttons, answer_below, keyboard, show

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="broadcasts.send")
    router.callback_query.register(on_draft(preview), pressed(BroadcastAction.preview))
    router.callback_query.register(on_draft(ask_when), pressed(BroadcastAction.send))
    router.callback_query.register(on_draft(send_now), pressed(BroadcastAction.now))
    router.callback_query.register(on_draft(ask_time), pressed(BroadcastAction.schedule))
    router.callback_query.register(on_draft(confirm), pressed(BroadcastAction.confirm))
    router.message.register(answering(take_time, confirm_screen), StateFilter(Composing.time), NotACommand())
    return router


async def preview(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    """The message exactly as recipients get it, sent by the same sender, then the card again."""
    if not (draft.text or draft.media_kind) or callback.message is None:
        await callback.answer(ctx.l10n("broadcast.text_empty"), show_alert=True)
        return
    await callback.answer()
    payload = Payload.of(draft)
    sender = ctx.delivery.senders[ctx.platform]
    try:
        await sender.deliver(payload, callback.message.chat.id, payload.file_on(ctx.platform))
    except TelegramBadRequest:  # formatting the messenger will not take: say so, not a generic apology
        log.warning("the messenger refused the preview of draft %s", draft.id)
        await answer_below(callback, ctx.l10n("lengths.preview_refused"))
    await answer_below(callback, *await card_screen(draft, ctx))


async def ask_when(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    if not (draft.text or draft.media_kind):
        await callback.answer(ctx.l10n("broadcast.text_empty"), show_alert=True)
        return
    builder = Buttons()
    builder.button(text=ctx.l10n("broadcast.do_now"), callback_data=Broadcast(action=BroadcastAction.now, id=draft.id))
    builder.button(text=ctx.l10n("broadcast.do_schedule"), callback_data=Broadcast(action=BroadcastAction.schedule, id=draft.id))
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action=BroadcastAction.card, id=draft.id))
    await show(callback, ctx.l10n("broadcast.when"), keyboard(builder, 1))


async def send_now(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.send_at = None
    await show(callback, *await confirm_screen(draft, ctx))


async def ask_time(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ask(callback, draft, ctx, Composing.time)


async def take_time(message: Message, draft: Campaign, ctx: Context) -> str | None:
    moment = broadcasts.parse_time(message.text or "", ctx.settings.default_timezone, ctx.clock.now())
    if moment is None:
        return "broadcast.time_invalid"
    draft.send_at = moment
    return None


async def confirm_screen(draft: Campaign, ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    count = await audience_size(draft, ctx)
    when = ctx.l10n.date_time(draft.send_at) if draft.send_at else ctx.l10n("broadcast.now")
    builder = Buttons()
    if count:
        builder.button(text=ctx.l10n("broadcast.do_confirm"), callback_data=Broadcast(action=BroadcastAction.confirm, id=draft.id))
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action=BroadcastAction.card, id=draft.id))
    values = dict(count=count, when=when, audience=describe(draft.audience, ctx.l10n, ctx.content))
    text = ctx.l10n("broadcast.confirm", **values) if count else ctx.l10n("broadcast.nobody", **values)
    return text, keyboard(builder, 1)


async def confirm(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    broadcasts.confirm(draft, ctx.clock.now())
    await ctx.state.clear()
    text, markup = status_screen(draft, Progress(), ctx.l10n, ctx.settings, ctx.clock.now())
    await show(callback, text, markup)
    if callback.message is not None:
        draft.status_message_id = callback.message.message_id
    ctx.after_commit.append(ctx.delivery.wake)  # the engine must see the campaign when it wakes

"""Coordinators compose a broadcast (text, a file, link buttons), choose who gets it, preview it,
send it now or later, and watch a status message count it out; /broadcasts lists the past ones.

The draft lives in the database (a campaign in status "draft"), so a half-written broadcast
survives a restart and the old buttons of a sent one answer "no longer active".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter, MagicData
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LANGUAGES, PLATFORMS, Settings
from bot.content import Choice, Content, Texts
from bot.db.models import Campaign, Person, as_utc, utcnow
from bot.delivery.engine import DeliveryEngine, Reporter
from bot.delivery.outbox import Progress
from bot.delivery.senders import Payload
from bot.filters import HasRole, InPrivateChat
from bot.platforms.long_texts import html_of
from bot.services import broadcasts
from bot.services.people import ROLES, format_date
from handlers.ui import CallbackInt, MenuAction, choices_keyboard, show

log = logging.getLogger(__name__)
MEDIA_KINDS = ("photo", "video", "document")
PLATFORM_NAMES = {"telegram": "Telegram", "vk": "VK"}


class Broadcast(CallbackData, prefix="bc"):
    action: str
    id: CallbackInt = 0


class AudiencePick(CallbackData, prefix="bca"):
    id: CallbackInt
    criterion: str
    value: str = ""  # "" shows the criterion's choices, at `page`
    page: CallbackInt = 0


@dataclass
class Context:
    """What a draft screen needs, gathered once per update."""

    session: AsyncSession
    person: Person
    l10n: Texts
    content: Content
    settings: Settings
    platform: str
    delivery: DeliveryEngine | None
    after_commit: list[Callable[[], None]]


def build_router() -> Router:
    router = Router(name="broadcasts")
    router.message.filter(MagicData(F.event.chat.type == ChatType.PRIVATE), HasRole(*broadcasts.SENDERS))
    router.callback_query.filter(InPrivateChat(), HasRole(*broadcasts.SENDERS))
    router.message.register(list_broadcasts, Command("broadcasts"))
    router.callback_query.register(list_broadcasts, MenuAction.filter(F.action == "broadcasts"))
    router.callback_query.register(new_draft, Broadcast.filter(F.action == "new"))
    router.callback_query.register(cancel_campaign, Broadcast.filter(F.action == "cancel"))
    router.callback_query.register(draft_action, Broadcast.filter())
    router.callback_query.register(pick_audience, AudiencePick.filter())
    router.message.register(composed, ComposingDraft())
    return router


class ComposingDraft(Filter):
    """A message that answers the draft's current question (not a command)."""

    async def __call__(self, message: Message, session: AsyncSession, person: Person | None = None) -> bool | dict:
        if person is None or (message.text or "").startswith("/"):
            return False
        draft = await broadcasts.find_draft(session, person)
        return {"draft": draft} if draft is not None and draft.step else False


def context(data: dict) -> Context:
    return Context(data["session"], data["person"], data["l10n"], data["content"], data["settings"], data["platform"], data.get("delivery"), data["after_commit"])


# the list

async def list_broadcasts(event: Message | CallbackQuery, session: AsyncSession, l10n: Texts, content: Content, settings: Settings) -> None:
    lines = [summary_line(campaign, figures, l10n, content, settings) for campaign, figures in await broadcasts.recent(session)]
    text = l10n("broadcast.list_title") + "\n\n" + ("\n".join(lines) if lines else l10n("broadcast.list_empty"))
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("broadcast.new"), callback_data=Broadcast(action="new"))
    builder.button(text=l10n("menu.back"), callback_data=MenuAction(action="home"))
    await show(event, text, builder.adjust(1).as_markup())


def summary_line(campaign: Campaign, figures: Progress, l10n: Texts, content: Content, settings: Settings) -> str:
    when = local_time(campaign.started_at or campaign.send_at or campaign.created_at, settings)
    return l10n(
        "broadcast.list_line", id=campaign.id, when=when, audience=describe(campaign.audience, l10n, content),
        sent=figures.sent, unreachable=figures.unreachable, failed=figures.failed, state=l10n(f"broadcast.state_{campaign.status}"),
    )


def local_time(moment: datetime, settings: Settings) -> str:
    return format_date(as_utc(moment).astimezone(ZoneInfo(settings.default_timezone)))


# composing

async def new_draft(callback: CallbackQuery, **data) -> None:
    ctx = context(data)
    draft = await broadcasts.start_draft(ctx.session, ctx.person, ctx.platform, callback.message.chat.id if callback.message else callback.from_user.id)
    await ask(callback, draft, ctx, "text")


async def draft_action(callback: CallbackQuery, callback_data: Broadcast, **data) -> None:
    ctx = context(data)
    draft = await broadcasts.find_draft(ctx.session, ctx.person, callback_data.id)
    action = DRAFT_ACTIONS.get(callback_data.action)
    if draft is None or action is None:
        await callback.answer(ctx.l10n("fallback.button_outdated"))
        return
    await action(callback, draft, ctx)


async def ask(callback: CallbackQuery, draft: Campaign, ctx: Context, step: str) -> None:
    """Ask for the next piece of the draft; the answer comes as a message (see composed)."""
    draft.step = step
    builder = InlineKeyboardBuilder()
    if step == "media" and draft.media_kind:
        builder.button(text=ctx.l10n("broadcast.media_remove"), callback_data=Broadcast(action="media_clear", id=draft.id))
    if step == "button" and draft.buttons:
        builder.button(text=ctx.l10n("broadcast.buttons_remove"), callback_data=Broadcast(action="buttons_clear", id=draft.id))
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action="card" if draft.text or draft.media_kind else "discard", id=draft.id))
    prompt = ctx.l10n(f"broadcast.ask_{step}", timezone=ctx.settings.default_timezone)
    await show(callback, prompt, builder.adjust(1).as_markup())


async def composed(message: Message, draft: Campaign, **data) -> None:
    ctx = context(data)
    problem = await ANSWERS[draft.step](message, draft, ctx)
    if problem:
        with_file = draft.media_kind or media_of(message)
        await message.answer(ctx.l10n(problem, limit=broadcasts.CAPTION_LIMIT if with_file else broadcasts.TEXT_LIMIT))
        return
    if draft.step == "time":
        draft.step = None
        await show(message, *await confirm_screen(draft, ctx))
        return
    draft.step = None
    await show(message, *await card_screen(draft, ctx))


def media_of(message: Message) -> tuple[str, str] | None:
    if message.photo:
        return "photo", message.photo[-1].file_id
    for kind in ("video", "document"):
        if media := getattr(message, kind):
            return kind, media.file_id
    return None


async def take_text(message: Message, draft: Campaign, ctx: Context) -> str | None:
    media = media_of(message)
    text = html_of(message) if (message.text or message.caption) else ""
    problem = broadcasts.text_problem(draft, text, has_media=bool(media or draft.media_kind))
    if problem:
        return problem
    if media:
        set_media(draft, media, ctx.platform)
    draft.text = text
    return None


async def take_media(message: Message, draft: Campaign, ctx: Context) -> str | None:
    media = media_of(message)
    if media is None:
        return "broadcast.media_expected"
    text = html_of(message) if message.caption else draft.text
    if problem := broadcasts.text_problem(draft, text, has_media=True):
        return problem
    set_media(draft, media, ctx.platform)
    draft.text = text
    return None


def set_media(draft: Campaign, media: tuple[str, str], platform: str) -> None:
    draft.media_kind, draft.media_file_id = media
    draft.media_platform, draft.media_ids = platform, {}


async def take_button(message: Message, draft: Campaign, ctx: Context) -> str | None:
    button = broadcasts.parse_button(message.text or "")
    if button is None:
        return "broadcast.button_invalid"
    draft.buttons = [*draft.buttons, list(button)][-broadcasts.BUTTON_LIMIT :]
    return None


async def take_time(message: Message, draft: Campaign, ctx: Context) -> str | None:
    moment = broadcasts.parse_time(message.text or "", ctx.settings.default_timezone)
    if moment is None:
        return "broadcast.time_invalid"
    draft.send_at = moment
    return None


ANSWERS: dict[str, Callable[[Message, Campaign, Context], Awaitable[str | None]]] = {
    "text": take_text, "media": take_media, "button": take_button, "time": take_time,
}


# the draft card and its actions

async def card_screen(draft: Campaign, ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    l10n = ctx.l10n
    text = l10n(
        "broadcast.card",
        id=draft.id,
        audience=describe(draft.audience, l10n, ctx.content),
        count=await audience_size(draft, ctx),
        length=broadcasts.text_length(draft.text),
        media=l10n(f"broadcast.media_{draft.media_kind}") if draft.media_kind else l10n("broadcast.media_none"),
        buttons=", ".join(label for label, _ in draft.buttons) or l10n("broadcast.media_none"),
    )
    builder = InlineKeyboardBuilder()
    for action in ("text", "media", "button", "audience", "preview", "send", "discard"):
        builder.button(text=l10n(f"broadcast.do_{action}"), callback_data=Broadcast(action=action, id=draft.id))
    return text, builder.adjust(2).as_markup()


async def show_card(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.step = None
    await show(callback, *await card_screen(draft, ctx))


async def clear_media(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.media_kind = draft.media_file_id = draft.media_platform = None
    draft.media_ids = {}
    await show_card(callback, draft, ctx)


async def clear_buttons(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.buttons = []
    await show_card(callback, draft, ctx)


async def preview(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    """The message exactly as recipients get it, sent by the same sender, then the card again."""
    if ctx.delivery is None or not (draft.text or draft.media_kind):
        await callback.answer(ctx.l10n("broadcast.text_empty"), show_alert=True)
        return
    await callback.answer()
    payload = Payload.of(draft)
    sender = ctx.delivery.senders[ctx.platform]
    try:
        await sender.deliver(payload, callback.message.chat.id, payload.file_on(ctx.platform))
    except TelegramBadRequest:  # formatting the messenger will not take: say so, not a generic apology
        log.warning("the messenger refused the preview of draft %s", draft.id)
        await callback.bot.send_message(callback.message.chat.id, ctx.l10n("lengths.preview_refused"))
    text, markup = await card_screen(draft, ctx)
    await callback.bot.send_message(callback.message.chat.id, text, reply_markup=markup)


async def ask_when(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    if not (draft.text or draft.media_kind):
        await callback.answer(ctx.l10n("broadcast.text_empty"), show_alert=True)
        return
    builder = InlineKeyboardBuilder()
    builder.button(text=ctx.l10n("broadcast.do_now"), callback_data=Broadcast(action="now", id=draft.id))
    builder.button(text=ctx.l10n("broadcast.do_schedule"), callback_data=Broadcast(action="schedule", id=draft.id))
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action="card", id=draft.id))
    await show(callback, ctx.l10n("broadcast.when"), builder.adjust(1).as_markup())


async def send_now(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.send_at = None
    await show(callback, *await confirm_screen(draft, ctx))


async def ask_time(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ask(callback, draft, ctx, "time")


async def confirm_screen(draft: Campaign, ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    count = await audience_size(draft, ctx)
    when = local_time(draft.send_at, ctx.settings) if draft.send_at else ctx.l10n("broadcast.now")
    builder = InlineKeyboardBuilder()
    if count:
        builder.button(text=ctx.l10n("broadcast.do_confirm"), callback_data=Broadcast(action="confirm", id=draft.id))
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action="card", id=draft.id))
    key = "broadcast.confirm" if count else "broadcast.nobody"
    return ctx.l10n(key, count=count, when=when, audience=describe(draft.audience, ctx.l10n, ctx.content)), builder.adjust(1).as_markup()


async def confirm(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    if draft.send_at is not None and as_utc(draft.send_at) <= utcnow():
        draft.send_at = None  # the chosen time passed while the coordinator looked at the screen: send now
    broadcasts.confirm(draft)
    text, markup = status_screen(draft, Progress(), ctx.l10n, ctx.settings)
    await show(callback, text, markup)
    if callback.message is not None:
        draft.status_message_id = callback.message.message_id
    if ctx.delivery is not None:
        ctx.after_commit.append(ctx.delivery.wake)  # the engine must see the campaign when it wakes


async def discard(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ctx.session.delete(draft)
    await list_broadcasts(callback, ctx.session, ctx.l10n, ctx.content, ctx.settings)


async def show_audience(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.step = None
    count = await audience_size(draft, ctx)
    builder = InlineKeyboardBuilder()
    for criterion in CRITERION_VALUES:
        builder.button(text=ctx.l10n(f"broadcast.by_{criterion}"), callback_data=AudiencePick(id=draft.id, criterion=criterion))
    builder.button(text=ctx.l10n("broadcast.audience_done"), callback_data=Broadcast(action="card", id=draft.id))
    text = ctx.l10n("broadcast.audience", audience=describe(draft.audience, ctx.l10n, ctx.content), count=count)
    await show(callback, text, builder.adjust(2, 2, 1).as_markup())


DRAFT_ACTIONS: dict[str, Callable[[CallbackQuery, Campaign, Context], Awaitable[None]]] = {
    "card": show_card,
    "text": lambda callback, draft, ctx: ask(callback, draft, ctx, "text"),
    "media": lambda callback, draft, ctx: ask(callback, draft, ctx, "media"),
    "button": lambda callback, draft, ctx: ask(callback, draft, ctx, "button"),
    "media_clear": clear_media,
    "buttons_clear": clear_buttons,
    "audience": show_audience,
    "preview": preview,
    "send": ask_when,
    "now": send_now,
    "schedule": ask_time,
    "confirm": confirm,
    "discard": discard,
}


# the audience

async def audience_size(draft: Campaign, ctx: Context) -> int:
    """How many it would reach now, on the messengers this bot serves."""
    return await broadcasts.audience_size(ctx.session, draft, ctx.delivery.senders if ctx.delivery else None)


def choices_of(criterion: str, content: Content) -> tuple[Choice, ...]:
    if criterion == "district":
        return content.districts
    names = {"role": ROLES, "language": LANGUAGES, "platform": PLATFORMS}[criterion]
    return tuple(Choice(name, {}) for name in names)


CRITERION_VALUES = ("role", "district", "language", "platform")


def value_label(criterion: str, value: str, l10n: Texts, content: Content) -> str:
    if criterion == "district":
        found = Content.find(content.districts, value)
        return found.label(l10n.language) if found else value
    if criterion == "role":
        return l10n(f"roles.{value}")
    if criterion == "language":
        return content.texts[value]("language.name") if value in content.texts else value
    return PLATFORM_NAMES.get(value, value)


def describe(audience: dict[str, list[str]], l10n: Texts, content: Content) -> str:
    parts = [", ".join(value_label(criterion, value, l10n, content) for value in values) for criterion, values in audience.items() if values]
    return " · ".join(parts) or l10n("broadcast.everyone")


async def pick_audience(callback: CallbackQuery, callback_data: AudiencePick, **data) -> None:
    ctx = context(data)
    draft = await broadcasts.find_draft(ctx.session, ctx.person, callback_data.id)
    criterion = callback_data.criterion
    if draft is None or criterion not in CRITERION_VALUES:
        await callback.answer(ctx.l10n("fallback.button_outdated"))
        return
    choices = choices_of(criterion, ctx.content)
    if callback_data.value:
        if Content.find(choices, callback_data.value) is None:
            await callback.answer(ctx.l10n("fallback.button_outdated"))
            return
        broadcasts.toggle(draft, criterion, callback_data.value)
    chosen = set(draft.audience.get(criterion, []))
    marked = tuple(
        Choice(choice.id, {ctx.l10n.language: ("✓ " if choice.id in chosen else "") + value_label(criterion, choice.id, ctx.l10n, ctx.content)})
        for choice in choices
    )

    def make(value: str) -> AudiencePick:
        return AudiencePick(id=draft.id, criterion=criterion, value=value, page=callback_data.page)

    def make_page(page: int) -> AudiencePick:
        return AudiencePick(id=draft.id, criterion=criterion, page=page)

    back = (ctx.l10n("menu.back"), Broadcast(action="audience", id=draft.id))
    markup = choices_keyboard(marked, ctx.l10n.language, make, [back], page=callback_data.page, make_page=make_page)
    count = await audience_size(draft, ctx)
    text = ctx.l10n("broadcast.audience_pick", audience=describe(draft.audience, ctx.l10n, ctx.content), count=count)
    await show(callback, text, markup)


# running and finished broadcasts

async def cancel_campaign(callback: CallbackQuery, callback_data: Broadcast, session: AsyncSession, l10n: Texts, settings: Settings, after_commit: list[Callable[[], None]], delivery: DeliveryEngine | None = None) -> None:
    campaign = await session.get(Campaign, callback_data.id)
    if campaign is None or campaign.kind != "broadcast" or not broadcasts.cancel(campaign):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    figures = await broadcasts.figures(session, campaign.id)
    text, markup = status_screen(campaign, figures, l10n, settings, finished=campaign.finished_at is not None)
    await show(callback, text, markup, notice=l10n("broadcast.cancelled"))
    if delivery is not None:
        after_commit.append(delivery.wake)


def status_screen(campaign: Campaign, figures: Progress, l10n: Texts, settings: Settings, finished: bool = False) -> tuple[str, InlineKeyboardMarkup | None]:
    values = dict(id=campaign.id, sent=figures.sent, unreachable=figures.unreachable, failed=figures.failed, left=figures.left, total=figures.total)
    if finished:
        key = "broadcast.status_cancelled" if campaign.status == "cancelled" else "broadcast.status_done"
        return l10n(key, cancelled=figures.cancelled, duration=duration(campaign, l10n), **values), None
    if campaign.status == "cancelled":
        return l10n("broadcast.status_cancelling", **values), None
    builder = InlineKeyboardBuilder()
    builder.button(text=l10n("broadcast.do_cancel"), callback_data=Broadcast(action="cancel", id=campaign.id))
    if campaign.started_at is None and campaign.send_at and as_utc(campaign.send_at) > utcnow():
        return l10n("broadcast.status_scheduled", id=campaign.id, when=local_time(campaign.send_at or utcnow(), settings)), builder.as_markup()
    return l10n("broadcast.status_sending", remaining=remaining(campaign, figures, l10n), **values), builder.as_markup()


def remaining(campaign: Campaign, figures: Progress, l10n: Texts) -> str:
    elapsed = (utcnow() - as_utc(campaign.started_at)).total_seconds() if campaign.started_at else 0
    if figures.done == 0 or elapsed <= 0:
        return l10n("broadcast.remaining_unknown")
    minutes = figures.left / (figures.done / elapsed) / 60
    return l10n("broadcast.remaining_minutes", minutes=round(minutes)) if minutes >= 1 else l10n("broadcast.remaining_soon")


def duration(campaign: Campaign, l10n: Texts) -> str:
    if campaign.started_at is None:
        return "0"
    seconds = ((as_utc(campaign.finished_at) if campaign.finished_at else utcnow()) - as_utc(campaign.started_at)).total_seconds()
    return l10n("broadcast.duration", minutes=int(seconds // 60), seconds=int(seconds % 60))


def broadcast_reporter(bots: dict[str, Bot], content: Content, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> Reporter:
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
        text, markup = status_screen(campaign, figures, l10n, settings, finished)
        if campaign.status_message_id:
            try:
                await bot.edit_message_text(text, chat_id=campaign.origin_chat_id, message_id=campaign.status_message_id, reply_markup=markup)
            except TelegramBadRequest as error:
                if "message is not modified" not in error.message:
                    log.warning("cannot update the status of broadcast %s: %s", campaign.id, error.message)
        if finished:
            await bot.send_message(campaign.origin_chat_id, text)

    return report

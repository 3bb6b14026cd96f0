"""Composing a draft: its text, a file, link buttons; the draft card that sums it up.

A question (Composing state) waits for its answer across restarts: the state lives in the
conversation storage (bot.fsm), the draft in the database (a campaign in status draft)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.db.models import Campaign, MediaKind
from bot.filters import NotACommand
from bot.platforms.long_texts import html_of
from bot.platforms.media import Media, media_of
from bot.services import broadcasts
from handlers.broadcasts import audience, listing
from handlers.broadcasts.common import Broadcast, BroadcastAction, Composing, Context, context, on_draft, own_draft, pressed
from handlers.ui import Buttons, keyboard, show

QUESTION_KEYS = {
    Composing.text: "broadcast.ask_text",
    Composing.media: "broadcast.ask_media",
    Composing.button: "broadcast.ask_button",
    Composing.time: "broadcast.ask_time",
}
MEDIA_KEYS = {MediaKind.photo: "broadcast.media_photo", MediaKind.video: "broadcast.media_video", MediaKind.document: "broadcast.media_document"}
# the card's buttons, in their order
CARD_ACTIONS = {
    BroadcastAction.text: "broadcast.do_text",
    BroadcastAction.media: "broadcast.do_media",
    BroadcastAction.button: "broadcast.do_button",
    BroadcastAction.audience: "broadcast.do_audience",
    BroadcastAction.preview: "broadcast.do_preview",
    BroadcastAction.send: "broadcast.do_send",
    BroadcastAction.discard: "broadcast.do_discard",
}

# takes the answer into the draft; the locale key of what is wrong with it, or None
Take = Callable[[Message, Campaign, Context], Awaitable[str | None]]
Screen = Callable[[Campaign, Context], Awaitable[tuple[str, InlineKeyboardMarkup]]]


def build_router() -> Router:
    router = Router(name="broadcasts.compose")
    router.callback_query.register(new_draft, pressed(BroadcastAction.new))
    router.callback_query.register(on_draft(show_card), pressed(BroadcastAction.card))
    router.callback_query.register(on_draft(asking(Composing.text)), pressed(BroadcastAction.text))
    router.callback_query.register(on_draft(asking(Composing.media)), pressed(BroadcastAction.media))
    router.callback_query.register(on_draft(asking(Composing.button)), pressed(BroadcastAction.button))
    router.callback_query.register(on_draft(clear_media), pressed(BroadcastAction.media_clear))
    router.callback_query.register(on_draft(clear_buttons), pressed(BroadcastAction.buttons_clear))
    router.callback_query.register(on_draft(discard), pressed(BroadcastAction.discard))
    router.message.register(answering(take_text, card_screen), StateFilter(Composing.text), NotACommand())
    router.message.register(answering(take_media, card_screen), StateFilter(Composing.media), NotACommand())
    router.message.register(answering(take_button, card_screen), StateFilter(Composing.button), NotACommand())
    return router


# questions and answers

async def new_draft(callback: CallbackQuery, **data) -> None:
    ctx = context(data)
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    draft = await broadcasts.start_draft(ctx.session, ctx.person, ctx.platform, chat_id)
    await ask(callback, draft, ctx, Composing.text)


def asking(question: State) -> Callable[[CallbackQuery, Campaign, Context], Awaitable[None]]:
    async def ask_it(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
        await ask(callback, draft, ctx, question)

    return ask_it


async def ask(callback: CallbackQuery, draft: Campaign, ctx: Context, question: State) -> None:
    """Ask for the next piece of the draft; the answer comes as a message (see answering)."""
    await ctx.state.set_state(question)
    await ctx.state.set_data({"draft_id": draft.id})
    builder = Buttons()
    if question == Composing.media and draft.media_kind:
        builder.button(text=ctx.l10n("broadcast.media_remove"), callback_data=Broadcast(action=BroadcastAction.media_clear, id=draft.id))
    if question == Composing.button and draft.buttons:
        builder.button(text=ctx.l10n("broadcast.buttons_remove"), callback_data=Broadcast(action=BroadcastAction.buttons_clear, id=draft.id))
    back = BroadcastAction.card if draft.text or draft.media_kind else BroadcastAction.discard
    builder.button(text=ctx.l10n("menu.back"), callback_data=Broadcast(action=back, id=draft.id))
    prompt = ctx.l10n(QUESTION_KEYS[question], timezone=ctx.settings.default_timezone)
    await show(callback, prompt, keyboard(builder, 1))


def answering(take: Take, then: Screen) -> Callable[..., Awaitable[None]]:
    """The handler of the answer to one question: a wrong answer is told what is wrong and the
    question stays; a right one ends the question and shows `then`."""

    async def answer(message: Message, **data) -> None:
        ctx = context(data)
        draft = await own_draft(ctx, (await ctx.state.get_data()).get("draft_id"))
        if draft is None:  # sent, discarded or deleted meanwhile: the message is not an answer
            await ctx.state.clear()
            raise SkipHandler
        problem = await take(message, draft, ctx)
        if problem:
            with_file = draft.media_kind or media_of(message)
            await message.answer(ctx.l10n(problem, limit=broadcasts.CAPTION_LIMIT if with_file else broadcasts.TEXT_LIMIT))
            return
        await ctx.state.clear()
        await show(message, *await then(draft, ctx))

    answer.__name__ = answer.__qualname__ = take.__name__
    return answer


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


def set_media(draft: Campaign, media: Media, platform: str) -> None:
    draft.media_kind, draft.media_file_id = media.kind, media.file_id
    draft.media_platform, draft.media_ids = platform, {}


async def take_button(message: Message, draft: Campaign, ctx: Context) -> str | None:
    button = broadcasts.parse_button(message.text or "")
    if button is None:
        return "broadcast.button_invalid"
    draft.buttons = [*draft.buttons, list(button)][-broadcasts.BUTTON_LIMIT :]
    return None


# the draft card

async def card_screen(draft: Campaign, ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    l10n = ctx.l10n
    media_key = MEDIA_KEYS.get(MediaKind(draft.media_kind)) if draft.media_kind else None
    text = l10n(
        "broadcast.card",
        id=draft.id,
        audience=audience.describe(draft.audience, l10n, ctx.content),
        count=await audience.audience_size(draft, ctx),
        length=broadcasts.text_length(draft.text),
        media=l10n(media_key) if media_key else l10n("broadcast.media_none"),
        buttons=", ".join(label for label, _ in draft.buttons) or l10n("broadcast.media_none"),
    )
    builder = Buttons()
    for action, key in CARD_ACTIONS.items():
        builder.button(text=l10n(key), callback_data=Broadcast(action=action, id=draft.id))
    return text, keyboard(builder, 2)


async def show_card(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ctx.state.clear()
    await show(callback, *await card_screen(draft, ctx))


async def clear_media(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.media_kind = draft.media_file_id = draft.media_platform = None
    draft.media_ids = {}
    await show_card(callback, draft, ctx)


async def clear_buttons(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    draft.buttons = []
    await show_card(callback, draft, ctx)


async def discard(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ctx.session.delete(draft)
    await ctx.state.clear()
    await listing.list_broadcasts(callback, ctx.session, ctx.l10n, ctx.content, ctx.settings)

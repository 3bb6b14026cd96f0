"""Who gets the broadcast: roles, districts, languages and messengers, each a list to tick."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.config import LANGUAGES, PLATFORMS
from bot.content import Choice, Content, Texts
from bot.db.models import Campaign
from bot.services import broadcasts
from bot.services.people import ROLES
from handlers.broadcasts.common import AudiencePick, Broadcast, BroadcastAction, Context, Criterion, context, on_draft, own_draft, pressed
from handlers.ui import Buttons, choices_keyboard, keyboard, role_name, show

PLATFORM_NAMES = {"telegram": "Telegram", "vk": "VK"}
CRITERION_KEYS = {
    Criterion.role: "broadcast.by_role",
    Criterion.district: "broadcast.by_district",
    Criterion.language: "broadcast.by_language",
    Criterion.platform: "broadcast.by_platform",
}
def build_router() -> Router:
    router = Router(name="broadcasts.audience")
    router.callback_query.register(on_draft(show_audience), pressed(BroadcastAction.audience))
    router.callback_query.register(pick_audience, AudiencePick.filter())
    return router


async def audience_size(draft: Campaign, ctx: Context) -> int:
    """How many it would reach now, on the messengers this bot serves."""
    return await broadcasts.audience_size(ctx.session, draft, ctx.delivery.senders)


def choices_of(criterion: Criterion, content: Content) -> tuple[Choice, ...]:
    if criterion == Criterion.district:
        return content.districts
    names = {Criterion.role: ROLES, Criterion.language: LANGUAGES, Criterion.platform: PLATFORMS}[criterion]
    return tuple(Choice(name, {}) for name in names)


def value_label(criterion: str, value: str, l10n: Texts, content: Content) -> str:
    if criterion == Criterion.district:
        found = Content.find(content.districts, value)
        return found.label(l10n.language) if found else value
    if criterion == Criterion.role:
        return role_name(l10n, value) if value in ROLES else value
    if criterion == Criterion.language:
        return content.texts[value]("language.name") if value in content.texts else value
    return PLATFORM_NAMES.get(value, value)


def describe(audience: dict[str, list[str]], l10n: Texts, content: Content) -> str:
    parts = [", ".join(value_label(criterion, value, l10n, content) for value in values) for criterion, values in audience.items() if values]
    return " · ".join(parts) or l10n("broadcast.everyone")


async def show_audience(callback: CallbackQuery, draft: Campaign, ctx: Context) -> None:
    await ctx.state.clear()
    count = await audience_size(draft, ctx)
    builder = Buttons()
    for criterion, key in CRITERION_KEYS.items():
        builder.button(text=ctx.l10n(key), callback_data=AudiencePick(id=draft.id, criterion=criterion))
    builder.button(text=ctx.l10n("broadcast.audience_done"), callback_data=Broadcast(action=BroadcastAction.card, id=draft.id))
    text = ctx.l10n("broadcast.audience", audience=describe(draft.audience, ctx.l10n, ctx.content), count=count)
    await show(callback, text, keyboard(builder, 2, 2, 1))


async def pick_audience(callback: CallbackQuery, callback_data: AudiencePick, **data) -> None:
    ctx = context(data)
    draft = await own_draft(ctx, callback_data.id)
    criterion = callback_data.criterion
    if draft is None:
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

    back = (ctx.l10n("menu.back"), Broadcast(action=BroadcastAction.audience, id=draft.id))
    markup = choices_keyboard(marked, ctx.l10n.language, make, [back], page=callback_data.page, make_page=make_page)
    count = await audience_size(draft, ctx)
    text = ctx.l10n("broadcast.audience_pick", audience=describe(draft.audience, ctx.l10n, ctx.content), count=count)
    await show(callback, text, markup)

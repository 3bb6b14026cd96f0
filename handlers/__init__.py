"""Dialogue handlers: one Router per feature, written once for every platform, tiered by chat type
first. The private tier (the person's own chat with the bot) holds every personal feature; the
group tier holds what the bot says in groups. A tier's filter is asked once per update, so group
traffic never reaches a private feature (nor its filters)."""

from __future__ import annotations

from aiogram import Router

from bot.filters import InGroupChat, InPrivateChat
from bot.routing import FeatureTier
from handlers import broadcasts, chats, consultations, courses, fallback, invites, linking, membership, menu, onboarding, reports, staff, surveys


def build_routers() -> list[Router]:
    """Fresh routers (a Router can join only one Dispatcher)."""
    return [private_tier(), group_tier(), membership.build_router(), fallback.build_errors_router()]


def private_tier() -> FeatureTier:
    tier = FeatureTier(name="private")
    tier.message.filter(InPrivateChat())
    tier.callback_query.filter(InPrivateChat())
    # The menu first: most commands are its, and each router before it costs a pass through its
    # message filters. The features match disjoint commands and callback data, so the order decides
    # only the cost (states: the broadcasts' answers let commands through). A press, and a message
    # that is no command, goes only into the routers that could take it (bot.routing), whatever
    # their order.
    routers = [
        menu.build_router(),
        onboarding.build_router(),
        *consultations.build_routers(),
        *(feature.build_router() for feature in (courses, surveys, chats, linking, invites, staff, broadcasts, reports)),
        chats.build_moderation_router(),
        chats.build_office_hours_router(),
        consultations.build_catch_all_router(),  # a message nobody took: the family's open question
        fallback.build_private_router(),  # the fallback last (it takes any press: left open)
    ]
    tier.include_routers(*routers)
    tier.index()
    return tier


def group_tier() -> Router:
    tier = Router(name="group")
    tier.message.filter(InGroupChat())
    tier.callback_query.filter(~InPrivateChat())  # a press anywhere but the presser's own chat: in a group, or forged
    tier.include_routers(chats.build_group_router(), fallback.build_group_router())  # join requests, members coming and going
    return tier

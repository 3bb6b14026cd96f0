"""Flash courses: the family's courses and plans (catalog) and what they do with each lesson
(lesson); scheduler/courses.py puts due lessons into the delivery outbox."""

from __future__ import annotations

from aiogram import Router

from bot.filters import Allowed
from bot.permissions import Action
from handlers.courses import catalog, lesson


def build_router() -> Router:
    router = Router(name="courses")
    router.message.filter(Allowed(Action.take_courses))
    router.callback_query.filter(Allowed(Action.take_courses))
    router.include_routers(catalog.build_router(), lesson.build_router())
    return router

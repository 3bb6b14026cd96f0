"""The family's courses: the list (those for their child's age first), a course's description,
enrolling with a rhythm and a time of day in their time zone, and their progress in a course with
"next lesson now", pause, resume, a new time, leaving, and the rating at the end."""

from __future__ import annotations

import html
from datetime import time
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from babel.dates import get_timezone_location
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, parse_quiet_hours
from bot.consultation_content import WEEKDAYS
from bot.content import Content, Texts
from bot.course_content import Course, Rhythm
from bot.db.models import Enrolment, EnrolmentStatus, Person
from bot.delivery.engine import DeliveryEngine
from bot.services import courses, lesson_delivery
from bot.services.course_schedule import QuietHours
from bot.services.courses import Plan, lesson_count, plan_of
from handlers.courses.common import (
    EVERY,
    HOURS,
    STARS,
    WEEKDAY_NAMES,
    ZONES,
    CourseAction,
    CourseStep,
    renderer,
    rhythm_code,
    rhythm_label,
    rhythm_of,
    time_label,
)
from handlers.ui import Buttons, MenuAction, Screen, keyboard, paged_keyboard, show

STATUS_MARKS = {EnrolmentStatus.active: "📗", EnrolmentStatus.paused: "⏸", EnrolmentStatus.finished: "🏁"}


def build_router() -> Router:
    router = Router(name="courses_catalog")
    router.message.register(course_list, Command("courses"))
    router.callback_query.register(course_list, MenuAction.filter(F.action == Screen.courses))
    router.callback_query.register(course_list, CourseAction.filter(F.step == CourseStep.list))
    router.callback_query.register(course_screen, CourseAction.filter(F.step == CourseStep.show))
    router.callback_query.register(choose_rhythm, CourseAction.filter(F.step.in_({CourseStep.enrol, CourseStep.change})))
    router.callback_query.register(choose_weekdays, CourseAction.filter(F.step == CourseStep.days))
    router.callback_query.register(choose_time, CourseAction.filter(F.step == CourseStep.time))
    router.callback_query.register(choose_zone, CourseAction.filter(F.step == CourseStep.zones))
    router.callback_query.register(set_zone, CourseAction.filter(F.step == CourseStep.zone))
    router.callback_query.register(set_plan, CourseAction.filter(F.step == CourseStep.at))
    router.callback_query.register(next_now, CourseAction.filter(F.step == CourseStep.next))
    router.callback_query.register(pause_or_resume, CourseAction.filter(F.step.in_({CourseStep.pause, CourseStep.resume})))
    router.callback_query.register(confirm_leave, CourseAction.filter(F.step == CourseStep.leave))
    router.callback_query.register(leave, CourseAction.filter(F.step == CourseStep.leave_yes))
    return router


def quiet_of(settings: Settings) -> QuietHours:
    return courses.quiet_hours(parse_quiet_hours(settings.course_quiet_hours))


def zone_of(person: Person, settings: Settings) -> str:
    return person.timezone or settings.default_timezone


COURSES_PER_PAGE = 4  # a row each, the arrows and "back": within VK's six rows


async def course_list(event: Message | CallbackQuery, session: AsyncSession, person: Person, l10n: Texts, content: Content, **data) -> None:
    """The courses, those for the child's age group first, each with the family's progress; a page at a time."""
    pressed = data.get("callback_data")
    page = int(pressed.value) if isinstance(pressed, CourseAction) and pressed.value.isdigit() else 0
    mine = {enrolment.course: enrolment for enrolment in await courses.enrolments_of(session, person.id)}
    fitting = sorted(content.courses, key=lambda course: person.child_age_group not in course.age_groups)  # stable: the rest keep their order
    items = []
    for course in fitting:
        enrolment = mine.get(course.id)
        mark = STATUS_MARKS.get(EnrolmentStatus(enrolment.status), "") if enrolment else ""
        progress = f" · {progress_of(enrolment, course)}/{lesson_count(course)}" if enrolment and mark else ""
        items.append((f"{mark} {course.title(l10n.language)}{progress}".strip(), CourseAction(step=CourseStep.show, course=course.id)))
    markup = paged_keyboard(
        items, page, COURSES_PER_PAGE, lambda target: CourseAction(step=CourseStep.list, value=str(target)), (l10n("menu.back"), MenuAction(action=Screen.home))
    )
    await show(event, l10n("courses.title") if content.courses else l10n("courses.none"), markup)


def progress_of(enrolment: Enrolment, course: Course) -> int:
    """Lessons received so far."""
    return min(enrolment.next_lesson - 1, lesson_count(course))


async def course_screen(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    await show_course(callback, callback_data.course, data)


async def show_course(callback: CallbackQuery, course_id: str, data: dict, note: str = "") -> None:
    content: Content = data["content"]
    course = Content.find(content.courses, course_id)
    if course is None:
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return
    enrolment = await courses.enrolment_of(data["session"], data["person"].id, course.id)
    text, markup = course_view(course, enrolment, data["l10n"], content)
    await show(callback, f"{note}\n\n{text}" if note else text, markup)


def course_view(course: Course, enrolment: Enrolment | None, l10n: Texts, content: Content) -> tuple[str, InlineKeyboardMarkup]:
    language = l10n.language
    title = f"<b>{html.escape(course.title(language), quote=False)}</b>"
    ages = ", ".join(group.label(language) for group in content.age_groups if group.id in course.age_groups)
    builder = Buttons()

    def button(key: str, step: CourseStep, value: str = "") -> None:
        builder.button(text=l10n(key), callback_data=CourseAction(step=step, course=course.id, value=value))

    if enrolment is None or enrolment.status == EnrolmentStatus.left:
        about = l10n("courses.about", count=lesson_count(course), rhythm=rhythm_label(l10n, course.rhythm), ages=ages)
        text = f"{title}\n\n{html.escape(course.descriptions[language], quote=False)}\n\n{about}"
        button("courses.enrol", CourseStep.enrol)
    elif enrolment.status == EnrolmentStatus.finished:
        text = f"{title}\n\n" + l10n("courses.finished", total=lesson_count(course))
        if enrolment.rating is None:
            for value, key in enumerate(STARS, 1):
                button(key, CourseStep.rate, str(value))
    else:
        plan = plan_of(enrolment)
        local = l10n.in_zone(ZoneInfo(plan.zone))
        when = local.date_time(enrolment.next_at) if enrolment.next_at else l10n("courses.paused")
        text = f"{title}\n\n" + l10n(
            "courses.progress",
            number=progress_of(enrolment, course), total=lesson_count(course), rhythm=rhythm_label(l10n, plan.rhythm),
            at=time_label(plan.at), zone=zone_label(plan.zone, language), next=when,
        )
        button("courses.next_now", CourseStep.next, str(enrolment.next_lesson))
        if enrolment.status == EnrolmentStatus.active:
            button("courses.pause", CourseStep.pause)
        else:
            button("courses.resume", CourseStep.resume)
        button("courses.change", CourseStep.change)
        button("courses.leave", CourseStep.leave)
    builder.button(text=l10n("menu.back"), callback_data=CourseAction(step=CourseStep.list))
    rated = enrolment is not None and enrolment.status == EnrolmentStatus.finished and enrolment.rating is None
    return text, keyboard(builder, *((5,) if rated else ()), 1)


def zone_label(zone: str, language: str) -> str:
    try:
        return get_timezone_location(zone, locale=language, return_city=True)
    except LookupError:
        return zone


# choosing the plan: rhythm (or weekdays), then time (or the time zone first)


async def choose_rhythm(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts, content: Content) -> None:
    course = Content.find(content.courses, callback_data.course)
    if course is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    builder = Buttons()

    def offer(label: str, code: str) -> None:
        builder.button(text=label, callback_data=CourseAction(step=CourseStep.time, course=course.id, value=code))

    offer(l10n("courses.as_planned", rhythm=rhythm_label(l10n, course.rhythm)), rhythm_code(course.rhythm))
    for days in EVERY:
        offer(rhythm_label(l10n, Rhythm(every_days=days)), f"d{days}")
    builder.button(text=l10n("courses.weekdays"), callback_data=CourseAction(step=CourseStep.days, course=course.id, value="0"))
    builder.button(text=l10n("menu.back"), callback_data=CourseAction(step=CourseStep.show, course=course.id))
    await show(callback, l10n("courses.rhythm_prompt"), keyboard(builder, 1, 2, 2, 1, 1))


async def choose_weekdays(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts, content: Content) -> None:
    """Tap the days to toggle them; the mask of those chosen rides in the buttons."""
    course = Content.find(content.courses, callback_data.course)
    chosen = int(callback_data.value) if callback_data.value.isdigit() and int(callback_data.value) < 128 else None
    if course is None or chosen is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    builder = Buttons()
    for index, day in enumerate(WEEKDAYS):
        mark = "✓ " if chosen >> index & 1 else ""
        builder.button(text=mark + l10n(WEEKDAY_NAMES[day]), callback_data=CourseAction(step=CourseStep.days, course=course.id, value=str(chosen ^ 1 << index)))
    if chosen:
        builder.button(text=l10n("courses.days_done"), callback_data=CourseAction(step=CourseStep.time, course=course.id, value=f"w{chosen}"))
    builder.button(text=l10n("menu.back"), callback_data=CourseAction(step=CourseStep.enrol, course=course.id))
    await show(callback, l10n("courses.weekdays_prompt"), keyboard(builder, 4, 3, 1, 1))


async def choose_time(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts, content: Content, person: Person, settings: Settings) -> None:
    course = Content.find(content.courses, callback_data.course)
    if course is None or rhythm_of(callback_data.value) is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    builder = Buttons()
    for hour in HOURS:
        value = f"{callback_data.value}@{hour}"
        builder.button(text=time_label(time(hour)), callback_data=CourseAction(step=CourseStep.at, course=course.id, value=value))
    builder.button(text=l10n("courses.zone_change"), callback_data=CourseAction(step=CourseStep.zones, course=course.id, value=callback_data.value))
    builder.button(text=l10n("menu.back"), callback_data=CourseAction(step=CourseStep.enrol, course=course.id))
    zone = zone_of(person, settings)
    await show(callback, l10n("courses.time_prompt", zone=zone_label(zone, l10n.language)), keyboard(builder, 3, 3, 1, 1))


ZONES_PER_PAGE = 6  # three rows of two, the arrows and "back": within VK's 6 rows and 10 buttons


async def choose_zone(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts) -> None:
    """The cities a page at a time; value: "rhythm" or "rhythm~page"."""
    rhythm, _, page_text = callback_data.value.partition("~")
    page = int(page_text) if page_text.isdigit() else 0
    items = [
        (zone_label(zone, l10n.language), CourseAction(step=CourseStep.zone, course=callback_data.course, value=f"{rhythm}@{number}"))
        for number, zone in enumerate(ZONES)
    ]
    markup = paged_keyboard(
        items, page, ZONES_PER_PAGE, lambda target: CourseAction(step=CourseStep.zones, course=callback_data.course, value=f"{rhythm}~{target}"),
        (l10n("menu.back"), CourseAction(step=CourseStep.time, course=callback_data.course, value=rhythm)), per_row=2,
    )
    await show(callback, l10n("courses.zone_prompt"), markup)


async def set_zone(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts, content: Content, person: Person, settings: Settings) -> None:
    rhythm, _, number = callback_data.value.partition("@")
    if not number.isdigit() or int(number) >= len(ZONES):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    person.timezone = ZONES[int(number)]
    await choose_time(callback, CourseAction(step=CourseStep.time, course=callback_data.course, value=rhythm), l10n, content, person, settings)


async def set_plan(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    """Enrol with the chosen rhythm and time, or change them for the enrolment."""
    l10n, content, person, settings, clock = data["l10n"], data["content"], data["person"], data["settings"], data["clock"]
    code, _, hour = callback_data.value.partition("@")
    course, rhythm = Content.find(content.courses, callback_data.course), rhythm_of(code)
    if course is None or rhythm is None or not hour.isdigit() or int(hour) not in HOURS:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    plan = Plan(rhythm, time(int(hour)), zone_of(person, settings))
    session, now = data["session"], clock.now()
    enrolment = await courses.enrolment_of(session, person.id, course.id)
    if enrolment is not None and enrolment.status in (EnrolmentStatus.active, EnrolmentStatus.paused):
        await courses.replan(enrolment, plan, quiet_of(settings), now=now)
        note = l10n("courses.changed")
    elif await courses.enrol(session, person, course, plan, quiet_of(settings), now=now):
        note = l10n("courses.enrolled")
    else:  # finished already: an old screen's button
        note = l10n("fallback.button_outdated")
    await show_course(callback, course.id, data, note)


async def owned(callback: CallbackQuery, callback_data: CourseAction, data: dict) -> tuple[Course, Enrolment] | None:
    """The presser's own enrolment in the course the button names (None: told it is outdated)."""
    course = Content.find(data["content"].courses, callback_data.course)
    enrolment = await courses.enrolment_of(data["session"], data["person"].id, callback_data.course) if course else None
    if course is None or enrolment is None:
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return None
    return course, enrolment


async def next_now(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    """The next lesson at once, to the chat they pressed in (quiet hours or not: they asked); a
    paused course stays paused. The button names the lesson it asks for, so a double tap sends one."""
    found = await owned(callback, callback_data, data)
    if found is None:
        return
    course, enrolment = found
    l10n, session, settings, now = data["l10n"], data["session"], data["settings"], data["clock"].now()
    if enrolment.status not in (EnrolmentStatus.active, EnrolmentStatus.paused):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    if callback_data.value != str(enrolment.next_lesson):  # a double tap, or an old screen: that lesson went already
        await callback.answer(l10n("fallback.button_outdated"))
        return
    due = await lesson_delivery.due_now(session, enrolment.id, data["account"])
    render = renderer(data["content"], bool(settings.public_url))
    sent = await lesson_delivery.deliver(session, [due] if due else [], {course.id: course}, render, quiet_of(settings), now=now, asked=True)
    await session.refresh(enrolment)  # moved on by the delivery's own statement
    delivery: DeliveryEngine = data["delivery"]
    data["after_commit"].append(delivery.wake)  # the engine must see the lesson's row when it wakes
    await show_course(callback, course.id, data, l10n("courses.coming_now" if sent.lessons else "fallback.button_outdated"))


async def pause_or_resume(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    found = await owned(callback, callback_data, data)
    if found is None:
        return
    course, enrolment = found
    session, person, now = data["session"], data["person"], data["clock"].now()
    if callback_data.step == CourseStep.pause:
        await courses.pause(session, enrolment, person, now=now)  # a double tap changes nothing
        note = data["l10n"]("courses.paused_note")
    else:
        await courses.resume(session, enrolment, person, quiet_of(data["settings"]), now=now)
        note = data["l10n"]("courses.resumed")
    await show_course(callback, course.id, data, note)


async def confirm_leave(callback: CallbackQuery, callback_data: CourseAction, l10n: Texts) -> None:
    builder = Buttons()
    builder.button(text=l10n("courses.leave_yes"), callback_data=CourseAction(step=CourseStep.leave_yes, course=callback_data.course))
    builder.button(text=l10n("courses.leave_no"), callback_data=CourseAction(step=CourseStep.show, course=callback_data.course))
    await show(callback, l10n("courses.leave_confirm"), keyboard(builder, 2))


async def leave(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    found = await owned(callback, callback_data, data)
    if found is None:
        return
    course, enrolment = found
    await courses.leave(data["session"], enrolment, data["person"], now=data["clock"].now())
    await show_course(callback, course.id, data, data["l10n"]("courses.left"))

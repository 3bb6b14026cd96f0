"""What the course screens and the lesson messages share: callback data, states, and the lesson
message itself (its text and buttons, the same for every family reading it in one language)."""

from __future__ import annotations

import html
import re
from datetime import time
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.consultation_content import WEEKDAYS, Weekday
from bot.content import Content, Texts
from bot.course_content import Course, Lesson, Rhythm
from bot.delivery.senders import PERSONAL_LINK
from bot.platforms.media import media_of
from bot.services.courses import lesson_count
from bot.services.lesson_delivery import Render
from handlers.ui import CallbackInt


class CourseStep(StrEnum):
    list = "list"
    show = "show"  # a course: its description, or the family's progress in it
    enrol = "enrol"  # choose the rhythm
    days = "days"  # value: the chosen weekdays as a bit mask
    time = "time"  # value: the rhythm chosen; choose the time of day
    at = "at"  # value: "rhythm@hour": enrol (or change the plan)
    zones = "zones"  # value: the rhythm; choose the time zone
    zone = "zone"  # value: "rhythm@zone number"
    change = "change"  # a new rhythm and time for an enrolment
    next = "next"  # the next lesson now
    pause = "pause"
    resume = "resume"
    leave = "leave"
    leave_yes = "leave_yes"
    rate = "rate"  # value: usefulness 1-5
    recommend = "recommend"  # value: "1" or "0"


class CourseAction(CallbackData, prefix="crs"):
    step: CourseStep
    course: str = ""
    value: str = ""


class LessonStep(StrEnum):
    like = "like"
    dislike = "dislike"
    comment = "comment"
    done = "done"
    watch = "watch"
    ask = "ask"
    report = "report"


class LessonPress(CallbackData, prefix="ls"):
    step: LessonStep
    course: str
    lesson: CallbackInt


class Commenting(StatesGroup):
    comment = State()  # data: course, lesson


STARS = ("courses.stars_1", "courses.stars_2", "courses.stars_3", "courses.stars_4", "courses.stars_5")  # literal keys, checked by tests
WEEKDAY_NAMES = {
    Weekday.mon: "weekday.mon", Weekday.tue: "weekday.tue", Weekday.wed: "weekday.wed", Weekday.thu: "weekday.thu", Weekday.fri: "weekday.fri",
    Weekday.sat: "weekday.sat", Weekday.sun: "weekday.sun",
}
HOURS = (9, 10, 12, 15, 18, 20)  # the times of day offered; the quiet hours end at 09:00 by default
EVERY = (1, 2, 3, 7)  # the "every N days" offered
ZONES = (
    "Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk", "Asia/Krasnoyarsk", "Asia/Irkutsk",
    "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka", "Europe/Chisinau", "Europe/Bucharest", "Europe/London",
)


def rhythm_code(rhythm: Rhythm) -> str:
    """A rhythm in callback data: "d2" every two days, "w18" the weekdays of a bit mask (Tue and Fri)."""
    if rhythm.every_days:
        return f"d{rhythm.every_days}"
    return f"w{sum(1 << WEEKDAYS.index(day) for day in rhythm.weekdays)}"


def rhythm_of(code: str) -> Rhythm | None:
    """The rhythm a code names; None for a forged or broken one."""
    kind, number = code[:1], code[1:]
    if not number.isdigit():
        return None
    value = int(number)
    if kind == "d" and 1 <= value <= 30:
        return Rhythm(every_days=value)
    if kind == "w" and 0 < value < 128:
        return Rhythm(weekdays=tuple(day for index, day in enumerate(WEEKDAYS) if value >> index & 1))
    return None


def rhythm_label(l10n: Texts, rhythm: Rhythm) -> str:
    if rhythm.every_days:
        return l10n("courses.daily") if rhythm.every_days == 1 else l10n("courses.every_days", count=rhythm.every_days)
    return ", ".join(l10n(WEEKDAY_NAMES[day]) for day in rhythm.weekdays)


def time_label(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def lesson_html(text: str) -> str:
    """A lesson's Markdown as the messengers' HTML: **bold**, and "- " items as bullets."""
    lines = []
    for line in html.escape(text, quote=False).splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ")):
            line = "• " + stripped[2:]
        elif stripped.startswith("#"):
            line = "<b>" + stripped.lstrip("#").strip() + "</b>"
        lines.append(_BOLD.sub(r"<b>\1</b>", line))
    return "\n".join(lines)


def lesson_of(course: Course, number: int, language: str) -> Lesson | None:
    lessons = course.lessons.get(language, ())
    return lessons[number - 1] if 1 <= number <= len(lessons) else None


def lesson_message(content: Content, tracked: bool, course: Course, number: int, language: str, reminder: bool = False) -> tuple[str, dict[str, Any]]:
    """A lesson's message in one language: the course and its place, the title, the text and the
    week's task, with the feedback buttons. `tracked`: a video link opens through the bot's own
    address (PUBLIC_URL), made per family by the sender; else the watch button asks the bot."""
    l10n = content.texts[language]
    lesson = lesson_of(course, number, language)
    assert lesson is not None  # the tick gives only numbers within the course
    heading = l10n("lesson.heading", course=course.title(language), number=number, total=lesson_count(course))
    parts = [l10n("lesson.reminder")] if reminder else []
    parts += [f"<b>{heading}</b>", f"<b>{html.escape(lesson.title, quote=False)}</b>", lesson_html(lesson.text)]  # the texts escape their values
    parts.append(l10n("lesson.task", task=lesson.task))
    return "\n\n".join(parts), lesson_keyboard(content, course, number, language, lesson, tracked).model_dump(exclude_none=True)


def lesson_keyboard(content: Content, course: Course, number: int, language: str, lesson: Lesson, tracked: bool) -> InlineKeyboardMarkup:
    l10n = content.texts[language]

    def button(step: LessonStep, key: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=l10n(key), callback_data=LessonPress(step=step, course=course.id, lesson=number).pack())

    rows = []
    if lesson.video:
        linked = tracked and lesson.video.startswith(("http://", "https://"))
        rows.append([InlineKeyboardButton(text=l10n("lesson.watch"), url=PERSONAL_LINK) if linked else button(LessonStep.watch, "lesson.watch")])
    rows += [
        [button(LessonStep.like, "lesson.like"), button(LessonStep.dislike, "lesson.dislike")],
        [button(LessonStep.comment, "lesson.comment"), button(LessonStep.done, "lesson.done")],
        [button(LessonStep.ask, "lesson.ask")],
        [button(LessonStep.report, "lesson.report")],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def renderer(content: Content, tracked: bool, reminder: bool = False) -> Render:
    return partial(lesson_message, content, tracked, reminder=reminder)


class LessonFiles:
    """Each lesson video file's id on each messenger, learnt on its first upload: the next family
    gets the same file without another upload. One per running bot (the dispatcher holds it)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, Path], str] = {}

    async def send(self, bot: Bot, chat_id: int, platform: str, path: Path, caption: str) -> None:
        known = self.ids.get((platform, path))
        sent = await bot.send_video(chat_id, known or FSInputFile(path), caption=caption)
        media = media_of(sent)
        if known is None and media is not None:
            self.ids[(platform, path)] = media.file_id

"""What a family does with a lesson's message, however old: watch, 👍 / 👎, comment, done, ask the
course's specialist about it, send the week's task as a report; and the course's rating at the end.
Each press is checked against the family's own record of that lesson."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.content import Content, Texts
from bot.course_content import FOLDER, Course
from bot.db.models import EnrolmentStatus, LessonReaction, PieceKind
from bot.filters import NotACommand
from bot.lengths import shortened
from bot.platforms import Channel
from bot.services import courses
from bot.services.consultations import Piece
from handlers.consultations.common import Asking
from handlers.consultations.parent import cancel_keyboard
from handlers.courses.common import STARS, Commenting, CourseAction, CourseStep, LessonFiles, LessonPress, LessonStep, lesson_of
from handlers.ui import Buttons, answer_below, bot_of, keyboard, menu_button, show

COMMENT_LIMIT = 2000
REACTIONS = {LessonStep.like: LessonReaction.like, LessonStep.dislike: LessonReaction.dislike}
THANKS = {LessonReaction.like: "lesson.liked", LessonReaction.dislike: "lesson.disliked"}


def build_router() -> Router:
    router = Router(name="courses_lesson")
    router.callback_query.register(react, LessonPress.filter(F.step.in_(set(REACTIONS))))
    router.callback_query.register(done, LessonPress.filter(F.step == LessonStep.done))
    router.callback_query.register(watch, LessonPress.filter(F.step == LessonStep.watch))
    router.callback_query.register(start_comment, LessonPress.filter(F.step == LessonStep.comment))
    router.callback_query.register(ask_about, LessonPress.filter(F.step.in_({LessonStep.ask, LessonStep.report})))
    router.callback_query.register(rate, CourseAction.filter(F.step == CourseStep.rate))
    router.callback_query.register(recommend, CourseAction.filter(F.step == CourseStep.recommend))
    router.message.register(take_comment, StateFilter(Commenting.comment), NotACommand())
    return router


async def received(callback: CallbackQuery, press: LessonPress, data: dict) -> tuple[Course, courses.LessonDelivery] | None:
    """The course and the family's record of the lesson the button is on (None: told it is outdated)."""
    course = Content.find(data["content"].courses, press.course)
    delivery = await courses.delivery_of(data["session"], data["person"].id, press.course, press.lesson) if course else None
    if course is None or delivery is None:
        await callback.answer(data["l10n"]("fallback.button_outdated"))
        return None
    return course, delivery


async def react(callback: CallbackQuery, callback_data: LessonPress, **data) -> None:
    found = await received(callback, callback_data, data)
    if found is None:
        return
    _course, delivery = found
    reaction = REACTIONS[callback_data.step]
    counted = courses.react(data["session"], delivery, reaction, data["person"], data["platform"], now=data["clock"].now())
    await callback.answer(data["l10n"](THANKS[reaction] if counted else "lesson.already"))


async def done(callback: CallbackQuery, callback_data: LessonPress, **data) -> None:
    found = await received(callback, callback_data, data)
    if found is None:
        return
    course, delivery = found
    l10n, session, person = data["l10n"], data["session"], data["person"]
    first = courses.mark_done(session, delivery, person, data["platform"], now=data["clock"].now())
    enrolment = await courses.enrolment_of(session, person.id, course.id)
    last = delivery.lesson == courses.lesson_count(course)
    if first and last and enrolment is not None and enrolment.status == EnrolmentStatus.finished and enrolment.rating is None:
        await callback.answer(l10n("lesson.marked_done"))
        await answer_below(callback, l10n("courses.rate_prompt", course=course.title(l10n.language)), rating_keyboard(l10n, course.id))
        return
    await callback.answer(l10n("lesson.marked_done" if first else "lesson.already"))


def rating_keyboard(l10n: Texts, course_id: str) -> InlineKeyboardMarkup:
    builder = Buttons()
    for value, key in enumerate(STARS, 1):
        builder.button(text=l10n(key), callback_data=CourseAction(step=CourseStep.rate, course=course_id, value=str(value)))
    return keyboard(builder, 5)


async def watch(callback: CallbackQuery, callback_data: LessonPress, **data) -> None:
    """The video itself when the lesson has a file; its link otherwise (PUBLIC_URL unset). Either way, a view."""
    found = await received(callback, callback_data, data)
    if found is None:
        return
    course, delivery = found
    l10n, settings = data["l10n"], data["settings"]
    lesson = lesson_of(course, delivery.lesson, l10n.language)
    if lesson is None or not lesson.video:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    await courses.opened(data["session"], delivery, data["person"], data["platform"], now=data["clock"].now())
    await callback.answer()
    if lesson.video.startswith(("http://", "https://")):
        await answer_below(callback, l10n("lesson.video_link", title=lesson.title, link=lesson.video))
    else:  # a file of the course's: to the chat the button is in, however old its message (Telegram may no longer hand it over)
        chat_id = callback.message.chat.id if callback.message is not None else callback.from_user.id
        path = settings.content_dir / FOLDER / course.id / lesson.video
        files: LessonFiles = data["lesson_files"]
        await files.send(bot_of(callback), chat_id, data["platform"], path, shortened(lesson.title, 1000))


async def start_comment(callback: CallbackQuery, callback_data: LessonPress, state: FSMContext, **data) -> None:
    found = await received(callback, callback_data, data)
    if found is None:
        return
    course, delivery = found
    await state.set_state(Commenting.comment)
    await state.set_data({"course": course.id, "lesson": delivery.lesson})
    await callback.answer()
    await answer_below(callback, data["l10n"]("lesson.comment_prompt"), menu_button(data["l10n"]))


async def take_comment(message: Message, state: FSMContext, **data) -> None:
    l10n = data["l10n"]
    text = (message.text or message.caption or "").strip()
    if not text:
        await message.answer(l10n("lesson.comment_text_only"))
        return
    saved = await state.get_data()
    await state.clear()
    delivery = await courses.delivery_of(data["session"], data["person"].id, saved.get("course", ""), int(saved.get("lesson", 0)))
    if delivery is None:
        await message.answer(l10n("fallback.button_outdated"))
        return
    courses.comment(data["session"], delivery, text[:COMMENT_LIMIT], data["person"], data["platform"], now=data["clock"].now())
    await message.answer(l10n("lesson.comment_thanks"), reply_markup=menu_button(l10n))


async def ask_about(callback: CallbackQuery, callback_data: LessonPress, state: FSMContext, **data) -> None:
    """A question to the course's specialty with the lesson attached (its first line), or the
    week's task as a report: the usual question from there on (FAQ, more messages, send)."""
    found = await received(callback, callback_data, data)
    if found is None:
        return
    course, delivery = found
    l10n, content = data["l10n"], data["content"]
    specialty = content.specialty(course.specialty)
    lesson = lesson_of(course, delivery.lesson, l10n.language)
    if specialty is None or lesson is None:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    report = callback_data.step == LessonStep.report
    about_key = "lesson.report_about" if report else "lesson.ask_about"
    # kept as the family's own words, plain text: the texts escape what they are given
    about = html.unescape(l10n(about_key, course=course.title(l10n.language), number=delivery.lesson, title=lesson.title))
    if report:
        about += "\n" + lesson.task
    channel: Channel = data["channel"]
    first = Piece(PieceKind.text, data["platform"], about)
    await state.set_state(Asking.describing)
    await state.set_data({"specialty": specialty.id, "pieces": [first.as_data()], "anonymous": False, "named": channel.tells_names})
    await callback.answer()
    prompt = "lesson.report_prompt" if report else "lesson.ask_prompt"
    await answer_below(callback, l10n(prompt, specialty=specialty.label(l10n.language), title=lesson.title), cancel_keyboard(l10n))


async def rate(callback: CallbackQuery, callback_data: CourseAction, **data) -> None:
    l10n, session, person = data["l10n"], data["session"], data["person"]
    enrolment = await courses.enrolment_of(session, person.id, callback_data.course)
    value = int(callback_data.value) if callback_data.value.isdigit() else 0
    if enrolment is None or enrolment.status != EnrolmentStatus.finished or not 1 <= value <= 5:
        await callback.answer(l10n("fallback.button_outdated"))
        return
    if not courses.rate_course(session, enrolment, value, person, data["platform"], now=data["clock"].now()):
        await callback.answer(l10n("lesson.already"))
        return
    builder = Buttons()
    for answer, key in (("1", "courses.recommend_yes"), ("0", "courses.recommend_no")):
        builder.button(text=l10n(key), callback_data=CourseAction(step=CourseStep.recommend, course=callback_data.course, value=answer))
    await show(callback, l10n("courses.recommend_prompt"), keyboard(builder, 2))


async def recommend(callback: CallbackQuery, callback_data: CourseAction, content: Content, **data) -> None:
    l10n, session, person = data["l10n"], data["session"], data["person"]
    enrolment = await courses.enrolment_of(session, person.id, callback_data.course)
    if enrolment is None or enrolment.rating is None or callback_data.value not in ("0", "1"):
        await callback.answer(l10n("fallback.button_outdated"))
        return
    if not courses.recommend_course(session, enrolment, callback_data.value == "1", person, data["platform"], now=data["clock"].now()):
        await callback.answer(l10n("lesson.already"))
        return
    await show(callback, l10n("courses.rated"), menu_button(l10n))

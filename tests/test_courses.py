"""A family takes a flash course, on Telegram and on VK: browse, enrol with a rhythm and a time,
lesson 1 at that time (the clock moves, the tick runs), 👍 / comment / done / watch (through the
tracked link and through the button), pause skips lessons, resume, the quiet hours hold, a
crash in the middle of a due batch loses and repeats nothing, and the course's rating at the end."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.clock import ShiftedClock
from bot.config import PROJECT_ROOT
from bot.db.models import Enrolment, EnrolmentStatus, Event, LessonComment, LessonDelivery, OutboxMessage, OutboxStatus, Ticket, TicketPiece
from bot.services.events import EventKind
from bot.services.lesson_delivery import Delivered
from handlers.courses.common import CourseAction, CourseStep, LessonPress, LessonStep
from scheduler.courses import deliver_lessons
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, register, step
from tests.test_run import free_port

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
HOME = next(course for course in CONTENT.courses if course.id == "home")
MONDAY_8 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday, 08:00 in the centre's zone (UTC in the tests)
VIDEO = "https://video.example.org/home-01"


def content_with_video(folder: Path, video: str = VIDEO) -> Path:
    """The project's content, the first lesson of "home" with a video (a link, or a file in the
    course's folder) in every language."""
    target = folder / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    if not video.startswith("https://"):
        (target / "courses" / "home" / video).parent.mkdir(parents=True, exist_ok=True)
        (target / "courses" / "home" / video).write_bytes(b"\x00\x00\x00\x18ftypmp42 a short lesson video")
    for lesson in (target / "courses" / "home").glob("*/01-*.md"):
        lines = lesson.read_text(encoding="utf-8").splitlines()
        lesson.write_text("\n".join([lines[0], f'video = "{video}"', *lines[1:]]) + "\n", encoding="utf-8")
    return target


def clock_at(moment: datetime) -> ShiftedClock:
    return ShiftedClock(moment - datetime.now(UTC))


async def tick(running: RunningBot) -> Delivered:
    app = running.app
    return await deliver_lessons(app.sessionmaker, app.content, app.settings, app.clock, app.bots.by_platform(), app.delivery.wake)


async def sent_out(running: RunningBot, emulator, timeout: float = 10) -> None:  # noqa: ASYNC109 - polls the outbox, which signals nothing
    """Until the delivery engine has sent every queued lesson, and the messenger has it."""
    deadline = time.monotonic() + timeout
    while True:
        async with running.session() as session:
            pending = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending))
        if not pending:
            break
        assert time.monotonic() < deadline, f"{pending} lessons still queued"
        await asyncio.sleep(0.02)
    await emulator.settle()


async def events(running: RunningBot, kind: EventKind) -> list[float | None]:
    async with running.session() as session:
        return list((await session.scalars(select(Event.value).where(Event.kind == kind).order_by(Event.id))).all())


def heading(number: int, course=HOME) -> str:
    return T("lesson.heading", course=course.title("en"), number=number, total=6)


async def enrol_in_home(emulator, parent, hour: str = "10:00") -> None:
    await step(emulator, lambda: parent.send("/courses"))
    await step(emulator, lambda: parent.click(HOME.title("en")))
    assert HOME.descriptions["en"][:40] in parent.last.text
    await step(emulator, lambda: parent.click(T("courses.enrol")))
    assert parent.last.text == T("courses.rhythm_prompt")
    await step(emulator, lambda: parent.click(T("courses.as_planned", rhythm=T("courses.every_days", count=2))))
    assert parent.last.text == T("courses.time_prompt", zone="UTC")
    await step(emulator, lambda: parent.click(hour))
    assert parent.last.text.startswith(T("courses.enrolled"))


def uploads_of_video(emulator) -> list:
    """The calls that carried the video file itself: a Telegram sendVideo with a file, a VK upload server's handing out."""
    if emulator.platform == "vk":
        return [method for method, _ in emulator.calls if method == "docs.getMessagesUploadServer"]
    return [params for method, params in emulator.calls if method == "sendVideo" and not isinstance(params.get("video"), str)]


async def first_lesson_now(running: RunningBot, emulator, user_id: int):
    """A registered parent enrolled in "home" who asked for the first lesson at once: them and the lesson."""
    parent = emulator.user(user_id, language_code="en")
    await register(emulator, parent)
    await enrol_in_home(emulator, parent)
    await step(emulator, lambda: parent.click(T("courses.next_now")))  # no waiting for 10:00
    await sent_out(running, emulator)
    return parent, parent.last


async def test_a_family_takes_a_course_from_enrolling_to_its_rating(emulator, database_url, tmp_path):
    port = free_port()
    settings = make_settings(
        emulator, database_url, CONTENT_DIR=str(content_with_video(tmp_path)), PUBLIC_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port),
    )
    async with RunningBot(settings, clock=clock_at(MONDAY_8)) as running:
        parent = emulator.user(5301, language_code="en")
        await register(emulator, parent)
        await enrol_in_home(emulator, parent)
        assert "0 of 6" in parent.last.text

        assert (await tick(running)).lessons == 0  # 08:00: the lesson is due at 10:00
        running.clock.advance(timedelta(hours=2))
        assert (await tick(running)).lessons == 1
        await sent_out(running, emulator)
        lesson = parent.last
        assert lesson.text.startswith(heading(1)) and HOME.lessons["en"][0].title in lesson.text
        watch = next(url for row in lesson.buttons for text, url in row if text == T("lesson.watch"))
        assert watch.startswith(f"http://127.0.0.1:{port}/w/")  # the family's own tracked link

        await step(emulator, lambda: parent.click(T("lesson.like"), lesson))
        assert parent.callback_answers[-1].text == T("lesson.liked")
        await step(emulator, lambda: parent.click(T("lesson.like"), lesson))  # a second 👍
        assert parent.callback_answers[-1].text == T("lesson.already")
        assert await events(running, EventKind.lesson_liked) == [1, 0]  # both presses, one like

        await step(emulator, lambda: parent.click(T("lesson.comment"), lesson))
        await step(emulator, lambda: parent.send("We did it twice, <b>great</b>!"))
        assert parent.last.text == T("lesson.comment_thanks")
        await step(emulator, lambda: parent.click(T("lesson.done"), lesson))
        assert parent.callback_answers[-1].text == T("lesson.marked_done")

        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.get(watch, allow_redirects=False) as response:
                    assert response.status == 302 and response.headers["Location"] == VIDEO
            async with http.get(watch[:-3] + "AAA", allow_redirects=False) as response:  # a forged signature
                assert response.status == 404
        assert await events(running, EventKind.lesson_opened) == [1, 0]  # one view, two opens
        async with running.session() as session:
            record = await session.scalar(select(LessonDelivery))
            assert record.opens == 2 and record.reaction == "like" and record.done_at is not None
            assert (await session.scalar(select(LessonComment.text))) == "We did it twice, <b>great</b>!"

        # pause: two days pass, nothing comes; resume: the next lesson at the family's time
        await step(emulator, lambda: parent.send("/courses"))
        await step(emulator, lambda: parent.click(f"📗 {HOME.title('en')} · 1/6"))
        await step(emulator, lambda: parent.click(T("courses.pause")))
        assert parent.last.text.startswith(T("courses.paused_note"))
        running.clock.advance(timedelta(days=2))
        assert (await tick(running)).lessons == 0
        await step(emulator, lambda: parent.click(T("courses.resume")))
        running.clock.advance(timedelta(days=1))
        assert (await tick(running)).lessons == 1
        await sent_out(running, emulator)
        assert parent.last.text.startswith(heading(2))

        # the rest at once, then the rating after the last one is done
        for number in range(3, 7):
            await step(emulator, lambda: parent.send("/courses"))
            received = f"📗 {HOME.title('en')} · {number - 1}/6"
            await step(emulator, lambda received=received: parent.click(received))
            await step(emulator, lambda: parent.click(T("courses.next_now")))
            await sent_out(running, emulator)
            assert parent.last.text.startswith(heading(number))
        last = parent.last
        await step(emulator, lambda: parent.click(T("lesson.done"), last))
        assert parent.last.text == T("courses.rate_prompt", course=HOME.title("en"))
        await step(emulator, lambda: parent.click(T("courses.stars_5")))
        await step(emulator, lambda: parent.click(T("courses.recommend_yes")))
        assert parent.last.text == T("courses.rated")
        assert await events(running, EventKind.course_rated) == [5]
        assert await events(running, EventKind.course_recommended) == [1]
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            assert enrolment.status == EnrolmentStatus.finished and enrolment.next_at is None
        assert (await tick(running)).lessons == 0  # nothing after the last lesson

        await step(emulator, lambda: parent.click(T("lesson.dislike"), lesson))  # the first lesson's button, weeks later
        assert parent.callback_answers[-1].text == T("lesson.disliked")
        assert await events(running, EventKind.lesson_liked) == [1, 0, -1]  # the like taken back


async def test_the_watch_button_sends_the_link_and_counts_the_view_without_a_public_address(emulator, database_url, tmp_path):
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_video(tmp_path)))
    async with RunningBot(settings, clock=clock_at(MONDAY_8)) as running:
        parent = emulator.user(5311, language_code="en")
        await register(emulator, parent)
        await enrol_in_home(emulator, parent, hour="09:00")
        running.clock.advance(timedelta(hours=1))
        await tick(running)
        await sent_out(running, emulator)
        lesson = parent.last
        await step(emulator, lambda: parent.click(T("lesson.watch"), lesson))
        assert parent.last.text == T("lesson.video_link", title=HOME.lessons["en"][0].title, link=VIDEO)
        await step(emulator, lambda: parent.click(T("lesson.watch"), lesson))
        assert await events(running, EventKind.lesson_opened) == [1, 0]

        stranger = emulator.user(5312, language_code="en")  # never got the lesson: a forged press
        await register(emulator, stranger)
        forged = LessonPress(step=LessonStep.like, course="home", lesson=1).pack()
        await step(emulator, lambda: emulator.press(stranger, forged))
        assert stranger.callback_answers[-1].text == T("fallback.button_outdated")
        assert await events(running, EventKind.lesson_liked) == []


async def test_a_question_about_a_lesson_and_the_weeks_task_reach_the_courses_specialty_as_consultations(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        parent, lesson = await first_lesson_now(running, emulator, 5321)
        second_tap = CourseAction(step=CourseStep.next, course=HOME.id, value="1").pack()  # the same button, pressed twice
        await step(emulator, lambda: emulator.press(parent, second_tap))
        await sent_out(running, emulator)
        assert parent.callback_answers[-1].text == T("fallback.button_outdated") and parent.last is lesson
        title = HOME.lessons["en"][0].title
        defectologist = CONTENT.specialty(HOME.specialty).label("en")

        await step(emulator, lambda: parent.click(T("lesson.ask"), lesson))
        assert parent.last.text == T("lesson.ask_prompt", specialty=defectologist, title=title)
        await step(emulator, lambda: parent.send("How long should one practice take?"))
        if T("ask.still") in button_texts(parent.last):
            await step(emulator, lambda: parent.click(T("ask.still")))
        await step(emulator, lambda: parent.click(T("ask.send")))
        await step(emulator, lambda: parent.click(T("lesson.report"), lesson))
        assert parent.last.text == T("lesson.report_prompt", specialty=defectologist, title=title)
        await step(emulator, lambda: parent.send_photo(data=b"\xff\xd8 socks on, by herself"))
        if T("ask.still") in button_texts(parent.last):
            await step(emulator, lambda: parent.click(T("ask.still")))
        await step(emulator, lambda: parent.click(T("ask.send")))

        async with running.session() as session:
            tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
            assert [ticket.specialty for ticket in tickets] == [HOME.specialty, HOME.specialty]
        about = T("lesson.ask_about", course=HOME.title("en"), number=1, title=title)
        assert (await pieces_of(running, tickets[0].id)) == [("text", about), ("text", "How long should one practice take?")]
        report_pieces = await pieces_of(running, tickets[1].id)
        assert report_pieces[0] == ("text", T("lesson.report_about", course=HOME.title("en"), number=1, title=title) + "\n" + HOME.lessons["en"][0].task)
        assert report_pieces[1][0] == "photo"


async def pieces_of(running: RunningBot, ticket_id: int) -> list[tuple[str, str | None]]:
    async with running.session() as session:
        found = await session.scalars(select(TicketPiece).where(TicketPiece.ticket_id == ticket_id).order_by(TicketPiece.id))
        return [(piece.kind, piece.text) for piece in found]


async def test_deleting_ones_data_takes_the_courses_lessons_and_comments_with_it(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        parent, lesson = await first_lesson_now(running, emulator, 5331)
        await step(emulator, lambda: parent.click(T("lesson.comment"), lesson))
        await step(emulator, lambda: parent.send("Our own words"))
        await step(emulator, lambda: parent.send("/mydata"))
        assert f"{HOME.title('en')} (1/6)" in parent.last.text  # what is kept says so
        await step(emulator, lambda: parent.click(T("my_data.delete")))
        await step(emulator, lambda: parent.click(T("my_data.delete_yes")))
        async with running.session() as session:
            for model in (Enrolment, LessonDelivery, LessonComment, OutboxMessage):
                assert await session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
        await step(emulator, lambda: parent.click(T("lesson.like"), lesson))  # the old lesson's button
        assert parent.callback_answers[-1].text != T("lesson.liked")


async def test_lessons_on_chosen_weekdays_at_the_familys_hour_in_their_own_time_zone(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)) as running:
        parent = emulator.user(5341, language_code="en")
        await register(emulator, parent)
        await step(emulator, lambda: parent.send("/courses"))
        await step(emulator, lambda: parent.click(HOME.title("en")))
        await step(emulator, lambda: parent.click(T("courses.enrol")))
        await step(emulator, lambda: parent.click(T("courses.weekdays")))
        assert parent.last.text == T("courses.weekdays_prompt") and T("courses.days_done") not in button_texts(parent.last)
        for day in ("weekday.tue", "weekday.fri", "weekday.sat"):
            await step(emulator, lambda day=day: parent.click(T(day)))
        await step(emulator, lambda: parent.click("✓ " + T("weekday.sat")))  # tapped again: off
        assert [text for text in button_texts(parent.last) if text.startswith("✓")] == ["✓ " + T("weekday.tue"), "✓ " + T("weekday.fri")]
        await step(emulator, lambda: parent.click(T("courses.days_done")))
        await step(emulator, lambda: parent.click(T("courses.zone_change")))
        await step(emulator, lambda: parent.click("Samara"))
        assert parent.last.text == T("courses.time_prompt", zone="Samara")
        await step(emulator, lambda: parent.click("18:00"))
        assert T("courses.progress", number=0, total=6, rhythm=f"{T('weekday.tue')}, {T('weekday.fri')}", at="18:00", zone="Samara",
                 next=T.in_zone(ZoneInfo("Europe/Samara")).date_time(datetime(2027, 3, 2, 14, 0, tzinfo=UTC))) in parent.last.text
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            assert enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 2, 14, 0, tzinfo=UTC)  # Tuesday 18:00 in Samara (UTC+4)
        running.clock.advance(timedelta(days=1, hours=6))  # Tuesday 14:00 UTC
        assert (await tick(running)).lessons == 1
        await sent_out(running, emulator)
        async with running.session() as session:
            enrolment = await session.scalar(select(Enrolment))
            assert enrolment.next_at.replace(tzinfo=UTC) == datetime(2027, 3, 5, 14, 0, tzinfo=UTC)  # then Friday

        await step(emulator, lambda: parent.send("/courses"))
        await step(emulator, lambda: parent.click(f"📗 {HOME.title('en')} · 1/6"))
        await step(emulator, lambda: parent.click(T("courses.leave")))
        await step(emulator, lambda: parent.click(T("courses.leave_yes")))
        assert parent.last.text.startswith(T("courses.left"))
        running.clock.advance(timedelta(days=7))
        assert (await tick(running)).lessons == 0
        await step(emulator, lambda: parent.click(T("courses.enrol")))  # back later: on from lesson 2
        await step(emulator, lambda: parent.click(T("courses.as_planned", rhythm=T("courses.every_days", count=2))))
        await step(emulator, lambda: parent.click("10:00"))
        await step(emulator, lambda: parent.click(T("courses.next_now")))
        await sent_out(running, emulator)
        assert parent.last.text.startswith(heading(2))


async def test_a_lessons_own_video_file_is_sent_by_the_watch_button(emulator, database_url, tmp_path):
    settings = make_settings(emulator, database_url, CONTENT_DIR=str(content_with_video(tmp_path, "videos/01-dressing.mp4")))
    async with RunningBot(settings, clock=clock_at(MONDAY_8)) as running:
        parent, lesson = await first_lesson_now(running, emulator, 5351)
        await step(emulator, lambda: parent.click(T("lesson.watch"), lesson))
        sent_as = "doc" if emulator.platform == "vk" else "video"  # a community token cannot upload videos: VK gets it as a file
        assert parent.last.kind == sent_as and parent.last.caption == HOME.lessons["en"][0].title
        assert await events(running, EventKind.lesson_opened) == [1]
        other, other_lesson = await first_lesson_now(running, emulator, 5352)
        await step(emulator, lambda: other.click(T("lesson.watch"), other_lesson))
        assert other.last.kind == sent_as
        assert len(uploads_of_video(emulator)) == 1  # the file learnt on the first upload is sent again by its id


async def test_many_courses_come_a_page_at_a_time(emulator, database_url, tmp_path):
    content = content_with_video(tmp_path)
    for number in range(2, 6):  # seven courses in all: more rows than a VK keyboard holds
        shutil.copytree(content / "courses" / "home", content / "courses" / f"home-{number}")
    async with RunningBot(make_settings(emulator, database_url, CONTENT_DIR=str(content)), clock=clock_at(MONDAY_8)):
        parent = emulator.user(5361, language_code="en")
        await register(emulator, parent)
        await step(emulator, lambda: parent.send("/courses"))
        assert button_texts(parent.last)[-2:] == ["▶", T("menu.back")] and len(button_texts(parent.last)) == 6
        await step(emulator, lambda: parent.click("▶"))
        assert button_texts(parent.last)[-2:] == ["◀", T("menu.back")] and len(button_texts(parent.last)) == 5


async def test_the_courses_for_the_childs_age_come_first(emulator, database_url):
    async with RunningBot(make_settings(emulator, database_url), clock=clock_at(MONDAY_8)):
        parent = emulator.user(5371, language_code="en")
        await register(emulator, parent, age="12-17")
        await step(emulator, lambda: parent.send("/courses"))
        titles = {course.id: course.title("en") for course in CONTENT.courses}
        assert button_texts(parent.last) == [titles["rehab-school"], titles["home"], titles["virtual-club"], T("menu.back")]

"""The demo's course part: the parent starts a course, asks for the first lesson at once, opens its
video through the bot's own tracked link and likes the lesson; then the figures the centre's
monitoring holds for that lesson, counted by the bot itself (a messenger tells a bot no views).

The demo plays on a copy of the shipped content whose first lesson has a video link: the starter
lessons have none until the centre records its own."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from bot.config import PROJECT_ROOT
from bot.content import Content, Texts
from bot.course_content import FOLDER, Course, Rhythm

if TYPE_CHECKING:
    from bot.demo import Player

COURSE = "home"
DEMO_VIDEO = "https://video.example.org/vmeste-demo/home-01"  # a placeholder: the bot forwards to it, the demo does not open it
LESSON_WAIT_SECONDS = 15


def demo_content(workdir: Path) -> Path:
    """The shipped content, with a video link on the first lesson of COURSE in every language."""
    target = workdir / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    for lesson in (target / FOLDER / COURSE).glob("*/01-*.md"):
        fence, *rest = lesson.read_text(encoding="utf-8").splitlines()
        lesson.write_text("\n".join([fence, f'video = "{DEMO_VIDEO}"', *rest]) + "\n", encoding="utf-8")
    return target


def links_env(workdir: Path) -> dict[str, str]:
    """The bot's own address on this machine, where the lesson links lead."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {"CONTENT_DIR": str(demo_content(workdir)), "PUBLIC_URL": f"http://127.0.0.1:{port}", "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port)}


def rhythm_text(texts: Texts, rhythm: Rhythm) -> str:
    if rhythm.every_days == 1:
        return texts("courses.daily")
    return texts("courses.every_days", count=rhythm.every_days) if rhythm.every_days else ""


async def take_a_course(content: Content, language: str, olga: Player, database: Path) -> None:
    texts = content.texts[language]
    course = next(course for course in content.courses if course.id == COURSE)
    print(f"\n{olga.name} starts a course to do at home and asks for the first lesson now (it would come at her time, every two days):")
    await olga.send("/courses")
    await olga.tap(course.title(language))
    await olga.tap(texts("courses.enrol"))
    await olga.tap(texts("courses.as_planned", rhythm=rhythm_text(texts, course.rhythm)))
    await olga.tap("10:00")
    await olga.tap(texts("courses.next_now"))
    lesson = await first_lesson(olga, texts, course)
    await olga.comes_back()  # the lesson, if it came after the screen

    link = next(target for row in lesson.buttons for label, target in row if label == texts("lesson.watch"))
    print(f"\n👤 {olga.name}: taps [{texts('lesson.watch')}]: the link opens through the bot's own address")
    async with aiohttp.ClientSession() as http, http.get(link, allow_redirects=False) as response:
        print(f"   🌐 {link.split('/w/')[0]}/w/… → {response.status}, on to {response.headers.get('Location')}")
    await olga.do(f"taps [{texts('lesson.like')}]", lambda: olga.user.click(texts("lesson.like"), lesson))
    views, opens, likes = lesson_figures(database)
    print(f"\nThe centre's monitoring of lesson 1, counted by the bot (a messenger tells a bot no views): views {views}, opens {opens}, likes {likes}.")


async def first_lesson(olga: Player, texts: Texts, course: Course):
    """The lesson goes out through the delivery outbox, a moment after the press."""
    heading = texts("lesson.heading", course=course.title(texts.language), number=1, total=len(next(iter(course.lessons.values()))))
    deadline = time.monotonic() + LESSON_WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [message for message in olga.user.bot_messages if (message.text or "").startswith(heading)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise TimeoutError("the first lesson did not come")


def lesson_figures(database: Path) -> tuple[int, int, int]:
    """Views (families), opens and likes of the first lesson: sums over the events table, as reports count them."""
    with sqlite3.connect(database) as connection:
        rows = dict(
            (kind, (total, count))
            for kind, total, count in connection.execute(
                "SELECT kind, SUM(value), COUNT(*) FROM events WHERE object_id = ? GROUP BY kind", (f"{COURSE}:1",)
            )
        )
    views, opens = rows.get("lesson_opened", (0, 0))
    likes = rows.get("lesson_liked", (0, 0))[0]
    return int(views or 0), int(opens), int(likes or 0)

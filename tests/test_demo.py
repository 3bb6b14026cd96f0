"""`python -m bot demo` works as the README promises, on both platforms and in the chosen language,
with no token and no network: a parent registers, asks a speech therapist (invited by the admin) a
question, the specialist takes it from her queue, answers in writing and by voice and closes it,
and the parent rates the answer; then she starts a course and its first lesson is delivered, watched
through the bot's tracked link and liked; last, she finds a parent chat by theme and is let in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import LINES
from bot.platforms.vk_format import plain_text
from tests.helpers import CONTENT, TEXTS

pytestmark = pytest.mark.starts_processes


@pytest.mark.parametrize(("platform", "language"), [("telegram", "en"), ("vk", "ru")])
def test_demo_plays_a_parent_registering_and_a_question_answered_and_rated(platform, language, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:would-reach-telegram-if-used", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "bot", "demo", "--platform", platform, "--language", language]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    transcript, texts, lines = result.stdout, TEXTS[language], LINES[language]

    def shown(key: str, **values) -> str:  # as the user sees it: without the HTML tags
        return plain_text(texts(key, **values), "HTML")

    assert "👤 Olga: /start" in transcript
    assert f"👤 Olga: taps [{texts('consent.accept')}]" in transcript
    assert texts("menu.welcome") in transcript
    assert texts("commands.mydata") in transcript  # the title of "my data"
    assert "[1] " in transcript  # buttons are numbered

    speech = CONTENT.specialty("speech").label(language)
    consultation = transcript.split("👤 Anna: /invite specialist speech")[1]
    assert texts("invite.accepted", role=texts("roles.specialist")) in consultation  # Irina joined by Anna's invite
    assert shown("work.name_saved", name=lines["name"]) in consultation
    # the question: text and a photo, sent to the speech therapist's queue
    assert f"👤 Olga: taps [{speech}]" in consultation
    assert f"👤 Olga: {lines['question']}" in consultation
    assert f"👤 Olga: sends a photo: {lines['photo']}" in consultation
    assert shown("ask.sent", id=1, specialty=speech, position=1) in consultation
    # taken from /queue: the photo, then the card with the question
    specialist = consultation.split("👤 Irina: /queue")[1]
    assert f"👤 Irina: taps [{texts('queue.take', specialty=speech)}]" in specialist
    assert f"[photo] {texts('work.file_header', id=1, number=1, count=1)}" in specialist
    assert lines["question"] in specialist.split(f"👤 Irina: taps [{texts('work.reply')}]")[0]  # on the card
    # answered in writing and by voice, and closed
    assert f"👤 Irina: {lines['answer']}" in specialist
    assert "👤 Irina: sends a voice message" in specialist
    assert specialist.count(texts("work.sent", id=1)) == 2
    assert f"👤 Irina: taps [{texts('work.finish')}]" in specialist
    assert texts("work.closed", id=1) in specialist
    # the parent's chat: taken, the answer under Irina's name (the text, then the voice), closed; rated with a comment
    family = specialist.split("👤 Olga: opens the chat")[1]
    header = shown("ticket.from_specialist", name=lines["name"], title=speech, id=1)
    assert shown("ticket.taken_notice", id=1, specialty=speech) in family
    assert f"{header}\n      {lines['answer']}" in family
    assert f"{header}\n   🤖 Vmeste says:\n      [voice]" in family
    assert shown("ticket.closed_notice", id=1, specialty=speech) in family
    assert f"👤 Olga: taps [{texts('ticket.stars', count=5)}]" in family
    assert shown("ticket.rated", count=5) in family
    assert f"👤 Olga: {lines['comment']}" in family
    assert texts("ticket.comment_saved") in family
    assert "refused 0 of" in transcript
    # the course: enrolled, the first lesson delivered, its video opened through the bot's link, liked
    course = transcript.split(f"👤 Olga: taps [{texts('courses.next_now')}]")[1]
    home = next(course for course in CONTENT.courses if course.id == "home")
    assert texts("lesson.heading", course=home.title(language), number=1, total=6) in course
    assert "→ 302, on to https://video.example.org/vmeste-demo/home-01" in course
    assert f"👤 Olga: taps [{texts('lesson.like')}]" in course and texts("lesson.liked") in course
    assert "views 1, opens 1, likes 1" in course
    # a parent chat found by theme: let in, and welcomed with the rules
    chats = transcript.split("👤 Olga: /chats")[1]
    speech_chat = next(chat for chat in CONTENT.chats if chat.id == "speech")
    assert f"👤 Olga: taps [{speech_chat.title(language)}]" in chats
    assert f"✅ Olga is a member of «{speech_chat.title(language)}» now" in chats
    assert speech_chat.rules[language].splitlines()[0] in chats
    # last, the month's report: its summary, and the workbook and the charts written
    report = transcript.split("python -m bot report --month ")[1]
    assert texts("report.summary_title", period="").split("{")[0].strip() in report
    assert texts("report.summary_consultations", asked=1, answered=1, median="", p90="", missed=0).split(",")[0] in report
    paths = [Path(line.strip()) for line in report.splitlines() if line.strip().endswith((".xlsx", ".png"))]
    try:
        assert paths[0].suffix == ".xlsx" and any(path.suffix == ".png" for path in paths)
        assert all(path.is_file() and path.stat().st_size > 1000 for path in paths)
    finally:
        if paths:
            shutil.rmtree(paths[0].parent, ignore_errors=True)

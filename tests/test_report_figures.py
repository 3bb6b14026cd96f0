"""Reports' figures: a month of synthetic events, tickets, broadcasts and chat days (and some just
outside the month) make a report whose every figure is checked against a direct count of the same
rows in Python; an empty month is a report of zeros and dashes; periods are the centre's calendar."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from bot.services.events import EventKind
from bot.services.reports.consultations import percentile
from bot.services.reports.figures import compute
from bot.services.reports.period import BadPeriod, Period
from bot.services.reports.reach import REACH_KIND_NAMES
from bot.services.reports.text import summary
from tests.helpers import CONTENT, TEXTS
from tests.report_month import (
    CHATS,
    OCTOBER,
    RURAL,
    ZONE,
    a_month,
    inside,
    october_report,
    report_sessionmaker,  # noqa: F401 (the sessionmaker fixture)
)

pytestmark = pytest.mark.both_databases


# every figure against a direct count


async def test_every_figure_matches_a_direct_count_of_the_month(sessionmaker):
    month = a_month()
    report = await october_report(sessionmaker, month)
    events = [event for event in month.events if inside(event["at"])]

    # courses, per course
    expected_courses: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        if event["object_type"] not in ("lesson", "course") or event["kind"] == EventKind.lesson_reminded:
            continue
        figures = expected_courses[event["object_id"].split(":")[0]]
        kind, value = event["kind"], event["value"]
        if kind == EventKind.lesson_sent:
            figures["delivered"] += 1
        elif kind == EventKind.lesson_opened:
            figures["opens"] += 1
            figures["viewed"] += value
        elif kind == EventKind.lesson_liked:
            figures["likes"] += value
        elif kind == EventKind.lesson_disliked:
            figures["dislikes"] += value
        elif kind == EventKind.lesson_commented:
            figures["comments"] += 1
        elif kind == EventKind.lesson_done:
            figures["done"] += value
        elif kind == EventKind.course_enrolled:
            figures["enrolled"] += 1
        elif kind == EventKind.course_rated:
            figures["ratings"] += 1
            figures["rating_sum"] += value
    assert {course.course for course in report.courses} == set(expected_courses)
    for course in report.courses:
        expected = expected_courses[course.course]
        for name in ("delivered", "opens", "viewed", "likes", "dislikes", "comments", "done", "enrolled", "ratings"):
            assert getattr(course, name) == expected[name], (course.course, name)
        assert course.rating == (pytest.approx(expected["rating_sum"] / expected["ratings"]) if expected["ratings"] else None)
        assert course.completion == (pytest.approx(100 * expected["done"] / expected["delivered"]) if expected["delivered"] else None)

    # consultations: the tickets asked in the month
    tickets = [ticket for ticket in month.tickets if inside(ticket["created_at"])]
    waits = [(ticket["first_answer_at"] - ticket["created_at"]).total_seconds() for ticket in tickets if ticket["first_answer_at"]]
    total = report.consultations.total
    assert total.asked == len(tickets) > 10
    assert total.answered == len(waits)
    assert total.median_s == pytest.approx(statistics.median(waits))
    assert total.p90_s == pytest.approx(sorted(waits)[-(-9 * len(waits) // 10) - 1])
    missed = [event for event in events if event["kind"] == EventKind.question_target_missed]
    assert total.missed == len(missed)
    ratings = [ticket["rating"] for ticket in tickets if ticket["rating"] is not None]
    assert total.ratings == len(ratings) and total.rating == pytest.approx(sum(ratings) / len(ratings))
    for group in report.consultations.by_specialty:
        mine = [ticket for ticket in tickets if ticket["specialty"] == group.key]
        mine_waits = [(ticket["first_answer_at"] - ticket["created_at"]).total_seconds() for ticket in mine if ticket["first_answer_at"]]
        assert (group.asked, group.answered) == (len(mine), len(mine_waits))
        assert group.median_s == (pytest.approx(statistics.median(mine_waits)) if mine_waits else None)
        assert group.missed == sum(1 for event in missed if event["object_id"] == group.key)
    assert sum(group.missed for group in report.consultations.by_specialty) == total.missed
    by_specialist = {group.key: group for group in report.consultations.by_specialist}
    for person_id, name in month.specialists.items():
        mine = [ticket for ticket in tickets if ticket["assignee_id"] == person_id]
        label = name or f"#{person_id}"
        assert by_specialist[label].asked == len(mine)
        assert by_specialist[label].answered == sum(1 for ticket in mine if ticket["first_answer_at"])
    assert [row.number for row in report.consultations.rows] == sorted(ticket["id"] for ticket in tickets)

    # broadcasts: started in the month, lessons' campaigns aside
    started = {campaign["id"] for campaign in month.campaigns if campaign["kind"] == "broadcast" and campaign["started_at"] and inside(campaign["started_at"])}
    rows = [row for row in month.outbox if row["campaign_id"] in started]
    assert report.broadcasts.broadcasts == len(started) == 2
    assert report.broadcasts.sent == sum(1 for row in rows if row["status"] == "sent")
    assert report.broadcasts.unreachable == sum(1 for row in rows if row["status"] == "unreachable")
    assert report.broadcasts.failed == sum(1 for row in rows if row["status"] == "failed")

    # chats: members at the month's end, the month's days
    for chat in report.chats:
        changes = [event for event in month.events if event["object_type"] == "chat" and event["object_id"] == chat.chat and event["at"] < OCTOBER.until]
        joined = sum(1 if event["kind"] == EventKind.chat_joined else -1 for event in changes)
        assert chat.members == max(joined, 0)
        days = [row for row in month.days if row["chat"] == chat.chat and date(2026, 10, 1) <= row["day"] < date(2026, 11, 1)]
        sums = tuple(sum(row[name] for row in days) for name in ("joins", "leaves", "messages", "reactions"))
        assert (chat.joins, chat.leaves, chat.messages, chat.reactions) == sums
        assert chat.active_days == sum(1 for row in days if row["messages"] > 0)
    assert {chat.chat for chat in report.chats} == set(CHATS)

    # reach: families with a family's event in the month, and the rural among them
    reached = {event["pseudonym"]: event["district"] for event in events if event["kind"] in REACH_KIND_NAMES}
    assert report.reach.families == len(reached) > 20
    assert report.reach.rural == len({pseudonym for pseudonym, district in reached.items() if district in RURAL})
    assert report.reach.registered == sum(1 for event in events if event["kind"] == EventKind.registered and event["object_id"] == "parent")

    # results: every answer before the month's end, rural families alone where the question says so
    answers = [
        event for event in month.events if event["kind"] == "survey_answered" and event["at"] < OCTOBER.until and event["object_id"].startswith("results:")
    ]
    assert [result.question for result in report.results] == ["informed", "skills", "distance", "together"]
    for result in report.results:
        for wave in result.waves:
            mine = [event for event in answers if event["object_id"] == f"results:{wave.wave}:{result.question}"]
            if result.among == "rural":
                mine = [event for event in mine if event["district"] in RURAL]
            assert (wave.answers, wave.yes) == (len(mine), sum(1 for event in mine if event["value"] == 1)), (result.question, wave.wave)
            assert wave.answers > 0


async def test_a_month_without_anything_has_a_report_of_zeros(sessionmaker):
    async with sessionmaker() as session:
        report = await compute(session, CONTENT, OCTOBER)
    assert report.courses == () and report.chats == ()
    results = CONTENT.survey("results")
    assert [result.question for result in report.results] == [question.id for question in results.questions if question.target is not None]
    assert all(wave.answers == 0 and wave.percent is None for result in report.results for wave in result.waves)
    assert report.consultations.total.asked == 0 and report.consultations.total.median_s is None
    assert report.reach.families == 0 and report.reach.rural_share is None
    assert "0" in summary(report, TEXTS["en"])


def test_periods_are_the_centres_calendar_months_and_years():
    assert (OCTOBER.since, OCTOBER.until) == (datetime(2026, 9, 30, 21, tzinfo=UTC), datetime(2026, 10, 31, 21, tzinfo=UTC))
    assert Period.parse("2026", "UTC").since == datetime(2026, 1, 1, tzinfo=UTC) and Period.parse("2026", "UTC").until == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period.month_of(datetime(2026, 1, 10, tzinfo=UTC), "UTC", back=1).key == "2025-12"
    assert Period.parse("2026-12", ZONE).end_day == date(2027, 1, 1)
    march = Period(2026, 3, "Europe/Bucharest")  # summer time from 29 March: the month is an hour shorter in UTC
    assert (march.since, march.until) == (datetime(2026, 2, 28, 22, tzinfo=UTC), datetime(2026, 3, 31, 21, tzinfo=UTC))
    for wrong in ("2026-13", "26-10", "October", "2026-1"):
        with pytest.raises(BadPeriod):
            Period.parse(wrong, "UTC")
    assert percentile([5, 1, 3, 2, 4], 0.9) == 5 and percentile([], 0.5) is None

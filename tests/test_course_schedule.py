"""When a family's next lesson is due (bot.services.course_schedule): their rhythm at their time in
their time zone, across summer time, never in the quiet hours, and one lesson (not a pile) after
the bot was down."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.consultation_content import Weekday
from bot.course_content import Rhythm
from bot.services.course_schedule import QuietHours, Schedule, deliverable, first_delivery, next_delivery

VOLOGDA = ZoneInfo("Europe/Moscow")  # UTC+3 all year
CHISINAU = ZoneInfo("Europe/Chisinau")  # summer time from the last Sunday of March


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_two_days_at_the_familys_hour_from_the_day_they_enrol():
    schedule = Schedule(Rhythm(every_days=2), time(10), VOLOGDA)
    monday_8 = utc(2027, 3, 1, 5)  # 08:00 in Vologda
    first = first_delivery(schedule, monday_8)
    assert first == utc(2027, 3, 1, 7)  # today at 10:00
    assert first_delivery(schedule, utc(2027, 3, 1, 8)) == utc(2027, 3, 2, 7)  # 11:00: today's hour has passed
    assert next_delivery(schedule, first, first) == utc(2027, 3, 3, 7)


def test_chosen_weekdays():
    schedule = Schedule(Rhythm(weekdays=(Weekday.tue, Weekday.fri)), time(18, 30), VOLOGDA)
    monday = utc(2027, 3, 1, 12)
    tuesday = first_delivery(schedule, monday)
    assert tuesday == utc(2027, 3, 2, 15, 30)
    friday = next_delivery(schedule, tuesday, tuesday)
    assert friday == utc(2027, 3, 5, 15, 30)
    assert next_delivery(schedule, friday, friday) == utc(2027, 3, 9, 15, 30)


def test_the_local_hour_holds_across_summer_time():
    schedule = Schedule(Rhythm(every_days=1), time(10), CHISINAU)
    saturday = utc(2027, 3, 27, 8)  # 10:00 at UTC+2
    sunday = next_delivery(schedule, saturday, saturday)
    assert sunday == utc(2027, 3, 28, 7)  # 10:00 at UTC+3
    skipped = Schedule(Rhythm(every_days=1), time(2, 30), CHISINAU, QuietHours(time(0), time(0)))
    assert next_delivery(skipped, utc(2027, 3, 27, 0, 30), utc(2027, 3, 27, 1)) == utc(2027, 3, 28, 0, 30)  # 02:30 does not exist that night: 03:30


def test_never_in_the_quiet_hours():
    late = Schedule(Rhythm(every_days=1), time(22), VOLOGDA)  # a time inside the quiet hours: the morning after
    assert first_delivery(late, utc(2027, 3, 1, 5)) == utc(2027, 3, 2, 6)  # 09:00
    schedule = Schedule(Rhythm(every_days=1), time(10), VOLOGDA, QuietHours(time(22), time(7)))
    due = utc(2027, 3, 1, 7)
    assert deliverable(schedule, due, utc(2027, 3, 1, 20)) == utc(2027, 3, 2, 4)  # back at 23:00: at 07:00
    assert deliverable(schedule, due, utc(2027, 3, 1, 12)) == utc(2027, 3, 1, 12)  # back at 15:00: at once


def test_after_the_bot_was_down_one_lesson_then_the_rhythm_again():
    schedule = Schedule(Rhythm(every_days=2), time(10), VOLOGDA)
    due = utc(2027, 3, 1, 7)
    back = utc(2027, 3, 6, 9)  # five days later, 12:00
    sent = deliverable(schedule, due, back)
    assert sent == back
    assert next_delivery(schedule, sent, back) == utc(2027, 3, 8, 7)  # two days after it went out, not three lessons at once

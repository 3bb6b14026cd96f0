"""Working hours: open or not, the next opening, and working time added across breaks, nights,
weekends, holidays and DST changes."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.hours import WorkingHours

MOSCOW = ZoneInfo("Europe/Moscow")  # UTC+3 all year
BUCHAREST = ZoneInfo("Europe/Bucharest")  # EET/EEST: 28 March 2027 has 23 hours, 31 October 2027 has 25
DAY = ((time(9), time(13)), (time(14), time(18)))  # a lunch break from 13 to 14
WEEK = (DAY, DAY, DAY, DAY, DAY, (), ())
HOLIDAY = date(2027, 3, 8)  # a Monday
CENTRE = WorkingHours(WEEK, frozenset({HOLIDAY}), MOSCOW)


def local(zone, *parts) -> datetime:
    return datetime(*parts, tzinfo=zone)


def msk(*parts) -> datetime:
    return local(MOSCOW, *parts)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (msk(2027, 3, 2, 8, 59), False),  # Tuesday, before opening
        (msk(2027, 3, 2, 9, 0), True),  # the opening minute counts
        (msk(2027, 3, 2, 12, 59), True),
        (msk(2027, 3, 2, 13, 0), False),  # the end of a period does not
        (msk(2027, 3, 2, 13, 30), False),  # lunch
        (msk(2027, 3, 2, 14, 0), True),
        (msk(2027, 3, 2, 18, 0), False),
        (msk(2027, 3, 6, 11, 0), False),  # Saturday
        (msk(2027, 3, 7, 11, 0), False),  # Sunday
        (msk(2027, 3, 8, 11, 0), False),  # a holiday on a Monday
        (msk(2027, 3, 9, 11, 0), True),
    ],
)
def test_is_open_within_periods_only(moment, is_open):
    assert CENTRE.is_open(moment) is is_open


def test_a_naive_moment_is_utc():
    assert CENTRE.is_open(datetime(2027, 3, 2, 6, 0))  # 09:00 in Moscow
    assert not CENTRE.is_open(datetime(2027, 3, 2, 5, 59))
    assert CENTRE.next_opening(datetime(2027, 3, 2, 5, 0)) == datetime(2027, 3, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (msk(2027, 3, 2, 10, 15), msk(2027, 3, 2, 10, 15)),  # open: the moment itself
        (msk(2027, 3, 2, 7, 0), msk(2027, 3, 2, 9, 0)),
        (msk(2027, 3, 2, 13, 20), msk(2027, 3, 2, 14, 0)),  # after lunch
        (msk(2027, 3, 2, 19, 0), msk(2027, 3, 3, 9, 0)),  # the next morning
        (msk(2027, 3, 5, 18, 30), msk(2027, 3, 9, 9, 0)),  # Friday evening: past the weekend and the Monday holiday
        (msk(2027, 3, 7, 23, 59), msk(2027, 3, 9, 9, 0)),
    ],
)
def test_next_opening(moment, opening):
    found = CENTRE.next_opening(moment)
    assert found == opening and found.tzinfo is UTC


@pytest.mark.parametrize(
    ("moment", "duration", "due"),
    [
        (msk(2027, 3, 2, 10, 0), timedelta(hours=2), msk(2027, 3, 2, 12, 0)),
        (msk(2027, 3, 2, 12, 30), timedelta(hours=1), msk(2027, 3, 2, 14, 30)),  # lunch does not count
        (msk(2027, 3, 2, 17, 0), timedelta(hours=2), msk(2027, 3, 3, 10, 0)),  # across a night
        (msk(2027, 3, 2, 7, 0), timedelta(minutes=30), msk(2027, 3, 2, 9, 30)),  # from before opening
        (msk(2027, 3, 2, 17, 0), timedelta(hours=1), msk(2027, 3, 2, 18, 0)),  # exactly to the closing minute
        (msk(2027, 2, 26, 17, 0), timedelta(hours=2), msk(2027, 3, 1, 10, 0)),  # across a weekend
        (msk(2027, 3, 5, 17, 30), timedelta(hours=1), msk(2027, 3, 9, 9, 30)),  # across a weekend and a holiday
        (msk(2027, 3, 6, 12, 0), timedelta(hours=12), msk(2027, 3, 10, 13, 0)),  # from a Saturday: Tuesday 8 hours, Wednesday 9 to 13
        (msk(2027, 3, 2, 9, 0), timedelta(hours=16), msk(2027, 3, 3, 18, 0)),  # two whole days
        (msk(2027, 3, 2, 10, 0), timedelta(0), msk(2027, 3, 2, 10, 0)),
    ],
)
def test_add_counts_working_time_only(moment, duration, due):
    found = CENTRE.add(moment, duration)
    assert found == due and found.tzinfo is UTC


def test_add_walks_periods_not_minutes():
    started = clock.perf_counter()
    due = CENTRE.add(msk(2027, 3, 1, 9, 0), timedelta(hours=8 * 200))  # 200 working days, about 41 weeks
    assert clock.perf_counter() - started < 0.5
    assert CENTRE.is_open(due - timedelta(minutes=1)) and due.tzinfo is UTC


def test_several_periods_a_day_and_one_to_midnight():
    evening = ((time(9), time(13)), (time(18), time(0)))  # "18:00-24:00"
    hours = WorkingHours((evening,) * 7, zone=MOSCOW)
    assert hours.is_open(msk(2027, 3, 2, 23, 59)) and not hours.is_open(msk(2027, 3, 3, 0, 0))
    assert hours.add(msk(2027, 3, 2, 23, 0), timedelta(hours=2)) == msk(2027, 3, 3, 10, 0)


def test_spring_forward_in_bucharest():
    weekdays = WorkingHours(WEEK, zone=BUCHAREST)
    friday = local(BUCHAREST, 2027, 3, 26, 17, 0)  # EET, UTC+2
    monday = local(BUCHAREST, 2027, 3, 29, 10, 0)  # EEST, UTC+3
    assert weekdays.add(friday, timedelta(hours=2)) == monday == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert weekdays.next_opening(local(BUCHAREST, 2027, 3, 28, 12, 0)) == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    sundays = WorkingHours(((),) * 6 + (((time(0), time(0)),),), zone=BUCHAREST)  # Sunday all day
    sunday = local(BUCHAREST, 2027, 3, 28, 0, 0)
    assert sundays.add(sunday, timedelta(hours=23)) == local(BUCHAREST, 2027, 3, 29, 0, 0)  # that Sunday has 23 hours
    assert sundays.add(sunday, timedelta(hours=24)) == local(BUCHAREST, 2027, 4, 4, 1, 0)


def test_fall_back_in_bucharest():
    sundays = WorkingHours(((),) * 6 + (((time(0), time(0)),),), zone=BUCHAREST)
    sunday = local(BUCHAREST, 2027, 10, 31, 0, 0)
    assert sundays.add(sunday, timedelta(hours=25)) == local(BUCHAREST, 2027, 11, 1, 0, 0)  # that Sunday has 25 hours
    assert sundays.is_open(datetime(2027, 10, 31, 21, 30, tzinfo=UTC))  # 23:30 local, the day's 25th hour
    assert not sundays.is_open(datetime(2027, 10, 31, 22, 0, tzinfo=UTC))


def test_a_period_inside_the_skipped_hour_has_no_length():
    skipped = WorkingHours(((),) * 6 + (((time(3), time(4)),),), zone=BUCHAREST)  # 03:00-04:00 does not exist on 28 March 2027
    assert skipped.next_opening(local(BUCHAREST, 2027, 3, 27, 12, 0)) == local(BUCHAREST, 2027, 4, 4, 3, 0)


def test_a_week_never_open():
    never = WorkingHours(((),) * 7, frozenset(), MOSCOW)
    moment = msk(2027, 3, 2, 10, 0)
    assert not never.is_open(moment)
    assert never.next_opening(moment) is None
    assert never.add(moment, timedelta(hours=4)) == moment + timedelta(hours=4)


def test_a_year_of_holidays_ends_the_search():
    start = date(2027, 1, 1)
    closed = WorkingHours(WEEK, frozenset(start + timedelta(days=n) for n in range(800)), MOSCOW)
    assert closed.next_opening(msk(2027, 1, 1, 10, 0)) is None


def test_always_open():
    always = WorkingHours.always(BUCHAREST)
    moment = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)
    assert always.is_open(moment) and always.next_opening(moment) == moment
    assert always.add(moment, timedelta(hours=30)) == moment + timedelta(hours=30)  # across the DST change, clock time


@pytest.mark.parametrize(
    "week",
    [
        (DAY,) * 6,  # six days
        (((time(9), time(13)), (time(12), time(18))),) + (DAY,) * 6,  # overlapping
        (((time(14), time(18)), (time(9), time(13))),) + (DAY,) * 6,  # out of order
        (((time(13), time(9)),),) + (DAY,) * 6,  # ends before it starts
    ],
)
def test_a_bad_week_is_refused(week):
    with pytest.raises(ValueError):
        WorkingHours(week)

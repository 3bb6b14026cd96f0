"""How a report writes its period, shares, ratings and waits in the reader's language, and the
short summary that goes into the chat, the CLI's output and the demo."""

from __future__ import annotations

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.content import Texts
from bot.services.reports.figures import Report
from bot.services.reports.period import Period

DASH = "—"
# a wave's name: literal keys, so the locale test sees them
WAVE_KEYS = {"0": "report.wave_0", "6": "report.wave_6", "12": "report.wave_12"}


def period_name(period: Period, language: str) -> str:
    """"October 2026" in the reader's language (lower case where the language writes it so), or the year."""
    if period.month is None:
        return str(period.year)
    return format_date(period.first_day, "LLLL y", locale=language)


def percent(value: float | None, language: str) -> str:
    return DASH if value is None else format_percent(value / 100, format="#,##0.#%", locale=language)


def decimal(value: float | None, language: str) -> str:
    return DASH if value is None else format_decimal(value, format="#,##0.0", locale=language)


def minutes(seconds: float | None, l10n: Texts) -> str:
    """A wait as people say it: in minutes up to two hours, then in hours."""
    if seconds is None:
        return DASH
    if seconds < 2 * 3600:
        return l10n.counted(round(seconds / 60), "minutes")
    return l10n.counted(round(seconds / 3600), "hours")


def wave_name(wave: str, l10n: Texts) -> str:
    key = WAVE_KEYS.get(wave)
    return l10n(key) if key else wave


def summary(report: Report, l10n: Texts) -> str:
    """A few lines: what a head reads before opening the files."""
    language = l10n.language
    consultations, reach = report.consultations.total, report.reach
    lessons = report.courses
    lines = [
        l10n("report.summary_title", period=period_name(report.period, language)),
        l10n("report.summary_reach", families=reach.families, rural=percent(reach.rural_share, language), registered=reach.registered),
        l10n(
            "report.summary_consultations",
            asked=consultations.asked, answered=consultations.answered,
            median=minutes(consultations.median_s, l10n), p90=minutes(consultations.p90_s, l10n), missed=consultations.missed,
        ),
        l10n(
            "report.summary_courses",
            delivered=sum(course.delivered for course in lessons), viewed=sum(course.viewed for course in lessons),
            likes=sum(course.likes for course in lessons), comments=sum(course.comments for course in lessons),
        ),
        l10n("report.summary_broadcasts", sent=report.broadcasts.sent, unreachable=report.broadcasts.unreachable),
        l10n(
            "report.summary_chats",
            members=sum(chat.members for chat in report.chats), messages=sum(chat.messages for chat in report.chats),
        ),
    ]
    for result in report.results:
        shares = ", ".join(f"{wave_name(wave.wave, l10n)} {percent(wave.percent, language)}" for wave in result.waves)
        lines.append(l10n("report.summary_result", question=result.text(language), shares=shares, target=percent(result.target, language)))
    if report.wall is not None:
        wall = report.wall
        lines.append(l10n("report.summary_wall", posts=wall.posts, likes=wall.likes, comments=wall.comments, reposts=wall.reposts, views=wall.views))
    elif report.wall_note:
        lines.append(l10n("report.wall_note", note=report.wall_note))
    return "\n".join(lines)

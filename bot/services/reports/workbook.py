"""The report as an XLSX workbook (openpyxl), a sheet per section, headers in the reader's language.
Figures stay numbers (shares in percent, waits in minutes, times in the centre's zone), so a head
can sort, sum and chart them in a spreadsheet."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.content import Texts
from bot.services.reports.consultations import ConsultationGroup
from bot.services.reports.figures import Report
from bot.services.reports.text import period_name, wave_name

BOLD = Font(bold=True)


def build_workbook(report: Report, l10n: Texts) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    language = l10n.language
    zone = ZoneInfo(report.period.zone)

    summary = _sheet(book, l10n("report.sheet_summary"), [l10n("report.col_figure"), l10n("report.col_value")])
    summary.append([l10n("report.row_period"), period_name(report.period, language)])
    for label, value in _summary_rows(report, l10n):
        summary.append([label, value])

    results = _sheet(book, l10n("report.sheet_results"), _results_header(report, l10n))
    for result in report.results:
        row: list[Any] = [result.text(language), l10n("report.among_rural") if result.among == "rural" else l10n("report.among_all"), result.target]
        for wave in result.waves:
            row += [wave.answers, _round(wave.percent)]
        results.append(row)

    courses = _sheet(book, l10n("report.sheet_courses"), [
        l10n("report.col_course"), l10n("report.col_enrolled"), l10n("report.col_delivered"), l10n("report.col_viewed"), l10n("report.col_opens"),
        l10n("report.col_likes"), l10n("report.col_dislikes"), l10n("report.col_comments"), l10n("report.col_done"),
        l10n("report.col_completion"), l10n("report.col_rating"), l10n("report.col_ratings"),
    ])
    for course in report.courses:
        courses.append([
            _name(report, "course", course.course, language), course.enrolled, course.delivered, course.viewed, course.opens,
            course.likes, course.dislikes, course.comments, course.done, _round(course.completion), _round(course.rating, 2), course.ratings,
        ])

    group_header = [
        l10n("report.col_asked"), l10n("report.col_answered"), l10n("report.col_median"), l10n("report.col_p90"),
        l10n("report.col_missed"), l10n("report.col_rating"), l10n("report.col_ratings"),
    ]
    consultations = _sheet(book, l10n("report.sheet_consultations"), [l10n("report.col_specialty"), *group_header])
    for group in report.consultations.by_specialty:
        consultations.append([_name(report, "specialty", group.key, language), *_group_row(group)])
    consultations.append([l10n("report.total"), *_group_row(report.consultations.total)])
    consultations.cell(consultations.max_row, 1).font = BOLD

    specialists = _sheet(book, l10n("report.sheet_specialists"), [l10n("report.col_specialist"), *group_header[:4], *group_header[5:]])
    for group in report.consultations.by_specialist:
        values = _group_row(group)
        specialists.append([group.key, *values[:4], *values[5:]])

    rows = _sheet(book, l10n("report.sheet_questions"), [
        l10n("report.col_number"), l10n("report.col_specialty"), l10n("report.col_asked_at"), l10n("report.col_claimed_at"),
        l10n("report.col_answered_at"), l10n("report.col_closed_at"), l10n("report.col_to_claim"), l10n("report.col_to_answer"),
        l10n("report.col_to_close"), l10n("report.col_rating"),
    ])
    for ticket in report.consultations.rows:
        rows.append([
            ticket.number, _name(report, "specialty", ticket.specialty, language),
            _local(ticket.asked_at, zone), _local(ticket.claimed_at, zone), _local(ticket.first_answer_at, zone), _local(ticket.closed_at, zone),
            _minutes(ticket.to_claim_s), _minutes(ticket.to_answer_s), _minutes(ticket.to_close_s), ticket.rating,
        ])
    for column in "CDEF":
        for cell in rows[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"

    broadcasts = _sheet(book, l10n("report.sheet_broadcasts"), [
        l10n("report.col_broadcasts"), l10n("report.col_sent"), l10n("report.col_unreachable"), l10n("report.col_failed"),
    ])
    figures = report.broadcasts
    broadcasts.append([figures.broadcasts, figures.sent, figures.unreachable, figures.failed])

    chats = _sheet(book, l10n("report.sheet_chats"), [
        l10n("report.col_chat"), l10n("report.col_members"), l10n("report.col_joins"), l10n("report.col_leaves"),
        l10n("report.col_messages"), l10n("report.col_reactions"), l10n("report.col_active_days"),
    ])
    for chat in report.chats:
        chats.append([_name(report, "chat", chat.chat, language), chat.members, chat.joins, chat.leaves, chat.messages, chat.reactions, chat.active_days])

    for sheet in book.worksheets:
        _as_text(sheet)
        _fit(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, title: str, header: Sequence[str]) -> Any:
    sheet = book.create_sheet(_sheet_title(title))
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"
    return sheet


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return "".join(" " if char in "[]:*?/\\" else char for char in title)[:31]


def _as_text(sheet: Any) -> None:
    """The workbook holds no formula: a text that begins with "=" (a name a specialist typed, say)
    is written as the text it is, never run by the spreadsheet."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _fit(sheet: Any) -> None:
    for index, column in enumerate(sheet.iter_cols(min_row=1, max_row=min(sheet.max_row, 200)), start=1):
        width = max((len(str(cell.value)) for cell in column if cell.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


def _results_header(report: Report, l10n: Texts) -> list[str]:
    header = [l10n("report.col_question"), l10n("report.col_among"), l10n("report.col_target")]
    waves = report.results[0].waves if report.results else ()
    for wave in waves:
        name = wave_name(wave.wave, l10n)
        header += [l10n("report.col_wave_answers", wave=name), l10n("report.col_wave_percent", wave=name)]
    return header


def _summary_rows(report: Report, l10n: Texts) -> list[tuple[str, Any]]:
    reach, total, broadcasts = report.reach, report.consultations.total, report.broadcasts
    rows: list[tuple[str, Any]] = [
        (l10n("report.row_families"), reach.families),
        (l10n("report.row_rural"), reach.rural),
        (l10n("report.row_rural_share"), _round(reach.rural_share)),
        (l10n("report.row_registered"), reach.registered),
        (l10n("report.col_asked"), total.asked),
        (l10n("report.col_answered"), total.answered),
        (l10n("report.col_median"), _minutes(total.median_s)),
        (l10n("report.col_p90"), _minutes(total.p90_s)),
        (l10n("report.col_missed"), total.missed),
        (l10n("report.row_consultation_rating"), _round(total.rating, 2)),
        (l10n("report.col_delivered"), sum(course.delivered for course in report.courses)),
        (l10n("report.col_viewed"), sum(course.viewed for course in report.courses)),
        (l10n("report.col_sent"), broadcasts.sent),
        (l10n("report.col_unreachable"), broadcasts.unreachable),
        (l10n("report.col_members"), sum(chat.members for chat in report.chats)),
        (l10n("report.col_messages"), sum(chat.messages for chat in report.chats)),
    ]
    if report.wall is not None:
        wall = report.wall
        rows += [
            (l10n("report.row_wall_posts"), wall.posts), (l10n("report.row_wall_likes"), wall.likes),
            (l10n("report.row_wall_comments"), wall.comments), (l10n("report.row_wall_reposts"), wall.reposts),
            (l10n("report.row_wall_views"), wall.views),
        ]
    elif report.wall_note:
        rows.append((l10n("report.row_wall_posts"), report.wall_note))
    return rows


def _group_row(group: ConsultationGroup) -> list[Any]:
    return [group.asked, group.answered, _minutes(group.median_s), _minutes(group.p90_s), group.missed, _round(group.rating, 2), group.ratings]


def _name(report: Report, kind: str, key: str, language: str) -> str:
    names = report.names.get(f"{kind}:{key}")
    return names.get(language, key) if names else key


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone).replace(tzinfo=None) if moment is not None else None  # Excel has no time zones


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return round(value, digits) if value is not None else None

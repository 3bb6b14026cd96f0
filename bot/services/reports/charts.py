"""The report's charts as PNG files a head can put on a slide: labels in the reader's language,
each result's target drawn as a line, nothing cut off (bbox "tight"). matplotlib is imported here
only, when a chart is drawn (it takes a second to import), and through its object API with the Agg
canvas: no pyplot state, so charts can be drawn in a worker thread."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

from bot.content import Texts
from bot.services.reports.figures import Report
from bot.services.reports.reach import ReachFigures
from bot.services.reports.results import Result
from bot.services.reports.text import percent, period_name, wave_name

WIDTH, HEIGHT, DPI = 10, 5.6, 110  # 16:9, 1100 x 616 pixels
BARS = ("#2f6db3", "#e0873a", "#4c9a5b", "#a3476b")
TARGET = "#c0392b"


def render_charts(report: Report, l10n: Texts) -> list[tuple[str, bytes]]:
    """(a file name's topic, PNG bytes) for each chart: a result each, then the courses, the
    consultations and the chats (a section with nothing to show has no chart)."""
    charts: list[tuple[str, bytes]] = [(f"result-{result.question}", _result_chart(report, result, l10n)) for result in report.results]
    if report.courses:
        charts.append(("courses", _courses_chart(report, l10n)))
    if report.consultations.by_specialty:
        charts.append(("consultations", _consultations_chart(report, l10n)))
    if report.chats:
        charts.append(("chats", _chats_chart(report, l10n)))
    if report.reach.families:
        charts.append(("reach", _reach_chart(report, l10n)))
    return charts


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", bbox_inches="tight", pad_inches=0.3, facecolor="white")
    return out.getvalue()


def _title(axes: Any, text: str, report: Report, l10n: Texts) -> None:
    axes.set_title("\n".join(textwrap.wrap(f"{text} — {period_name(report.period, l10n.language)}", 70)), fontsize=14, loc="left", pad=34)


def _result_chart(report: Report, result: Result, l10n: Texts) -> bytes:
    figure, axes = _figure()
    names = [wave_name(wave.wave, l10n) for wave in result.waves]
    shares = [wave.percent or 0.0 for wave in result.waves]
    bars = axes.bar(names, shares, color=BARS[0], width=0.55)
    for bar, wave in zip(bars, result.waves, strict=True):
        label = percent(wave.percent, l10n.language) + "\n" + l10n("report.chart_answers", count=wave.answers)
        axes.annotate(
            label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom", fontsize=10
        )
    axes.axhline(result.target, color=TARGET, linestyle="--", linewidth=2)
    axes.annotate(
        l10n("report.chart_target", target=percent(result.target, l10n.language)), (1.0, result.target), xycoords=("axes fraction", "data"),
        xytext=(-4, 4), textcoords="offset points", ha="right", va="bottom", color=TARGET, fontsize=11, fontweight="bold",
    )
    axes.set_ylim(0, 115)
    axes.set_ylabel(l10n("report.chart_share_yes"), fontsize=11)
    among = l10n("report.among_rural") if result.among == "rural" else l10n("report.among_all")
    _title(axes, f"{result.text(l10n.language)} ({among})", report, l10n)
    return _png(figure)


def _grouped(axes: Any, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> None:
    """Horizontal bars, a group per label: a course or a chat name can be long."""
    from matplotlib.ticker import MaxNLocator

    count = len(series)
    height = 0.8 / count
    positions = range(len(labels))
    for index, (name, values) in enumerate(series):
        offsets = [position + (index - (count - 1) / 2) * height for position in positions]
        bars = axes.barh(offsets, values, height=height, label=name, color=BARS[index % len(BARS)])
        axes.bar_label(bars, padding=3, fontsize=9)
    axes.set_yticks(list(positions), ["\n".join(textwrap.wrap(label, 28)) for label in labels], fontsize=10)
    axes.invert_yaxis()
    axes.margins(x=0.12)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.2 of a question
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=count, fontsize=10, frameon=False)  # above the bars, never over them


def _names(report: Report, kind: str, keys: Sequence[str], language: str) -> list[str]:
    return [(report.names.get(f"{kind}:{key}") or {}).get(language, key) for key in keys]


def _courses_chart(report: Report, l10n: Texts) -> bytes:
    figure, axes = _figure()
    courses = report.courses
    _grouped(axes, _names(report, "course", [course.course for course in courses], l10n.language), [
        (l10n("report.col_delivered"), [course.delivered for course in courses]),
        (l10n("report.col_viewed"), [course.viewed for course in courses]),
        (l10n("report.col_done"), [course.done for course in courses]),
        (l10n("report.chart_likes"), [course.likes for course in courses]),
    ])
    _title(axes, l10n("report.chart_courses"), report, l10n)
    return _png(figure)


def _consultations_chart(report: Report, l10n: Texts) -> bytes:
    figure, axes = _figure()
    groups = report.consultations.by_specialty
    _grouped(axes, _names(report, "specialty", [group.key for group in groups], l10n.language), [
        (l10n("report.col_asked"), [group.asked for group in groups]),
        (l10n("report.col_answered"), [group.answered for group in groups]),
        (l10n("report.col_missed"), [group.missed for group in groups]),
    ])
    total = report.consultations.total
    axes.set_xlabel(l10n("report.chart_waits", median=_minutes(total.median_s, l10n), p90=_minutes(total.p90_s, l10n)), fontsize=11)
    _title(axes, l10n("report.chart_consultations"), report, l10n)
    return _png(figure)


def _minutes(seconds: float | None, l10n: Texts) -> str:
    from bot.services.reports.text import minutes

    return minutes(seconds, l10n)


def _chats_chart(report: Report, l10n: Texts) -> bytes:
    figure, axes = _figure()
    chats = report.chats
    _grouped(axes, _names(report, "chat", [chat.chat for chat in chats], l10n.language), [
        (l10n("report.col_members"), [chat.members for chat in chats]),
        (l10n("report.col_messages"), [chat.messages for chat in chats]),
        (l10n("report.col_reactions"), [chat.reactions for chat in chats]),
    ])
    _title(axes, l10n("report.chart_chats"), report, l10n)
    return _png(figure)


def _reach_chart(report: Report, l10n: Texts) -> bytes:
    figure, axes = _figure()
    reach = report.reach
    wedges = reach_wedges(reach, l10n)
    axes.pie([value for _label, value, _colour in wedges], labels=[label for label, _value, _colour in wedges],
             colors=[colour for _label, _value, colour in wedges], autopct=lambda share: percent(share, l10n.language),
             startangle=90, counterclock=False, textprops={"fontsize": 12}, wedgeprops={"linewidth": 1, "edgecolor": "white"})
    axes.set_aspect("equal")
    _title(axes, l10n("report.chart_reach", families=reach.families), report, l10n)
    return _png(figure)


def reach_wedges(reach: ReachFigures, l10n: Texts) -> list[tuple[str, int, str]]:
    """(label, families, colour) of the pie's wedges: rural, then the rest. A wedge of nobody is left
    out: drawn, it is a "0%" over its neighbour and a label on the rim."""
    wedges = [(l10n("report.chart_rural"), reach.rural, BARS[0]), (l10n("report.chart_not_rural"), reach.families - reach.rural, BARS[1])]
    return [(f"{label}\n{value}", value, colour) for label, value, colour in wedges if value > 0]

"""The courses' section: lesson events in the period, per course (object "lesson", id
"course:number", or "course" with the course's id). A press carries what it changed as its value (1
counted, 0 a repeat, -1 taken back: bot.services.events), so views, likes, dislikes and lessons done
are sums of values; deliveries, opens, comments, enrolments and ratings are counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.services.events import EventKind
from bot.services.reports.counted import COURSE_KINDS, Counted

COURSE_KIND_NAMES = frozenset(kind.value for kind in COURSE_KINDS)


@dataclass(frozen=True)
class CourseFigures:
    course: str
    enrolled: int = 0
    delivered: int = 0  # lessons sent
    viewed: int = 0  # lessons a family opened for the first time
    opens: int = 0  # every open
    likes: int = 0  # 👍 given, less those taken back
    dislikes: int = 0
    comments: int = 0
    done: int = 0  # lessons marked done (first time)
    ratings: int = 0
    rating_sum: float = 0.0

    @property
    def completion(self) -> float | None:
        """Lessons done per lesson delivered, in percent."""
        return 100.0 * self.done / self.delivered if self.delivered else None

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


def course_figures(counted: Counted) -> tuple[CourseFigures, ...]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (kind, object_id), (count, total) in counted.items():
        if kind not in COURSE_KIND_NAMES or not object_id:
            continue
        course = object_id.split(":", 1)[0]
        figures = sums[course]
        if kind == EventKind.course_enrolled:
            figures["enrolled"] += count
        elif kind == EventKind.course_rated:
            figures["ratings"] += count
            figures["rating_sum"] += total
        elif kind == EventKind.lesson_sent:
            figures["delivered"] += count
        elif kind == EventKind.lesson_opened:
            figures["opens"] += count
            figures["viewed"] += total
        elif kind == EventKind.lesson_liked:
            figures["likes"] += total
        elif kind == EventKind.lesson_disliked:
            figures["dislikes"] += total
        elif kind == EventKind.lesson_commented:
            figures["comments"] += count
        elif kind == EventKind.lesson_done:
            figures["done"] += total
    return tuple(
        CourseFigures(
            course=course,
            **{name: int(value) for name, value in figures.items() if name != "rating_sum"},
            rating_sum=figures.get("rating_sum", 0.0),
        )
        for course, figures in sorted(sums.items())
    )

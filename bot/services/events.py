"""Monitoring: one row per thing that happened, for reports to aggregate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, Required, TypedDict, Unpack, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event


class EventKind(StrEnum):
    """An event's kind as stored in `events.kind`: the explicit list of what the event store holds.
    The README's "The event store" table says each one's object and value; tests/test_event_kinds.py
    keeps the two in step (a new kind needs its row there)."""

    registered = "registered"
    consent_declined = "consent_declined"
    consent_withdrawn = "consent_withdrawn"
    role_granted = "role_granted"
    role_revoked = "role_revoked"
    account_linked = "account_linked"
    account_unlinked = "account_unlinked"
    # consultations: object is the specialty; value as noted
    question_asked = "question_asked"
    question_claimed = "question_claimed"  # value: seconds it waited in the queue
    question_answered = "question_answered"  # value: seconds to the first answer
    question_closed = "question_closed"  # value: seconds to resolution
    question_rated = "question_rated"  # value: the rating, 1-5
    question_target_missed = "question_target_missed"  # unclaimed past the specialty's target
    question_returned = "question_returned"  # claimed, unanswered, back in the queue
    question_transferred = "question_transferred"  # object: the specialty it went to
    question_reopened = "question_reopened"
    faq_helped = "faq_helped"  # a FAQ answer was enough: no question asked
    # courses: object "course" (its id) or "lesson" ("home:3"); presses carry what they changed as
    # the value (1 counted, 0 a repeat, -1 taken back), so a sum of values counts families
    course_enrolled = "course_enrolled"
    course_paused = "course_paused"
    course_resumed = "course_resumed"
    course_left = "course_left"
    course_rated = "course_rated"  # value: usefulness, 1-5
    course_recommended = "course_recommended"  # value: 1 would recommend, 0 would not
    lesson_sent = "lesson_sent"  # value: the lesson's number
    lesson_opened = "lesson_opened"  # a view (1 the family's first, 0 another open)
    lesson_liked = "lesson_liked"
    lesson_disliked = "lesson_disliked"
    lesson_commented = "lesson_commented"
    lesson_done = "lesson_done"
    lesson_reminded = "lesson_reminded"
    # parent chats: object "chat" (the catalog's id)
    chat_joined = "chat_joined"
    chat_left = "chat_left"
    chat_request_held = "chat_request_held"  # someone not registered asked to join
    chat_message_reported = "chat_message_reported"  # value: how many members have reported it
    chat_message_removed = "chat_message_removed"  # by a moderator, or by the bot at the reports' threshold
    chat_member_muted = "chat_member_muted"
    chat_message_held = "chat_message_held"  # a newcomer's link or forward, waiting for the moderators
    chat_message_published = "chat_message_published"  # a held message, let through by a moderator
    office_hour_scheduled = "office_hour_scheduled"  # by a coordinator, in the chat (object)
    office_hour_cancelled = "office_hour_cancelled"
    # surveys: object "survey", its id "survey:wave" ("results:6", "quality:consultation"); an
    # answer's "survey:wave:question" ("results:0:informed"), value the option's value. One answer
    # per family, wave and question: an answered question is never answered again
    survey_asked = "survey_asked"
    survey_answered = "survey_answered"
    survey_finished = "survey_finished"
    survey_skipped = "survey_skipped"  # "skip this survey": the rest of this wave is not asked
    survey_expired = "survey_expired"  # asked, unfinished past the survey's expire_days; value: the questions answered
    survey_declined = "survey_declined"  # "don't ask me": no object; open waves cancelled, none planned


class Pseudonymous(Protocol):
    """Whom an event is about: a Person, or an update's Identity (bot.services.people)."""

    @property
    def pseudonym(self) -> str: ...

    @property
    def district(self) -> str | None: ...


class EventDetails(TypedDict, total=False):
    at: Required[datetime]
    person: Pseudonymous | None  # kept only as its pseudonym and district
    platform: str | None
    object_type: str | None
    object_id: str | None
    value: float | None


def record_event(session: AsyncSession, kind: EventKind, **details: Unpack[EventDetails]) -> None:
    session.add(Event(**event_values(kind, **details)))


def event_values(kind: EventKind, **details: Unpack[EventDetails]) -> dict[str, Any]:
    """An event's columns: the person only by pseudonym and district. For INSERT_EVENT, or an Event."""
    person = details.get("person")
    return {
        "kind": kind,
        "at": details["at"],
        "pseudonym": person.pseudonym if person else None,
        "district": person.district if person else None,
        "platform": details.get("platform"),
        "object_type": details.get("object_type"),
        "object_id": details.get("object_id"),
        "value": details.get("value"),
    }


INSERT_EVENT = insert(cast(Table, Event.__table__))  # on the table: a Core statement (bot.db.loop_writes), built once

"""The tables. Times are UTC; people are referred to by id, never by messenger id, outside accounts.

One module per feature, every name re-exported here (import from bot.db.models):
- base: Base (naming convention, type map), utcnow, as_utc, new_pseudonym, MAX_ROW_ID
- people: Person, Account, Role, ConsentRecord, InviteCode, LinkCode, LinkAttempt
- monitoring: Event
- state: ProcessedUpdate, PlatformState, ConversationState
- delivery: CampaignKind, CampaignStatus, OutboxStatus, MediaKind, Campaign, OutboxMessage
- consultations: TicketStatus, PieceAuthor, PieceKind, Ticket, TicketPiece
- courses: EnrolmentStatus, Enrolment, LessonReaction, LessonDelivery, LessonComment
- chats: HeldJoinRequest, ChatActivity, ChatCleanup, ChatReport, ChatNewcomer, OfficeHour
- surveys: WaveStatus, SurveyWave
Importing this package imports every module, so Base.metadata holds every table (Alembic's env.py)."""

from __future__ import annotations

from bot.db.models.base import MAX_ROW_ID, NAMING_CONVENTION, Base, as_utc, new_pseudonym, utcnow
from bot.db.models.chats import ChatActivity, ChatCleanup, ChatNewcomer, ChatReport, HeldJoinRequest, OfficeHour
from bot.db.models.consultations import PieceAuthor, PieceKind, Ticket, TicketPiece, TicketStatus
from bot.db.models.courses import Enrolment, EnrolmentStatus, LessonComment, LessonDelivery, LessonReaction
from bot.db.models.delivery import Campaign, CampaignKind, CampaignStatus, MediaKind, OutboxMessage, OutboxStatus
from bot.db.models.monitoring import Event
from bot.db.models.people import Account, ConsentRecord, InviteCode, LinkAttempt, LinkCode, Person, Role
from bot.db.models.state import ConversationState, PlatformState, ProcessedUpdate
from bot.db.models.surveys import SurveyWave, WaveStatus

__all__ = [
    "MAX_ROW_ID",
    "NAMING_CONVENTION",
    "Account",
    "Base",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "ChatActivity",
    "ChatCleanup",
    "ChatNewcomer",
    "ChatReport",
    "ConsentRecord",
    "ConversationState",
    "Enrolment",
    "EnrolmentStatus",
    "Event",
    "HeldJoinRequest",
    "InviteCode",
    "LessonComment",
    "LessonDelivery",
    "LessonReaction",
    "LinkAttempt",
    "LinkCode",
    "MediaKind",
    "OfficeHour",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "PieceAuthor",
    "PieceKind",
    "PlatformState",
    "ProcessedUpdate",
    "Role",
    "SurveyWave",
    "Ticket",
    "TicketPiece",
    "TicketStatus",
    "WaveStatus",
    "as_utc",
    "new_pseudonym",
    "utcnow",
]

"""What the parent's and the specialist's rooms share: callback data, states, the pieces a message
carries, and relaying a kept piece to a chat on either messenger."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Texts
from bot.db.models import Account, PieceKind, Ticket, as_utc
from bot.lengths import shortened
from bot.platforms import CHANNELS
from bot.platforms.media import MEDIA_SENDERS, VOICE, all_media_of, download, transcript_of
from bot.services.consultations import Piece, Stage, stage_of
from handlers.ui import CallbackInt

log = logging.getLogger(__name__)


class AskStep(StrEnum):
    specialty = "specialty"  # chosen: describe the question
    faq = "faq"  # read a found answer (`entry`)
    helped = "helped"  # a found answer was enough
    still = "still"  # ask anyway
    anonymous = "anonymous"  # toggle
    send = "send"
    cancel = "cancel"


class Ask(CallbackData, prefix="ask"):
    step: AskStep
    specialty: str = ""  # "" with step specialty: show `page` of the specialties
    entry: str = ""
    page: CallbackInt = 0


class TicketStep(StrEnum):
    # the family's
    mine = "mine"  # the list of one's questions
    show = "show"  # one question
    add = "add"  # write more to it
    close = "close"
    reopen = "reopen"
    rate = "rate"  # value: 1-5
    comment = "comment"
    # the specialist's
    queue = "queue"
    take = "take"  # value: the specialty's index in the actor's specialties + 1; 0: any
    open_list = "open_list"  # value: page
    card = "card"
    reply = "reply"
    canned = "canned"  # value: index of the ready answer + 1; 0: the list
    files = "files"
    note = "note"
    transfer = "transfer"  # value: specialty index + 1 (0: the list of specialties)
    colleague = "colleague"  # value: the colleague's person id (0: anyone in the specialty's queue)
    transfer_go = "transfer_go"  # pass it on without a note
    done = "done"  # stop replying
    finish = "finish"  # close, as the specialist
    rename = "rename"  # the name families see


class TicketAction(CallbackData, prefix="tk"):
    step: TicketStep
    id: CallbackInt = 0
    value: CallbackInt = 0
    seen: CallbackInt = 0  # a ready answer: how many messages the exchange had (a double tap finds more)


class Asking(StatesGroup):
    """A parent writes a question; the data holds the specialty, the pieces, anonymity."""

    describing = State()
    collecting = State()
    adding = State()  # more for an open question: data["ticket"]
    commenting = State()  # a comment on the rating: data["ticket"]


class Working(StatesGroup):
    """A specialist's answer in the making: data["ticket"]."""

    replying = State()
    noting = State()
    transferring = State()  # data: ticket, specialty, colleague: the note comes next
    naming = State()


TICKET = "ticket"  # in the conversation data: the question a prompt is about


async def await_about(state: FSMContext, prompt: State, ticket_id: int, **more: Any) -> None:
    """The person's next message answers `prompt`, about question `ticket_id` (and `more`)."""
    await state.set_state(prompt)
    await state.set_data({TICKET: ticket_id, **more})


async def prompted_ticket(state: FSMContext) -> int:
    """The question the prompt being answered is about (0: none)."""
    return int((await state.get_data()).get(TICKET, 0))


STAGE_KEYS = {
    Stage.queued: "ticket.stage_queued",
    Stage.taken: "ticket.stage_taken",
    Stage.answered: "ticket.stage_answered",
    Stage.closed: "ticket.stage_closed",
}
PIECE_KEYS = {
    PieceKind.voice: "piece.voice",
    PieceKind.photo: "piece.photo",
    PieceKind.video: "piece.video",
    PieceKind.document: "piece.document",
}


def stage_label(l10n: Texts, ticket: Ticket) -> str:
    return l10n(STAGE_KEYS[stage_of(ticket)])


def waited(l10n: Texts, since: datetime | None, now: datetime) -> str:
    """How long since `since`, in minutes, or in hours from two hours on."""
    minutes = max(0, int((now - as_utc(since)).total_seconds() // 60)) if since else 0
    return l10n("duration.hours", count=minutes // 60) if minutes >= 120 else l10n("duration.minutes", count=minutes)


def specialty_label(content: Content, specialty_id: str, language: str) -> str:
    specialty = content.specialty(specialty_id)
    return specialty.label(language) if specialty else specialty_id


def pieces_of(message: Message, platform: str) -> list[Piece]:
    """What a message carries, each file a piece (VK sends an album as one message); its text or
    caption goes with the first."""
    text = message.text or message.caption
    media = all_media_of(message)
    if not media:
        return [Piece(PieceKind.text, platform, text=text)] if text and text.strip() else []
    transcript = transcript_of(message)
    return [
        Piece(
            PieceKind(item.kind),
            platform,
            text=text if number == 0 else None,
            file_id=item.file_id,
            file_name=item.file_name,
            transcript=transcript if item.kind == VOICE else None,
        )
        for number, item in enumerate(media)
    ]


def piece_line(l10n: Texts, piece: Piece, limit: int = 4000) -> str:
    """A piece in a card's list of the exchange (HTML: the words cut to `limit`, then escaped): its
    text, or the kind of file with its caption and VK's transcript of a voice note."""
    parts = [] if piece.kind == PieceKind.text else [f"[{l10n(PIECE_KEYS[PieceKind(piece.kind)])}]"]
    if piece.transcript:
        parts.append(l10n("ticket.transcript", text=shortened(piece.transcript, limit)))
    if piece.text:
        parts.append(html.escape(shortened(piece.text, limit), quote=False))
    return " ".join(parts)


async def send_piece(bots: Mapping[str, Bot], piece: Piece, account: Account, header: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """Relay a kept piece to the account's chat under `header` (HTML, from the locale; the piece's
    own words are escaped, never markup). A file moves between messengers by download and upload;
    a voice stays a voice (its header goes just before it). The long-text middleware splits what
    is too long for one message."""
    target = bots.get(account.platform)
    if target is None:
        return False
    chat_id = account.external_id
    words = html.escape(piece.text or "", quote=False)
    if piece.transcript:  # VK's speech-to-text of a voice note: the specialist can read before listening
        header = f"{header}\n«{html.escape(piece.transcript, quote=False)}»".strip()
    source = bots.get(piece.platform)
    try:
        if piece.file_id is None or source is None:  # text, or a file on a messenger not served now
            lost = "" if piece.file_id is None else f"[{piece.kind}] "
            await target.send_message(chat_id, f"{header}\n{lost}{words}".strip(), reply_markup=markup)
            return True
        caption: str | None = f"{header}\n{words}".strip() or None
        if piece.kind == PieceKind.voice and caption:
            await target.send_message(chat_id, caption)
            caption = None
        method, default_name = MEDIA_SENDERS[piece.kind]
        payload: BufferedInputFile | str = piece.file_id
        if source is not target or CHANNELS[piece.platform].file_ids_name_owner:  # a VK id names its uploader: never hand it on
            payload = BufferedInputFile(await download(source, piece.file_id), filename=piece.file_name or default_name)
        await getattr(target, method)(chat_id, payload, caption=caption, reply_markup=markup)
        return True
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as error:  # blocked, gone, a file that expired: the card still shows it
        log.warning("a consultation message to a %s account was not delivered (%s)", account.platform, type(error).__name__)
        return False


async def account_of(session: AsyncSession, account_id: int | None) -> Account | None:
    return await session.get(Account, account_id) if account_id is not None else None

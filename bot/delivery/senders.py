"""Senders: a campaign's content to claimed rows on one platform, within its limits, with each
platform's answer turned into an outcome (sent, try again later, unreachable, failed)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Campaign, MediaKind, OutboxStatus
from bot.delivery.limits import ChatPacer, Pacer
from bot.delivery.outbox import Claimed, Outcome
from bot.links import Links
from bot.platforms.media import download, media_of
from bot.platforms.vk_session import BATCH_LIMIT, GROUP_CHAT_OFFSET, OUTBOX_RANDOM_IDS, parse_file_id, vk_session

log = logging.getLogger(__name__)
# Telegram answers 400 with these for people it cannot reach: gone for good, like a 403.
GONE = ("chat not found", "user is deactivated", "peer_id_invalid", "bot was kicked")
# A lesson's watch button carries this as its URL: each family's own tracked link takes its place (bot.links)
PERSONAL_LINK = "https://vmeste.invalid/watch"
FILE_NAMES = {MediaKind.photo: "photo.jpg", MediaKind.video: "video.mp4", MediaKind.document: "document"}


@dataclass
class Payload:
    """A campaign's content as senders need it; the file id on each platform is learnt on first upload."""

    campaign_id: int
    text: str
    media_kind: MediaKind | None = None
    media_platform: str | None = None
    media_file_id: str | None = None
    media_ids: dict[str, str] = field(default_factory=dict)
    buttons: list[list[str]] = field(default_factory=list)
    markup: dict | None = None  # a ready keyboard (a lesson's), instead of `buttons`
    upload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    learnt: bool = False  # media_ids gained an entry not saved yet
    cancelled: bool = False  # rows already claimed are dropped instead of sent

    @classmethod
    def of(cls, campaign: Campaign) -> Payload:
        return cls(
            campaign.id, campaign.text, MediaKind(campaign.media_kind) if campaign.media_kind else None, campaign.media_platform, campaign.media_file_id,
            dict(campaign.media_ids or {}), [list(button) for button in campaign.buttons or []], campaign.markup,
        )

    @cached_property
    def keyboard(self) -> InlineKeyboardMarkup | None:
        if self.markup:
            return InlineKeyboardMarkup.model_validate(self.markup)
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=url)] for label, url in self.buttons])

    @cached_property
    def personal(self) -> bool:
        """Its keyboard holds a link made per recipient: each goes in a call of its own."""
        return self.keyboard is not None and any(button.url == PERSONAL_LINK for row in self.keyboard.inline_keyboard for button in row)

    def keyboard_for(self, row_id: int, links: Links | None) -> InlineKeyboardMarkup | None:
        """The keyboard one recipient gets: their own tracked link in place of PERSONAL_LINK."""
        if not self.personal:
            return self.keyboard
        assert self.keyboard is not None
        own = links.watch(row_id) if links else None
        rows = [
            [button.model_copy(update={"url": own}) if button.url == PERSONAL_LINK and own else button for button in row if button.url != PERSONAL_LINK or own]
            for row in self.keyboard.inline_keyboard
        ]
        return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])

    def file_on(self, platform: str) -> str | None:
        if self.media_kind is None or self.media_platform == platform:
            return self.media_file_id
        return self.media_ids.get(platform)

    def learn(self, platform: str, message: Message) -> None:
        media = media_of(message)
        if media is not None:
            self.media_ids[platform] = media.file_id
            self.learnt = True


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: float
    backoff_max: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.delivery_max_attempts, settings.delivery_backoff_seconds, settings.delivery_backoff_max_seconds)

    def outcome(self, row: Claimed, error: BaseException, now: datetime) -> Outcome:
        """429 waits and costs no attempt; 5xx and time-outs back off; 403 and the like are final."""
        attempts = row.attempts + 1
        if isinstance(error, TelegramRetryAfter):
            return Outcome(row, OutboxStatus.pending, now, error="rate limited", retry_at=now + timedelta(seconds=error.retry_after), attempts=row.attempts)
        if isinstance(error, TelegramForbiddenError) or (isinstance(error, TelegramBadRequest) and any(gone in error.message.lower() for gone in GONE)):
            return Outcome(row, OutboxStatus.unreachable, now, error=error.message, attempts=attempts)
        if isinstance(error, (TelegramServerError, TelegramNetworkError, TimeoutError)) and attempts < self.max_attempts:
            delay = min(self.backoff * 2 ** (attempts - 1), self.backoff_max)
            return Outcome(row, OutboxStatus.pending, now, error=str(error), retry_at=now + timedelta(seconds=delay), attempts=attempts)
        if not isinstance(error, TelegramAPIError):
            log.error("delivery of outbox row %s failed", row.id, exc_info=error)
        return Outcome(row, OutboxStatus.failed, now, error=str(error) or type(error).__name__, attempts=attempts)


class Sender:
    """Sends to one platform: each API call waits for the platform-wide pacer, each chat for its own."""

    batch_size = 1  # recipients per API call

    def __init__(self, platform: str, bot: Bot, bots: dict[str, Bot], settings: Settings, rate: float, clock: Clock) -> None:
        self.platform, self.bot, self.bots, self.clock = platform, bot, bots, clock
        self.timeout = settings.delivery_timeout_seconds
        self.pacer = Pacer(rate)
        self.chats = ChatPacer(settings.delivery_chat_rate, settings.delivery_group_per_minute, self.is_group)
        self.policy = RetryPolicy.from_settings(settings)
        self.links = Links.of(settings)

    def is_group(self, chat_id: int) -> bool:
        return chat_id < 0

    def claim_size(self, concurrency: int) -> int:
        """Rows to claim at once: enough to keep every call slot busy, no more than about two
        seconds of sending at the rate (claimed rows wait in memory, under a lease)."""
        calls = concurrency * 8
        if self.pacer.interval:
            calls = min(calls, max(1, int(2 / self.pacer.interval)))
        return calls * self.batch_size

    async def send(self, payload: Payload, rows: list[Claimed]) -> list[Outcome]:
        outcomes, ready = [], []
        for row in rows:
            wait = self.chats.reserve(row.chat_id)
            if wait:  # this chat had a message within its limit: later, at no cost of an attempt
                now = self.clock.now()
                outcomes.append(Outcome(row, OutboxStatus.pending, now, retry_at=now + timedelta(seconds=wait), attempts=row.attempts))
            else:
                ready.append(row)
        if ready and payload.media_kind and payload.file_on(self.platform) is None:
            async with payload.upload_lock:  # the first send uploads the file; the rest reuse its id
                if payload.file_on(self.platform) is None:
                    outcomes.append(await self.send_one(payload, ready[0], await self.download(payload)))
                    ready = ready[1:]
        if ready:
            outcomes.extend(await self.send_rows(payload, ready))
        return outcomes

    async def send_rows(self, payload: Payload, rows: list[Claimed]) -> list[Outcome]:
        return [await self.send_one(payload, row, payload.file_on(self.platform)) for row in rows]

    def turn(self) -> AbstractAsyncContextManager:
        """What one message waits for before it is sent: an evenly spaced turn of the pacer."""
        return self.pacer

    async def send_one(self, payload: Payload, row: Claimed, media: str | InputFile | None) -> Outcome:
        try:
            async with self.turn():
                if payload.cancelled:
                    return Outcome(row, OutboxStatus.cancelled, self.clock.now(), attempts=row.attempts)
                message = await self.deliver(payload, row.chat_id, media, row.id)
        except Exception as error:  # every answer becomes an outcome; nothing escapes to stop the others
            return self.failure(row, error)
        if not isinstance(media, str | None):
            payload.learn(self.platform, message)
        return Outcome(row, OutboxStatus.sent, self.clock.now(), message_id=message.message_id, attempts=row.attempts + 1)

    async def deliver(self, payload: Payload, chat_id: int, media: str | InputFile | None, row_id: int | None = None) -> Message:
        """One message; `row_id`: the outbox row it is for (its tracked link), None for a preview."""
        markup = payload.keyboard if row_id is None else payload.keyboard_for(row_id, self.links)
        timeout = self.timeout
        if payload.media_kind is None:
            # aiogram types request_timeout as int; its sessions pass it to aiohttp, which takes a float
            return await self.bot.send_message(chat_id, payload.text, reply_markup=markup, request_timeout=timeout)  # type: ignore[arg-type]
        send = getattr(self.bot, f"send_{payload.media_kind}")
        return await send(chat_id, media, caption=payload.text or None, reply_markup=markup, request_timeout=timeout)

    def failure(self, row: Claimed, error: BaseException) -> Outcome:
        if isinstance(error, TelegramRetryAfter):
            self.pacer.pause(error.retry_after)
        return self.policy.outcome(row, error, self.clock.now())

    async def download(self, payload: Payload) -> InputFile:
        """The campaign's file, fetched from the messenger it was composed on, to upload here."""
        if payload.media_kind is None or payload.media_file_id is None:
            raise RuntimeError(f"campaign {payload.campaign_id} has no file to download")
        source = self.bots.get(payload.media_platform or "")
        if source is None:
            raise RuntimeError(f"the file was sent on {payload.media_platform}, which is not configured")
        return BufferedInputFile(await download(source, payload.media_file_id), filename=FILE_NAMES[payload.media_kind])



def vk_attachment(file_id: str | None) -> str | None:
    """The attachment a VK file id names. A malformed one fails the batch's rows like a refused
    send does, inside send_rows' try, rather than escaping it."""
    if not file_id:
        return None
    parsed = parse_file_id(file_id)
    if parsed is None:
        raise ValueError(f"not a VK file id: {file_id[:40]!r}")
    return parsed[0]


class VkSender(Sender):
    """VK: one messages.send to up to 100 peers. Its random_id is derived from the campaign's row
    id: VK drops a second message with the same random_id to the same peer, so a retry after a
    crash or a time-out is never a duplicate, however the rows were batched the first time."""

    batch_size = BATCH_LIMIT

    def __init__(self, platform: str, bot: Bot, bots: dict[str, Bot], settings: Settings, rate: float, clock: Clock) -> None:
        super().__init__(platform, bot, bots, settings, rate, clock)
        self.session = vk_session(bot)
        self.pacer = self.session.pacer  # VK limits the token, not the outbox: one pacer for every call of it

    def is_group(self, chat_id: int) -> bool:
        return chat_id >= GROUP_CHAT_OFFSET

    def turn(self) -> AbstractAsyncContextManager:
        """A single message (the first of a campaign with a file) is an upload and a send: the
        session paces each of their calls itself."""
        return nullcontext()

    async def send_rows(self, payload: Payload, rows: list[Claimed]) -> list[Outcome]:
        if payload.personal:  # a keyboard of each one's own: a call each
            return [outcome for row in rows for outcome in await self.send_batch(payload, [row])]
        return await self.send_batch(payload, rows)

    async def send_batch(self, payload: Payload, rows: list[Claimed]) -> list[Outcome]:
        try:
            attachment = vk_attachment(payload.file_on(self.platform))
            async with self.pacer:
                if payload.cancelled:
                    return [Outcome(row, OutboxStatus.cancelled, self.clock.now(), attempts=row.attempts) for row in rows]
                peers = [row.chat_id for row in rows]
                markup = payload.keyboard_for(rows[0].id, self.links)  # everyone's, unless personal (one row)
                answers = await self.session.send_batch(peers, payload.text, markup, attachment, OUTBOX_RANDOM_IDS + payload.campaign_id)
        except Exception as error:
            return [self.failure(row, error) for row in rows]
        outcomes, answered = [], self.clock.now()
        for row in rows:
            answer = answers.get(row.chat_id)
            if isinstance(answer, int):
                outcomes.append(Outcome(row, OutboxStatus.sent, answered, message_id=answer, attempts=row.attempts + 1))
            else:
                unanswered = SendMessage(chat_id=row.chat_id, text=payload.text)
                outcomes.append(self.failure(row, answer or TelegramServerError(method=unanswered, message="VK did not answer for this peer")))
        return outcomes


def build_senders(bots: dict[str, Bot], settings: Settings, clock: Clock) -> dict[str, Sender]:
    rates = {"telegram": settings.delivery_telegram_rate, "vk": settings.delivery_vk_rate}
    kinds = {"telegram": Sender, "vk": VkSender}
    return {platform: kinds[platform](platform, bot, bots, settings, rates[platform], clock) for platform, bot in bots.items()}

"""The reports that go to the heads by themselves: the monthly one (last month's) on the 1st at
09:00 in the centre's time zone, the annual one (last year's) on 10 January at 09:00. The tick asks
the clock what is due; a report due up to a few days ago (the bot was down on the day) still goes.
Only one instance sends it: the right to send is a row of platform_state ("report:monthly:2026-10")
inserted before anything is sent, and only the instance whose insert went in sends. A report that
cannot be made (the database failed, say) gives the row back, so a later tick tries again; an
instance that dies midway loses that report (the heads can still ask for it with /report), but
never sends it twice. One head's failed send does not keep the report from the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import Bot
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import Content
from bot.db.models import Account, PlatformState, Role
from bot.db.upsert import insert_or_nothing
from bot.services.people import RoleName
from bot.services.reports.build import ReportFile, WallAccess, make_report, report_files
from bot.services.reports.figures import Report
from bot.services.reports.period import Period
from bot.services.reports.text import period_name, summary
from handlers.reports import send_quietly

log = logging.getLogger(__name__)

SEND_HOUR = 9
ANNUAL_DAY = 10  # of January
LATE_ENOUGH = timedelta(days=3)  # a report due longer ago than this is not sent by itself any more


class ReportKind(StrEnum):
    monthly = "monthly"
    annual = "annual"


CAPTION_KEYS = {ReportKind.monthly: "report.monthly_caption", ReportKind.annual: "report.annual_caption"}


def due_reports(now: datetime, zone: str) -> list[tuple[ReportKind, Period]]:
    """The kind and period of each report due at `now`."""
    local = now.astimezone(ZoneInfo(zone))
    due = []
    monthly_at = local.replace(day=1, hour=SEND_HOUR, minute=0, second=0, microsecond=0)
    if monthly_at <= local < monthly_at + LATE_ENOUGH:
        due.append((ReportKind.monthly, Period.month_of(now, zone, back=1)))
    annual_at = local.replace(month=1, day=ANNUAL_DAY, hour=SEND_HOUR, minute=0, second=0, microsecond=0)
    if annual_at <= local < annual_at + LATE_ENOUGH:
        due.append((ReportKind.annual, Period.year_of(now, zone, back=1)))
    return due


async def send_reports(
    sessionmaker: async_sessionmaker[AsyncSession], bots: Mapping[str, Bot], content: Content, settings: Settings, clock: Clock
) -> list[str]:
    """Send what is due and this instance took; returns the keys of the reports sent."""
    now = clock.now()
    sent = []
    for kind, period in due_reports(now, settings.default_timezone):
        key = f"report:{kind}:{period.key}"
        async with sessionmaker() as session:
            taken = await insert_or_nothing(session, PlatformState(key=key, value=now.isoformat(timespec="seconds")), ["key"])
            await session.commit()
        if not taken:
            continue
        try:
            async with sessionmaker() as session:
                report = await make_report(session, content, period, WallAccess.of(settings))
                heads = await heads_accounts(session, bots)
            languages = sorted({language for language, _account in heads})
            files_of = {language: await asyncio.to_thread(report_files, report, content.texts[language]) for language in languages}
        except Exception:  # nothing was sent: give the right back, so the next tick (here or elsewhere) tries again
            log.exception("the %s report for %s could not be made; it is tried again at the next tick", kind, period.key)
            await release(sessionmaker, key)
            continue
        told = await send_to_heads(bots, content, report, heads, files_of, kind)
        log.info("the %s report for %s went to %d heads", kind, period.key, told)
        sent.append(key)
    return sent


async def release(sessionmaker: async_sessionmaker[AsyncSession], key: str) -> None:
    async with sessionmaker() as session:
        await session.execute(delete(PlatformState).where(PlatformState.key == key))
        await session.commit()


async def heads_accounts(session: AsyncSession, bots: Mapping[str, Bot]) -> list[tuple[str, Account]]:
    """(language, account) of each head: one account each (the messengers in the bot's order), reachable."""
    rows = await session.execute(
        select(Account)
        .join(Role, Role.person_id == Account.person_id)
        .where(Role.role == RoleName.head, Account.unreachable_since.is_(None), Account.platform.in_(list(bots)))
        .order_by(Account.person_id, Account.id)
    )
    order = {platform: index for index, platform in enumerate(bots)}
    chosen: dict[int, Account] = {}
    for account in rows.scalars():
        current = chosen.get(account.person_id)
        if current is None or order[account.platform] < order[current.platform]:
            chosen[account.person_id] = account
    return [(account.person.language, account) for account in chosen.values()]


async def send_to_heads(
    bots: Mapping[str, Bot], content: Content, report: Report, heads: list[tuple[str, Account]], files_of: Mapping[str, list[ReportFile]], kind: ReportKind
) -> int:
    """The files (made beforehand, per language) to each head; how many got them."""
    told = 0
    for language, account in heads:
        l10n = content.texts[language]
        caption = l10n(CAPTION_KEYS[kind], period=period_name(report.period, language))
        if await send_quietly(bots[account.platform], account.external_id, files_of[language], summary(report, l10n), caption):
            told += 1
    return told

"""The broadcasts' section: the broadcasts started in the period and their recipients' outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Campaign, CampaignKind, OutboxMessage, OutboxStatus
from bot.services.reports.period import Period, in_period


@dataclass(frozen=True)
class BroadcastFigures:
    broadcasts: int = 0
    sent: int = 0
    unreachable: int = 0
    failed: int = 0


def broadcasts_statement(period: Period) -> Any:
    outcome = OutboxMessage.status
    return (
        select(
            func.count(func.distinct(Campaign.id)),
            func.sum(case((outcome == OutboxStatus.sent, 1), else_=0)),
            func.sum(case((outcome == OutboxStatus.unreachable, 1), else_=0)),
            func.sum(case((outcome == OutboxStatus.failed, 1), else_=0)),
        )
        .select_from(Campaign)
        .outerjoin(OutboxMessage, OutboxMessage.campaign_id == Campaign.id)
        .where(Campaign.kind == CampaignKind.broadcast, in_period(Campaign.started_at, period))
    )


async def broadcast_figures(session: AsyncSession, period: Period) -> BroadcastFigures:
    count, sent, unreachable, failed = (await session.execute(broadcasts_statement(period))).one()
    return BroadcastFigures(count or 0, int(sent or 0), int(unreachable or 0), int(failed or 0))

"""A report from end to end: the figures, the VK wall's when a service key is set (a failure is a
one-line note, never a crash), then the files: the workbook and the charts, named by the period."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Texts
from bot.services.reports.figures import Report, compute
from bot.services.reports.period import Period
from bot.services.wall_posts import WallUnavailable, wall_figures

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WallAccess:
    """VK_SERVICE_TOKEN, VK_GROUP_ID and VK_API_URL: what reading the community's wall needs."""

    token: str
    community_id: int
    api_url: str | None = None

    @classmethod
    def of(cls, settings: Any) -> WallAccess | None:
        if settings.vk_service_token is None or not settings.vk_group_id:
            return None
        return cls(settings.vk_service_token.get_secret_value(), settings.vk_group_id, settings.vk_api_url)


@dataclass(frozen=True)
class ReportFile:
    name: str
    data: bytes

    @property
    def is_chart(self) -> bool:
        return self.name.endswith(".png")


async def make_report(session: AsyncSession, content: Any, period: Period, wall: WallAccess | None = None) -> Report:
    report = await compute(session, content, period)
    if wall is None:
        return report
    try:
        figures = await wall_figures(wall.token, wall.community_id, period.since, period.until, api_url=wall.api_url)
    except WallUnavailable as error:
        log.warning("the VK wall was not read for the report: %s", error)
        return dataclasses.replace(report, wall_note=str(error))
    return dataclasses.replace(report, wall=figures)


def report_files(report: Report, l10n: Texts, charts: bool = True) -> list[ReportFile]:
    """The workbook first, then the charts (CPU work: callers in the event loop run it in a thread)."""
    from bot.services.reports.workbook import build_workbook

    stem = f"vmeste-report-{report.period.key}"
    files = [ReportFile(f"{stem}-{l10n.language}.xlsx", build_workbook(report, l10n))]
    if charts:
        from bot.services.reports.charts import render_charts

        files += [ReportFile(f"{stem}-{topic}-{l10n.language}.png", png) for topic, png in render_charts(report, l10n)]
    return files

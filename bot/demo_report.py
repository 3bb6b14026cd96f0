"""The demo's last part: the month's report, made from what the demo's people just did (the bot's
own database, after it stopped), as `python -m bot report` makes it: the summary printed and the
workbook and charts written to a folder that outlives the demo."""

from __future__ import annotations

import asyncio
import html
import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import SystemClock
from bot.content import Content
from bot.db.engine import create_engine
from bot.services.reports.build import make_report, report_files
from bot.services.reports.period import Period
from bot.services.reports.text import summary


async def show_the_report(content: Content, language: str, database: Path, zone: str = "UTC") -> list[Path]:
    period = Period.month_of(SystemClock().now(), zone)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with async_sessionmaker(engine)() as session:
            report = await make_report(session, content, period)
    finally:
        await engine.dispose()
    l10n = content.texts[language]
    files = await asyncio.to_thread(report_files, report, l10n)
    folder = Path(tempfile.mkdtemp(prefix="vmeste-demo-report-"))
    paths = []
    for file in files:
        path = folder / file.name
        path.write_bytes(file.data)
        paths.append(path)
    print("\nThe month's report, as a head gets it with /report (python -m bot report --month " + period.key + "):")
    print("\n".join("   " + line for line in html.unescape(summary(report, l10n)).splitlines()))
    print("   Files:")
    print("\n".join(f"   {path}" for path in paths))
    return paths

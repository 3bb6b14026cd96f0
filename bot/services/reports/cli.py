"""`python -m bot report --month 2026-10 --out report.xlsx` (or `--year 2026`): the report written
to files, the summary printed. A mistake (a period that is not one, a folder that cannot be written)
is one line on stderr and exit code 2, no traceback."""

from __future__ import annotations

import argparse
import asyncio
import html
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Settings
from bot.content import Content
from bot.services.reports.build import WallAccess, make_report, report_files
from bot.services.reports.period import BadPeriod, Period
from bot.services.reports.text import summary


async def write_report(args: argparse.Namespace, settings: Settings, content: Content, engine: AsyncEngine) -> int:
    try:
        period = Period.parse(args.month or args.year, settings.default_timezone)
        if (args.month is not None) != period.monthly:
            raise BadPeriod(f"{args.month or args.year!r} is not a {'month (YYYY-MM)' if args.month else 'year (YYYY)'}")
    except BadPeriod as error:
        await engine.dispose()
        print(f"report: {error}", file=sys.stderr)
        return 2
    l10n = content.texts[args.language or settings.default_language]
    try:
        async with async_sessionmaker(engine)() as session:
            report = await make_report(session, content, period, WallAccess.of(settings))
    finally:
        await engine.dispose()
    files = await asyncio.to_thread(report_files, report, l10n, not args.no_charts)
    workbook = Path(args.out) if args.out else Path(files[0].name)
    try:
        workbook.parent.mkdir(parents=True, exist_ok=True)
        written = [workbook]
        workbook.write_bytes(files[0].data)
        for chart in files[1:]:
            path = workbook.parent / chart.name
            path.write_bytes(chart.data)
            written.append(path)
    except OSError as error:
        print(f"report: cannot write {error.filename or workbook}: {error.strerror or error} — name a writable file in --out", file=sys.stderr)
        return 2
    print(html.unescape(summary(report, l10n)))
    for path in written:
        print(path)
    return 0

"""`python -m bot <command>` and the `vmeste` script."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from bot.config import LANGUAGES, ConfigError, load_settings


def program_name() -> str:
    """`vmeste` when run as the installed script, `python -m bot` otherwise."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m bot" if script in ("__main__.py", "-m", "-c", "") else script


def package_version() -> str:
    try:
        return version("vmeste")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=program_name(), description="Vmeste: a digital rehabilitation centre in a messenger.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("run", help="serve Telegram and/or VK, whichever tokens are set")
    commands.add_parser("migrate", help="bring the database schema up to date")
    demo = commands.add_parser("demo", help="play a scripted conversation against a local emulator; no token, no network")
    demo.add_argument("--platform", choices=["telegram", "vk"], default="telegram")
    demo.add_argument("--language", choices=LANGUAGES, default="en", help="the language the parent picks")
    trial = commands.add_parser("try", help="chat with the bot yourself in the terminal, against a local emulator; no token, no network")
    trial.add_argument("--platform", choices=["telegram", "vk"], default="telegram")
    trial.add_argument(
        "--as", dest="role", default="parent", metavar="ROLE", help="who you are at first: parent (default), specialist, coordinator, head or admin"
    )
    trial.add_argument("--language", choices=LANGUAGES, default="en", help="the language you pick, and the bot's default")
    report = commands.add_parser("report", help="write a month's or a year's report: an XLSX workbook and PNG charts beside it")
    when = report.add_mutually_exclusive_group(required=True)
    when.add_argument("--month", metavar="YYYY-MM", help="a calendar month in DEFAULT_TIMEZONE, e.g. 2026-10")
    when.add_argument("--year", metavar="YYYY", help="a calendar year, e.g. 2026")
    report.add_argument("--out", metavar="FILE.xlsx", help="the workbook's path (default: vmeste-report-<period>.xlsx here); the charts go beside it")
    report.add_argument("--language", choices=LANGUAGES, help="the report's language (default: DEFAULT_LANGUAGE)")
    report.add_argument("--no-charts", action="store_true", help="the workbook alone")
    content = commands.add_parser("content", help="work with CONTENT_DIR")
    content.add_argument("action", choices=["check"], help="check: validate the texts, consultations and courses, one problem a line (file:line)")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_dispatch(args))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        with uncollected_imports():
            from bot.demo import play

        return await play(args.platform, args.language)
    if args.command == "try":
        with uncollected_imports():
            from bot.trial import play_by_hand

        return await play_by_hand(args.platform, args.role, args.language)
    settings = load_settings()
    configure_logging(settings.log_level, settings.secrets())
    if args.command == "content":
        from bot.content import check_content

        return check_content(settings.content_dir, settings.default_timezone)
    if args.command == "run":
        settings.require_platform()
    # Everything that can be a configuration mistake is checked before aiogram is imported (seconds).
    with uncollected_imports():
        from bot.content import load_content
        from bot.db.engine import open_database, require_existing

    content = load_content(settings.content_dir, settings.default_timezone)
    if args.command == "report":  # it reads the bot's data: a database that is not there is a wrong DATABASE_URL, not an empty centre
        require_existing(settings.database_url)
    engine = await open_database(settings.database_url)
    if args.command == "migrate":
        await engine.dispose()
        print("database is up to date")
        return 0
    if args.command == "report":
        from bot.services.reports.cli import write_report

        return await write_report(args, settings, content, engine)
    with uncollected_imports():
        from bot.app import run

    await run(settings, content, engine)
    return 0


@contextmanager
def uncollected_imports() -> Iterator[None]:
    """Importing aiogram builds the schemas of some 700 pydantic models: a few hundred thousand
    objects that live as long as the process, which the cyclic garbage collector would walk again
    and again while they are built, and once more at the interpreter's exit (seconds of start-up,
    most of a second at exit). So collection is off while importing, and what the imports built
    is frozen, out of every later collection. Not in a process that has aiogram already (a test
    calling main): nothing to gain there, and freezing its objects would keep its garbage."""
    if "aiogram" in sys.modules:
        yield
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    from bot.logs import install_privacy_filter

    install_privacy_filter(secrets)
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))

"""`python -m bot <command>` and the `vmeste` script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Vmeste: a digital rehabilitation centre in a messenger.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Telegram and/or VK, whichever tokens are set")
    commands.add_parser("migrate", help="bring the database schema up to date")
    demo = commands.add_parser("demo", help="play a scripted conversation against a local emulator; no token, no network")
    demo.add_argument("--platform", choices=["telegram", "vk"], default="telegram")
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
        from bot.demo import play

        return await play(args.platform)
    settings = load_settings()
    configure_logging(settings.log_level)
    if args.command == "migrate":
        from bot.app import create_app

        app = await create_app(settings)
        await app.close()
        print("database is up to date")
        return 0
    from bot.app import run

    await run(settings)
    return 0


def configure_logging(level: str) -> None:
    from bot.logs import install_privacy_filter

    install_privacy_filter()  # the app adds the configured secrets to it (bot.app.create_app)
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))

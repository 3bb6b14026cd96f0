"""Alembic environment. The connection comes from bot.db.migrate (or from alembic.ini's URL for developers)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.models import Base


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    from bot.config import async_database_url
    from bot.db.engine import create_engine

    engine = create_engine(async_database_url(url))
    async with engine.begin() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "bot.db.migrate sets sqlalchemy.url"
    asyncio.run(run_from_url(url))

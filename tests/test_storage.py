"""Migrations build the schema the models describe; SQLite runs in WAL mode; old update ids are pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from bot.db.engine import close_session, create_engine, create_sessionmaker
from bot.db.migrate import current_revision, upgrade
from bot.db.models import Base, ProcessedUpdate, utcnow
from scheduler import prune_processed_updates

pytestmark = [pytest.mark.both_databases, pytest.mark.fresh_database]


async def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    await upgrade(engine)
    await upgrade(engine)  # a second run is a no-op
    assert await current_revision(engine) == "0014"
    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []
    await engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/nested/dir/vmeste.db")
    await upgrade(engine)
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_old_processed_update_ids_are_pruned(database_url):
    engine = create_engine(database_url)
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        session.add(ProcessedUpdate(platform="telegram", update_id=1, processed_at=utcnow() - timedelta(days=3)))
        session.add(ProcessedUpdate(platform="telegram", update_id=2))
        await session.commit()
    assert await prune_processed_updates(sessionmaker) == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ProcessedUpdate.update_id))) == [2]
    await engine.dispose()


async def test_close_session_gives_the_connection_back_and_lets_go_of_what_it_loaded(database_url):
    engine = create_engine(database_url)
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        session.add(ProcessedUpdate(platform="telegram", update_id=1))
        await session.commit()
    untouched, reading, holding = sessionmaker(), sessionmaker(), sessionmaker()
    await reading.scalar(select(ProcessedUpdate))  # in a transaction, on a pooled connection
    loaded = await holding.scalar(select(ProcessedUpdate))
    await holding.commit()  # no transaction any more, the row still in the session
    for session in (untouched, reading, holding):
        await close_session(session)
    assert engine.pool.checkedout() == 0
    assert not reading.in_transaction() and loaded not in holding
    await engine.dispose()

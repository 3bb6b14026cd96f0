"""A new question's place in its specialty's queue: counted among the questions waiting before it,
up to PLACES_COUNTED (a longer queue shows "100+": counting costs the queue's length)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from bot.clock import ShiftedClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import PieceKind
from bot.services.consultations import PLACES_COUNTED, Piece, open_ticket
from bot.services.people import IDENTITY_ROWS, Identity, register
from tests.helpers import CONTENT

NOW = ShiftedClock().now()


@pytest.mark.both_databases
async def test_a_question_is_placed_behind_those_waiting_and_a_long_queue_is_counted_to_a_hundred(database_url):
    engine = create_engine(database_url)
    speech, psychology = CONTENT.specialties[0], CONTENT.specialties[1]
    try:
        async with create_sessionmaker(engine)() as session:
            await register(session, "telegram", 5, CONTENT.consent_text("en"), now=NOW)
            asker = Identity(list(await session.execute(IDENTITY_ROWS, {"platform": "telegram", "external_id": 5})))

            async def ask(specialty, minute: int):
                question = [Piece(PieceKind.text, "telegram", "?")]
                work = partial(open_ticket, asker=asker, specialty=specialty, pieces=question, anonymous=False, parent_name=None)
                return await session.run_sync(work, now=NOW + timedelta(minutes=minute))

            first, second, elsewhere = await ask(speech, 0), await ask(speech, 1), await ask(psychology, 2)
            assert (first.position, second.position, elsewhere.position) == (1, 2, 1)
            assert (first.place, second.place) == (1, 2)
            for minute in range(3, PLACES_COUNTED + 1):
                placed = await ask(speech, minute)
            assert (placed.position, placed.place) == (PLACES_COUNTED, f"{PLACES_COUNTED}+")
            assert (await ask(speech, PLACES_COUNTED + 1)).place == f"{PLACES_COUNTED}+"
            await session.rollback()
    finally:
        await engine.dispose()

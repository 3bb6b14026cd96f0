"""A parent asks a specialist and gets the answer in the same chat, on Telegram and on VK: the FAQ
first, the question in several media, the queue, "take next", answers in voice and photo, closing
and rating; anonymity; transfer; forged buttons; the family closing and adding to their question."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import ShiftedClock
from bot.db.models import Account, Event, Person, Role, Ticket, TicketPiece, TicketStatus
from bot.platforms.vk_format import plain_text
from handlers.consultations.common import TicketAction, TicketStep
from tests.conftest import RunningBot, make_settings
from tests.helpers import CONTENT, TEXTS, button_texts, register, step
from tests.messengers import TelegramMessenger, VkMessenger

pytestmark = pytest.mark.both_databases

T = TEXTS["en"]
MONDAY_MORNING = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # a working day, in the specialists' hours
SPEECH = CONTENT.specialty("speech").label("en")
PSYCHOLOGIST = CONTENT.specialty("psychologist").label("en")
QUESTION = "My son is 3 and still does not talk, only gestures. How can we help his speech at home?"


def shown(key: str, **values) -> str:
    """A text as the user sees it: without the HTML tags."""
    return plain_text(T(key, **values), "HTML")


@pytest.fixture
async def centre(emulator, database_url) -> AsyncIterator[RunningBot]:
    """The bot on a Monday morning, the specialists at work."""
    clock = ShiftedClock(MONDAY_MORNING - datetime.now(UTC))
    async with RunningBot(make_settings(emulator, database_url), clock=clock) as running:
        yield running


async def add_staff(running: RunningBot, emulator, user_id: int, role: str = "specialist", specialty: str = "speech", name: str | None = "Anna Petrova"):
    """A staff member who joined by invite (tests/test_invites.py walks that), written straight to the database."""
    async with running.sessionmaker() as session:
        person = Person(language="en", display_name=name, roles=[Role(role=role, specialty=specialty if role == "specialist" else "")])
        person.accounts = [Account(platform=emulator.platform, external_id=user_id)]
        session.add(person)
        await session.commit()
    return emulator.user(user_id, language_code="en")


async def ask(emulator, parent, text: str = QUESTION, specialty: str = SPEECH, anonymous: bool = False) -> None:
    """The parent asks from the menu: a specialty, the question, past the FAQ, then sends it."""
    await step(emulator, lambda: parent.send("/menu"))
    await step(emulator, lambda: parent.click(T("menu.ask")))
    assert parent.last.text == T("ask.choose")
    await step(emulator, lambda: parent.click(specialty))
    assert parent.last.text == T("ask.describe", specialty=specialty)
    await step(emulator, lambda: parent.send(text))
    if T("ask.still") in button_texts(parent.last):
        await step(emulator, lambda: parent.click(T("ask.still")))
    if anonymous:
        await step(emulator, lambda: parent.click(T("ask.toggle_anonymous")))
    await step(emulator, lambda: parent.click(T("ask.send")))


async def ticket_of(running: RunningBot, ticket_id: int = 1) -> Ticket:
    async with running.session() as session:
        return await session.get(Ticket, ticket_id)


async def pieces(running: RunningBot, ticket_id: int = 1) -> list[TicketPiece]:
    async with running.session() as session:
        return list(await session.scalars(select(TicketPiece).where(TicketPiece.ticket_id == ticket_id).order_by(TicketPiece.id)))


async def test_the_whole_loop_faq_queue_claim_voice_and_photo_answer_close_and_rating(emulator, centre):
    specialist = await add_staff(centre, emulator, 7001)
    parent = emulator.user(5001, first_name="Maria", language_code="en")
    await register(emulator, parent)

    await step(emulator, lambda: parent.click(T("menu.ask")))
    await step(emulator, lambda: parent.click(SPEECH))
    await step(emulator, lambda: parent.send(QUESTION))
    faq = parent.last
    assert faq.text.startswith(shown("ask.faq_found")) and "1." in faq.text  # the FAQ first: matched on word forms
    await step(emulator, lambda: parent.click(T("ask.faq_read", number=1)))
    assert T("ask.helped") in button_texts(parent.last)
    await step(emulator, lambda: parent.click(T("ask.still")))
    await step(emulator, lambda: parent.send_voice(duration=5, data=b"OggS parent voice"))
    await step(emulator, lambda: parent.send_photo(data=b"\xff\xd8 a drawing"))
    anonymity = T("ask.anonymous_off" if emulator.channel.tells_names else "ask.anonymous_off_no_name")  # VK tells the bot no names
    assert shown("ask.draft", specialty=SPEECH, count=3, anonymity=anonymity) in parent.last.text
    await step(emulator, lambda: parent.click(T("ask.send")))
    assert parent.last.text.startswith(shown("ask.sent", id=1, specialty=SPEECH, position=1))
    await step(emulator, lambda: emulator.press(parent, TicketAction(step=TicketStep.show, id=1).pack()))
    assert T("ticket.stage_queued") in parent.last.text
    assert [piece.kind for piece in await pieces(centre)] == ["text", "voice", "photo"]

    await step(emulator, lambda: specialist.send("/queue"))
    assert shown("queue.line", specialty=SPEECH, count=1, oldest=T.counted(0, "minutes")) in specialist.last.text
    queue = specialist.last
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    kinds = [message.kind for message in specialist.bot_messages[-4:]]
    assert kinds[-3:] == [emulator.voice_kind, "photo", "text"]  # the files as they came, then the card
    assert QUESTION in specialist.last.text and "#1" in specialist.last.text
    assert parent.last.text == shown("ticket.taken_notice", id=1, specialty=SPEECH)
    assert (await ticket_of(centre)).status == TicketStatus.claimed
    await step(emulator, lambda: emulator.press(specialist, TicketAction(step=TicketStep.take, id=0, value=1).pack(), queue))  # a double tap
    assert queue.text.startswith(shown("queue.title")) and "#1" in specialist.last.text  # the queue redrawn, the card stays

    await step(emulator, lambda: specialist.click(T("work.reply")))
    await step(emulator, lambda: specialist.send("Name the things he points at, slowly, and wait."))
    header = shown("ticket.from_specialist", name="Anna Petrova", title=SPEECH, id=1)
    assert parent.last.text == f"{header}\nName the things he points at, slowly, and wait."
    await step(emulator, lambda: specialist.send_voice(duration=7, data=b"OggS specialist voice"))
    assert parent.last.kind == emulator.voice_kind  # a voice note arrives as a voice note
    await step(emulator, lambda: specialist.send_photo(data=b"\xff\xd8 a picture card"))
    assert parent.last.kind == "photo" and header in (parent.last.caption or "")
    assert specialist.last.text == T("work.sent", id=1)

    await step(emulator, lambda: specialist.click(T("work.finish")))
    assert parent.last.text == shown("ticket.closed_notice", id=1, specialty=SPEECH)
    await step(emulator, lambda: parent.click(T("ticket.stars", count=5)))
    assert parent.last.text == shown("ticket.rated", count=5)
    await step(emulator, lambda: emulator.press(parent, TicketAction(step=TicketStep.rate, id=1, value=1).pack()))  # a second press
    await step(emulator, lambda: parent.click(T("ticket.comment")))
    await step(emulator, lambda: parent.send("Very clear, thank you"))
    assert parent.last.text == T("ticket.comment_saved")

    ticket = await ticket_of(centre)
    assert (ticket.status, ticket.rating, ticket.rating_comment) == (TicketStatus.closed, 5, "Very clear, thank you")
    assert [piece.author for piece in await pieces(centre)] == ["parent"] * 3 + ["specialist"] * 3
    async with centre.session() as session:
        kinds = {event.kind: event.value for event in await session.scalars(select(Event).where(Event.kind.like("question_%")))}
    assert set(kinds) == {"question_asked", "question_claimed", "question_answered", "question_closed", "question_rated"}
    assert kinds["question_rated"] == 5 and kinds["question_answered"] >= 0

    await step(emulator, lambda: parent.send("/myquestions"))
    assert f"#1 · {T('ticket.stage_closed')} · {SPEECH}" in button_texts(parent.last)


async def test_an_anonymous_question_shows_the_specialist_no_name_or_account(emulator, centre):
    specialist = await add_staff(centre, emulator, 7002)
    parent = emulator.user(5002, first_name="Maria", language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent, anonymous=True)
    assert T("ask.anonymous_on") not in parent.last.text  # the sent screen
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    ticket = await ticket_of(centre)
    assert ticket.anonymous and ticket.parent_name is None
    assert T("ticket.anonymous_family", alias=ticket.alias) in specialist.last.text
    await step(emulator, lambda: specialist.click(T("work.reply")))
    screens = [message.text or "" for message in specialist.bot_messages] + [message.caption or "" for message in specialist.bot_messages]
    assert not any("Maria" in screen or "5002" in screen for screen in screens)


async def test_a_named_question_shows_the_family_and_their_earlier_questions(emulator, centre):
    specialist = await add_staff(centre, emulator, 7003)
    parent = emulator.user(5003, first_name="Maria", language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent, text="First question about sleep")
    await ask(emulator, parent, text="Second question about words")
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    assert "First question about sleep" in specialist.last.text  # the oldest first
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    card = specialist.last.text
    assert "#1" in card.split("\n")[-1]  # the family's earlier question
    assert ("Maria" in card) == emulator.channel.tells_names  # VK tells no names: the card says "Parent"


async def test_forged_buttons_for_someone_elses_question_are_refused(emulator, centre):
    speech = await add_staff(centre, emulator, 7004)
    psychologist = await add_staff(centre, emulator, 7005, specialty="psychologist", name="Ivan")
    parent, other = emulator.user(5004, language_code="en"), emulator.user(5005, language_code="en")
    await register(emulator, parent)
    await register(emulator, other)
    await ask(emulator, parent)
    for step_name in (TicketStep.show, TicketStep.close, TicketStep.add):
        await step(emulator, lambda step_name=step_name: emulator.press(other, TicketAction(step=step_name, id=1).pack()))
        assert other.callback_answers[-1].text == T("fallback.button_outdated")
    await step(emulator, lambda: psychologist.send("/queue"))
    await step(emulator, lambda: speech.send("/queue"))
    await step(emulator, lambda: emulator.press(psychologist, TicketAction(step=TicketStep.card, id=1).pack()))  # not their specialty
    assert psychologist.callback_answers[-1].text == T("fallback.button_outdated")
    await step(emulator, lambda: emulator.press(speech, TicketAction(step=TicketStep.finish, id=1).pack()))  # not claimed by them
    assert speech.callback_answers[-1].text == T("fallback.button_outdated")
    await step(emulator, lambda: emulator.press(parent, TicketAction(step=TicketStep.take).pack()))  # a parent is no specialist
    assert (await ticket_of(centre)).status == TicketStatus.waiting

    await step(emulator, lambda: emulator.press(parent, TicketAction(step=TicketStep.show, id=1).pack()))
    await step(emulator, lambda: parent.click(T("ticket.close")))  # the family closes their own question
    assert parent.last.text.startswith(T("ticket.closed_rate"))
    assert (await ticket_of(centre)).status == TicketStatus.closed
    await step(emulator, lambda: parent.click(T("ticket.reopen")))
    assert (await ticket_of(centre)).status == TicketStatus.waiting


async def test_transfer_to_another_specialty_with_a_note(emulator, centre):
    speech = await add_staff(centre, emulator, 7006)
    psychologist = await add_staff(centre, emulator, 7007, specialty="psychologist", name="Ivan Sidorov")
    parent = emulator.user(5006, language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent, text="He bites his hand when upset")
    await step(emulator, lambda: speech.send("/queue"))
    await step(emulator, lambda: speech.click(T("queue.take", specialty=SPEECH)))
    await step(emulator, lambda: speech.click(T("work.transfer")))
    await step(emulator, lambda: speech.click(PSYCHOLOGIST))
    await step(emulator, lambda: speech.click(T("work.transfer_queue", specialty=PSYCHOLOGIST)))
    await step(emulator, lambda: speech.send("Behaviour, not speech: please take it"))
    assert speech.last.text.startswith(shown("work.transferred", id=1, specialty=PSYCHOLOGIST))
    assert parent.last.text == shown("ticket.transferred_notice", id=1, specialty=PSYCHOLOGIST)

    await step(emulator, lambda: psychologist.send("/queue"))
    await step(emulator, lambda: psychologist.click(T("queue.take", specialty=PSYCHOLOGIST)))
    assert "Behaviour, not speech: please take it" in psychologist.last.text  # the note, on the card
    await step(emulator, lambda: psychologist.click(T("work.reply")))
    await step(emulator, lambda: psychologist.send("Let us look at what happens just before."))
    assert parent.last.text.startswith(shown("ticket.from_specialist", name="Ivan Sidorov", title=PSYCHOLOGIST, id=1))
    assert all("Behaviour, not speech" not in (message.text or "") for message in parent.bot_messages)  # notes stay private


async def test_the_family_adds_to_their_open_question_and_the_specialist_sees_it(emulator, centre):
    specialist = await add_staff(centre, emulator, 7008)
    parent = emulator.user(5008, language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent)
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    await step(emulator, lambda: parent.send("He also says 'ma' sometimes"))  # no button pressed: their one open question takes it
    assert parent.last.text == T("ticket.added", id=1)
    family = "User5008" if emulator.channel.tells_names else T("ticket.family")
    assert specialist.last.text == shown("work.family_writes", id=1, family=family) + "\nHe also says 'ma' sometimes"
    assert (await ticket_of(centre)).reply_due_at is not None  # the family waits for the specialist again


async def test_two_specialists_pressing_at_once_never_get_the_same_question(emulator, centre):
    """The claim is one statement: on SQLite (one writer) and on PostgreSQL (SKIP LOCKED), every
    question goes to exactly one of the specialists pressing "take next" at once."""
    from bot.services.consultations import claim_next

    parent = emulator.user(5010, language_code="en")
    await register(emulator, parent)
    for number in range(6):
        await ask(emulator, parent, text=f"Question number {number}")
    specialists = [await add_staff(centre, emulator, 7100 + number) for number in range(4)]
    specialty_of = {specialty.id: specialty for specialty in CONTENT.specialties}

    async def claim_all(user) -> list[int]:
        async with centre.session() as session:
            account = await session.scalar(select(Account).where(Account.external_id == user.id))
            person_id, account_id = account.person_id, account.id
        taken = []
        while True:
            async with centre.session() as session:
                ticket = await claim_next(session, person_id, account_id, ["speech"], None, specialty_of, centre.clock.now())
                await session.commit()
            if ticket is None:
                return taken
            taken.append(ticket.id)

    import asyncio

    claims = await asyncio.gather(*(claim_all(user) for user in specialists))
    everything = sorted(ticket for taken in claims for ticket in taken)
    assert everything == [1, 2, 3, 4, 5, 6]  # each once


async def test_specialist_with_many_open_questions_pages_through_them(emulator, centre):
    specialist = await add_staff(centre, emulator, 7009)
    parent = emulator.user(5011, language_code="en")
    await register(emulator, parent)
    for number in range(10):
        await ask(emulator, parent, text=f"Question {number}")
    for _ in range(10):
        await step(emulator, lambda: specialist.send("/queue"))
        await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.open", count=10)))
    assert specialist.last.text.startswith(shown("work.open_title", count=10, page=1, pages=2))
    assert [label for label in button_texts(specialist.last) if label.startswith("⏳")] == [f"⏳ #{number}" for number in range(1, 7)]
    await step(emulator, lambda: specialist.click("▶"))
    assert [label for label in button_texts(specialist.last) if label.startswith("⏳")] == [f"⏳ #{number}" for number in range(7, 11)]
    await step(emulator, lambda: specialist.click("⏳ #10"))
    assert "Question 9" in specialist.last.text


@pytest.mark.parametrize("parent_on", ["vk", "telegram"])
async def test_a_question_asked_on_one_messenger_is_answered_from_the_other_with_voice_and_photo(database_url, parent_on):
    telegram, vk = TelegramMessenger(), VkMessenger()
    await telegram.start()
    await vk.start()
    families, staff = (vk, telegram) if parent_on == "vk" else (telegram, vk)
    settings = make_settings(telegram, database_url, **vk.bot_settings())
    async with RunningBot(settings, clock=ShiftedClock(MONDAY_MORNING - datetime.now(UTC))) as running:
        specialist = await add_staff(running, staff, 7301)
        parent = families.user(5301, language_code="en")
        await register(families, parent)
        await step(families, lambda: parent.click(T("menu.ask")))
        await step(families, lambda: parent.click(SPEECH))
        await step(families, lambda: parent.send_voice(duration=4, data=b"OggS the parent's voice"))
        await step(families, lambda: parent.click(T("ask.send")))

        await step(staff, lambda: specialist.send("/queue"))
        await step(staff, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
        await families.settle()
        voice = next(message for message in specialist.bot_messages if message.kind == staff.voice_kind)
        assert voice is not None  # the parent's voice note reached the other messenger as a voice note
        await step(staff, lambda: specialist.click(T("work.reply")))
        await step(staff, lambda: specialist.send_voice(duration=6, data=b"OggS the specialist's voice"))
        await families.settle()
        assert parent.last.kind == families.voice_kind
        await step(staff, lambda: specialist.send_photo(data=b"\xff\xd8 an exercise"))
        await families.settle()
        assert parent.last.kind == "photo"
        assert (await running.bots.by_platform()[families.platform].download(photo_file_id(families, parent.last))).read() == b"\xff\xd8 an exercise"
    await telegram.stop()
    await vk.stop()
    assert telegram.rejected == [] and vk.rejected == []


def photo_file_id(messenger, message) -> str:
    """The file id the bot would use for a photo it sent (read back from the emulator's message)."""
    if messenger.platform == "telegram":
        return message.raw["photo"][-1]["file_id"]
    from bot.platforms.vk_events import media_of

    return media_of(message.attachments[0])["photo"][0]["file_id"]


@pytest.mark.parametrize("emulator", ["vk"], indirect=True)
async def test_vks_transcript_of_a_parents_voice_note_is_shown_to_the_specialist(emulator, centre):
    specialist = await add_staff(centre, emulator, 7401)
    parent = emulator.user(5401, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.click(T("menu.ask")))
    await step(emulator, lambda: parent.click(SPEECH))
    await step(emulator, lambda: parent.send_voice(duration=6, data=b"OggS voice", transcript="he says only ma and pa"))
    await step(emulator, lambda: parent.click(T("ask.send")))
    assert (await pieces(centre))[0].transcript == "he says only ma and pa"
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    assert "he says only ma and pa" in specialist.last.text  # on the card
    assert any("he says only ma and pa" in message.text for message in specialist.bot_messages[:-1])  # and over the voice note


async def test_words_that_look_like_markup_arrive_as_written(emulator, centre):
    specialist = await add_staff(centre, emulator, 7402)
    parent = emulator.user(5402, language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent, text="<b>not bold</b> & <a href='x'>no link</a>")
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    assert "<b>not bold</b> & <a href='x'>no link</a>" in specialist.last.text
    await step(emulator, lambda: specialist.click(T("work.reply")))
    await step(emulator, lambda: specialist.send("Use <3 and & freely"))
    assert parent.last.text.endswith("\nUse <3 and & freely")


async def test_a_question_outside_working_hours_says_when_it_will_be_seen(emulator, database_url):
    saturday = datetime(2027, 3, 6, 12, 0, tzinfo=UTC)
    async with RunningBot(make_settings(emulator, database_url), clock=ShiftedClock(saturday - datetime.now(UTC))):
        parent = emulator.user(5403, language_code="en")
        await register(emulator, parent)
        await ask(emulator, parent)
        opening = CONTENT.specialty("speech").hours.next_opening(saturday)
        assert opening == datetime(2027, 3, 9, 9, 0, tzinfo=UTC)  # Tuesday morning: Monday the 8th is a holiday
        assert shown("ask.sent_closed", specialty=SPEECH, when=T.date_time(opening)) in parent.last.text


async def test_deleting_a_familys_data_deletes_their_questions(emulator, centre):
    specialist = await add_staff(centre, emulator, 7404)
    parent = emulator.user(5404, language_code="en")
    await register(emulator, parent)
    await ask(emulator, parent)
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    await step(emulator, lambda: parent.send("/mydata"))
    await step(emulator, lambda: parent.click(T("my_data.delete")))
    await step(emulator, lambda: parent.click(T("my_data.delete_yes")))
    async with centre.session() as session:
        assert await session.scalar(select(Ticket)) is None and await session.scalar(select(TicketPiece)) is None
        assert await session.scalar(select(Event).where(Event.kind == "question_asked")) is not None  # the counts stay


async def test_ready_answers_notes_and_a_colleague_by_name(emulator, centre):
    speech = await add_staff(centre, emulator, 7501)
    colleague = await add_staff(centre, emulator, 7502, name="Olga Ivanova")
    parent = emulator.user(5501, language_code="ro")
    await register(emulator, parent, "ro")
    ro = TEXTS["ro"]
    await step(emulator, lambda: parent.click(ro("menu.ask")))
    await step(emulator, lambda: parent.click(CONTENT.specialty("speech").label("ro")))
    await step(emulator, lambda: parent.send_photo(data=b"\xff\xd8 a photo"))
    await step(emulator, lambda: parent.click(ro("ask.send")))
    await step(emulator, lambda: speech.send("/queue"))
    await step(emulator, lambda: speech.click(T("queue.take", specialty=SPEECH)))

    await step(emulator, lambda: speech.click(T("work.canned")))
    first = CONTENT.canned_for("speech", "en")[0]
    await step(emulator, lambda: speech.click(first.title))
    in_romanian = next(answer for answer in CONTENT.canned_for("speech", "ro") if answer.id == first.id)
    assert parent.last.text.endswith(in_romanian.text)  # in the family's language
    answers = len([piece for piece in await pieces(centre) if piece.author == "specialist"])
    await step(emulator, lambda: emulator.press(speech, TicketAction(step=TicketStep.canned, id=1, value=1, seen=1).pack()))  # a double tap
    assert len([piece for piece in await pieces(centre) if piece.author == "specialist"]) == answers == 1

    await step(emulator, lambda: speech.click(T("work.note")))
    await step(emulator, lambda: speech.send("Mother seems very tired; suggest the psychologist"))
    assert "Mother seems very tired" in speech.last.text and "Mother seems very tired" not in parent.last.text

    await step(emulator, lambda: speech.click(T("work.transfer")))
    await step(emulator, lambda: speech.click(SPEECH))
    await step(emulator, lambda: speech.click("Olga Ivanova"))
    await step(emulator, lambda: speech.click(T("work.transfer_no_note")))
    assert colleague.last.text == shown("work.passed_to_you", id=1, specialty=SPEECH)
    await step(emulator, lambda: speech.send("/queue"))
    assert T("queue.take", specialty=SPEECH) not in button_texts(speech.last)  # passed by name: only Olga may take it
    await step(emulator, lambda: colleague.send("/queue"))
    await step(emulator, lambda: colleague.click(T("queue.take", specialty=T("queue.named"))))
    assert "Mother seems very tired" in colleague.last.text  # the note travels with the question


async def test_leaving_a_prompt_for_the_menu_drops_it(emulator, centre):
    specialist = await add_staff(centre, emulator, 7511, name=None)
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.rename")))
    await step(emulator, lambda: specialist.send("/menu"))
    await step(emulator, lambda: specialist.send("hello there"))
    async with centre.session() as session:
        assert (await session.scalar(select(Person).join(Account).where(Account.external_id == 7511))).display_name is None
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.rename")))
    await step(emulator, lambda: specialist.send("Anna <Petrova> & Co"))
    assert specialist.last.text.startswith(shown("work.name_saved", name="Anna <Petrova> & Co"))


async def test_a_reply_in_progress_pauses_when_another_family_writes(emulator, centre):
    specialist = await add_staff(centre, emulator, 7521)
    first, second = emulator.user(5521, first_name="Ann <3", language_code="en"), emulator.user(5522, language_code="en")
    await register(emulator, first)
    await register(emulator, second)
    await ask(emulator, first, text="About sleep")
    await ask(emulator, second, text="About words")
    for _ in range(2):
        await step(emulator, lambda: specialist.send("/queue"))
        await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.open", count=2)))  # a name like "Ann <3" is shown as written
    await step(emulator, lambda: specialist.click("⏳ #1"))
    await step(emulator, lambda: specialist.click(T("work.reply")))
    await step(emulator, lambda: second.send("Also, he is 4 now"))  # family two writes meanwhile
    assert specialist.last.text.startswith(T("work.reply_paused", other=1))
    await step(emulator, lambda: specialist.send("Try a quiet hour before bed"))
    assert all("quiet hour" not in (message.text or "") for message in first.bot_messages + second.bot_messages)


@pytest.mark.parametrize("emulator", ["vk"], indirect=True)
async def test_an_anonymous_parents_photo_reaches_a_vk_specialist_without_their_account_id(emulator, centre):
    specialist = await add_staff(centre, emulator, 7531)
    parent = emulator.user(5531, language_code="en")
    await register(emulator, parent)
    await step(emulator, lambda: parent.click(T("menu.ask")))
    await step(emulator, lambda: parent.click(SPEECH))
    await step(emulator, lambda: parent.send_photo(data=b"\xff\xd8 a private photo"))
    await step(emulator, lambda: parent.click(T("ask.toggle_anonymous")))
    await step(emulator, lambda: parent.click(T("ask.send")))
    await step(emulator, lambda: specialist.send("/queue"))
    await step(emulator, lambda: specialist.click(T("queue.take", specialty=SPEECH)))
    photo = next(message for message in specialist.bot_messages if message.kind == "photo")
    assert "5531" not in str(photo.attachments)  # uploaded again by the bot, not handed on with the parent's id in it

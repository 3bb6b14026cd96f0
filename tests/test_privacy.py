"""Privacy: personal screens stay in the private chat, deletion leaves nothing that points back to
the person, and the log holds no personal data or secret."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import InviteCode, Person
from handlers.broadcasts import Broadcast
from handlers.invites import InviteFor
from handlers.menu import AgeChoice, DistrictChoice
from handlers.ui import LanguageChoice, MenuAction
from tests.conftest import ADMIN_ID
from tests.helpers import CONTENT, TEXTS, count, register, step

EN = TEXTS["en"]
PRIVATE_SCREENS = [
    MenuAction(action=action).pack()
    for action in ("home", "settings", "my_data", "link", "language", "district", "age", "delete", "delete_yes", "broadcasts", "invite")
] + [
    DistrictChoice(district="south").pack(),
    AgeChoice(age="0-3").pack(),
    InviteFor(role="coordinator").pack(),
    Broadcast(action="new").pack(),
    LanguageChoice(language="ru").pack(),
]


async def test_personal_screens_open_only_in_the_private_chat(emulator, running_bot):
    admin = emulator.user(ADMIN_ID, first_name="Ana", language_code="en")
    await register(emulator, admin, district="north", age="4-7")
    group = emulator.group("Parents of the Northern district")
    group.send(admin, emulator.group_command("start"))
    await emulator.settle()
    in_group = list(group.bot_messages)
    assert in_group, "the bot answered /start in the group"
    answers_before = len(admin.callback_answers)

    for data in PRIVATE_SCREENS:
        emulator.press_in_group(group, admin, data)
    await emulator.settle()

    assert [answer.text for answer in admin.callback_answers[answers_before:]] == [EN("privacy.private_only")] * len(PRIVATE_SCREENS)
    district = CONTENT.find(CONTENT.districts, "north").label("en")
    assert [message.text for message in group.bot_messages] == [message.text for message in in_group]  # nothing edited, nothing new
    assert not any(district in (message.text or "") or str(ADMIN_ID) in (message.text or "") for message in group.bot_messages)
    async with running_bot.session() as session:
        person = await session.scalar(select(Person))
        assert (person.district, person.child_age_group, person.language) == ("north", "4-7", "en")  # not deleted, not changed
        assert await count(session, InviteCode) == 0

    await step(emulator, lambda: emulator.press(admin, MenuAction(action="my_data").pack()))  # the same press in private works
    assert district in admin.last.text

"""A family's press on a survey's message, however old: one tap answers and shows the next
question in its place; the last shows the thanks. Each press is checked against the presser's
own wave (bot.services.surveys.answering), so an old, doubled or forged press changes nothing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.content import Content
from bot.services.surveys import answering
from bot.services.surveys.answering import Outcome
from handlers.surveys.common import SurveyPress, SurveyStep, question_message
from handlers.ui import show

REFUSALS = {Outcome.answered: "survey.already_answered", Outcome.closed: "survey.closed"}


def build_router() -> Router:
    router = Router(name="surveys_answers")
    router.callback_query.register(answer, SurveyPress.filter(F.step == SurveyStep.answer))
    router.callback_query.register(skip, SurveyPress.filter(F.step == SurveyStep.skip))
    router.callback_query.register(decline, SurveyPress.filter(F.step == SurveyStep.decline))
    return router


async def answer(callback: CallbackQuery, callback_data: SurveyPress, **data) -> None:
    content: Content = data["content"]
    l10n, person = data["l10n"], data["person"]
    survey = content.survey(callback_data.survey)
    wave = await answering.wave_of(data["session"], person.id, callback_data.survey, callback_data.round) if survey else None
    if survey is None:
        await callback.answer(l10n("survey.closed"))
        return
    outcome, following = await answering.answer(
        data["session"], wave, survey, callback_data.question, callback_data.option, person, data["platform"], now=data["clock"].now()
    )
    if outcome in REFUSALS:
        await callback.answer(l10n(REFUSALS[outcome]), show_alert=True)
    elif following is not None:
        await show(callback, *question_message(content, survey, callback_data.round, following, l10n.language))
    else:
        await show(callback, l10n("survey.thanks"))


async def skip(callback: CallbackQuery, callback_data: SurveyPress, **data) -> None:
    l10n, person = data["l10n"], data["person"]
    wave = await answering.wave_of(data["session"], person.id, callback_data.survey, callback_data.round)
    if await answering.skip(data["session"], wave, person, data["platform"], now=data["clock"].now()):
        await show(callback, l10n("survey.skipped"))
    else:
        await callback.answer(l10n("survey.closed"), show_alert=True)


async def decline(callback: CallbackQuery, callback_data: SurveyPress, **data) -> None:
    await answering.decline(data["session"], data["person"], data["platform"], now=data["clock"].now())
    await show(callback, data["l10n"]("survey.declined"))

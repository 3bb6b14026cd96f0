"""A survey question's message, the same for every family reading it in one language: the
survey's title on the first, the question, one button per answer; on the first also "skip this
survey" and "don't ask me again" (a row, within VK's six rows and ten buttons)."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Content
from bot.services.surveys.asking import Render
from bot.survey_content import Question, Survey
from handlers.ui import CallbackInt


class SurveyStep(StrEnum):
    answer = "a"
    skip = "s"
    decline = "d"


class SurveyPress(CallbackData, prefix="sv"):
    """A press on a survey's message: the survey and the wave's round name the presser's own wave."""

    step: SurveyStep
    survey: str
    round: CallbackInt
    question: str = ""
    option: str = ""


def question_message(content: Content, survey: Survey, number: int, question: Question, language: str) -> tuple[str, InlineKeyboardMarkup]:
    l10n = content.texts[language]
    place = survey.questions.index(question) + 1
    first = place == 1
    text = l10n("survey.question", number=place, total=len(survey.questions), question=question.text(language))
    if first:
        text = l10n("survey.intro", title=survey.title(language)) + "\n\n" + text

    def press(step: SurveyStep, option: str = "") -> str:
        return SurveyPress(step=step, survey=survey.id, round=number, question=question.id, option=option).pack()

    rows = [[InlineKeyboardButton(text=option.label(language), callback_data=press(SurveyStep.answer, option.id))] for option in question.options]
    if first:
        rows.append([
            InlineKeyboardButton(text=l10n("survey.skip"), callback_data=press(SurveyStep.skip)),
            InlineKeyboardButton(text=l10n("survey.decline"), callback_data=press(SurveyStep.decline)),
        ])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def first_question(content: Content, survey: Survey, number: int, language: str) -> tuple[str, dict[str, Any]]:
    text, markup = question_message(content, survey, number, survey.questions[0], language)
    return text, markup.model_dump(exclude_none=True)


def renderer(content: Content) -> Render:
    return partial(first_question, content)

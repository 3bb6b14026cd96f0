"""The surveys in content/surveys load with their planned results, and a mistake in a survey file
is told as `file:line: what — fix` by `python -m bot content check`."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.cli import main
from bot.config import PROJECT_ROOT
from handlers.surveys.common import SurveyPress, SurveyStep
from tests.helpers import CONTENT


def test_the_results_survey_names_the_four_planned_results_and_the_quality_survey_follows_consultations_and_courses():
    results, quality = CONTENT.survey("results"), CONTENT.survey("quality")
    assert results is not None and quality is not None
    assert results.waves == (0, 6, 12) and quality.after == ("consultation", "course")
    assert [(question.id, question.target, question.among) for question in results.questions] == [
        ("informed", 100, "all"), ("remote_use", 86, "all"), ("continuous", 72, "all"), ("accessible", 82, "rural"),
    ]
    for question in results.questions:  # "yes" counts as 1
        assert question.options[0].value == 1 and all(option.labels.keys() == {"ru", "ro", "en"} for option in question.options)


def test_the_longest_press_fits_telegrams_64_bytes():
    longest = SurveyPress(step=SurveyStep.answer, survey="s" * 16, round=999, question="q" * 16, option="o" * 16).pack()
    assert len(longest.encode()) <= 64


def test_each_mistake_in_a_survey_file_is_a_line_with_its_file_and_line(tmp_path: Path, capsys, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    path = content / "surveys" / "results.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('\ntarget = 86', '\ntarget = 186', 1).replace('\namong = "rural"', '\namong = "village"', 1)
    text = text.replace('ro = "Da, știu"\n', '', 1)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CONTENT_DIR", str(content))
    assert main(["content", "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    lines_of = {number for number, line in enumerate(text.splitlines(), 1) if line.startswith("[[question]]")}
    told = [line for line in lines if line.startswith(f"{path}:")]
    assert len(told) == 3, lines
    assert all(int(line.split(":")[1]) in lines_of or "label" in line for line in told)
    assert any("target = 186 is not a percentage — " in line for line in told)
    assert any("among = 'village' is neither 'all' nor 'rural' — " in line for line in told)
    assert any("[question.option.label] has no ro text — " in line for line in told)

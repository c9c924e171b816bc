"""Every core chapter (each one that teaches, between the background and the questions and answers)
ends with a Summary and with Exercises, each exercise with a worked solution."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def core_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = next(part for part in toc["parts"] if part["caption"] == "Chapters")["chapters"]
    files = [c["file"] for c in chapters]
    return files[1:-1]                     # not the background (first) nor the questions and answers (last)


def test_the_core_chapters_are_the_five_that_teach():
    assert core_chapters() == ["book/concepts", "book/math", "book/keras_code", "book/at_work", "book/outlook"]


@pytest.mark.parametrize("chapter", core_chapters())
def test_a_core_chapter_has_a_summary_and_exercises_each_with_a_solution(chapter):
    text = (ROOT / f"{chapter}.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert "Summary" in headings and "Exercises" in headings, headings
    assert headings.index("Exercises") == headings.index("Summary") + 1, "the Exercises follow the Summary"
    exercises = text.split("\n## Exercises\n", 1)[1]
    asked = re.findall(r"^(\d+)\. ", exercises.split("```", 1)[0], re.M)
    solved = re.findall(r"^```\{admonition\} Solution (\d+)\n:class: dropdown", exercises, re.M)
    assert asked and solved == asked, (asked, solved)

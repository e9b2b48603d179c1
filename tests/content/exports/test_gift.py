"""Moodle GIFT, read back the way Moodle's importer reads it."""

from __future__ import annotations

import pytest

from lafactoria.content.bodies import QuestionKind, Quiz, QuizQuestion
from lafactoria.content.exports.gift import escape, render_gift
from tests.content.exports.readers import read_gift
from tests.content.exports.samples import TRICKY, tricky_quiz


def test_every_question_comes_back_with_its_choices_answers_and_explanation() -> None:
    quiz = tricky_quiz()

    questions = read_gift(render_gift(quiz))

    assert len(questions) == len(quiz.questions)
    for read, original in zip(questions, quiz.questions, strict=True):
        assert read.text == original.question
        assert read.text_format == "plain"
        assert [answer for answer, _ in read.answers] == original.choices
        assert read.correct == original.answer_indexes
        assert read.general_feedback == original.explanation


def test_single_answer_questions_mark_the_one_right_choice() -> None:
    quiz = tricky_quiz()

    questions = read_gift(render_gift(quiz))

    singles = [
        read
        for read, original in zip(questions, quiz.questions, strict=True)
        if original.kind is QuestionKind.SINGLE
    ]
    assert singles
    assert all(sorted(weight for _, weight in read.answers) == [0, 0, 1] for read in singles)


def test_select_all_questions_share_the_marks_and_penalise_wrong_choices() -> None:
    quiz = tricky_quiz()

    questions = read_gift(render_gift(quiz))

    multiple = [
        read
        for read, original in zip(questions, quiz.questions, strict=True)
        if original.kind is QuestionKind.MULTIPLE
    ]
    assert [len(read.correct) for read in multiple] == [2, 3, 4]
    for read in multiple:
        weights = [weight for _, weight in read.answers]
        assert sum(w for w in weights if w > 0) == pytest.approx(1, abs=1e-6)
        assert {w for w in weights if w <= 0} == {-1}


def test_question_names_are_numbered_and_short() -> None:
    quiz = tricky_quiz()

    questions = read_gift(render_gift(quiz))

    assert [q.name.split(" ", 1)[0] for q in questions] == [
        f"Q{n}" for n in range(1, len(quiz.questions) + 1)
    ]
    assert all(len(q.name) <= 64 for q in questions)


@pytest.mark.parametrize("text", TRICKY)
def test_escaped_text_reads_back_unchanged(text: str) -> None:
    quiz = Quiz(
        title="t",
        questions=[
            QuizQuestion(
                question=text, choices=[text, "b", "c"], answer_indexes=[0], explanation=text
            )
        ],
    )

    (question,) = read_gift(render_gift(quiz))

    assert (question.text, question.answers[0][0], question.general_feedback) == (text, text, text)


def test_every_special_character_is_escaped() -> None:
    assert escape("a~b=c#d{e}f:g\\h\ni") == "a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\ni"

"""QTI 1.2 packages, unzipped and parsed with ElementTree."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from lafactoria.content.bodies import QuestionKind, Quiz, QuizQuestion
from lafactoria.content.exports.qti import assessment_ident, render_qti
from tests.content.exports.readers import QTI, parse_xml, read_qti
from tests.content.exports.samples import tricky_quiz

CONTENT_ID = "0123456789abcdef0123456789abcdef"
CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_every_question_comes_back_as_a_multiple_choice_item() -> None:
    quiz = tricky_quiz()

    package = read_qti(render_qti(quiz, content_id=CONTENT_ID, created_at=CREATED))

    assert package.title == quiz.title
    assert [
        (item.question, item.choices, item.answer_indexes, item.explanation)
        for item in package.items
    ] == [(q.question, q.choices, q.answer_indexes, q.explanation) for q in quiz.questions]


def test_select_all_questions_are_multiple_answer_items() -> None:
    quiz = tricky_quiz()

    package = read_qti(render_qti(quiz, content_id=CONTENT_ID, created_at=CREATED))

    kinds = [(item.question_type, item.cardinality) for item in package.items]
    assert kinds == [
        ("multiple_choice_question", "Single")
        if q.kind is QuestionKind.SINGLE
        else ("multiple_answers_question", "Multiple")
        for q in quiz.questions
    ]
    assert ("multiple_answers_question", "Multiple") in kinds


def test_the_package_is_a_manifest_and_one_assessment_file() -> None:
    data = render_qti(tricky_quiz(), content_id=CONTENT_ID, created_at=CREATED)

    ident = assessment_ident(CONTENT_ID)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["imsmanifest.xml", f"{ident}/{ident}.xml"]
        root = parse_xml(archive.read(f"{ident}/{ident}.xml"))
    assert not ident[0].isdigit()
    assert root.tag == f"{QTI}questestinterop"
    assert render_qti(tricky_quiz(), content_id=CONTENT_ID, created_at=CREATED) == data


def test_markup_is_escaped_as_text_and_characters_xml_forbids_are_dropped() -> None:
    quiz = Quiz(
        title="t",
        questions=[
            QuizQuestion(
                question="Is <script>alert('x')</script> & \"this\" run?",
                choices=["No\x0b\x00", "Yes", "Maybe"],
                answer_indexes=[0],
                explanation="It is shown as text.",
            )
        ],
    )

    data = render_qti(quiz, content_id=CONTENT_ID, created_at=CREATED)

    (item,) = read_qti(data).items
    assert item.question == "Is <script>alert('x')</script> & \"this\" run?"
    assert item.choices == ["No", "Yes", "Maybe"]
    assert b"<script>" not in data

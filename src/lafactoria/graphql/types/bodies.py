"""The typed body of each content type, as the ``ContentBody`` union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from lafactoria.content import bodies

# Registers the domain enums with Strawberry (in place), so fields and inputs can use them.
strawberry.enum(
    bodies.QuestionKind,
    name="QuestionKind",
    description="SINGLE: exactly one correct choice. MULTIPLE: select all that apply.",
)
strawberry.enum(
    bodies.PodcastFormat,
    name="PodcastFormat",
    description="CONVERSATION: two hosts taking turns. BRIEF: one speaker.",
)


@strawberry.type
class Section:
    heading: str
    content: str


@strawberry.type
class KeyTerm:
    term: str
    definition: str


@strawberry.type
class StudyGuide:
    title: str
    summary: str
    sections: list[Section]
    key_terms: list[KeyTerm]
    review_questions: list[str]


@strawberry.type
class Flashcard:
    front: str
    back: str


@strawberry.type
class FlashcardDeck:
    title: str
    cards: list[Flashcard]


@strawberry.type
class QuizQuestion:
    question: str
    kind: bodies.QuestionKind
    choices: list[str]
    answer_indexes: list[int] = strawberry.field(
        description="Indexes of the correct choices, from 0: one for SINGLE, two or more for "
        "MULTIPLE."
    )
    explanation: str

    @strawberry.field(
        description="Index of the correct choice, from 0 (for MULTIPLE: the first of "
        "answerIndexes)."
    )
    def answer_index(self) -> int:
        return self.answer_indexes[0]

    @strawberry.field(
        description="The text of the correct choice (for MULTIPLE: the first of correctAnswers)."
    )
    def correct_answer(self) -> str:
        return self.choices[self.answer_indexes[0]]

    @strawberry.field(description="The texts of every correct choice, in choice order.")
    def correct_answers(self) -> list[str]:
        return [self.choices[index] for index in sorted(self.answer_indexes)]


@strawberry.type
class Quiz:
    title: str
    questions: list[QuizQuestion]


@strawberry.type
class Speaker:
    name: str
    role: str


@strawberry.type
class ScriptLine:
    speaker: str
    text: str


@strawberry.type
class PodcastScript:
    title: str
    format: bodies.PodcastFormat
    target_minutes: int = strawberry.field(description="The length asked for, in minutes.")
    speakers: list[Speaker]
    lines: list[ScriptLine]
    estimated_minutes: float = strawberry.field(
        description="Spoken length at about 150 words per minute."
    )
    word_count: int = strawberry.field(description="Words spoken in all the lines.")


ContentBody = Annotated[
    StudyGuide | FlashcardDeck | Quiz | PodcastScript, strawberry.union("ContentBody")
]


def body_from_model(body: bodies.Body) -> StudyGuide | FlashcardDeck | Quiz | PodcastScript:
    match body:
        case bodies.StudyGuide():
            return StudyGuide(
                title=body.title,
                summary=body.summary,
                sections=[Section(heading=s.heading, content=s.content) for s in body.sections],
                key_terms=[KeyTerm(term=k.term, definition=k.definition) for k in body.key_terms],
                review_questions=list(body.review_questions),
            )
        case bodies.FlashcardDeck():
            return FlashcardDeck(
                title=body.title,
                cards=[Flashcard(front=c.front, back=c.back) for c in body.cards],
            )
        case bodies.Quiz():
            return Quiz(
                title=body.title,
                questions=[
                    QuizQuestion(
                        question=q.question,
                        kind=q.kind,
                        choices=list(q.choices),
                        answer_indexes=list(q.answer_indexes),
                        explanation=q.explanation,
                    )
                    for q in body.questions
                ],
            )
        case bodies.PodcastScript():
            return PodcastScript(
                title=body.title,
                format=body.format,
                target_minutes=body.target_minutes,
                speakers=[Speaker(name=s.name, role=s.role) for s in body.speakers],
                lines=[ScriptLine(speaker=line.speaker, text=line.text) for line in body.lines],
                estimated_minutes=body.estimated_minutes,
                word_count=body.word_count,
            )

"""Quizzes as Moodle GIFT text (Question bank → Import → GIFT format).

Each question becomes one multiple-choice block::

    ::Q1 Title::[plain]Question text{
    =[plain]right answer
    ~[plain]wrong answer
    ####[plain]explanation shown after answering
    }

A "select all that apply" question (``kind: multiple``) has no ``=``: each correct choice gets
its share of the marks (``~%50%`` for two, ``~%33.33333%`` for three) and each wrong one
``~%-100%``, so ticking everything scores nothing; Moodle makes it a multiple-answer question.

``~ = # { } :`` and ``\\`` are escaped with a backslash and line breaks are written as ``\\n``,
the escapes Moodle's importer undoes (``qformat_gift::escapedchar_pre``). Every text carries
the ``[plain]`` format marker: the text is shown as written, never interpreted as HTML, and a
choice that itself starts with ``[`` is not mistaken for a format marker.
"""

from __future__ import annotations

from lafactoria.content.bodies import QuestionKind, Quiz, QuizQuestion
from lafactoria.content.exports.text import printable

# Backslash first, so the escapes added for the others are not escaped again.
_ESCAPES = (
    ("\\", "\\\\"),
    ("~", "\\~"),
    ("=", "\\="),
    ("#", "\\#"),
    ("{", "\\{"),
    ("}", "\\}"),
    (":", "\\:"),
    ("\n", "\\n"),
)
_MAX_NAME = 60


def escape(text: str) -> str:
    """``text`` as GIFT source that Moodle reads back as exactly ``text``."""
    text = printable(text).strip()
    for char, escaped in _ESCAPES:
        text = text.replace(char, escaped)
    return text


# Moodle accepts only grades from its own list; these are its spellings of 1/2, 1/3 and 1/4.
_SHARES = {2: "50", 3: "33.33333", 4: "25"}


def _mark(question: QuizQuestion, index: int) -> str:
    if question.kind is QuestionKind.SINGLE:
        return "=" if index == question.answer_index else "~"
    if index in question.answer_indexes:
        return f"~%{_SHARES[len(question.answer_indexes)]}%"
    return "~%-100%"


def render_gift(quiz: Quiz) -> str:
    blocks = [f"// {' '.join(printable(quiz.title).split())}"]
    for number, question in enumerate(quiz.questions, 1):
        name = " ".join(printable(question.question).split())
        if len(name) > _MAX_NAME:
            name = name[: _MAX_NAME - 1].rstrip() + "…"
        lines = [f"::{escape(f'Q{number} {name}')}::[plain]{escape(question.question)}{{"]
        for index, choice in enumerate(question.choices):
            lines.append(f"{_mark(question, index)}[plain]{escape(choice)}")
        lines.append(f"####[plain]{escape(question.explanation)}")
        lines.append("}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"

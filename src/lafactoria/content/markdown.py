"""Markdown renderings of content bodies, for export and for clients that show text.

Body text comes from an LLM that was steered by user input, so it is treated as untrusted: it
keeps its inline formatting, but it can never open a heading, list, quote, code block, HTML block
or table of its own, nor end the bold label or table cell it sits in.
"""

from __future__ import annotations

import re
import string

from lafactoria.content.bodies import (
    Body,
    FlashcardDeck,
    PodcastFormat,
    PodcastScript,
    QuestionKind,
    Quiz,
    StudyGuide,
)

# Line starts that CommonMark (and GFM tables) would read as structure; a backslash before the
# first character turns each into plain text. Ordered-list numbers are handled apart because the
# escape goes after the digits.
_BLOCK_START = re.compile(
    r"""
      \#{1,6}(?:\s|$)        # heading
    | [>|]                   # block quote, table row
    | [-+*](?:\s|$)          # bullet
    | (?:[-*_]\s*){3,}$      # thematic break
    | [=-]+\s*$              # setext heading underline
    | ```|~~~                # code fence
    | <[A-Za-z/!?]           # HTML block
    | [\s|:-]*-[\s|:-]*$     # table delimiter row
    """,
    re.VERBOSE,
)
_ORDERED_ITEM = re.compile(r"\d{1,9}(?=[.)](?:\s|$))")
_TRAILING_HASHES = re.compile(r"(?<= )#+$")


def render_markdown(body: Body) -> str:
    """Render a body as a Markdown document ending in one newline."""
    if isinstance(body, StudyGuide):
        blocks = _study_guide(body)
    elif isinstance(body, FlashcardDeck):
        blocks = _flashcards(body)
    elif isinstance(body, Quiz):
        blocks = _quiz(body)
    else:
        blocks = _podcast(body)
    return "\n\n".join(blocks) + "\n"


def _study_guide(guide: StudyGuide) -> list[str]:
    blocks = [f"# {_heading(guide.title)}", _block(guide.summary)]
    for section in guide.sections:
        blocks += [f"## {_heading(section.heading)}", _block(section.content)]
    blocks.append("## Key terms")
    blocks.append(
        "\n".join(f"- **{_bold(kt.term)}**: {_inline(kt.definition)}" for kt in guide.key_terms)
    )
    if guide.review_questions:
        blocks.append("## Review questions")
        blocks.append(
            "\n".join(f"{n}. {_inline(q)}" for n, q in enumerate(guide.review_questions, 1))
        )
    return blocks


def _flashcards(deck: FlashcardDeck) -> list[str]:
    rows = ["| # | Front | Back |", "| --: | --- | --- |"]
    rows += [
        f"| {n} | {_cell(card.front)} | {_cell(card.back)} |"
        for n, card in enumerate(deck.cards, 1)
    ]
    return [f"# {_heading(deck.title)}", "\n".join(rows)]


def _quiz(quiz: Quiz) -> list[str]:
    blocks = [f"# {_heading(quiz.title)}"]
    key: list[str] = []
    for n, q in enumerate(quiz.questions, 1):
        blocks.append(f"## {n}. {_heading(q.question)}")
        if q.kind is QuestionKind.MULTIPLE:
            blocks.append("*Select all that apply.*")
        blocks.append(
            "\n".join(
                f"- **{letter}.** {_inline(choice)}"
                for letter, choice in zip(string.ascii_uppercase, q.choices, strict=False)
            )
        )
        answers = ", ".join(
            f"{string.ascii_uppercase[index]}. {_bold(q.choices[index])}"
            for index in sorted(q.answer_indexes)
        )
        key.append(f"{n}. **{answers}** — {_inline(q.explanation)}")
    blocks += ["## Answer key", "\n".join(key)]
    return blocks


def _podcast(script: PodcastScript) -> list[str]:
    cast = ", ".join(f"{_inline(s.name)} ({_inline(s.role)})" for s in script.speakers)
    kind = "Conversation" if script.format is PodcastFormat.CONVERSATION else "Brief"
    blocks = [
        f"# {_heading(script.title)}",
        f"*{kind} · target {script.target_minutes} min · "
        f"estimated {script.estimated_minutes:.1f} min at 150 words a minute*",
        f"**{'Speakers' if len(script.speakers) > 1 else 'Speaker'}:** {cast}",
    ]
    blocks += [f"**{_bold(line.speaker)}:** {_inline(line.text)}" for line in script.lines]
    return blocks


def _escape_line_start(line: str) -> str:
    if _BLOCK_START.match(line):
        return "\\" + line
    number = _ORDERED_ITEM.match(line)
    if number:
        return f"{number.group()}\\{line[number.end() :]}"
    return line


def _inline(text: str) -> str:
    """One line of text: newlines folded into spaces so it stays inside its heading or item."""
    return _escape_line_start(" ".join(text.split()))


def _block(text: str) -> str:
    """Paragraphs kept; leading indentation dropped so no line turns into a code block."""
    lines = [_escape_line_start(line.strip()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _heading(text: str) -> str:
    """Heading text; a trailing run of ``#`` would be read as the optional closing sequence."""
    return _TRAILING_HASHES.sub(r"\\\g<0>", _inline(text))


def _bold(text: str) -> str:
    """Text placed between ``**`` markers, which a stray asterisk would close early."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("*", "\\*")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")

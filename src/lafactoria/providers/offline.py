"""A provider that needs no network or key: templated content, streamed like a real model.

It lets the whole pipeline run (and be demonstrated) with no LLM configured. It reads what to
write from the request alone: ``schema_name`` is the content type and the prompt's data tags
give the topic and audience level (``providers.prompt_data.read_prompt_data``). The text is
generic study material about the topic, worded for the level, and the same input always gives
the same output. The model name marks stored content as templated.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from lafactoria.content.bodies import (
    Body,
    Flashcard,
    FlashcardDeck,
    KeyTerm,
    PodcastScript,
    Quiz,
    QuizQuestion,
    ScriptLine,
    Section,
    Speaker,
    StudyGuide,
)
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.providers.base import Completion, GenerationRequest, StreamChunk, TextDelta, Usage
from lafactoria.providers.errors import OutputTruncated, ProviderRejected
from lafactoria.providers.prompt_data import PromptData, read_prompt_data

_T = TypeVar("_T")


class OfflineProvider:
    """Templated answers for every content type, streamed in small chunks."""

    def __init__(self, chunk_delay: float = 0.0, *, chunk_size: int = 40) -> None:
        self._chunk_delay = chunk_delay
        self._chunk_size = chunk_size

    @property
    def name(self) -> str:
        return "offline"

    @property
    def model(self) -> str:
        return "offline-template-v1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        """Stream the JSON of a templated body, then one ``Completion``."""
        try:
            content_type = ContentType(request.schema_name)
            data = read_prompt_data(request.prompt)
        except ValueError as exc:
            raise ProviderRejected(f"the offline provider cannot read this request: {exc}") from exc
        topic = " ".join(data.topic.split())
        if not topic:
            raise ProviderRejected("the offline provider needs a topic")
        text = compose(content_type, data, topic).model_dump_json()

        words = list(re.finditer(r"\S+", text))
        cut = len(text) if len(words) <= request.max_tokens else words[request.max_tokens].start()
        for start in range(0, cut, self._chunk_size):
            # Sleeping (even for 0 s) yields to the loop, so cancellation and other jobs
            # are served between chunks as they would be with a real network stream.
            await asyncio.sleep(self._chunk_delay)
            yield TextDelta(text[start : min(start + self._chunk_size, cut)])
        if cut < len(text):
            raise OutputTruncated(f"the answer is longer than max_tokens={request.max_tokens}")
        usage = Usage(
            input_tokens=len(request.system.split()) + len(request.prompt.split()),
            output_tokens=len(words),
        )
        yield Completion(text=text, model=self.model, stop_reason="end_turn", usage=usage)

    async def aclose(self) -> None:
        """Nothing to release."""


def compose(content_type: ContentType, data: PromptData, topic: str) -> Body:
    """The templated body for ``content_type`` about ``topic``, worded for the audience."""
    picker = _Picker(content_type.value, topic, data.audience_level.value)
    level = _LEVELS[data.audience_level]
    if content_type is ContentType.STUDY_GUIDE:
        return _study_guide(topic, level, picker, data.additional_requirements)
    if content_type is ContentType.FLASHCARDS:
        return _flashcards(topic, level, picker)
    if content_type is ContentType.QUIZ:
        return _quiz(topic, level, picker)
    return _podcast(topic, level, picker)


class _Picker:
    """Deterministic choices keyed by the request, stable across processes (unlike ``hash``)."""

    def __init__(self, *parts: str) -> None:
        self._seed = "\x1f".join(parts)

    def _number(self, salt: str) -> int:
        digest = hashlib.sha256(f"{self._seed}\x1e{salt}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def pick(self, options: Sequence[_T], salt: str) -> _T:
        return options[self._number(salt) % len(options)]

    def shuffled(self, items: Sequence[_T], salt: str) -> list[_T]:
        order = sorted(range(len(items)), key=lambda i: self._number(f"{salt}:{i}"))
        return [items[i] for i in order]


@dataclass(frozen=True, slots=True)
class _Level:
    advanced: bool
    """Academic register (high school, college) rather than plain words (elementary, middle)."""
    extra: bool
    """Add the longer sentence each template offers (middle school, college)."""
    sections: int
    key_terms: int
    review_questions: int


_LEVELS = {
    AudienceLevel.ELEMENTARY: _Level(False, False, 3, 3, 3),
    AudienceLevel.MIDDLE_SCHOOL: _Level(False, True, 4, 4, 4),
    AudienceLevel.HIGH_SCHOOL: _Level(True, False, 4, 5, 4),
    AudienceLevel.COLLEGE: _Level(True, True, 5, 6, 5),
}


def _fill(template: str, topic: str, **names: str) -> str:
    # Only the template is parsed for fields, so braces in a user's topic are harmless.
    return template.format(topic=topic, Topic=topic[:1].upper() + topic[1:], **names)


# --- study guide -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SectionText:
    heading: tuple[str, str]
    body: tuple[str, str]
    extra: tuple[str, str]


_SECTIONS = (
    _SectionText(
        heading=("What is {topic}?", "Defining {topic}"),
        body=(
            "{Topic} is the big idea in this guide. We will learn what it means. We will see "
            "where it shows up. Let's start with the basics.",
            "A working definition of {topic} states what the subject covers, what it excludes "
            "and which questions it is used to answer. Establishing that scope first prevents "
            "later ideas from being learned as isolated facts.",
        ),
        extra=(
            "Knowing the basics first makes every later idea much easier to understand.",
            "Definitions in this area are themselves debated, so it is worth noting which "
            "features most accounts treat as essential and which reflect emphasis, tradition or "
            "disciplinary convention rather than agreement.",
        ),
    ),
    _SectionText(
        heading=("The main ideas", "Core concepts"),
        body=(
            "{Topic} has a few main ideas. Each idea is like a puzzle piece. Put the pieces "
            "together to see the whole picture. Try to name each piece in your own words.",
            "The study of {topic} rests on a small number of core concepts. Each explains part "
            "of the subject, and the relationships between them, such as which ideas depend on "
            "others, matter as much as the concepts themselves.",
        ),
        extra=(
            "Writing each idea on its own card can help you see how the ideas fit together.",
            "A careful treatment separates claims that are well established from those resting "
            "on limited evidence and from working assumptions, which are adopted for convenience "
            "and revised as understanding improves.",
        ),
    ),
    _SectionText(
        heading=("How it works", "Mechanisms and processes"),
        body=(
            "Things in {topic} happen in steps. One step leads to the next. If you know the "
            "order, you can explain what happens. Drawing the steps can help.",
            "Understanding {topic} means tracing how one change leads to another. Identifying "
            "causes, effects and the conditions under which they hold lets you explain "
            "observations and predict outcomes rather than merely describe them.",
        ),
        extra=(
            "When you can explain why each step happens, you understand the process well.",
            "Where several mechanisms operate at once, their interaction can produce outcomes "
            "that none would produce alone, which is why simple causal stories often fail to "
            "capture the behaviour of the system as a whole.",
        ),
    ),
    _SectionText(
        heading=("{Topic} around us", "Applications and examples"),
        body=(
            "You can find {topic} in real life. Look around your home or school. Ask where it "
            "might show up. Real examples make an idea easy to remember.",
            "Applications show how the principles of {topic} operate outside the textbook. "
            "Working through concrete cases tests whether a definition is precise enough to use "
            "and reveals details that abstract summaries tend to hide.",
        ),
        extra=(
            "Try to find one example of your own and explain it to a friend or family member.",
            "Comparing cases that differ in a single respect is especially informative, because "
            "it isolates the factor responsible for the difference instead of leaving several "
            "explanations equally plausible.",
        ),
    ),
    _SectionText(
        heading=("Tricky parts", "Common misconceptions"),
        body=(
            "Some ideas about {topic} sound right but are wrong. It is fine to make mistakes. "
            "Check your ideas with facts. Ask a teacher when you are not sure.",
            "Several intuitive beliefs about {topic} turn out to be inaccurate on closer "
            "inspection. Testing each claim against evidence, and asking what would show it to "
            "be wrong, is the most reliable way to catch these errors.",
        ),
        extra=(
            "Finding a mistake in your own thinking is a sign that you are learning something.",
            "Misconceptions persist partly because they are useful approximations in everyday "
            "situations, so correcting them requires showing where the approximation breaks "
            "down, not merely asserting the accepted account.",
        ),
    ),
    _SectionText(
        heading=("Why {topic} matters", "Significance and connections"),
        body=(
            "{Topic} helps us understand the world. It links to other things you learn. The "
            "more you know, the more links you will find. Keep asking questions!",
            "{Topic} connects to neighbouring subjects and to practical decisions. Seeing those "
            "connections explains why the subject is studied at all and makes its ideas easier "
            "to transfer to unfamiliar problems.",
        ),
        extra=(
            "Many jobs and hobbies use ideas like these, so what you learn now will help later.",
            "Its significance is also historical: the questions that motivated the field shaped "
            "its concepts, and knowing that history helps explain why current debates are framed "
            "the way they are.",
        ),
    ),
)

_KEY_TERMS = (
    (
        ("Main idea", "The most important point about a topic."),
        ("Concept", "An abstract idea that organises related facts and observations."),
    ),
    (
        ("Example", "A real case that shows an idea at work."),
        (
            "Application",
            "A concrete case in which general principles are used to explain or solve a problem.",
        ),
    ),
    (
        ("Evidence", "Facts that show whether something is true."),
        ("Evidence", "Observations or data that support or challenge a claim."),
    ),
    (
        ("Cause and effect", "When one thing makes another thing happen."),
        ("Causal mechanism", "The process by which one change in a system produces another."),
    ),
    (
        ("Mistake", "An idea that seems right but is not."),
        ("Misconception", "An intuitive but inaccurate belief that persists until it is tested."),
    ),
    (
        ("Model", "A simple picture or copy that helps explain how something works."),
        (
            "Model",
            "A simplified representation used to explain or predict behaviour within stated "
            "limits.",
        ),
    ),
)

_REVIEW_QUESTIONS = (
    (
        "What is {topic}, in your own words?",
        "How would you define {topic}, and what does your definition leave out?",
    ),
    (
        "What is one main idea about {topic}?",
        "Which core concepts of {topic} depend on one another, and how?",
    ),
    (
        "Where can you see {topic} in real life?",
        "Describe an application of {topic} and the principle it illustrates.",
    ),
    (
        "What is one mistake people make about {topic}?",
        "What evidence would change your mind about a common claim concerning {topic}?",
    ),
    (
        "How does {topic} connect to something else you have learned?",
        "How does {topic} connect to another subject you have studied?",
    ),
)


def _study_guide(
    topic: str, level: _Level, picker: _Picker, requirements: str | None
) -> StudyGuide:
    reg = int(level.advanced)
    # Always open with the definition and close with why it matters; the middle varies.
    middle = picker.shuffled(range(1, len(_SECTIONS) - 1), "sections")[: level.sections - 2]
    chosen = [0, *sorted(middle), len(_SECTIONS) - 1]
    sections = []
    for index in chosen:
        text = _SECTIONS[index]
        body = _fill(text.body[reg], topic)
        if level.extra:
            body = f"{body} {_fill(text.extra[reg], topic)}"
        sections.append(Section(heading=_fill(text.heading[reg], topic), content=body))

    subject = KeyTerm(
        term=_fill("{Topic}", topic),
        definition=(
            "The subject of this guide, defined in its first part."
            if level.advanced
            else "The subject of this study guide."
        ),
    )
    terms = [KeyTerm(term=t, definition=d) for t, d in (pair[reg] for pair in _KEY_TERMS)]
    summary = _fill(
        picker.pick(_SUMMARIES[reg], "summary") + (_SUMMARY_EXTRA[reg] if level.extra else ""),
        topic,
    )
    if requirements is not None and requirements.strip():
        summary = f"{summary} Requested focus: {' '.join(requirements.split())}"
    return StudyGuide(
        title=_fill(picker.pick(_GUIDE_TITLES, "title"), topic),
        summary=summary,
        sections=sections,
        key_terms=[subject, *terms[: level.key_terms - 1]],
        review_questions=[
            _fill(pair[reg], topic) for pair in _REVIEW_QUESTIONS[: level.review_questions]
        ],
    )


_GUIDE_TITLES = ("{Topic}: A Study Guide", "Study Guide: {Topic}", "Understanding {Topic}")
_SUMMARIES = (
    (
        "This guide is about {topic}. It tells you what it is and why it matters. It gives you "
        "words to know and questions to try.",
        "In this guide you will learn about {topic}. You will see the main ideas and some real "
        "examples. Then you can test yourself with the questions at the end.",
    ),
    (
        "This guide surveys {topic}, setting out its central concepts, the reasoning that "
        "connects them and the places where they apply, followed by key terminology and review "
        "questions.",
        "This guide examines {topic} from definition to application, tracing how its core "
        "concepts relate to one another and closing with terminology and questions for "
        "self-assessment.",
    ),
)
_SUMMARY_EXTRA = (
    " Read one part at a time and stop to check what you remember.",
    " Throughout, the emphasis falls on conceptual understanding and on the evidence behind "
    "each claim rather than on recall of isolated facts.",
)


# --- flashcards --------------------------------------------------------------------------

_CARDS = (
    (
        (
            "What is {topic}?",
            "It is the subject of this deck. Try to say what it means in one sentence.",
        ),
        (
            "Define {topic}.",
            "A working definition states what {topic} covers, what it excludes "
            "and which questions it answers.",
        ),
    ),
    (
        ("Why do we learn about {topic}?", "It helps us understand the world around us."),
        (
            "Why is {topic} studied?",
            "Because it explains observations and informs decisions, "
            "both in related fields and in practice.",
        ),
    ),
    (
        (
            "Where can you see {topic} in real life?",
            "Look at home, at school or outside. Real examples help you remember.",
        ),
        (
            "Application of {topic}",
            "A concrete case in which its principles are used to explain or solve a real problem.",
        ),
    ),
    (
        ("What is a main idea?", "The most important point about a topic."),
        ("Concept", "An abstract idea that organises related facts and observations."),
    ),
    (
        ("What is an example?", "A real case that shows an idea at work."),
        ("Causal mechanism", "The process by which one change in a system produces another."),
    ),
    (
        ("What is evidence?", "Facts that show whether something is true."),
        ("Evidence", "Observations or data that support or challenge a claim."),
    ),
    (
        (
            "What can you do if you are not sure about {topic}?",
            "Ask a question and check a good book or website.",
        ),
        (
            "Misconception",
            "An intuitive but inaccurate belief that persists until it is tested against evidence.",
        ),
    ),
    (
        (
            "How can you remember facts about {topic}?",
            "Say them in your own words and test yourself.",
        ),
        (
            "How do you test a claim about {topic}?",
            "Ask what evidence would show it to be false, then look for that evidence.",
        ),
    ),
    (
        (
            "What is a common mistake when learning about {topic}?",
            "Guessing without checking the facts.",
        ),
        (
            "Model",
            "A simplified representation used to explain or predict behaviour within "
            "stated limits.",
        ),
    ),
    (
        (
            "What is a good question to ask about {topic}?",
            "How does it work, and why does it matter?",
        ),
        (
            "How does {topic} connect to other fields?",
            "Through shared concepts, methods and "
            "problems; tracing those links helps you apply what you learn elsewhere.",
        ),
    ),
)
_DECK_TITLES = ("{Topic} Flashcards", "Flashcards: {Topic}", "{Topic}: Key Cards")


def _flashcards(topic: str, level: _Level, picker: _Picker) -> FlashcardDeck:
    reg = int(level.advanced)
    # The defining card leads; the rest are shuffled so decks for different topics differ.
    first, *rest = (pair[reg] for pair in _CARDS)
    cards = [first, *picker.shuffled(rest, "cards")]
    return FlashcardDeck(
        title=_fill(picker.pick(_DECK_TITLES, "title"), topic),
        cards=[Flashcard(front=_fill(f, topic), back=_fill(b, topic)) for f, b in cards],
    )


# --- quiz ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _QuestionText:
    question: str
    correct: str
    wrong: tuple[str, str, str]
    explanation: str


_QUESTIONS = (
    (
        _QuestionText(
            "What is a good first step when you learn about {topic}?",
            "Find out what the main idea is",
            ("Learn the hardest part first", "Skip all the new words", "Only look at pictures"),
            "Knowing the main idea first helps every other fact make sense.",
        ),
        _QuestionText(
            "Which approach best establishes a foundation for studying {topic}?",
            "Building a precise working definition and identifying its core concepts",
            (
                "Memorising isolated facts before seeing how they relate",
                "Starting with the most specialised edge cases",
                "Relying on a single summary without checking its scope",
            ),
            "A precise definition and its core concepts give later details a structure to "
            "attach to, which improves both understanding and retention.",
        ),
    ),
    (
        _QuestionText(
            "Why do examples help you learn about {topic}?",
            "They show the idea in real life",
            (
                "They make the lesson longer",
                "They replace the main idea",
                "They are only for tests",
            ),
            "An example shows how an idea works, so it is easier to remember.",
        ),
        _QuestionText(
            "What is the main value of working through applications of {topic}?",
            "They test whether its principles are precise enough to explain real cases",
            (
                "They remove the need to understand the underlying principles",
                "They mainly serve to make explanations longer",
                "They show that theory and practice are unrelated",
            ),
            "Applying principles to concrete cases exposes vague definitions and hidden "
            "assumptions that an abstract summary can conceal.",
        ),
    ),
    (
        _QuestionText(
            "Two books say different things about {topic}. What should you do?",
            "Check which one gives better facts",
            ("Pick the one with more pages", "Believe the first one you read", "Stop learning"),
            "Good facts, called evidence, help you decide which idea is right.",
        ),
        _QuestionText(
            "Two reputable sources make conflicting claims about {topic}. What is the most "
            "defensible response?",
            "Compare the evidence and methods behind each claim",
            (
                "Accept whichever source is more recent",
                "Split the difference between the two claims",
                "Dismiss both sources entirely",
            ),
            "Conflicts are resolved by the quality of evidence and method, not by recency, "
            "compromise or wholesale rejection.",
        ),
    ),
    (
        _QuestionText(
            "How can you check that you understand {topic}?",
            "Explain it in your own words",
            ("Read the title again", "Copy the text word for word", "Wait until the test"),
            "If you can explain it yourself, you really understand it.",
        ),
        _QuestionText(
            "Which activity gives the strongest evidence that you understand {topic}?",
            "Applying its ideas to a problem you have not seen before",
            (
                "Re-reading your notes until they feel familiar",
                "Highlighting the key sentences in a text",
                "Recognising its terms when you see them",
            ),
            "Transfer to an unfamiliar problem requires understanding, whereas familiarity and "
            "recognition are easily mistaken for it.",
        ),
    ),
    (
        _QuestionText(
            "Which habit helps you remember what you learn about {topic}?",
            "Practise a little every day",
            ("Study only the night before", "Read it once and stop", "Never ask questions"),
            "Short, regular practice helps your brain keep what you learn.",
        ),
        _QuestionText(
            "What is the most reliable way to test a claim about {topic}?",
            "Ask what evidence would show it to be false, then look for it",
            (
                "Collect only the examples that support it",
                "Check how many people already believe it",
                "Accept it if it seems intuitively plausible",
            ),
            "Seeking disconfirming evidence guards against confirmation bias; popularity and "
            "intuition are not evidence.",
        ),
    ),
)
_QUIZ_TITLES = (
    "Quiz: {Topic}",
    "{Topic}: Check Your Understanding",
    "How Well Do You Know {Topic}?",
)


def _quiz(topic: str, level: _Level, picker: _Picker) -> Quiz:
    reg = int(level.advanced)
    questions = []
    for number, pair in enumerate(_QUESTIONS):
        text = pair[reg]
        # Shuffle per question so the correct answer is not always in the same place.
        choices = picker.shuffled([text.correct, *text.wrong], f"choices:{number}")
        questions.append(
            QuizQuestion(
                question=_fill(text.question, topic),
                choices=choices,
                answer_index=choices.index(text.correct),
                explanation=_fill(text.explanation, topic),
            )
        )
    return Quiz(title=_fill(picker.pick(_QUIZ_TITLES, "title"), topic), questions=questions)


# --- podcast -------------------------------------------------------------------------------

_HOSTS = (("Maya", "Leo"), ("Ana", "Sam"), ("Priya", "Tom"), ("Kofi", "Lena"), ("Sofia", "Jamal"))
_ROLES = (("host", "co-host"), ("host", "guest expert"))
_PODCAST_TITLES = ("{Topic}, Explained", "Talking About {Topic}", "A Conversation About {Topic}")

# Lines alternate between the two speakers, starting with the host; "{a}" and "{b}" are their
# names.
_SCRIPT = (
    (
        "Hi everyone, and welcome to the show! I'm {a}.",
        "And I'm {b}. Today we are talking about {topic}.",
        "So, {b}, what is {topic}?",
        "It is a big idea with a few small parts. We will look at them one by one.",
        "Why should we learn about it?",
        "Because it helps us understand the world around us.",
        "Where might we see {topic} in real life?",
        "Look around at home, at school or outside. You may spot it!",
        "What is a mistake people make about {topic}?",
        "Some people guess instead of checking. Always check the facts.",
        "Great tip. How can our listeners remember all this?",
        "Tell a friend what you learned. Saying it out loud helps.",
        "Thanks, {b}! And thanks for listening, everyone. See you next time!",
    ),
    (
        "Welcome to the programme. I'm {a}, and this episode is devoted to {topic}.",
        "Thanks for having me. I'm {b}, and {topic} is a subject I find consistently "
        "rewarding to teach.",
        "Let's begin with scope. What does {topic} actually cover, and what does it leave out?",
        "A good working definition identifies the questions the subject answers. Starting there "
        "keeps later details from feeling like a list of unrelated facts.",
        "And what are the core concepts our listeners should hold on to?",
        "There are a handful, and the relationships between them matter as much as the concepts "
        "themselves, particularly which ideas depend on which.",
        "Where do students most often go wrong?",
        "They accept intuitive explanations without testing them. The habit to build is asking "
        "what evidence would show a claim to be false.",
        "How does {topic} show up outside the classroom?",
        "In applications that test whether the principles are precise enough to explain real "
        "cases, which is exactly where the subtleties become visible.",
        "If you had to leave listeners with one piece of advice, what would it be?",
        "Apply the ideas to a problem you have not seen before. That, far more than re-reading, "
        "shows whether you have understood.",
        "{b}, thank you. And to everyone listening, thanks for joining us.",
    ),
)
# Spliced in before the closing advice for the levels that get the longer version.
_SCRIPT_EXTRA = (
    (
        "Is there anything about {topic} that still surprises you?",
        "Yes! The more I learn, the more new questions I find. That is the fun part.",
    ),
    (
        "Are there questions about {topic} that remain genuinely open?",
        "Several. Specialists still disagree about how some of the core ideas should be "
        "interpreted, and those debates are a good way into the current literature.",
    ),
)


def _podcast(topic: str, level: _Level, picker: _Picker) -> PodcastScript:
    reg = int(level.advanced)
    host, other = picker.pick(_HOSTS, "hosts")
    roles = _ROLES[reg]
    lines = list(_SCRIPT[reg])
    if level.extra:
        lines[-3:-3] = _SCRIPT_EXTRA[reg]
    script = [
        ScriptLine(
            speaker=(host, other)[index % 2],
            text=_fill(line, topic, a=host, b=other),
        )
        for index, line in enumerate(lines)
    ]
    return PodcastScript(
        title=_fill(picker.pick(_PODCAST_TITLES, "title"), topic),
        speakers=[Speaker(name=host, role=roles[0]), Speaker(name=other, role=roles[1])],
        lines=script,
    )

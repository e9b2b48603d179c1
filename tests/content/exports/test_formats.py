"""The export registry: what each content type offers, and every rendering through it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lafactoria.content.bodies import Body, parse_body
from lafactoria.content.enums import ContentType
from lafactoria.content.exports.formats import (
    ExportFormat,
    export,
    exporters_for,
    file_name,
    find_exporter,
)
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.errors import NotFound
from tests.content.exports.readers import read_apkg, read_gift, read_qti, read_tsv
from tests.content.exports.samples import (
    tricky_deck,
    tricky_podcast,
    tricky_quiz,
    tricky_study_guide,
)

BODIES: dict[ContentType, Body] = {
    ContentType.STUDY_GUIDE: tricky_study_guide(),
    ContentType.FLASHCARDS: tricky_deck(),
    ContentType.QUIZ: tricky_quiz(),
    ContentType.PODCAST: tricky_podcast(),
}


def make_content(content_type: ContentType) -> Content:
    body = BODIES[content_type]
    return Content(
        id="0123456789abcdef0123456789abcdef",
        user_id="u" * 32,
        title=body.title,
        topic="Cells",
        content_type=content_type.value,
        audience_level="high_school",
        body=body.model_dump(mode="json"),
        markdown=render_markdown(body),
        provider="offline",
        model="offline-template-v1",
        created_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    )


def test_each_type_offers_the_formats_teachers_use() -> None:
    offered = {
        content_type: [exporter.format for exporter in exporters_for(content_type)]
        for content_type in ContentType
    }

    assert offered == {
        ContentType.STUDY_GUIDE: [ExportFormat.MARKDOWN, ExportFormat.JSON],
        ContentType.FLASHCARDS: [
            ExportFormat.APKG,
            ExportFormat.TSV,
            ExportFormat.MARKDOWN,
            ExportFormat.JSON,
        ],
        ContentType.QUIZ: [
            ExportFormat.GIFT,
            ExportFormat.QTI,
            ExportFormat.MARKDOWN,
            ExportFormat.JSON,
        ],
        ContentType.PODCAST: [ExportFormat.MARKDOWN, ExportFormat.JSON],
    }


def test_a_format_the_type_does_not_offer_is_not_found_naming_the_format() -> None:
    with pytest.raises(NotFound) as caught:
        find_exporter(ContentType.QUIZ, ExportFormat.APKG)

    assert caught.value.field == "format"
    assert "gift, qti, markdown, json" in caught.value.message


@pytest.mark.parametrize(
    ("content_type", "export_format", "expected_name", "media_type"),
    [
        (ContentType.FLASHCARDS, ExportFormat.APKG, ".apkg", "application/vnd.anki"),
        (
            ContentType.FLASHCARDS,
            ExportFormat.TSV,
            ".tsv",
            "text/tab-separated-values; charset=utf-8",
        ),
        (ContentType.QUIZ, ExportFormat.GIFT, ".gift.txt", "text/plain; charset=utf-8"),
        (ContentType.QUIZ, ExportFormat.QTI, ".qti.zip", "application/zip"),
        (ContentType.STUDY_GUIDE, ExportFormat.MARKDOWN, ".md", "text/markdown; charset=utf-8"),
        (ContentType.PODCAST, ExportFormat.JSON, ".json", "application/json"),
    ],
)
def test_exports_carry_their_media_type_and_a_file_name_from_the_title(
    content_type: ContentType, export_format: ExportFormat, expected_name: str, media_type: str
) -> None:
    exported = export(make_content(content_type), export_format)

    assert exported.media_type == media_type
    assert exported.file_name.endswith(expected_name)
    assert exported.data


def test_file_names_keep_the_words_of_any_script_and_nothing_else() -> None:
    gift = find_exporter(ContentType.QUIZ, ExportFormat.GIFT)

    assert file_name('Quiz: <cells> & "more" 🔬', gift) == "quiz-cells-more.gift.txt"
    assert file_name("Фотосинтез для 7 класса", gift) == "фотосинтез-для-7-класса.gift.txt"
    assert file_name("🔬 / ..", gift) == "content.gift.txt"


@pytest.mark.parametrize("content_type", list(ContentType))
def test_the_json_export_holds_the_stored_body(content_type: ContentType) -> None:
    content = make_content(content_type)

    document = json.loads(export(content, ExportFormat.JSON).data)

    body = dict(document.pop("body"))
    minutes = body.pop("estimated_minutes", None)
    assert parse_body(content_type, body) == BODIES[content_type]
    assert document == {
        "id": content.id,
        "title": content.title,
        "topic": "Cells",
        "content_type": content_type.value,
        "audience_level": "high_school",
        "provider": "offline",
        "model": "offline-template-v1",
        "created_at": "2025-03-04T05:06:07+00:00",
    }
    assert (minutes is not None) == (content_type is ContentType.PODCAST)


def test_the_podcast_script_labels_every_line_with_its_speaker() -> None:
    script = tricky_podcast()

    markdown = export(make_content(ContentType.PODCAST), ExportFormat.MARKDOWN).data.decode()

    assert markdown == render_markdown(script)
    assert "**Speakers:** Ada (host), Dr. Ōno (guest)" in markdown
    labelled = [line for line in markdown.splitlines() if line.startswith("**Ada:**")]
    assert len(labelled) == sum(line.speaker == "Ada" for line in script.lines)


def test_the_study_guide_is_its_markdown_rendering() -> None:
    exported = export(make_content(ContentType.STUDY_GUIDE), ExportFormat.MARKDOWN)

    assert exported.data.decode() == render_markdown(tricky_study_guide())


def test_package_and_text_formats_read_back_through_the_registry() -> None:
    deck, quiz = tricky_deck(), tricky_quiz()

    apkg = read_apkg(export(make_content(ContentType.FLASHCARDS), ExportFormat.APKG).data)
    tsv = read_tsv(export(make_content(ContentType.FLASHCARDS), ExportFormat.TSV).data.decode())
    gift = read_gift(export(make_content(ContentType.QUIZ), ExportFormat.GIFT).data.decode())
    qti = read_qti(export(make_content(ContentType.QUIZ), ExportFormat.QTI).data)

    assert len(apkg.notes) == len(tsv) == len(deck.cards)
    assert apkg.notes[0].tags == ["lafactoria", "high_school"]
    assert (
        [q.text for q in gift]
        == [item.question for item in qti.items]
        == [q.question for q in quiz.questions]
    )

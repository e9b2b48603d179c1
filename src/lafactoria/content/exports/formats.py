"""Which export formats each content type offers, and the one way to render them.

Transports list ``exporters_for(content_type)`` and call ``export(content, format)``; asking
for a format the content's type does not offer is a ``NotFound`` naming ``format``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from lafactoria.content.bodies import Body, FlashcardDeck, Quiz, parse_body
from lafactoria.content.enums import ContentType
from lafactoria.content.exports import anki, document, gift, qti, tsv
from lafactoria.content.markdown import render_markdown
from lafactoria.content.models import Content
from lafactoria.errors import NotFound

_B = TypeVar("_B", FlashcardDeck, Quiz)


class ExportFormat(StrEnum):
    APKG = "apkg"
    TSV = "tsv"
    GIFT = "gift"
    QTI = "qti"
    MARKDOWN = "markdown"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Exporter:
    format: ExportFormat
    label: str
    suffix: str
    """How the file name ends, e.g. ``.apkg``."""
    media_type: str
    render: Callable[[Content, Body], bytes]


@dataclass(frozen=True, slots=True)
class ExportFile:
    file_name: str
    media_type: str
    data: bytes


def _typed(body: Body, model: type[_B]) -> _B:
    # The registry pairs each renderer with the content types whose body it takes.
    if not isinstance(body, model):
        raise TypeError(f"expected a {model.__name__} body, got {type(body).__name__}")
    return body


def _apkg(content: Content, body: Body) -> bytes:
    return anki.render_apkg(
        _typed(body, FlashcardDeck),
        content_id=content.id,
        created_at=content.created_at,
        tags=["lafactoria", content.audience_level],
    )


def _tsv(content: Content, body: Body) -> bytes:
    return tsv.render_tsv(_typed(body, FlashcardDeck)).encode()


def _gift(content: Content, body: Body) -> bytes:
    return gift.render_gift(_typed(body, Quiz)).encode()


def _qti(content: Content, body: Body) -> bytes:
    return qti.render_qti(_typed(body, Quiz), content_id=content.id, created_at=content.created_at)


def _markdown(content: Content, body: Body) -> bytes:
    return render_markdown(body).encode()


def _json(content: Content, body: Body) -> bytes:
    return document.render_json(content, body).encode()


APKG = Exporter(ExportFormat.APKG, "Anki package", ".apkg", "application/vnd.anki", _apkg)
TSV = Exporter(
    ExportFormat.TSV,
    "Tab-separated text (Anki, Quizlet)",
    ".tsv",
    "text/tab-separated-values; charset=utf-8",
    _tsv,
)
# Moodle's GIFT importer offers only .txt files in its file picker.
GIFT = Exporter(ExportFormat.GIFT, "Moodle GIFT", ".gift.txt", "text/plain; charset=utf-8", _gift)
QTI = Exporter(ExportFormat.QTI, "QTI 1.2 package (Canvas)", ".qti.zip", "application/zip", _qti)
MARKDOWN = Exporter(
    ExportFormat.MARKDOWN, "Markdown", ".md", "text/markdown; charset=utf-8", _markdown
)
JSON = Exporter(ExportFormat.JSON, "JSON", ".json", "application/json", _json)

# The first format of each type is the one a teacher most likely wants.
EXPORTERS: dict[ContentType, tuple[Exporter, ...]] = {
    ContentType.STUDY_GUIDE: (MARKDOWN, JSON),
    ContentType.FLASHCARDS: (APKG, TSV, MARKDOWN, JSON),
    ContentType.QUIZ: (GIFT, QTI, MARKDOWN, JSON),
    ContentType.PODCAST: (MARKDOWN, JSON),
}


def exporters_for(content_type: ContentType | str) -> tuple[Exporter, ...]:
    return EXPORTERS[ContentType(content_type)]


def find_exporter(content_type: ContentType | str, export_format: ExportFormat) -> Exporter:
    for exporter in exporters_for(content_type):
        if exporter.format == export_format:
            return exporter
    offered = ", ".join(exporter.format.value for exporter in exporters_for(content_type))
    raise NotFound(
        f"{ContentType(content_type).value} content has no {export_format.value} export "
        f"(offered: {offered})",
        field="format",
    )


def export(content: Content, export_format: ExportFormat) -> ExportFile:
    """Render ``content`` as ``export_format``; ``NotFound`` when its type does not offer it."""
    exporter = find_exporter(content.content_type, export_format)
    body = parse_body(ContentType(content.content_type), content.body)
    return ExportFile(
        file_name=file_name(content.title, exporter),
        media_type=exporter.media_type,
        data=exporter.render(content, body),
    )


def file_name(title: str, exporter: Exporter) -> str:
    """A file name from the title: its words joined by hyphens, lower case, any script."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", title).lower())
    stem = "-".join(words)[:80].strip("-_") or "content"
    return stem + exporter.suffix

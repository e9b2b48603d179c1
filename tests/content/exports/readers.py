"""Read exports back the way the importing programs do, to compare them with stored content.

The GIFT reader follows Moodle's importer (``qformat_gift``): questions are separated by blank
lines, ``\\`` escapes are replaced by placeholders before the structure is split and restored
after, and a leading ``[format]`` marker is taken off each text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MANIFEST = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"

# -- Anki ----------------------------------------------------------------------------------


@dataclass
class AnkiNote:
    guid: str
    model_id: int
    fields: list[str]
    tags: list[str]
    deck_ids: list[int]


@dataclass
class AnkiPackage:
    names: list[str]
    notes: list[AnkiNote]
    decks: dict[int, str]
    models: dict[int, dict[str, Any]]


def read_apkg(data: bytes) -> AnkiPackage:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        collection = archive.read("collection.anki2")
        assert json.loads(archive.read("media")) == {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "collection.anki2"
        path.write_bytes(collection)
        db = sqlite3.connect(path)
        try:
            decks_json, models_json = db.execute("SELECT decks, models FROM col").fetchone()
            notes = []
            for note_id, guid, model_id, fields, tags in db.execute(
                "SELECT id, guid, mid, flds, tags FROM notes ORDER BY id"
            ):
                deck_ids = [
                    row[0] for row in db.execute("SELECT did FROM cards WHERE nid = ?", (note_id,))
                ]
                notes.append(AnkiNote(guid, model_id, fields.split("\x1f"), tags.split(), deck_ids))
        finally:
            db.close()
    decks = {int(key): value["name"] for key, value in json.loads(decks_json).items()}
    models = {int(key): value for key, value in json.loads(models_json).items()}
    return AnkiPackage(names=names, notes=notes, decks=decks, models=models)


def html_to_text(fragment: str) -> str:
    """What a reader sees of an HTML fragment made of escaped text and ``<br>`` breaks."""
    return html.unescape(fragment.replace("<br>", "\n"))


# -- TSV -----------------------------------------------------------------------------------


def read_tsv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), dialect="excel-tab"))


# -- GIFT ----------------------------------------------------------------------------------


@dataclass
class GiftQuestion:
    name: str
    text: str
    text_format: str
    answers: list[tuple[str, float]]
    """Each choice with its weight: 1 for the single right one, shares and -1 for multiple."""
    general_feedback: str

    @property
    def correct(self) -> list[int]:
        return [index for index, (_, weight) in enumerate(self.answers) if weight > 0]


_PLACEHOLDERS = {
    "\\:": "&&058;",
    "\\#": "&&035;",
    "\\=": "&&061;",
    "\\{": "&&123;",
    "\\}": "&&125;",
    "\\~": "&&126;",
    "\\n": "&&010",
}
_RESTORED = {
    "&&058;": ":",
    "&&035;": "#",
    "&&061;": "=",
    "&&123;": "{",
    "&&125;": "}",
    "&&126;": "~",
    "&&010": "\n",
}


_WEIGHT = re.compile(r"%(-?[0-9]{1,3}(?:\.[0-9]*)?)%")


def _escaped_pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _PLACEHOLDERS.items():
        text = text.replace(escaped, placeholder)
    return text.replace("&&092;", "\\")


def _escaped_post(text: str) -> str:
    for placeholder, char in _RESTORED.items():
        text = text.replace(placeholder, char)
    return text


def _with_format(text: str) -> tuple[str, str]:
    text = text.strip()
    fmt = "moodle"
    if text.startswith("["):
        end = text.find("]")
        if text[1:end] in {"moodle", "html", "plain", "markdown"}:
            fmt, text = text[1:end], text[end + 1 :]
    return _escaped_post(text).strip(), fmt


def read_gift(source: str) -> list[GiftQuestion]:
    blocks: list[list[str]] = [[]]
    for line in source.split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    questions = []
    for block in blocks:
        lines = [line for line in block if not line.strip().startswith("//")]
        if not lines:
            continue
        text = _escaped_pre("\n".join(lines).strip())
        assert text.startswith("::"), text
        name_end = text.index("::", 2)
        name = _escaped_post(text[2:name_end])
        text = text[name_end + 2 :].strip()
        start, finish = text.index("{"), text.index("}")
        assert finish == len(text) - 1, "one answer block, at the end"
        answer_text = text[start + 1 : finish].strip()
        question_text, text_format = _with_format(text[:start])
        separator = answer_text.rfind("####")
        general = ""
        if separator >= 0:
            general, _ = _with_format(answer_text[separator + 4 :])
            answer_text = answer_text[:separator].strip()
        assert "~" in answer_text, "multiple choice"
        answers = []
        for raw in answer_text.replace("=", "~=").split("~"):
            raw = raw.strip()
            if not raw:
                continue
            weight = 0.0
            if raw.startswith("="):
                weight, raw = 1.0, raw[1:]
            elif match := _WEIGHT.match(raw):
                weight, raw = float(match.group(1)) / 100, raw[match.end() :]
            answer, _ = _with_format(raw)
            answers.append((answer, weight))
        questions.append(GiftQuestion(name, question_text, text_format, answers, general))
    return questions


# -- QTI -----------------------------------------------------------------------------------


@dataclass
class QtiItem:
    question: str
    choices: list[str]
    answer_indexes: list[int]
    explanation: str
    question_type: str
    cardinality: str


@dataclass
class QtiPackage:
    title: str
    items: list[QtiItem]


def parse_xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314  # our own export under test, not outside input


def read_qti(data: bytes) -> QtiPackage:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = parse_xml(archive.read("imsmanifest.xml"))
        resource = manifest.find(f"{MANIFEST}resources/{MANIFEST}resource")
        assert resource is not None
        assert resource.get("type") == "imsqti_xmlv1p2"
        file = resource.find(f"{MANIFEST}file")
        assert file is not None
        root = parse_xml(archive.read(file.get("href", "")))
    assessment = root.find(f"{QTI}assessment")
    assert assessment is not None
    items = []
    for item in assessment.iter(f"{QTI}item"):
        fields = {
            field.findtext(f"{QTI}fieldlabel"): field.findtext(f"{QTI}fieldentry")
            for field in item.iter(f"{QTI}qtimetadatafield")
        }
        presentation = item.find(f"{QTI}presentation")
        assert presentation is not None
        question = _mattext(presentation.find(f"{QTI}material"))
        labels = list(presentation.iter(f"{QTI}response_label"))
        idents = [label.get("ident") for label in labels]
        choices = [_mattext(label.find(f"{QTI}material")) for label in labels]
        scoring = [
            condition
            for condition in item.iter(f"{QTI}respcondition")
            if condition.findtext(f"{QTI}setvar") == "100"
        ]
        assert len(scoring) == 1
        answer_idents = _required_choices(scoring[0].find(f"{QTI}conditionvar"), idents)
        response = presentation.find(f"{QTI}response_lid")
        assert response is not None
        feedback = item.find(f"{QTI}itemfeedback/{QTI}flow_mat/{QTI}material")
        items.append(
            QtiItem(
                question=question,
                choices=choices,
                answer_indexes=[idents.index(ident) for ident in answer_idents],
                explanation=_mattext(feedback),
                question_type=fields.get("question_type") or "",
                cardinality=response.get("rcardinality", ""),
            )
        )
    return QtiPackage(title=assessment.get("title", ""), items=items)


def _required_choices(condition: ET.Element | None, idents: list[str | None]) -> list[str]:
    """The choices a response must pick to score: one ``varequal``, or an ``and`` that names
    every choice, the wrong ones inside ``not``."""
    assert condition is not None
    every = condition.find(f"{QTI}and")
    if every is None:
        (only,) = condition.findall(f"{QTI}varequal")
        return [only.text or ""]
    picked = [node.text or "" for node in every.findall(f"{QTI}varequal")]
    avoided = [node.text or "" for node in every.findall(f"{QTI}not/{QTI}varequal")]
    assert sorted(picked + avoided) == sorted(ident or "" for ident in idents)
    return picked


def _mattext(material: ET.Element | None) -> str:
    assert material is not None
    mattext = material.find(f"{QTI}mattext")
    assert mattext is not None
    assert mattext.get("texttype") == "text/html"
    return html_to_text(mattext.text or "")

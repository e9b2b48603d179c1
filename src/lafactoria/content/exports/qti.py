"""Quizzes as IMS QTI 1.2 content packages, the zip Canvas imports as "QTI .zip file".

The package holds ``imsmanifest.xml`` and one assessment, ``<ident>/<ident>.xml``, with one
item per question in the dialect Canvas writes and reads: item metadata fields, a
``response_lid`` of choices, a 0-100 ``SCORE`` set to 100 by the right response, and the
explanation as general feedback. A single-answer question is a ``multiple_choice_question``
(single cardinality, right when the correct choice is picked); a "select all that apply" one
is a ``multiple_answers_question`` (multiple cardinality, right when exactly the correct
choices are picked). Other LMSs that import QTI 1.2
packages (Blackboard, D2L, Moodle with a plug-in) read the same structure.

Texts are HTML (``texttype="text/html"``, as Canvas writes them) made from the plain body
text, so markup in a generated answer is shown as text, never run; ElementTree then escapes
that HTML once more for XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from lafactoria.content.bodies import QuestionKind, Quiz
from lafactoria.content.exports.archive import build_zip
from lafactoria.content.exports.text import printable, to_html

QTI_NAMESPACE = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NAMESPACE = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
_POINTS = "1"


def assessment_ident(content_id: str) -> str:
    # XML ids may not start with a digit; the hex content id may.
    return f"lafactoria_{content_id}"


def render_qti(quiz: Quiz, *, content_id: str, created_at: datetime) -> bytes:
    """The quiz as a QTI 1.2 zip package."""
    ident = assessment_ident(content_id)
    return build_zip(
        [
            ("imsmanifest.xml", manifest_xml(ident)),
            (f"{ident}/{ident}.xml", assessment_xml(quiz, ident)),
        ],
        at=created_at,
    )


def assessment_xml(quiz: Quiz, ident: str) -> bytes:
    root = ET.Element("questestinterop", xmlns=QTI_NAMESPACE)
    assessment = ET.SubElement(root, "assessment", ident=ident, title=_attribute(quiz.title))
    section = ET.SubElement(assessment, "section", ident="root_section")
    for number, question in enumerate(quiz.questions, 1):
        item_ident = f"{ident}_q{number}"
        item = ET.SubElement(section, "item", ident=item_ident, title=f"Question {number}")
        choice_idents = [f"{item_ident}_c{index}" for index in range(len(question.choices))]

        single = question.kind is QuestionKind.SINGLE
        fields = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
        for label, entry in (
            (
                "question_type",
                "multiple_choice_question" if single else "multiple_answers_question",
            ),
            ("points_possible", _POINTS),
            ("original_answer_ids", ",".join(choice_idents)),
        ):
            field = ET.SubElement(fields, "qtimetadatafield")
            ET.SubElement(field, "fieldlabel").text = label
            ET.SubElement(field, "fieldentry").text = entry

        presentation = ET.SubElement(item, "presentation")
        _material(presentation, question.question)
        response = ET.SubElement(
            presentation,
            "response_lid",
            ident="response1",
            rcardinality="Single" if single else "Multiple",
        )
        render = ET.SubElement(response, "render_choice")
        for choice_ident, choice in zip(choice_idents, question.choices, strict=True):
            _material(ET.SubElement(render, "response_label", ident=choice_ident), choice)

        processing = ET.SubElement(item, "resprocessing")
        ET.SubElement(
            ET.SubElement(processing, "outcomes"),
            "decvar",
            maxvalue="100",
            minvalue="0",
            varname="SCORE",
            vartype="Decimal",
        )
        feedback = ET.SubElement(processing, "respcondition", attrib={"continue": "Yes"})
        ET.SubElement(ET.SubElement(feedback, "conditionvar"), "other")
        ET.SubElement(feedback, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
        correct = ET.SubElement(processing, "respcondition", attrib={"continue": "No"})
        condition = ET.SubElement(correct, "conditionvar")
        if single:
            _picked(condition, choice_idents[question.answer_index])
        else:
            every = ET.SubElement(condition, "and")
            for index, choice_ident in enumerate(choice_idents):
                parent = every if index in question.answer_indexes else ET.SubElement(every, "not")
                _picked(parent, choice_ident)
        ET.SubElement(correct, "setvar", action="Set", varname="SCORE").text = "100"

        general = ET.SubElement(item, "itemfeedback", ident="general_fb")
        _material(ET.SubElement(general, "flow_mat"), question.explanation)
    return _serialise(root)


def manifest_xml(ident: str) -> bytes:
    root = ET.Element("manifest", identifier=f"{ident}_manifest", xmlns=MANIFEST_NAMESPACE)
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resource = ET.SubElement(
        ET.SubElement(root, "resources"), "resource", identifier=ident, type="imsqti_xmlv1p2"
    )
    ET.SubElement(resource, "file", href=f"{ident}/{ident}.xml")
    return _serialise(root)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _picked(parent: ET.Element, choice_ident: str) -> None:
    ET.SubElement(parent, "varequal", respident="response1").text = choice_ident


def _material(parent: ET.Element, text: str) -> None:
    material = ET.SubElement(parent, "material")
    ET.SubElement(material, "mattext", texttype="text/html").text = to_html(text)


def _attribute(text: str) -> str:
    return " ".join(printable(text).split())

from __future__ import annotations

import pytest

from lafactoria.generation.parsing import extract_json
from lafactoria.providers.errors import OutputInvalid


@pytest.mark.parametrize(
    "text",
    [
        '{"title": "T", "n": [1, {"a": "}"}]}',
        '  \n{"title": "T", "n": [1, {"a": "}"}]}\n',
        '```json\n{"title": "T", "n": [1, {"a": "}"}]}\n```',
        '```\n{"title": "T", "n": [1, {"a": "}"}]}\n```',
        'Sure! Here is your quiz:\n```json\n{"title": "T", "n": [1, {"a": "}"}]}\n```\nEnjoy.',
        'Here it is: {"title": "T", "n": [1, {"a": "}"}]} Let me know if you need more.',
        'Braces {like these} come first, then {"title": "T", "n": [1, {"a": "}"}]}',
    ],
)
def test_finds_the_object(text: str) -> None:
    assert extract_json(text) == {"title": "T", "n": [1, {"a": "}"}]}


def test_tolerates_literal_newlines_inside_strings() -> None:
    assert extract_json('{"text": "line one\nline two"}') == {"text": "line one\nline two"}


def test_keeps_non_ascii_text() -> None:
    assert extract_json('{"title": "光合作用 🌱"}') == {"title": "光合作用 🌱"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no JSON object"),
        ("I cannot help with that.", "no JSON object"),
        ("[1, 2, 3]", "no JSON object"),
        ('["a", "b"]', "no JSON object"),
        ('{"title": "cut off', "not valid JSON"),
        ('{"title": "T", "questions": [{"q": 1}, {"q": 2', "not valid JSON"),
        ("```json\n{'single': 'quotes'}\n```", "not valid JSON"),
        ('"just a string"', "no JSON object"),
    ],
)
def test_rejects_text_without_an_object(text: str, message: str) -> None:
    with pytest.raises(OutputInvalid, match=message):
        extract_json(text)

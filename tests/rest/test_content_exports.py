"""Authenticated export downloads over real HTTP, parsed back and compared with the content."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from lafactoria.content.bodies import parse_body
from lafactoria.content.enums import ContentType
from lafactoria.content.markdown import render_markdown
from tests.content.exports.readers import html_to_text, read_apkg, read_gift, read_qti, read_tsv
from tests.rest.helpers import API, assert_error, generate, register
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer

EXPORTS_QUERY = """
query { contents(first: 10) { edges { node { contentType exports {
  format label mediaType fileName url
} } } } }"""


async def download(
    api: httpx.AsyncClient, headers: dict[str, str], link: dict[str, Any]
) -> httpx.Response:
    response = await api.get(link["url"], headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == link["media_type"]
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == link["file_name"]
    return response


async def test_flashcards_download_as_anki_and_tsv_with_every_card_intact(
    api: httpx.AsyncClient,
) -> None:
    headers = await register(api)
    content = await generate(api, headers, "flashcards")
    cards = [(card["front"], card["back"]) for card in content["body"]["cards"]]
    links = {link["format"]: link for link in content["exports"]}

    apkg = read_apkg((await download(api, headers, links["apkg"])).content)
    again = read_apkg((await download(api, headers, links["apkg"])).content)
    tsv = read_tsv((await download(api, headers, links["tsv"])).text)

    assert [tuple(html_to_text(field) for field in note.fields) for note in apkg.notes] == cards
    assert [note.guid for note in again.notes] == [note.guid for note in apkg.notes]
    assert [tuple(row) for row in tsv] == cards
    assert links["apkg"]["media_type"] == "application/vnd.anki"
    assert links["apkg"]["file_name"] == "cells-the-basics-1.apkg"


async def test_quizzes_download_as_gift_and_qti_with_every_question_intact(
    api: httpx.AsyncClient,
) -> None:
    headers = await register(api)
    content = await generate(api, headers, "quiz")
    questions = content["body"]["questions"]
    links = {link["format"]: link for link in content["exports"]}

    gift = read_gift((await download(api, headers, links["gift"])).text)
    qti = read_qti((await download(api, headers, links["qti"])).content)

    expected = [
        (q["question"], q["choices"], q["answer_indexes"], q["explanation"]) for q in questions
    ]
    assert [
        (q.text, [answer for answer, _ in q.answers], q.correct, q.general_feedback) for q in gift
    ] == expected
    assert [(i.question, i.choices, i.answer_indexes, i.explanation) for i in qti.items] == expected
    assert qti.title == content["title"]


@pytest.mark.parametrize("content_type", [ContentType.STUDY_GUIDE, ContentType.PODCAST])
async def test_prose_downloads_as_markdown_and_json(
    api: httpx.AsyncClient, content_type: ContentType
) -> None:
    headers = await register(api)
    content = await generate(api, headers, content_type.value)
    links = {link["format"]: link for link in content["exports"]}
    body = parse_body(content_type, content["body"])

    markdown = (await download(api, headers, links["markdown"])).text
    document = json.loads((await download(api, headers, links["json"])).content)

    assert list(links) == ["markdown", "json"]
    assert markdown == render_markdown(body) == content["markdown"]
    stored = dict(document["body"])
    stored.pop("estimated_minutes", None)
    assert parse_body(content_type, stored) == body
    assert (document["id"], document["title"]) == (content["id"], content["title"])


async def test_graphql_lists_the_same_export_links(
    api: httpx.AsyncClient, rest_server: RunningServer
) -> None:
    headers = await register(api)
    content = await generate(api, headers, "flashcards")
    graphql = GraphQLClient(rest_server, headers["Authorization"].removeprefix("Bearer "))

    data = await graphql.data(EXPORTS_QUERY)

    (node,) = [edge["node"] for edge in data["contents"]["edges"]]
    assert node["exports"] == [
        {
            "format": link["format"].upper(),
            "label": link["label"],
            "mediaType": link["media_type"],
            "fileName": link["file_name"],
            "url": link["url"],
        }
        for link in content["exports"]
    ]


async def test_downloads_need_the_owner_and_an_offered_format(api: httpx.AsyncClient) -> None:
    owner, intruder = await register(api), await register(api)
    content = await generate(api, owner, "quiz")
    path = f"{API}/content/{content['id']}/export"

    anonymous = await api.get(f"{path}/gift")
    theirs = await api.get(f"{path}/gift", headers=intruder)
    not_offered = await api.get(f"{path}/apkg", headers=owner)
    unknown = await api.get(f"{path}/docx", headers=owner)

    assert_error(anonymous, 401, "UNAUTHENTICATED")
    assert_error(theirs, 404, "NOT_FOUND", field="id")
    error = assert_error(not_offered, 404, "NOT_FOUND", field="format")
    assert "gift, qti, markdown, json" in error["message"]
    assert_error(unknown, 422, "INVALID_INPUT", field="format")


async def test_non_ascii_titles_keep_their_name_and_get_an_ascii_fallback(
    api: httpx.AsyncClient,
) -> None:
    headers = await register(api)
    content = await generate(api, headers, "podcast")
    link = content["exports"][0]

    response = await download(api, headers, link)

    assert link["file_name"] == "episode-1-cells-you.md"
    assert 'filename="episode-1-cells-you.md"' in response.headers["content-disposition"]

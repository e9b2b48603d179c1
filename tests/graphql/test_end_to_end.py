"""The whole product over a real server: accounts, generation, progress, reading, deleting."""

from __future__ import annotations

from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.support.databases import BACKENDS, Backend
from tests.support.graphql import (
    GENERATE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROGRESS,
    GraphQLClient,
    register_user,
)
from tests.support.server import RunningServer


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every test here runs on SQLite and on PostgreSQL."""
    value: Backend = request.param
    return value


@pytest.fixture(scope="module")
def server(backend_server: RunningServer) -> RunningServer:
    return backend_server


CREATE_KEY = """
mutation CreateKey($name: String!) {
  createApiKey(input: {name: $name}) {
    apiKey { id name displayPrefix lastUsedAt revokedAt }
    secret
    userErrors { code }
  }
}"""
VIEWER = "query { viewer { id email } }"
CONTENT = """
query Content($id: ID!) {
  content(id: $id) {
    id title topic contentType audienceLevel markdown provider model
    usage { inputTokens outputTokens }
    body {
      __typename
      ... on StudyGuide { summary sections { heading content } keyTerms { term definition } }
      ... on FlashcardDeck { cards { front back } }
      ... on Quiz { questions { question choices answerIndex correctAnswer explanation } }
      ... on PodcastScript { speakers { name role } lines { speaker text } estimatedMinutes }
    }
  }
}"""
CONTENTS = """
query Contents($first: Int!, $after: String, $filter: ContentFilterInput) {
  contents(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title contentType audienceLevel } }
  }
}"""
JOB = """
query Job($id: ID!) {
  generationJob(id: $id) {
    id status error { code message }
    attempts { provider model outcome errorCode latencyMs }
    content { id }
  }
}"""
DELETE = """
mutation Delete($id: ID!) {
  deleteContent(id: $id) { deletedId userErrors { field message code } }
}"""

BODY_TYPENAME = {
    "STUDY_GUIDE": "StudyGuide",
    "FLASHCARDS": "FlashcardDeck",
    "QUIZ": "Quiz",
    "PODCAST": "PodcastScript",
}


async def generate(
    client: GraphQLClient, topic: str, content_type: str = "QUIZ", level: str = "HIGH_SCHOOL"
) -> dict[str, Any]:
    data = await client.data(
        GENERATE,
        {"input": {"topic": topic, "contentType": content_type, "audienceLevel": level}},
    )
    payload = data["generateContent"]
    assert payload["userErrors"] == []
    job: dict[str, Any] = payload["job"]
    return job


def assert_well_formed_stream(events: list[dict[str, Any]]) -> None:
    sequences = [event["sequence"] for event in events]
    assert sequences == list(range(1, len(events) + 1)), "sequences are gapless from 1"
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress), "progress never decreases"
    assert [e["kind"] for e in events][:3] == ["QUEUED", "STARTED", "ATTEMPT"]
    assert events[-1]["kind"] in {"SUCCEEDED", "FAILED", "CANCELLED"}
    assert sum(e["kind"] in {"SUCCEEDED", "FAILED", "CANCELLED"} for e in events) == 1


async def test_viewer_sees_their_account(server: RunningServer) -> None:
    client = await register_user(server, email="  Ada.Lovelace@Example.ORG ")

    data = await client.data(VIEWER)

    assert data["viewer"]["email"] == "ada.lovelace@example.org"


@pytest.mark.parametrize("content_type", list(BODY_TYPENAME))
async def test_generate_each_type_and_follow_it_to_the_end(
    server: RunningServer, content_type: str
) -> None:
    client = await register_user(server)

    job = await generate(client, "The water cycle", content_type)
    events = await client.collect(PROGRESS, {"jobId": job["id"]})

    stream = [item["generationProgress"] for item in events]
    assert_well_formed_stream(stream)
    assert stream[-1]["kind"] == "SUCCEEDED"
    assert stream[-1]["progress"] == 1.0
    streamed_text = "".join(e["textDelta"] or "" for e in stream)
    assert streamed_text.startswith("{")
    assert "water cycle" in streamed_text.lower()
    content_id = stream[-1]["content"]["id"]

    content = (await client.data(CONTENT, {"id": content_id}))["content"]
    assert content["contentType"] == content_type
    assert content["body"]["__typename"] == BODY_TYPENAME[content_type]
    assert content["provider"] == "offline"
    assert content["model"] == "offline-template-v1"
    assert content["markdown"].startswith("# ")
    assert content["topic"] == "The water cycle"

    job_view = (await client.data(JOB, {"id": job["id"]}))["generationJob"]
    assert job_view["status"] == "SUCCEEDED"
    assert job_view["content"] == {"id": content_id}
    assert [a["outcome"] for a in job_view["attempts"]] == ["succeeded"]


async def test_quiz_body_has_one_correct_answer_per_question(server: RunningServer) -> None:
    client = await register_user(server)
    job = await generate(client, "Fractions", "QUIZ", "ELEMENTARY")
    stream = [e["generationProgress"] for e in await client.collect(PROGRESS, {"jobId": job["id"]})]

    content = (await client.data(CONTENT, {"id": stream[-1]["content"]["id"]}))["content"]

    questions = content["body"]["questions"]
    assert questions
    for question in questions:
        assert 3 <= len(question["choices"]) <= 5
        assert question["correctAnswer"] == question["choices"][question["answerIndex"]]
        assert question["explanation"]


@pytest.mark.parametrize("subprotocol", [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])
async def test_late_subscriber_gets_the_whole_history(
    server: RunningServer, subprotocol: str
) -> None:
    client = await register_user(server)
    job = await generate(client, "Volcanoes", "FLASHCARDS")
    live = [e["generationProgress"] for e in await client.collect(PROGRESS, {"jobId": job["id"]})]

    replayed = await client.collect(PROGRESS, {"jobId": job["id"]}, subprotocol=subprotocol)

    assert [e["generationProgress"] for e in replayed] == live


async def test_resume_after_a_sequence_skips_what_was_seen(server: RunningServer) -> None:
    client = await register_user(server)
    job = await generate(client, "Plate tectonics", "STUDY_GUIDE")
    everything = [
        e["generationProgress"] for e in await client.collect(PROGRESS, {"jobId": job["id"]})
    ]

    rest = await client.collect(PROGRESS, {"jobId": job["id"], "after": 3})

    assert [e["generationProgress"] for e in rest] == everything[3:]


async def test_api_key_authenticates_and_tracks_use(server: RunningServer) -> None:
    client = await register_user(server)
    created = (await client.data(CREATE_KEY, {"name": "ci"}))["createApiKey"]
    assert created["secret"].startswith(created["apiKey"]["displayPrefix"])
    assert created["apiKey"]["lastUsedAt"] is None

    with_key = GraphQLClient(server, created["secret"])
    viewer = (await with_key.data(VIEWER))["viewer"]
    keys = (await with_key.data("query { apiKeys { id name lastUsedAt } }"))["apiKeys"]

    assert viewer == (await client.data(VIEWER))["viewer"]
    assert keys == [
        {"id": created["apiKey"]["id"], "name": "ci", "lastUsedAt": keys[0]["lastUsedAt"]}
    ]
    assert keys[0]["lastUsedAt"] is not None
    job = await generate(with_key, "Magnetism", "PODCAST")
    events = await with_key.collect(PROGRESS, {"jobId": job["id"]})
    assert events[-1]["generationProgress"]["kind"] == "SUCCEEDED"


async def test_revoked_api_key_stops_working(server: RunningServer) -> None:
    client = await register_user(server)
    created = (await client.data(CREATE_KEY, {"name": "temp"}))["createApiKey"]
    revoke = """
    mutation R($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } userErrors { code } } }"""

    revoked = (await client.data(revoke, {"id": created["apiKey"]["id"]}))["revokeApiKey"]
    result = await GraphQLClient(server, created["secret"]).execute(VIEWER)

    assert revoked["apiKey"]["revokedAt"] is not None
    assert result.codes == ["UNAUTHENTICATED"]


async def test_listing_is_newest_first_paginated_and_filtered(server: RunningServer) -> None:
    client = await register_user(server)
    created = []
    for topic, content_type in [
        ("Alpha", "QUIZ"),
        ("Beta", "FLASHCARDS"),
        ("Gamma", "QUIZ"),
    ]:
        job = await generate(client, topic, content_type)
        stream = await client.collect(PROGRESS, {"jobId": job["id"]})
        created.append(stream[-1]["generationProgress"]["content"]["id"])

    first_page = (await client.data(CONTENTS, {"first": 2}))["contents"]
    second_page = (
        await client.data(CONTENTS, {"first": 2, "after": first_page["pageInfo"]["endCursor"]})
    )["contents"]
    quizzes = (await client.data(CONTENTS, {"first": 10, "filter": {"contentType": "QUIZ"}}))[
        "contents"
    ]
    searched = (await client.data(CONTENTS, {"first": 10, "filter": {"search": "gamm"}}))[
        "contents"
    ]

    assert first_page["totalCount"] == 3
    assert [e["node"]["id"] for e in first_page["edges"]] == created[::-1][:2]
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in second_page["edges"]] == created[:1]
    assert second_page["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["id"] for e in quizzes["edges"]] == [created[2], created[0]]
    assert quizzes["totalCount"] == 2
    assert [e["node"]["id"] for e in searched["edges"]] == [created[2]]


async def test_delete_removes_the_content(server: RunningServer) -> None:
    client = await register_user(server)
    job = await generate(client, "Gravity", "STUDY_GUIDE")
    stream = await client.collect(PROGRESS, {"jobId": job["id"]})
    content_id = stream[-1]["generationProgress"]["content"]["id"]

    deleted = (await client.data(DELETE, {"id": content_id}))["deleteContent"]
    again = (await client.data(DELETE, {"id": content_id}))["deleteContent"]

    assert deleted == {"deletedId": content_id, "userErrors": []}
    assert (await client.data(CONTENT, {"id": content_id}))["content"] is None
    assert again["userErrors"] == [
        {"field": "id", "message": "no such content", "code": "NOT_FOUND"}
    ]
    job_view = (await client.data(JOB, {"id": job["id"]}))["generationJob"]
    assert job_view["status"] == "SUCCEEDED"
    assert job_view["content"] is None


async def test_node_resolves_own_objects_by_global_id(server: RunningServer) -> None:
    client = await register_user(server)
    job = await generate(client, "Bees", "QUIZ")
    stream = await client.collect(PROGRESS, {"jobId": job["id"]})
    content_id = stream[-1]["generationProgress"]["content"]["id"]
    node = """query N($id: ID!) { node(id: $id) { __typename id ... on Content { title } } }"""

    as_content = (await client.data(node, {"id": content_id}))["node"]
    as_job = (await client.data(node, {"id": job["id"]}))["node"]

    assert as_content == {"__typename": "Content", "id": content_id, "title": as_content["title"]}
    assert as_job == {"__typename": "GenerationJob", "id": job["id"]}


async def test_another_user_cannot_see_subscribe_to_or_delete(server: RunningServer) -> None:
    owner = await register_user(server)
    intruder = await register_user(server)
    job = await generate(owner, "Secret plans", "QUIZ")
    stream = await owner.collect(PROGRESS, {"jobId": job["id"]})
    content_id = stream[-1]["generationProgress"]["content"]["id"]
    node = "query N($id: ID!) { node(id: $id) { id } }"

    assert (await intruder.data(CONTENT, {"id": content_id}))["content"] is None
    assert (await intruder.data(JOB, {"id": job["id"]}))["generationJob"] is None
    assert (await intruder.data(node, {"id": content_id}))["node"] is None
    assert (await intruder.data(CONTENTS, {"first": 10}))["contents"]["totalCount"] == 0
    deleted = (await intruder.data(DELETE, {"id": content_id}))["deleteContent"]
    assert deleted["userErrors"][0]["code"] == "NOT_FOUND"
    missing_job = "R2VuZXJhdGlvbkpvYjowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"
    with pytest.raises(TransportQueryError) as theirs:
        await intruder.collect(PROGRESS, {"jobId": job["id"]})
    with pytest.raises(TransportQueryError) as nobodys:
        await intruder.collect(PROGRESS, {"jobId": missing_job})
    assert theirs.value.errors == nobodys.value.errors
    assert theirs.value.errors is not None
    assert [e["extensions"]["code"] for e in theirs.value.errors] == ["NOT_FOUND"]
    assert (await owner.data(CONTENT, {"id": content_id}))["content"]["id"] == content_id

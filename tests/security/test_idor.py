"""Another user's IDs, on every field that takes one: the answer is exactly the answer for an
ID that does not exist, and nothing of the owner's is read, changed or started."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from graphql import GraphQLInputObjectType, GraphQLInputType, get_named_type
from lafactoria.graphql.ids import decode_any_id, encode_id
from lafactoria.graphql.schema import build_schema
from lafactoria.settings import Settings
from tests.security.attacker import (
    Account,
    count,
    generate,
    one,
    post,
    rows,
    sign_up,
    wait_for_job,
    wait_for_status,
    ws_operation,
)
from tests.security.providers import SelectiveProvider
from tests.support.graphql import GRAPHQL_WS
from tests.support.server import RunningServer, make_settings, run_server

BULK = """
mutation { bulkGenerateContent(input: {topics: ["Ebb", "Flow"], contentType: QUIZ,
  audienceLevel: COLLEGE}) { batchId userErrors { code } } }"""
CREATE_KEY = 'mutation { createApiKey(input: {name: "ci"}) { apiKey { id } } }'
PROGRESS = """
subscription($id: ID!) { generationProgress(jobId: $id) { sequence kind status } }"""


@dataclass
class World:
    owner: Account
    intruder: Account
    ids: dict[str, str]
    """The owner's objects, by kind: content, job, running_job, api_key, batch, user."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = make_settings(tmp_path_factory.mktemp("idor"), env="production")
    with run_server(settings, providers=[SelectiveProvider()]) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: RunningServer) -> World:
    async def build() -> World:
        owner, intruder = await sign_up(server), await sign_up(server)
        job = await generate(server, owner, "Tides")
        finished = await wait_for_job(server, job)
        running = await generate(server, owner, "Stall forever")
        batch = (await post(server, BULK, token=owner.token))["data"]["bulkGenerateContent"]
        key = (await post(server, CREATE_KEY, token=owner.token))["data"]["createApiKey"]
        # Settled, so that nothing but an attack could change what the tests compare.
        batch_jobs = await post(
            server,
            "query($id: ID!) { generationJobs(first: 10, batchId: $id) { edges { node { id } } } }",
            {"id": batch["batchId"]},
            token=owner.token,
        )
        for edge in batch_jobs["data"]["generationJobs"]["edges"]:
            await wait_for_job(server, edge["node"]["id"])
        await wait_for_status(server, running, "running")
        return World(
            owner=owner,
            intruder=intruder,
            ids={
                "content": encode_id("Content", finished["content_id"]),
                "job": job,
                "running_job": running,
                "api_key": key["apiKey"]["id"],
                "batch": batch["batchId"],
                "user": encode_id("User", owner.user_id),
            },
        )

    return asyncio.run(build())


def missing(global_id: str) -> str:
    """An ID of the same type that names nothing."""
    type_name, _ = decode_any_id(global_id)
    return encode_id(type_name, uuid.uuid4().hex)


# (root type, field, argument) -> (document taking $id, which of the owner's IDs to try)
ATTACKS: dict[tuple[str, str, str], list[tuple[str, str]]] = {
    ("Query", "content", "id"): [("query($id: ID!) { content(id: $id) { id title } }", "content")],
    ("Query", "generationJob", "id"): [
        ("query($id: ID!) { generationJob(id: $id) { id status } }", "job")
    ],
    ("Query", "generationJobs", "batchId"): [
        (
            "query($id: ID!) { generationJobs(first: 10, batchId: $id) "
            "{ totalCount edges { node { id } } } }",
            "batch",
        )
    ],
    ("Query", "node", "id"): [
        ("query($id: ID!) { node(id: $id) { id } }", kind)
        for kind in ("content", "job", "api_key", "user", "batch")
    ],
    ("Mutation", "revokeApiKey", "id"): [
        (
            "mutation($id: ID!) { revokeApiKey(id: $id) "
            "{ apiKey { id revokedAt } userErrors { field message code } } }",
            "api_key",
        )
    ],
    ("Mutation", "cancelGeneration", "jobId"): [
        (
            "mutation($id: ID!) { cancelGeneration(jobId: $id) "
            "{ job { id status } userErrors { field message code } } }",
            kind,
        )
        for kind in ("running_job", "job")
    ],
    ("Mutation", "deleteContent", "id"): [
        (
            "mutation($id: ID!) { deleteContent(id: $id) "
            "{ deletedId userErrors { field message code } } }",
            "content",
        )
    ],
    ("Mutation", "regenerateContent", "id"): [
        (
            'mutation($id: ID!) { regenerateContent(id: $id, instructions: "simpler words") '
            "{ job { id } userErrors { field message code } } }",
            "content",
        )
    ],
}
SUBSCRIPTION_ATTACKS = {("Subscription", "generationProgress", "jobId"): "job"}


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "extensions"}


def id_arguments() -> set[tuple[str, str, str]]:
    """Every root field argument that carries an ID, directly or inside an input object."""
    schema = build_schema(Settings(_env_file=None))._schema

    def carries_id(type_: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
        named = get_named_type(type_)
        if named.name == "ID":
            return True
        if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            return any(carries_id(f.type, seen | {named.name}) for f in named.fields.values())
        return False

    found = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            found |= {(root.name, name, arg) for arg, a in field.args.items() if carries_id(a.type)}
    return found


def test_every_id_taking_field_is_attacked() -> None:
    assert id_arguments() == set(ATTACKS) | set(SUBSCRIPTION_ATTACKS)


@pytest.mark.parametrize(
    ("document", "kind"),
    [attack for attacks in ATTACKS.values() for attack in attacks],
    ids=[f"{field}:{kind}" for (_, field, _), attacks in ATTACKS.items() for _, kind in attacks],
)
async def test_someone_elses_id_answers_like_a_missing_one(
    server: RunningServer, world: World, document: str, kind: str
) -> None:
    owners = world.ids[kind]
    before = snapshot(server, world)

    theirs = await post(server, document, {"id": owners}, token=world.intruder.token)
    nobodys = await post(server, document, {"id": missing(owners)}, token=world.intruder.token)

    assert without_cost(theirs) == without_cost(nobodys)
    assert owners.rstrip("=") not in str(theirs)
    assert snapshot(server, world) == before


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", GRAPHQL_WS])
async def test_someone_elses_job_cannot_be_followed(
    server: RunningServer, world: World, protocol: str
) -> None:
    owners = world.ids["job"]

    theirs = await ws_operation(
        server, PROGRESS, {"id": owners}, token=world.intruder.token, protocol=protocol
    )
    nobodys = await ws_operation(
        server, PROGRESS, {"id": missing(owners)}, token=world.intruder.token, protocol=protocol
    )

    assert [without_cost(message.get("payload") or {}) for message in theirs] == [
        without_cost(message.get("payload") or {}) for message in nobodys
    ]
    errors = [e for m in theirs for e in (m.get("payload") or {}).get("errors") or []]
    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
        ("no such generation job", "NOT_FOUND")
    ]


def snapshot(server: RunningServer, world: World) -> dict[str, Any]:
    """Everything an attack could change: the owner's rows and whatever the intruder has."""
    owner = world.owner.user_id
    return {
        "jobs": rows(
            server,
            "SELECT id, status, content_id FROM generation_jobs WHERE user_id = ? ORDER BY id",
            owner,
        ),
        "contents": rows(server, "SELECT id, title FROM contents WHERE user_id = ?", owner),
        "keys": rows(server, "SELECT id, revoked_at FROM api_keys WHERE user_id = ?", owner),
        "user": one(server, "SELECT email, disabled_at FROM users WHERE id = ?", owner),
        "intruder_jobs": count(server, "generation_jobs", world.intruder.user_id),
        "intruder_contents": count(server, "contents", world.intruder.user_id),
    }

"""Hostile text: invalid Unicode and control characters are refused by name, anything a person
writes (any script, emoji, right-to-left) is kept exactly, and limits count characters."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.security.attacker import GENERATE, QUIZ, Account, count, one, send, sign_up
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
def account(production: RunningServer) -> Account:
    return asyncio.run(sign_up(production))


async def generate_raw(server: RunningServer, account: Account, fields: dict[str, Any]) -> Any:
    """POST the JSON as written, so escapes like a lone surrogate reach the server unchanged."""
    body = json.dumps({"query": GENERATE, "variables": {"input": {**QUIZ, **fields}}})
    response = await send(
        server,
        "POST",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        token=account.token,
    )
    return response.json()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"topic": "Cells \ud800 and more"}, "topic", "topic contains invalid Unicode"),
        ({"topic": "Cells\u001b[31m"}, "topic", "topic must not contain control characters"),
        ({"topic": "Line\nbreak"}, "topic", "topic must not contain control characters"),
        (
            {"topic": "Cells", "additionalRequirements": "ok\u0007bell"},
            "additionalRequirements",
            "additionalRequirements must not contain control characters",
        ),
        (
            {"topic": "Cells", "additionalRequirements": "\udfff"},
            "additionalRequirements",
            "additionalRequirements contains invalid Unicode",
        ),
        ({"topic": "🧪" * 201}, "topic", "topic must be at most 200 characters"),
        (
            {"topic": "Cells", "idempotencyKey": "k" * 129},
            "idempotencyKey",
            "idempotencyKey must be at most 128 characters",
        ),
    ],
    ids=[
        "lone-surrogate",
        "terminal-escape",
        "newline-in-topic",
        "bell-in-requirements",
        "surrogate-in-requirements",
        "201-emoji",
        "long-idempotency-key",
    ],
)
async def test_hostile_text_is_refused_by_field_and_stores_nothing(
    production: RunningServer, account: Account, fields: dict[str, Any], field: str, message: str
) -> None:
    before = count(production, "generation_jobs", account.user_id)

    body = await generate_raw(production, account, fields)

    assert body["data"]["generateContent"] == {
        "job": None,
        "userErrors": [{"field": field, "message": message, "code": "INVALID_INPUT"}],
    }
    assert count(production, "generation_jobs", account.user_id) == before


async def test_any_script_and_emoji_are_kept_exactly(
    production: RunningServer, account: Account
) -> None:
    topic = "Ωmega 🧪 👩‍🔬 מים مرحبا नमस्ते 光合作用 e\u0301"
    requirements = "Line one\n\tindented 🌍\nالعربية"  # noqa: RUF001 -- Arabic on purpose

    body = await generate_raw(
        production,
        account,
        {
            "topic": f"  {topic}\u3000",
            "additionalRequirements": requirements,
            "idempotencyKey": "keep-1",
        },
    )

    job = body["data"]["generateContent"]["job"]
    stored = one(
        production,
        "SELECT topic, additional_requirements FROM generation_jobs WHERE idempotency_key = ?",
        "keep-1",
    )
    # Trimmed (the ideographic space too), otherwise byte for byte: no normalisation.
    assert stored == {"topic": topic, "additional_requirements": requirements}
    assert job["status"] == "QUEUED"


async def test_200_emoji_fit_the_200_character_topic(
    production: RunningServer, account: Account
) -> None:
    body = await generate_raw(production, account, {"topic": "🧪" * 200, "idempotencyKey": "emoji"})

    assert body["data"]["generateContent"]["userErrors"] == []


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        (
            'mutation { generateContent(input: {topic: "T", contentType: ESSAY, '
            "audienceLevel: COLLEGE}) { job { id } } }",
            None,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            GENERATE,
            {"input": {"topic": "T", "contentType": "ESSAY", "audienceLevel": "COLLEGE"}},
            "BAD_USER_INPUT",
        ),
        (
            GENERATE,
            {"input": {"topic": "T", "contentType": "quiz", "audienceLevel": "COLLEGE"}},
            "BAD_USER_INPUT",
        ),
        (GENERATE, {"input": {"topic": 7, **QUIZ}}, "BAD_USER_INPUT"),
        ('{ node(id: "not an id") { id } }', None, "BAD_USER_INPUT"),
        ('{ content(id: "R2VuZXJhdGlvbkpvYjphYmM") { id } }', None, "BAD_USER_INPUT"),
    ],
    ids=[
        "enum-literal",
        "enum-variable",
        "enum-case",
        "wrong-type",
        "malformed-id",
        "wrong-type-id",
    ],
)
async def test_enums_types_and_ids_are_strict(
    production: RunningServer,
    account: Account,
    document: str,
    variables: dict[str, Any] | None,
    code: str,
) -> None:
    before = count(production, "generation_jobs", account.user_id)

    response = await send(
        production, "POST", json={"query": document, "variables": variables}, token=account.token
    )

    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [code]
    assert count(production, "generation_jobs", account.user_id) == before

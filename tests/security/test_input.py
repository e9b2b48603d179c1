"""Hostile text: invalid Unicode and control characters are refused by name, anything a person
writes (any script, emoji, right-to-left) is kept exactly, and limits count characters."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.security.attacker import GENERATE, QUIZ, Account, count, one, rows, send, sign_up
from tests.support.graphql import LOGIN, REGISTER
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
        ({"topic": "\u200b\ufeff \u200b"}, "topic", "topic must not be empty"),
        (
            {"topic": "Cells \u202egnp.exe"},
            "topic",
            "topic must not contain text-direction control characters",
        ),
        (
            {"topic": "Cells", "additionalRequirements": "ok \u2066hidden\u2069"},
            "additionalRequirements",
            "additionalRequirements must not contain text-direction control characters",
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
        "invisible-only-topic",
        "bidi-override-topic",
        "bidi-isolate-requirements",
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


async def post_raw(
    server: RunningServer, document: str, variables_json: str, token: str | None = None
) -> Any:
    """POST variables written as JSON text, so that escapes like a lone surrogate arrive as
    sent (a JSON encoder would refuse them)."""
    body = f'{{"query": {json.dumps(document)}, "variables": {variables_json}}}'
    response = await send(
        server,
        "POST",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        token=token,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        (
            '{"input": {"email": "a@b.org", "password": "\\ud800abcdefghijk"}}',
            "password",
            "password contains invalid Unicode",
        ),
        (
            '{"input": {"email": "\\ud800@b.org", "password": "correct horse battery"}}',
            "email",
            "email contains invalid Unicode",
        ),
        (
            '{"input": {"email": "a\\u0000b@b.org", "password": "correct horse battery"}}',
            "email",
            "email must not contain control characters",
        ),
        (
            f'{{"input": {{"email": "{"a" * 65}@b.org", "password": "correct horse battery"}}}}',
            "email",
            "enter a valid email address",
        ),
        (
            f'{{"input": {{"email": "a@{"b" * 250}.org", "password": "correct horse battery"}}}}',
            "email",
            "enter a valid email address",
        ),
    ],
    ids=["surrogate-password", "surrogate-email", "nul-email", "long-local-part", "long-email"],
)
async def test_register_refuses_hostile_text_by_field(
    production: RunningServer, variables: str, field: str, message: str
) -> None:
    body = await post_raw(production, REGISTER, variables)

    assert body["data"]["register"] == {
        "user": None,
        "userErrors": [{"field": field, "message": message, "code": "INVALID_INPUT"}],
    }


@pytest.mark.parametrize(
    "variables",
    [
        '{"input": {"email": "\\ud800@b.org", "password": "correct horse battery"}}',
        '{"input": {"email": "EMAIL", "password": "\\udfffcorrect horse"}}',
    ],
    ids=["surrogate-email", "surrogate-password"],
)
async def test_login_with_hostile_text_is_a_wrong_password(
    production: RunningServer, account: Account, variables: str
) -> None:
    body = await post_raw(production, LOGIN, variables.replace("EMAIL", account.email))

    assert body["data"]["login"] == {
        "accessToken": None,
        "expiresAt": None,
        "user": None,
        "userErrors": [
            {
                "field": None,
                "message": "the email or password is incorrect",
                "code": "INVALID_CREDENTIALS",
            }
        ],
    }


CREATE_KEY = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret userErrors { field message code } }
}"""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\\ud800", "name contains invalid Unicode"),
        ("key\\u0000", "name must not contain control characters"),
        ("key\\u0007", "name must not contain control characters"),
        ("\\u202eyek", "name must not contain text-direction control characters"),
    ],
    ids=["surrogate", "nul", "bell", "bidi-override"],
)
async def test_api_key_names_refuse_hostile_text(
    production: RunningServer, account: Account, name: str, message: str
) -> None:
    body = await post_raw(
        production, CREATE_KEY, f'{{"input": {{"name": "{name}"}}}}', token=account.token
    )

    assert body["data"]["createApiKey"] == {
        "secret": None,
        "userErrors": [{"field": "name", "message": message, "code": "INVALID_INPUT"}],
    }
    assert rows(production, "SELECT id FROM api_keys WHERE user_id = ?", account.user_id) == []


SEARCH = "query($search: String) { contents(filter: {search: $search}) { totalCount } }"


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("\\ud800", "filter.search contains invalid Unicode"),
        ("\\u0000", "filter.search must not contain control characters"),
    ],
    ids=["surrogate", "nul"],
)
async def test_search_refuses_hostile_text(
    production: RunningServer, account: Account, search: str, message: str
) -> None:
    body = await post_raw(production, SEARCH, f'{{"search": "{search}"}}', token=account.token)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == message
    assert error["path"] == ["contents"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.search"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/auth/register",
            '{"email": "\\ud800@b.org", "password": "correct horse battery"}',
            "email",
        ),
        (
            "/api/v1/auth/register",
            '{"email": "a@b.org", "password": "\\ud800abcdefghijk"}',
            "password",
        ),
        ("/api/v1/auth/api-key", '{"name": "key\\u0007"}', "name"),
    ],
    ids=["register-email", "register-password", "api-key-bell"],
)
async def test_rest_refuses_hostile_text_with_422(
    production: RunningServer, account: Account, path: str, body: str, field: str
) -> None:
    async with httpx.AsyncClient(base_url=production.base_url, timeout=30) as http:
        response = await http.post(
            path,
            content=body.encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {account.token}",
            },
        )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", field)
    assert rows(production, "SELECT id FROM api_keys WHERE user_id = ?", account.user_id) == []

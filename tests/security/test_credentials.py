"""Forged, expired, revoked and misplaced credentials: every one is refused, nothing is stored."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.security.attacker import (
    GENERATE,
    QUIZ,
    Account,
    count,
    hs_token,
    operator_sql,
    post,
    send,
    sign_up,
    unsigned_token,
    ws_operation,
)
from tests.support.graphql import GRAPHQL_WS
from tests.support.server import RunningServer

CREATE_KEY = """
mutation { createApiKey(input: {name: "ci"}) { secret apiKey { id } userErrors { code } } }"""
REVOKE_KEY = (
    "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } userErrors { code } } }"
)
VIEWER = "{ viewer { id } }"


def claims(account: Account, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": account.user_id,
        "iss": "lafactoria",
        "aud": "lafactoria-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def server_secret(server: RunningServer) -> str:
    assert server.settings.secret_key is not None
    return server.settings.secret_key.get_secret_value()


def refused(body: dict[str, Any], message: str, path: str) -> None:
    assert body["data"] is None
    assert [(e["message"], e["extensions"], e.get("path")) for e in body["errors"]] == [
        (message, {"code": "UNAUTHENTICATED"}, [path])
    ]


FORGERIES = {
    "signed with another key": lambda a, secret: hs_token(claims(a), "not-the-server-secret" * 2),
    "alg none": lambda a, secret: unsigned_token({"alg": "none", "typ": "JWT"}, claims(a)),
    "alg None, signature kept": lambda a, secret: unsigned_token(
        {"alg": "None"}, claims(a), b"x" * 32
    ),
    "RS256 claimed (HS/RS confusion)": lambda a, secret: unsigned_token(
        {"alg": "RS256", "typ": "JWT"}, claims(a), b"\x01" * 256
    ),
    "HS512 with the real secret": lambda a, secret: hs_token(claims(a), secret, "HS512"),
    "another issuer": lambda a, secret: hs_token(claims(a, iss="evil"), secret),
    "another audience": lambda a, secret: hs_token(claims(a, aud="other-api"), secret),
    "no expiry": lambda a, secret: hs_token(claims(a, exp=None), secret),
    "no issued-at": lambda a, secret: hs_token(claims(a, iat=None), secret),
    "not valid yet": lambda a, secret: hs_token(
        claims(a, nbf=int(time.time()) + 3600, iat=int(time.time()) + 3600), secret
    ),
    "no subject": lambda a, secret: hs_token(claims(a, sub=None), secret),
    "garbage": lambda a, secret: "not.a.jwt",
    # Past what a datetime holds (year 33658): once "year 33658 is out of range" in the body.
    "expiry in year 33658": lambda a, secret: hs_token(claims(a, exp=10**12), secret),
}


@pytest.fixture(scope="module")
def victim(production: RunningServer) -> Account:
    """One account whose identity the forgeries claim."""
    return asyncio.run(sign_up(production))


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_tokens_are_refused_and_store_nothing(
    production: RunningServer, victim: Account, forgery: str
) -> None:
    token = FORGERIES[forgery](victim, server_secret(production))

    body = await post(production, GENERATE, {"input": {"topic": "Tides", **QUIZ}}, token=token)

    refused(body, "the access token is not valid", "generateContent")
    assert count(production, "generation_jobs", victim.user_id) == 0


async def test_an_expired_token_is_refused(production: RunningServer, victim: Account) -> None:
    past = int(time.time()) - 7200
    token = hs_token(claims(victim, iat=past, nbf=past, exp=past + 60), server_secret(production))

    body = await post(production, GENERATE, {"input": {"topic": "Tides", **QUIZ}}, token=token)

    refused(body, "the access token has expired", "generateContent")
    assert count(production, "generation_jobs", victim.user_id) == 0


@pytest.mark.parametrize("change", ["disable", "delete"])
async def test_a_disabled_or_deleted_account_loses_its_token_and_keys(
    production: RunningServer, change: str
) -> None:
    account = await sign_up(production)
    key = (await post(production, CREATE_KEY, token=account.token))["data"]["createApiKey"]

    if change == "disable":
        operator_sql(
            production,
            "UPDATE users SET disabled_at = '2026-01-01 00:00:00.000000' WHERE id = ?",
            account.user_id,
        )
    else:
        operator_sql(production, "DELETE FROM users WHERE id = ?", account.user_id)

    by_token = await post(production, VIEWER, token=account.token)
    by_key = await post(production, VIEWER, token=key["secret"])
    refused(by_token, "the account no longer exists or is disabled", "viewer")
    refused(by_key, "the API key is not valid", "viewer")


async def test_a_revoked_key_is_refused_over_http_and_both_websocket_protocols(
    production: RunningServer,
) -> None:
    account = await sign_up(production)
    key = (await post(production, CREATE_KEY, token=account.token))["data"]["createApiKey"]
    revoked = await post(production, REVOKE_KEY, {"id": key["apiKey"]["id"]}, token=account.token)
    assert revoked["data"]["revokeApiKey"]["userErrors"] == []

    over_http = await post(
        production, GENERATE, {"input": {"topic": "T", **QUIZ}}, token=key["secret"]
    )
    transport_ws = await ws_operation(production, VIEWER, {}, token=key["secret"])
    legacy_ws = await ws_operation(production, VIEWER, {}, token=key["secret"], protocol=GRAPHQL_WS)

    refused(over_http, "the API key is not valid", "generateContent")
    assert transport_ws == [{"type": "closed", "code": 4403}]
    assert legacy_ws == [{"type": "connection_error"}]
    assert count(production, "generation_jobs", account.user_id) == 0


async def test_an_expired_key_is_refused(production: RunningServer) -> None:
    account = await sign_up(production)
    key = (await post(production, CREATE_KEY, token=account.token))["data"]["createApiKey"]
    operator_sql(
        production,
        "UPDATE api_keys SET expires_at = '2020-01-01 00:00:00.000000' WHERE user_id = ?",
        account.user_id,
    )

    refused(
        await post(production, VIEWER, token=key["secret"]), "the API key is not valid", "viewer"
    )


async def test_a_key_with_a_wrong_secret_is_refused(production: RunningServer) -> None:
    account = await sign_up(production)
    key = (await post(production, CREATE_KEY, token=account.token))["data"]["createApiKey"]
    prefix, _, secret = key["secret"].rpartition("_")
    tampered = f"{prefix}_{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"

    refused(await post(production, VIEWER, token=tampered), "the API key is not valid", "viewer")


@pytest.mark.parametrize("parameter", ["access_token", "token", "authorization", "api_key"])
async def test_credentials_in_the_url_are_ignored(
    production: RunningServer, victim: Account, parameter: str
) -> None:
    value = f"Bearer {victim.token}" if parameter == "authorization" else victim.token

    response = await send(production, "GET", params={"query": VIEWER, parameter: value})

    assert response.status_code == 200
    refused(
        response.json(),
        "authentication required: send Authorization: Bearer <token>",
        "viewer",
    )


async def test_a_token_in_the_websocket_url_is_ignored(
    production: RunningServer, victim: Account
) -> None:
    messages = await ws_operation(
        _with_query(production, f"access_token={victim.token}"), VIEWER, {}, token=None
    )

    # No credential reached the server: the operation is refused as unauthenticated.
    assert messages == [{"type": "connection_ack"}, {"type": "closed", "code": 4401}]


def _with_query(server: RunningServer, query: str) -> RunningServer:
    class WithQuery(RunningServer):
        @property
        def ws_url(self) -> str:
            return f"{super().ws_url}?{query}"

    return WithQuery(app=server.app, settings=server.settings, port=server.port)


async def test_a_token_expiring_past_the_calendar_is_refused_over_websockets(
    production: RunningServer, victim: Account
) -> None:
    token = hs_token(claims(victim, exp=10**12), server_secret(production))

    over_http = await post(production, VIEWER, token=token)
    transport_ws = await ws_operation(production, VIEWER, {}, token=token)
    legacy_ws = await ws_operation(production, VIEWER, {}, token=token, protocol=GRAPHQL_WS)

    refused(over_http, "the access token is not valid", "viewer")
    assert transport_ws == [{"type": "closed", "code": 4403}]
    assert legacy_ws == [{"type": "connection_error"}]

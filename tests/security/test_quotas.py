"""Quota exhaustion: generation per user per minute and per day, the query cost budget, and
key rotation, which changes nothing because quotas belong to the user."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.attacker import GENERATE, QUIZ, codes, count, post, sign_up
from tests.support.server import RunningServer, make_settings, run_server

CREATE_KEY = 'mutation { createApiKey(input: {name: "rotated"}) { secret userErrors { code } } }'
BULK = """
mutation($topics: [String!]!) {
  bulkGenerateContent(input: {topics: $topics, contentType: QUIZ, audienceLevel: COLLEGE}) {
    jobs { id } userErrors { field message code }
  }
}"""
# 2 + 100 * (edges 1 + node 1) = 202 points, whatever the listing holds.
EXPENSIVE = "{ contents(first: 100) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("quotas"),
        env="production",
        limits={"generations_per_minute": 3, "query_cost_budget": 500},
        graphql={"max_query_cost": 400},
    )
    with run_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("daily"),
        env="production",
        limits={"generations_per_minute": 10, "generations_per_day": 2},
    )
    with run_server(settings) as running:
        yield running


async def start(server: RunningServer, token: str, topic: str, **extra: Any) -> dict[str, Any]:
    return await post(server, GENERATE, {"input": {"topic": topic, **QUIZ, **extra}}, token=token)


def rate_limited(body: dict[str, Any], message: str, path: str | None) -> int:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith(message), error
    assert error.get("path") == ([path] if path else None)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after: int = error["extensions"]["retryAfter"]
    return retry_after


def accepted(body: dict[str, Any]) -> bool:
    return body["data"]["generateContent"]["userErrors"] == []


async def test_generation_quota_is_per_user_and_survives_key_rotation(
    server: RunningServer,
) -> None:
    account = await sign_up(server)
    first = [await start(server, account.token, f"Topic {n}") for n in range(3)]

    over = await start(server, account.token, "One too many")
    new_key = (await post(server, CREATE_KEY, token=account.token))["data"]["createApiKey"]
    with_new_key = await start(server, new_key["secret"], "With a fresh key")

    assert all(accepted(body) for body in first)
    retry_after = rate_limited(
        over, "too many generation requests: at most 3 per minute", "generateContent"
    )
    assert 1 <= retry_after <= 60
    rate_limited(with_new_key, "too many generation requests", "generateContent")
    assert count(server, "generation_jobs", account.user_id) == 3


async def test_another_users_quota_is_their_own(server: RunningServer) -> None:
    busy, other = await sign_up(server), await sign_up(server)
    for n in range(3):
        assert accepted(await start(server, busy.token, f"Topic {n}"))

    assert accepted(await start(server, other.token, "Mine"))


async def test_bulk_requests_count_every_topic_and_are_all_or_nothing(
    server: RunningServer,
) -> None:
    account = await sign_up(server)

    too_many = await post(server, BULK, {"topics": ["A", "B", "C", "D"]}, token=account.token)
    three = await post(server, BULK, {"topics": ["A", "B", "C"]}, token=account.token)
    one_more = await start(server, account.token, "D")

    rate_limited(
        too_many, "too many generation requests: at most 3 per minute", "bulkGenerateContent"
    )
    assert three["data"]["bulkGenerateContent"]["userErrors"] == []
    rate_limited(one_more, "too many generation requests", "generateContent")
    assert count(server, "generation_jobs", account.user_id) == 3


async def test_an_idempotent_repeat_and_a_refused_request_cost_nothing(
    server: RunningServer,
) -> None:
    account = await sign_up(server)

    once = await start(server, account.token, "Tides", idempotencyKey="req-1")
    again = await start(server, account.token, "Tides", idempotencyKey="req-1")
    invalid = await start(server, account.token, "   ")
    others = [await start(server, account.token, f"Topic {n}") for n in range(2)]

    job = once["data"]["generateContent"]["job"]
    assert again["data"]["generateContent"]["job"]["id"] == job["id"]
    assert invalid["data"]["generateContent"]["userErrors"][0]["code"] == "INVALID_INPUT"
    assert all(accepted(body) for body in others)
    assert count(server, "generation_jobs", account.user_id) == 3


async def test_the_daily_quota(daily: RunningServer) -> None:
    account = await sign_up(daily)
    for n in range(2):
        assert accepted(await start(daily, account.token, f"Topic {n}"))

    over = await start(daily, account.token, "Third")

    retry_after = rate_limited(
        over, "daily generation quota reached: at most 2 per day", "generateContent"
    )
    assert 43_200 <= retry_after <= 2 * 86_400
    assert count(daily, "generation_jobs", account.user_id) == 2


async def test_the_cost_budget_runs_out_and_says_when_it_refills(server: RunningServer) -> None:
    account = await sign_up(server)

    first = await post(server, EXPENSIVE, token=account.token)
    second = await post(server, EXPENSIVE, token=account.token)
    third = await post(server, EXPENSIVE, token=account.token)
    new_key = (await post(server, CREATE_KEY, token=account.token))["data"]["createApiKey"]
    rotated = await post(server, EXPENSIVE, token=new_key["secret"])

    assert first["extensions"]["cost"] == {
        "requestedQueryCost": 202,
        "actualQueryCost": 2,
        "throttleStatus": {"maximumAvailable": 500, "currentlyAvailable": 298, "restoreRate": 8.33},
    }
    assert second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 96
    for refused in (third, rotated):
        # Refused before execution: no field ran, so the error has no path.
        retry_after = rate_limited(refused, "this query costs 202 points", None)
        assert 1 <= retry_after <= 60
        assert refused["extensions"]["cost"]["requestedQueryCost"] == 202
        assert refused["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 202


async def test_concurrent_idempotent_repeats_are_charged_once(server: RunningServer) -> None:
    account = await sign_up(server)

    # Six at once (the cost budget of 500 holds ten generations): twice the minute's quota.
    bodies = await asyncio.gather(
        *(start(server, account.token, "Tides", idempotencyKey="burst") for _ in range(6))
    )
    others = [await start(server, account.token, f"Topic {n}") for n in range(2)]

    assert len({body["data"]["generateContent"]["job"]["id"] for body in bodies}) == 1
    # The quota is 3 a minute: the repeats took one, so two more jobs still fit.
    assert all(accepted(body) for body in others), others
    assert count(server, "generation_jobs", account.user_id) == 3


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (
            GENERATE,
            {"input": {"topic": "Tides", "contentType": "ESSAY", "audienceLevel": "COLLEGE"}},
        ),
        (GENERATE, {"input": None}),
        (GENERATE, {"input": {"topic": "Tides", **QUIZ, "colour": "red"}}),
    ],
    ids=["wrong-enum", "null-for-non-null", "unknown-input-field"],
)
async def test_operations_refused_for_their_variables_are_not_charged(
    server: RunningServer, document: str, variables: dict[str, Any]
) -> None:
    account = await sign_up(server)

    refused = await post(server, document, variables, token=account.token)
    listing = await post(server, "{ viewer { id } }", token=account.token)

    assert codes(refused) == ["BAD_USER_INPUT"]
    assert refused["data"] is None
    assert refused["extensions"]["cost"]["throttleStatus"] is None
    status = listing["extensions"]["cost"]["throttleStatus"]
    assert status["currentlyAvailable"] >= status["maximumAvailable"] - 1
    assert count(server, "generation_jobs", account.user_id) == 0

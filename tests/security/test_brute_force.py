"""Password guessing: failed logins are limited per account and per client address, and a
forged X-Forwarded-For only counts when a configured proxy sent it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.security.attacker import PASSWORD, post, sign_up
from tests.support.graphql import LOGIN
from tests.support.server import RunningServer, make_settings, run_server

LIMITS = {"login_attempts_per_account": 2, "login_attempts_per_client": 5}


@contextmanager
def limited_server(tmp_path: Path, **overrides: Any) -> Iterator[RunningServer]:
    settings = make_settings(tmp_path, env="production", limits=LIMITS, **overrides)
    with run_server(settings) as running:
        yield running


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with limited_server(tmp_path) as running:
        yield running


async def login(
    server: RunningServer, email: str, password: str, *, forwarded_for: str | None = None
) -> dict[str, Any]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    return await post(
        server, LOGIN, {"input": {"email": email, "password": password}}, headers=headers
    )


def wrong_password(body: dict[str, Any]) -> bool:
    return body["data"]["login"]["userErrors"] == [
        {
            "field": None,
            "message": "the email or password is incorrect",
            "code": "INVALID_CREDENTIALS",
        }
    ]


def rate_limited(body: dict[str, Any]) -> int:
    """The ``retryAfter`` of a RATE_LIMITED answer (and that it is one)."""
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["message"].startswith("too many failed logins")
    assert error["path"] == ["login"]
    retry_after: int = error["extensions"]["retryAfter"]
    assert 0 < retry_after <= 900
    return retry_after


async def test_guessing_one_account_is_stopped_even_with_the_right_password(
    server: RunningServer,
) -> None:
    account = await sign_up(server)

    guesses = [await login(server, account.email, f"guess number {n}") for n in range(2)]
    right_password = await login(server, account.email, PASSWORD)

    assert all(wrong_password(body) for body in guesses)
    rate_limited(right_password)


async def test_an_unknown_email_is_limited_the_same_way(server: RunningServer) -> None:
    known = await sign_up(server)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.org"

    answers = {}
    for email in (known.email, unknown):
        guesses = [await login(server, email, f"guess number {n}") for n in range(2)]
        assert all(wrong_password(body) for body in guesses)
        answers[email] = await login(server, email, "guess number 4")

    # Same answer whether or not the account exists: the limit reveals nothing.
    rate_limited(answers[known.email])
    rate_limited(answers[unknown])
    assert answers[known.email]["errors"][0]["message"] == answers[unknown]["errors"][0]["message"]


async def test_the_account_limit_ignores_case_and_spacing(server: RunningServer) -> None:
    account = await sign_up(server)
    spellings = [account.email.upper(), f"  {account.email}\t"]

    for spelling in spellings:
        assert wrong_password(await login(server, spelling, "not the password"))

    rate_limited(await login(server, account.email, PASSWORD))


async def test_spraying_many_accounts_from_one_address_is_stopped(server: RunningServer) -> None:
    victims = [f"victim-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(6)]

    sprayed = [await login(server, email, "Summer2026!") for email in victims[:5]]
    sixth = await login(server, victims[5], "Summer2026!")

    assert all(wrong_password(body) for body in sprayed)
    rate_limited(sixth)


async def test_a_successful_login_does_not_count(server: RunningServer) -> None:
    account = await sign_up(server)

    logins = [await login(server, account.email, PASSWORD) for _ in range(3)]

    assert all(body["data"]["login"]["accessToken"] for body in logins)


async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn would otherwise apply X-Forwarded-For itself for loopback peers (as
    # `lafactoria serve` is told not to).
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")
    with limited_server(tmp_path) as server:
        victims = [f"victim-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(6)]

        sprayed = [
            await login(server, email, "Summer2026!", forwarded_for=f"203.0.113.{n}")
            for n, email in enumerate(victims[:5])
        ]
        sixth = await login(server, victims[5], "Summer2026!", forwarded_for="198.51.100.7")

        assert all(wrong_password(body) for body in sprayed)
        rate_limited(sixth)


async def test_a_trusted_proxy_names_the_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")
    with limited_server(tmp_path, trusted_proxies=["127.0.0.1"]) as server:
        victims = [f"victim-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(7)]

        sprayed = [
            # A client's own claim left of the proxy's entry does not change who it is.
            await login(server, email, "Summer2026!", forwarded_for=f"10.9.9.{n}, 203.0.113.5")
            for n, email in enumerate(victims[:5])
        ]
        same_client = await login(server, victims[5], "x" * 12, forwarded_for="203.0.113.5")
        other_client = await login(server, victims[6], "x" * 12, forwarded_for="203.0.113.6")

        assert all(wrong_password(body) for body in sprayed)
        rate_limited(same_client)
        assert wrong_password(other_client)

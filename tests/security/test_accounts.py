"""Accounts: guessable passwords refused, one account per person, and a login that does not
tell which emails exist, not even by how long it takes."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import pytest

from tests.security.attacker import PASSWORD, one, post, sign_up
from tests.support.graphql import LOGIN, REGISTER
from tests.support.server import RunningServer

WEAK = (
    "password is too easy to guess: avoid repeated characters, common passwords and your "
    "email address"
)


def fresh_email() -> str:
    return f"ada.{uuid.uuid4().hex[:8]}@example.org"


async def register(server: RunningServer, email: str, password: str) -> dict[str, Any]:
    body = await post(server, REGISTER, {"input": {"email": email, "password": password}})
    answer: dict[str, Any] = body["data"]["register"]
    return answer


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "password must be at least 10 characters"),
        ("aaaaaaaaaaaa", WEAK),
        ("abababababab", WEAK),
        ("password123", WEAK),
        ("QWERTYUIOP", WEAK),
        ("x" * 257, "password must be at most 256 characters"),
    ],
)
async def test_guessable_passwords_are_refused(
    production: RunningServer, password: str, message: str
) -> None:
    email = fresh_email()

    answer = await register(production, email, password)

    assert answer == {
        "user": None,
        "userErrors": [{"field": "password", "message": message, "code": "INVALID_INPUT"}],
    }
    assert one(production, "SELECT id FROM users WHERE email = ?", email) is None


async def test_a_password_made_of_the_email_is_refused(production: RunningServer) -> None:
    email = fresh_email()

    answer = await register(production, email, f"{email.split('@')[0]}!2026")

    assert answer["userErrors"][0]["message"] == WEAK


async def test_one_person_cannot_register_twice_with_another_spelling(
    production: RunningServer,
) -> None:
    email = fresh_email()
    assert (await register(production, email, PASSWORD))["userErrors"] == []
    local, domain = email.split("@")
    # Upper case, spacing, and full-width letters (what NFKC folds) are the same address.
    full_width = "".join(chr(ord(char) + 0xFEE0) if char.isalpha() else char for char in local)
    spellings = [email.upper(), f"  {email}\t", f"{full_width}@{domain}"]

    answers = [await register(production, spelling, PASSWORD) for spelling in spellings]

    for answer in answers:
        assert answer["userErrors"] == [
            {
                "field": "email",
                "message": "an account with this email already exists",
                "code": "CONFLICT",
            }
        ]


async def test_control_characters_in_an_email_are_refused(production: RunningServer) -> None:
    answer = await register(production, f"ada\x00{fresh_email()}", PASSWORD)

    assert answer["userErrors"] == [
        {
            "field": "email",
            "message": "email must not contain control characters",
            "code": "INVALID_INPUT",
        }
    ]


async def test_an_unknown_email_takes_as_long_as_a_wrong_password(
    production: RunningServer,
) -> None:
    account = await sign_up(production)

    async def timed(email: str) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        body = await post(
            production, LOGIN, {"input": {"email": email, "password": "wrong password!"}}
        )
        return time.perf_counter() - started, body

    known = [await timed(account.email) for _ in range(3)]
    unknown = [await timed(fresh_email()) for _ in range(3)]

    assert {str(body["data"]) for _, body in known + unknown} == {str(known[0][1]["data"])}
    # Both check an Argon2 hash; without the dummy hash an unknown email would answer in a
    # fraction of the time.
    assert statistics.median(t for t, _ in unknown) > 0.5 * statistics.median(t for t, _ in known)

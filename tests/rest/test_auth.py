"""``/api/v1/auth`` over real HTTP: register, OAuth2 password login, API keys, me."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.rest.helpers import API, PASSWORD, assert_error, register
from tests.support.server import make_settings, run_server


def new_email() -> str:
    return f"Auth-{uuid.uuid4().hex[:10]}@Example.org"


async def test_register_creates_an_account_with_a_normalised_email(api: httpx.AsyncClient) -> None:
    email = new_email()

    response = await api.post(
        f"{API}/auth/register", json={"email": f"  {email} ", "password": PASSWORD}
    )

    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "created_at"}
    assert user["email"] == email.lower()
    assert len(user["id"]) == 32
    int(user["id"], 16)


async def test_registering_an_email_twice_is_a_conflict(api: httpx.AsyncClient) -> None:
    email = new_email()
    await api.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})

    again = await api.post(
        f"{API}/auth/register", json={"email": email.upper(), "password": PASSWORD}
    )

    assert_error(again, 409, "CONFLICT", field="email")


async def test_register_rejects_bad_input_with_the_field_at_fault(api: httpx.AsyncClient) -> None:
    weak = await api.post(f"{API}/auth/register", json={"email": new_email(), "password": "short"})
    bad_email = await api.post(
        f"{API}/auth/register", json={"email": "not-an-email", "password": PASSWORD}
    )
    missing = await api.post(f"{API}/auth/register", json={"email": new_email()})

    assert "at least 10" in assert_error(weak, 422, "INVALID_INPUT", field="password")["message"]
    assert_error(bad_email, 422, "INVALID_INPUT", field="email")
    error = assert_error(missing, 422, "INVALID_INPUT", field="password")
    assert error["details"] == [{"field": "password", "message": "Field required"}]


async def test_login_is_an_oauth2_password_grant(api: httpx.AsyncClient) -> None:
    email = new_email()
    await api.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})

    response = await api.post(
        f"{API}/auth/login",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
    )

    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert 0 < token["expires_in"] <= 30 * 60
    assert token["user"]["email"] == email.lower()
    me = await api.get(
        f"{API}/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.json() == token["user"]


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(
    api: httpx.AsyncClient,
) -> None:
    email = new_email()
    await api.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})

    wrong = await api.post(
        f"{API}/auth/login", data={"username": email, "password": "wrong password!"}
    )
    unknown = await api.post(
        f"{API}/auth/login", data={"username": new_email(), "password": PASSWORD}
    )

    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_login_without_the_form_fields_is_invalid(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{API}/auth/login", json={"username": "a", "password": "b"})

    error = assert_error(response, 422, "INVALID_INPUT", field="username")
    assert {detail["field"] for detail in error["details"]} == {"username", "password"}


async def test_me_without_credentials_is_a_401_challenge(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{API}/auth/me")

    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_refused_credential_says_invalid_token(api: httpx.AsyncClient) -> None:
    forged = await api.get(f"{API}/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    bad_key = await api.get(f"{API}/auth/me", headers={"Authorization": "Bearer lf_abc_def"})

    for response in (forged, bad_key):
        assert_error(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_an_api_key_is_shown_once_and_authenticates(api: httpx.AsyncClient) -> None:
    headers = await register(api)
    me = (await api.get(f"{API}/auth/me", headers=headers)).json()

    created = await api.post(
        f"{API}/auth/api-key",
        headers=headers,
        json={"name": "grading script", "expires_in_days": 7},
    )

    assert created.status_code == 201
    key = created.json()
    assert key["name"] == "grading script"
    assert key["key"].startswith(key["display_prefix"])
    assert key["display_prefix"].startswith("lf_")
    assert key["expires_at"] is not None
    with_key = await api.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {key['key']}"})
    assert with_key.json() == me


async def test_an_api_key_needs_a_caller_and_a_valid_name(api: httpx.AsyncClient) -> None:
    headers = await register(api)

    anonymous = await api.post(f"{API}/auth/api-key", json={"name": "x"})
    blank = await api.post(f"{API}/auth/api-key", headers=headers, json={"name": "   "})
    too_long = await api.post(
        f"{API}/auth/api-key", headers=headers, json={"name": "x", "expires_in_days": 10**9}
    )
    zero = await api.post(
        f"{API}/auth/api-key", headers=headers, json={"name": "x", "expires_in_days": 0}
    )

    assert_error(anonymous, 401, "UNAUTHENTICATED")
    assert_error(blank, 422, "INVALID_INPUT", field="name")
    assert_error(too_long, 422, "INVALID_INPUT", field="expires_in_days")
    # The message names the field as the REST body does, not as GraphQL does (expiresInDays).
    error = assert_error(zero, 422, "INVALID_INPUT", field="expires_in_days")
    assert error["message"] == "expires_in_days must be between 1 and 3650"


async def test_repeated_failed_logins_are_refused_for_a_while(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, limits={"login_attempts_per_account": 2})
    with run_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            email = new_email()
            await client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
            wrong = {"username": email, "password": "wrong password!"}
            failures = [await client.post(f"{API}/auth/login", data=wrong) for _ in range(2)]
            refused = await client.post(f"{API}/auth/login", data=wrong)
            right = await client.post(
                f"{API}/auth/login", data={"username": email, "password": PASSWORD}
            )

    assert [response.status_code for response in failures] == [401, 401]
    for response in (refused, right):
        assert_error(response, 429, "RATE_LIMITED")
        assert int(response.headers["retry-after"]) > 0

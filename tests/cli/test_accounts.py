"""``lafactoria users`` and ``lafactoria keys`` against the database a real server then uses."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from lafactoria.cli import cli
from tests.support.server import make_settings, run_server

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(autouse=True)
def server_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands read their settings from the environment, as on a server machine."""
    monkeypatch.chdir(tmp_path)  # no developer .env file applies
    monkeypatch.setenv("LAFACTORIA_ENV", "test")
    monkeypatch.setenv("LAFACTORIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAFACTORIA_SECRET_KEY", SECRET)
    monkeypatch.setenv("LAFACTORIA_PROVIDERS", "offline")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def create_user(email: str = "ada@example.org") -> None:
    result = run("users", "create", "--email", email, stdin=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def create_key(email: str = "ada@example.org", name: str = "laptop") -> str:
    result = run("keys", "create", "--email", email, "--name", name, stdin=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def viewer_email(tmp_path: Path, key: str) -> int | str:
    """Ask a real server who the key belongs to: the email, or the error code."""
    with run_server(make_settings(tmp_path)) as server:
        response = httpx.post(
            server.graphql_url,
            json={"query": "{ viewer { email } }"},
            headers={"Authorization": f"Bearer {key}"},
        )
    body = response.json()
    if body.get("errors"):
        code: str = body["errors"][0]["extensions"]["code"]
        return code
    email: str = body["data"]["viewer"]["email"]
    return email


def test_a_created_user_gets_a_key_the_api_accepts(tmp_path: Path) -> None:
    created = run("users", "create", "--email", " Ada@Example.org ", stdin=f"{PASSWORD}\n")
    key = create_key()

    assert created.exit_code == 0
    assert "Created user ada@example.org" in created.stderr
    assert key.startswith("lf_")
    assert len(key.splitlines()) == 1  # stdout is the key alone: KEY=$(lafactoria keys create)
    assert viewer_email(tmp_path, key) == "ada@example.org"


def test_keys_list_shows_keys_without_their_secrets() -> None:
    create_user()
    key = create_key(name="laptop")
    create_key(name="ci")

    listed = run("keys", "list", "--email", "ada@example.org", "--password", PASSWORD)

    assert listed.exit_code == 0, listed.output
    header, *rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert header == ["id", "name", "prefix", "created", "expires", "last used", "state"]
    assert [(row[1], row[6]) for row in rows] == [("ci", "active"), ("laptop", "active")]
    assert key.split("_")[2] not in listed.stdout
    assert rows[1][2] == "_".join(key.split("_")[:2]) + "_"


def test_a_revoked_key_is_refused_by_the_api(tmp_path: Path) -> None:
    create_user()
    key = create_key()
    key_id = run("keys", "list", "--email", "ada@example.org", stdin=f"{PASSWORD}\n")
    key_id_value = key_id.stdout.splitlines()[1].split("\t")[0]

    revoked = run("keys", "revoke", key_id_value, "--email", "ada@example.org", stdin=PASSWORD)
    listed = run("keys", "list", "--email", "ada@example.org", stdin=PASSWORD)

    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked key {key_id_value} (laptop)" in revoked.stderr
    assert listed.stdout.splitlines()[1].endswith("\trevoked")
    assert viewer_email(tmp_path, key) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("args", "stdin", "exit_code", "message"),
    [
        (["users", "create", "--email", "not-an-email"], PASSWORD, 2, "valid email"),
        (["users", "create", "--email", "bo@example.org"], "short", 2, "at least 10 char"),
        (["users", "create", "--email", "ada@example.org"], PASSWORD, 1, "already exists"),
        (["keys", "create", "--email", "ada@example.org"], "wrong password!", 2, "incorrect"),
        (["keys", "create", "--email", "nobody@example.org"], PASSWORD, 2, "incorrect"),
        (
            ["keys", "create", "--email", "ada@example.org", "--expires-in-days", "0"],
            PASSWORD,
            2,
            "expiresInDays must be between 1 and 3650",
        ),
        (["keys", "revoke", "nope", "--email", "ada@example.org"], PASSWORD, 1, "no such API key"),
    ],
)
def test_bad_requests_fail_with_a_clear_message_and_exit_code(
    args: list[str], stdin: str, exit_code: int, message: str
) -> None:
    create_user()

    result = run(*args, stdin=stdin + "\n")

    assert result.exit_code == exit_code, result.output
    assert result.stderr.splitlines()[1].startswith("Error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_an_invalid_configuration_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_PROVIDERS", "nonsense")

    result = run("users", "create", "--email", "ada@example.org", stdin=PASSWORD)

    assert result.exit_code == 2
    assert "invalid configuration" in result.stderr
    assert "unknown providers" in result.stderr


def test_keys_list_says_when_there_are_none() -> None:
    create_user()

    result = run("keys", "list", "--email", "ada@example.org", stdin=PASSWORD)

    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.splitlines()[1:] == ["No API keys."]


def test_commands_say_which_database_they_use(tmp_path: Path) -> None:
    result = run("users", "create", "--email", "ada@example.org", stdin=f"{PASSWORD}\n")

    assert result.stderr.splitlines()[0] == f"database: sqlite {tmp_path.resolve()}/lafactoria.db"


def test_the_default_data_directory_is_relative_to_where_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a user sees when running `keys` from another directory than the server's: the
    # path shows that this is not the server's database, before "incorrect" does.
    monkeypatch.delenv("LAFACTORIA_DATA_DIR")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    result = run("keys", "list", "--email", "ada@example.org", stdin=PASSWORD)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"database: sqlite {elsewhere.resolve()}/.lafactoria/lafactoria.db",
        "Error: the email or password is incorrect",
    ]
